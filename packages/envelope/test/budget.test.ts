/** Usage budgets: exact limits, warnings, the rotate policy, and concurrent use across instances sharing one file. */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { manualClock, type SafeguardEvent } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  createEnvelope,
  fileUsageStore,
  LocalKeyring,
  memoryUsageStore,
  UsageLimitError,
} from '../src/index.js'
import { enc, tempDir } from './helpers.js'

const dir = tempDir()

describe('usage budget', () => {
  it('allows exactly `limit` wraps, warns once at the threshold, then throws', async () => {
    const warnings: SafeguardEvent[] = []
    const kr = await LocalKeyring.inMemory({
      usage: { limit: 10n, warnAt: 6n, reserveBlock: 3 },
      events: (e) => {
        if (e.type === 'key.budget.warning') warnings.push(e)
      },
      clock: manualClock(5),
    })
    const env = createEnvelope({ provider: kr })
    for (let i = 0; i < 10; i++) await env.encrypt(enc('x'), {})
    const err = await env.encrypt(enc('x'), {}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UsageLimitError)
    expect((err as UsageLimitError).keyRef).toBe('local:default@v1')
    expect(warnings).toEqual([
      {
        type: 'key.budget.warning',
        at: 5,
        source: '@safeguards/envelope',
        outcome: 'success',
        keyRef: 'local:default@v1',
        counts: { wraps: 6, limit: 10 },
      },
    ])
    expect((await kr.list())[0]?.usage).toMatchObject({ limit: 10n, warnAt: 6n })
  })

  it('rotates and goes on under the rotate policy', async () => {
    const kr = await LocalKeyring.inMemory({ usage: { limit: 4n, reserveBlock: 2, policy: 'rotate' } })
    const env = createEnvelope({ provider: kr })
    const cts: Uint8Array[] = []
    for (let i = 0; i < 9; i++) cts.push(await env.encrypt(enc(`m${i}`), {}))
    expect(cts.map((c) => env.inspect(c).keys[0]?.keyRef)).toEqual([
      ...Array(4).fill('local:default@v1'),
      ...Array(4).fill('local:default@v2'),
      'local:default@v3',
    ])
    for (const [i, c] of cts.entries()) expect(await env.decrypt(c, {})).toEqual(enc(`m${i}`))
  })

  it('is safe under concurrent use by several instances sharing one keyring file', async () => {
    const p = join(dir, 'shared.json')
    await LocalKeyring.create(p)
    const limit = 500n
    const instances = await Promise.all(
      [0, 1, 2, 3].map(() => LocalKeyring.open(p, { usage: { limit, reserveBlock: 7 } })),
    )
    const envs = instances.map((kr) => createEnvelope({ provider: kr }))
    const results = await Promise.allSettled(
      Array.from({ length: 600 }, (_, i) => envs[i % envs.length]!.encrypt(enc('x'), {})),
    )
    const ok = results.filter((r) => r.status === 'fulfilled').length
    const refused = results.filter((r) => r.status === 'rejected')
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(UsageLimitError)
    // never more wraps than the limit; the persisted count covers every wrap performed
    expect(ok).toBeLessThanOrEqual(Number(limit))
    expect(ok).toBeGreaterThan(Number(limit) - 4 * 7)
    const persisted = BigInt(JSON.parse(readFileSync(`${p}.usage`, 'utf8'))['local:default@v1'])
    expect(persisted).toBeGreaterThanOrEqual(BigInt(ok))
  })

  it('is exact across processes sharing one keyring file', async () => {
    const p = join(dir, 'multi.json')
    await LocalKeyring.create(p)
    const worker = join(import.meta.dirname, 'fixtures/wrap-worker.ts')
    const run = () =>
      new Promise<{ ok: number; refused: number }>((resolve, reject) => {
        execFile(
          process.execPath,
          ['--conditions=@safeguards/source', '--import', 'tsx', worker, p, '120', '200'],
          { env: { ...process.env, NODE_OPTIONS: '' } },
          (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout))),
        )
      })
    const results = await Promise.all([run(), run(), run()])
    const ok = results.reduce((n, r) => n + r.ok, 0)
    expect(ok + results.reduce((n, r) => n + r.refused, 0)).toBe(360)
    expect(ok).toBeLessThanOrEqual(200)
    expect(ok).toBeGreaterThanOrEqual(200 - 3 * 5)
    const persisted = BigInt(JSON.parse(readFileSync(`${p}.usage`, 'utf8'))['local:default@v1'])
    expect(persisted).toBeGreaterThanOrEqual(BigInt(ok))
  }, 60_000)

  it('the file store adds atomically under concurrency', async () => {
    const store = fileUsageStore(join(dir, 'counts.usage'))
    const befores = await Promise.all(Array.from({ length: 40 }, () => store.reserve('k', 5n)))
    expect(new Set(befores.map(String)).size).toBe(40)
    expect(await store.get('k')).toBe(200n)
    const mem = memoryUsageStore()
    expect(await mem.reserve('k', 3n)).toBe(0n)
    expect(await mem.get('k')).toBe(3n)
  })
})
