import { spawn } from 'node:child_process'
import { readdirSync, readFileSync, readlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { LockTimeoutError } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { collectOutput, deadPid } from '../../../scripts/test-support/child-process.js'
import { createEnvelope, LocalKeyring } from '../src/index.js'
import { tempDir } from './helpers.js'

const ROOT = resolve(import.meta.dirname, '../../..')
const linux = process.platform === 'linux'

/** A lock record in the format of @safeguards/core/node, for a process `pid` on this host. */
function lockRecord(pid: number): string {
  return JSON.stringify({
    pid,
    host: hostname(),
    boot: linux ? readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim() : null,
    pidns: linux ? readlinkSync('/proc/self/ns/pid') : null,
    start: null,
    nonce: 'ef'.repeat(16),
    acquiredAt: '2026-01-01T00:00:00.000Z',
  })
}

describe('keyring lock (issue 13 §1)', () => {
  it('never breaks the lock of a live holder for its age: a key command times out with a typed error', async () => {
    // Regression: the old lock deleted any lock file older than 30 s, so a holder that was merely
    // slow or stopped lost its lock and two rotations could both "win".
    const dir = tempDir()
    const path = join(dir, 'keyring.json')
    const kr = await LocalKeyring.create(path, { lockTimeoutMs: 300 })
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' })
    try {
      writeFileSync(`${path}.lock`, lockRecord(live.pid!))
      const old = Date.now() / 1000 - 120
      utimesSync(`${path}.lock`, old, old)
      const err = await kr.rotate().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(LockTimeoutError)
      expect((err as LockTimeoutError).holder?.pid).toBe(live.pid)
      expect(readFileSync(`${path}.lock`, 'utf8')).toBe(lockRecord(live.pid!))
      expect((await (await LocalKeyring.open(path)).list()).map((k) => k.version)).toEqual([1])
      // Nothing half-done stays in memory either: the failed rotation is not used for wrapping.
      expect((await kr.list()).map((k) => k.version)).toEqual([1])
    } finally {
      live.kill()
    }
  })

  it('takes over at once from a holder that died (kill -9) holding the lock', async () => {
    // Regression: the old lock waited until the file was 30 s old (and gave up after 15 s).
    const dir = tempDir()
    const path = join(dir, 'keyring.json')
    const kr = await LocalKeyring.create(path, { lockTimeoutMs: 5000 })
    writeFileSync(`${path}.lock`, lockRecord(deadPid()))
    expect((await kr.rotate()).version).toBe(2)
    expect(readdirSync(dir).filter((f) => f.includes('.lock'))).toEqual([])
  })

  it('processes rotating at once from a stale lock, every lock window stretched, lose no key', async () => {
    for (const maxDelayMs of [40, 250]) {
      const dir = tempDir()
      const path = join(dir, 'keyring.json')
      await LocalKeyring.create(path)
      writeFileSync(`${path}.lock`, lockRecord(deadPid()))
      const n = 6
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          collectOutput(
            spawn(
              process.execPath,
              [
                '--conditions=@safeguards/source',
                '--import',
                'tsx',
                join(import.meta.dirname, 'fixtures/rotate-racer.ts'),
                path,
                dir,
                `w${i}`,
                String(maxDelayMs),
              ],
              { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
            ),
          ),
        ),
      )
      for (const r of results) expect(r.code, r.err).toBe(0)
      const versions = results
        .map((r) => (JSON.parse(r.out) as { version: number }).version)
        .sort((a, b) => a - b)
      expect(versions).toEqual([2, 3, 4, 5, 6, 7])
      const keyring = await LocalKeyring.open(path)
      expect((await keyring.list()).map((k) => k.version)).toEqual([1, 2, 3, 4, 5, 6, 7])
      const envelope = createEnvelope({ provider: keyring })
      for (let i = 0; i < n; i++) {
        const pt = await envelope.decrypt(readFileSync(join(dir, `w${i}.ct`)), { id: `w${i}` })
        expect(new TextDecoder().decode(pt)).toBe(`w${i}`)
      }
    }
  }, 240_000)
})
