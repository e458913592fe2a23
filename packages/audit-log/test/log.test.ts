import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bytesToHex, manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  createCheckpointSigner,
  createKeyring,
  directoryAnchor,
  generateCheckpointKey,
  leafHash,
  openAuditLog,
  openFileStore,
  readCheckpointUnverified,
} from '../src/index.js'
import { checkpointKeys, event, plainStore, tempDir, verifyEveryWay } from './helpers.js'

async function makeLog(n: number, opts: { every?: number; anchor?: string } = {}) {
  const dir = tempDir()
  const { key, signer, keyring } = await checkpointKeys()
  const store = await openFileStore({ dir, stream: 'ehr-test' })
  const anchor = opts.anchor === undefined ? undefined : directoryAnchor(opts.anchor)
  const log = await openAuditLog({
    store,
    signer,
    ...(anchor === undefined ? {} : { anchor }),
    checkpointEvery: { records: opts.every ?? 1000, ms: 0 },
    clock: manualClock(1_700_000_000_000),
  })
  const results = []
  for (let i = 0; i < n; i++) results.push(await log.append(event(i)))
  await log.close()
  return { dir, key, keyring, results, anchor }
}

describe('append and verify (file store)', () => {
  it('resolves each append with the leaf hash of exactly the stored bytes (one group commit)', async () => {
    const dir = tempDir()
    const log = await openAuditLog({ store: await openFileStore({ dir, stream: 'ehr-test' }) })
    await log.append(event(0))
    // 40 concurrent appends: they share batches, each result must still name its own record.
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => log.append(event(i + 1))))
    await log.close()
    const store = await openFileStore({ dir, readOnly: true })
    const stored = new Map<number, string>()
    for await (const r of store.read(0)) stored.set(r.seq, bytesToHex(leafHash(r.bytes)))
    await store.close()
    expect(stored.size).toBe(41)
    expect(new Set(results.map((r) => r.seq)).size).toBe(40)
    for (const r of results) expect(r.hash).toBe(stored.get(r.seq))
  })

  it('numbers records contiguously and verifies clean', async () => {
    const { dir, keyring, results } = await makeLog(50, { every: 10 })
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    const store = await openFileStore({ dir, readOnly: true })
    const report = await verifyEveryWay(store, { keyring, deep: true })
    expect(report.findings).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.records).toBe(50)
    expect(report.checkpoints.verified).toBe(report.checkpoints.total)
    expect(report.checkpointedThrough).toBe(49)
  })

  it('works with a store that has no readBatches fast path', async () => {
    const { dir, keyring } = await makeLog(12, { every: 5 })
    const inner = await openFileStore({ dir })
    const plain = plainStore(inner)
    const log = await openAuditLog({ store: plain, checkpointEvery: { ms: 0 }, closeStore: false })
    expect(log.size).toBe(12)
    await log.append(event(12))
    await log.close()
    const report = await verifyEveryWay(plain, { keyring })
    expect(report.records).toBe(13)
    expect(report.ok).toBe(true)
    await plain.close()
  })

  it('reopens and continues the chain', async () => {
    const { dir, keyring } = await makeLog(5)
    const log = await openAuditLog({ store: await openFileStore({ dir }), checkpointEvery: { ms: 0 } })
    expect(log.size).toBe(5)
    expect((await log.append(event(5))).seq).toBe(5)
    await log.close()
    const report = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
    expect(report.ok).toBe(true)
    expect(report.records).toBe(6)
    expect(report.findings.map((f) => f.code)).toEqual(['UNANCHORED_TAIL'])
    expect(report.findings[0]!.seq).toBe(5)
  })

  it('writes signed checkpoints every N records and on close, chained', async () => {
    const { dir, keyring } = await makeLog(25, { every: 10 })
    const store = await openFileStore({ dir, readOnly: true })
    const cps = await store.readCheckpoints()
    expect(cps.length).toBeGreaterThanOrEqual(3)
    for (const [i, c] of cps.entries()) {
      const v = await keyring.verify(c.jws)
      expect(v.body.index).toBe(i)
      expect(v.body.size).toBe(c.size)
    }
    expect(cps[cps.length - 1]!.size).toBe(25)
  })
})

