import { type ChildProcess, spawn } from 'node:child_process'
import { appendFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { collectOutput } from '../../../scripts/test-support/child-process.js'
import {
  AuditCorruptionError,
  createCheckpointSigner,
  createKeyring,
  generateCheckpointKey,
  openAuditLog,
  openFileStore,
} from '../src/index.js'
import { event, tempDir, verifyEveryWay } from './helpers.js'

const ROOT = resolve(import.meta.dirname, '../../..')
const FIXTURE = join(import.meta.dirname, 'fixtures/appender.ts')

function child(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--conditions=@safeguards/source', '--import', 'tsx', FIXTURE, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

async function keyFiles(dir: string) {
  const key = await generateCheckpointKey()
  const keyFile = join(dir, 'key.jwk')
  writeFileSync(keyFile, JSON.stringify(key.privateJwk))
  return { key, keyFile, keyring: await createKeyring([{ publicJwk: key.publicJwk }]) }
}

function storedRecords(dir: string): { seq: number; requestId: string }[] {
  const out: { seq: number; requestId: string }[] = []
  const segs = join(dir, 'segments')
  for (const f of readdirSync(segs).sort()) {
    for (const line of readFileSync(join(segs, f), 'utf8').split('\n')) {
      if (line === '' || !line.endsWith('}')) continue
      try {
        const r = JSON.parse(line)
        out.push({ seq: r.seq, requestId: r.event.requestId })
      } catch {
        /* torn line */
      }
    }
  }
  return out
}

/** A log of `n` events in a fresh directory, closed; its directory and its only segment file. */
async function firstSegment(n: number): Promise<{ dir: string; seg: string }> {
  const dir = tempDir()
  const log = await openAuditLog({
    store: await openFileStore({ dir, stream: 's' }),
    checkpointEvery: { ms: 0 },
  })
  for (let i = 0; i < n; i++) await log.append(event(i))
  await log.close()
  return { dir, seg: join(dir, 'segments', `${'0'.repeat(20)}.jsonl`) }
}

describe('reliability', () => {
  it('eight processes append to one file log: contiguous, no fork, verifies', async () => {
    const base = tempDir()
    const dir = join(base, 'log')
    const { keyFile, keyring } = await keyFiles(base)
    const per = 60
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => collectOutput(child([dir, keyFile, `p${i}`, String(per), '6']))),
    )
    for (const r of results) expect(r.err, r.err).toBe('')
    const acked = results.flatMap((r) =>
      r.out
        .trim()
        .split('\n')
        .map((l) => Number(l.split(' ')[0])),
    )
    expect(acked).toHaveLength(8 * per)
    expect(new Set(acked).size).toBe(8 * per)
    const stored = storedRecords(dir)
    expect(stored.map((r) => r.seq)).toEqual(Array.from({ length: stored.length }, (_, i) => i))
    expect(stored.filter((r) => r.requestId !== undefined)).toHaveLength(8 * per)
    const report = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring, deep: true })
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.checkpointedThrough).toBe(stored.length - 1)
  }, 120_000)

  it('kill -9 during appends: every acknowledged record survives, the log reopens and verifies', async () => {
    const base = tempDir()
    const dir = join(base, 'log')
    const { keyFile, keyring } = await keyFiles(base)
    const p = child([dir, keyFile, 'k', '0', '32'])
    const done = collectOutput(p)
    const acked = new Map<number, string>()
    let buf = ''
    await new Promise<void>((res) => {
      p.stdout!.on('data', (d: Uint8Array) => {
        buf += new TextDecoder().decode(d)
        const lines = buf.split('\n')
        buf = lines.pop()!
        for (const l of lines) {
          const [seq, id] = l.split(' ')
          acked.set(Number(seq), id!)
        }
        if (acked.size >= 400) res()
      })
    })
    p.kill('SIGKILL')
    await done
    const stored = new Map(storedRecords(dir).map((r) => [r.seq, r.requestId]))
    for (const [seq, id] of acked) expect(stored.get(seq)).toBe(id)
    const before = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
    expect(before.ok).toBe(true)
    const log = await openAuditLog({
      store: await openFileStore({ dir }),
      signer: await createCheckpointSigner(JSON.parse(readFileSync(keyFile, 'utf8'))),
      checkpointEvery: { ms: 0 },
    })
    expect(log.size).toBeGreaterThanOrEqual(acked.size)
    await log.append(event(1))
    await log.close()
    const after = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
    expect(after.findings.filter((f) => f.severity === 'error')).toEqual([])
    expect(after.ok).toBe(true)
  }, 120_000)

  it('cuts a torn tail, records a recovery record, and verifies', async () => {
    const { dir, seg } = await firstSegment(5)
    appendFileSync(seg, '{"event":{"action":"R","agen')
    const torn = await verifyEveryWay(await openFileStore({ dir, readOnly: true }))
    expect(torn.ok).toBe(true)
    expect(torn.findings.map((f) => f.code)).toContain('TORN_TAIL')
    const again = await openAuditLog({ store: await openFileStore({ dir }), checkpointEvery: { ms: 0 } })
    const r = await again.append(event(5))
    await again.close()
    const lines = readFileSync(seg, 'utf8').trim().split('\n')
    const recovered = lines.map((l) => JSON.parse(l)).find((x) => x.event.type === 'safeguards.recovered')
    expect(recovered).toBeDefined()
    expect(recovered.event.details.discardedBytes).toBe('{"event":{"action":"R","agen'.length)
    expect(r.seq).toBeGreaterThanOrEqual(5)
    const report = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { deep: true })
    expect(report.ok).toBe(true)
    expect(report.findings.map((f) => f.code)).toContain('RECOVERED')
    expect(report.records).toBe(7)
  })

  it('fails closed on a complete but altered last line', async () => {
    const { dir, seg } = await firstSegment(3)
    const text = readFileSync(seg, 'utf8')
    writeFileSync(
      seg,
      text.replace(/"prev":"(.)/g, (m, c: string, off: number) =>
        off > text.lastIndexOf('\n', text.length - 2) ? `"prev":"${c === 'a' ? 'b' : 'a'}` : m,
      ),
    )
    await expect(openAuditLog({ store: await openFileStore({ dir }) })).rejects.toThrow(AuditCorruptionError)
  })

  it('rotates segments without breaking the chain, and a deleted segment is found', async () => {
    const dir = tempDir()
    const key = await generateCheckpointKey()
    const log = await openAuditLog({
      store: await openFileStore({ dir, stream: 's', segmentMaxBytes: 1500 }),
      signer: await createCheckpointSigner(key.privateJwk),
      checkpointEvery: { records: 5, ms: 0 },
    })
    for (let i = 0; i < 30; i++) await log.append(event(i))
    await log.close()
    const store = await openFileStore({ dir, readOnly: true })
    const segs = store.segments()
    expect(segs.length).toBeGreaterThan(3)
    const keyring = await createKeyring([{ publicJwk: key.publicJwk }])
    expect((await verifyEveryWay(store, { keyring })).ok).toBe(true)
    const reopened = await openAuditLog({
      store: await openFileStore({ dir, segmentMaxBytes: 1500 }),
      checkpointEvery: { ms: 0 },
    })
    expect((await reopened.append(event(30))).seq).toBe(30)
    await reopened.close()
    const mid = segs[1]!
    const firstSeq = Number(mid.slice(0, 20))
    rmSync(join(dir, 'segments', mid))
    const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
    expect(r.ok).toBe(false)
    expect(r.findings[0]).toMatchObject({ seq: firstSeq, code: 'SEQ_GAP' })
  })
})