describe('tamper detection', () => {
  function lines(dir: string): { path: string; lines: string[] } {
    const path = join(dir, 'segments', `${'0'.repeat(20)}.jsonl`)
    return { path, lines: readFileSync(path, 'utf8').split('\n').slice(0, -1) }
  }
  function write(path: string, ls: string[]) {
    writeFileSync(path, `${ls.join('\n')}\n`)
  }
  async function verify(dir: string, keyring: Awaited<ReturnType<typeof createKeyring>>, anchor?: string) {
    return verifyEveryWay(await openFileStore({ dir, readOnly: true }), {
      keyring,
      ...(anchor === undefined ? {} : { anchor: directoryAnchor(anchor) }),
    })
  }

  it('finds a changed byte in any record at that record', async () => {
    const { dir, keyring } = await makeLog(12, { every: 4 })
    const { path, lines: orig } = lines(dir)
    for (let k = 0; k < 11; k++) {
      for (const at of [12, orig[k]!.indexOf('"prev"') + 12, orig[k]!.length - 40]) {
        const ls = [...orig]
        const s = ls[k]!
        const c = s[at] === 'a' ? 'b' : 'a'
        ls[k] = s.slice(0, at) + c + s.slice(at + 1)
        write(path, ls)
        const r = await verify(dir, keyring)
        expect(r.ok).toBe(false)
        expect(r.findings[0]!.seq, `record ${k} byte ${at}`).toBe(k)
      }
    }
  })

  it('finds deleted, duplicated and reordered records', async () => {
    const { dir, keyring } = await makeLog(10, { every: 5 })
    const { path, lines: orig } = lines(dir)
    write(
      path,
      orig.filter((_, i) => i !== 4),
    )
    let r = await verify(dir, keyring)
    expect(r.findings[0], JSON.stringify(r.findings)).toMatchObject({ seq: 4, code: 'SEQ_GAP' })
    write(path, [...orig.slice(0, 5), orig[4]!, ...orig.slice(5)])
    r = await verify(dir, keyring)
    expect(r.findings[0]).toMatchObject({ seq: 4, code: 'SEQ_DUP' })
    write(path, [...orig, orig[9]!])
    r = await verify(dir, keyring)
    expect(r.findings[0]).toMatchObject({ seq: 9, code: 'SEQ_DUP' })
    write(path, [...orig.slice(0, 3), orig[4]!, orig[3]!, ...orig.slice(5)])
    r = await verify(dir, keyring)
    expect(r.findings[0]!.seq).toBe(3)
    expect(r.ok).toBe(false)
  })

  it('truncated tail: an error against the anchor, a warning without one', async () => {
    const anchorDir = tempDir()
    const { dir, keyring } = await makeLog(10, { every: 5, anchor: anchorDir })
    const { path, lines: orig } = lines(dir)
    write(path, orig.slice(0, 7))
    // the attacker also rewrites the stored checkpoints to the ones that still fit
    const cpPath = join(dir, 'checkpoints.jsonl')
    const cps = readFileSync(cpPath, 'utf8').split('\n').slice(0, -1)
    writeFileSync(cpPath, `${cps.filter((l) => JSON.parse(l).size <= 7).join('\n')}\n`)
    const withAnchor = await verify(dir, keyring, anchorDir)
    expect(withAnchor.ok).toBe(false)
    expect(withAnchor.findings.some((f) => f.code === 'TRUNCATED' && f.seq === 7)).toBe(true)
    const without = await verify(dir, keyring)
    expect(without.ok).toBe(true)
    expect(without.findings).toEqual([
      expect.objectContaining({ code: 'UNANCHORED_TAIL', seq: 5, severity: 'warning' }),
    ])
  })

  it('finds replayed and rolled-back checkpoints, and two roots for one size', async () => {
    const { dir, keyring, key } = await makeLog(10, { every: 5 })
    const cpPath = join(dir, 'checkpoints.jsonl')
    const orig = readFileSync(cpPath, 'utf8')
    const cps = orig.split('\n').slice(0, -1)
    writeFileSync(cpPath, `${[...cps, cps[0]!].join('\n')}\n`)
    let r = await verify(dir, keyring)
    expect(r.findings.map((f) => f.code)).toContain('CHECKPOINT_REPLAY')
    writeFileSync(cpPath, `${[cps[1]!, cps[0]!].join('\n')}\n`)
    r = await verify(dir, keyring)
    expect(r.ok).toBe(false)
    // equivocation: a validly signed checkpoint of size 5 with another root
    const signer = await createCheckpointSigner(key.privateJwk)
    const { signCheckpoint } = await import('../src/index.js')
    const first = readCheckpointUnverified(JSON.parse(cps[0]!).jws)
    const forged = await signCheckpoint(signer, {
      index: 0,
      origin: 'ehr-test',
      prev: '0'.repeat(64),
      root: new Uint8Array(32).fill(7),
      size: first.body.size,
      timestamp: first.body.timestamp,
    })
    writeFileSync(cpPath, `${[...cps, JSON.stringify({ jws: forged, size: first.body.size })].join('\n')}\n`)
    r = await verify(dir, keyring)
    expect(r.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['EQUIVOCATION', 'ROOT_MISMATCH']))
  })

  it('a checkpoint signed by an unknown key or with a bad signature fails', async () => {
    const { dir } = await makeLog(5, { every: 5 })
    const other = await generateCheckpointKey()
    const r = await verify(dir, await createKeyring([{ publicJwk: other.publicJwk }]))
    expect(r.ok).toBe(false)
    expect(r.findings.map((f) => f.code)).toContain('UNKNOWN_KEY')
  })
})
