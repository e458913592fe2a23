/**
 * What the verifier concludes, finding by finding, on logs built to have exactly one problem:
 * classification by error code (never by message text), anchors that are empty or missing,
 * empty logs, and the checkpoint chain checks (splices, rollbacks, truncation, unanchored tails).
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  type AnchoredCheckpoint,
  type AnchorSink,
  CheckpointError,
  CheckpointSignatureError,
  checkpointHash,
  createCheckpointSigner,
  directoryAnchor,
  type Finding,
  type Keyring,
  leafHash,
  MerkleTree,
  openAuditLog,
  openFileStore,
  readCheckpointUnverified,
  type StoredCheckpoint,
  signCheckpoint,
  UnknownCheckpointKeyError,
  type VerifyReport,
  verifyLog,
} from '../src/index.js'
import { event, signedLog, tempDir, verifyEveryWay } from './helpers.js'

/** A keyring that reads checkpoints without checking them, and refuses the one at `size` with `error`. */
function refusingKeyring(size: number, error: Error): Keyring {
  return {
    kids: ['k'],
    async verify(jws) {
      const v = readCheckpointUnverified(jws)
      if (v.body.size === size) throw error
      return { ...v, kid: 'k', jws }
    },
  }
}

describe('checkpoint failures are classified by error code, never by message text', () => {
  const cases: [string, Error, string][] = [
    [
      'an unknown key whose message does not say so',
      withMessage(new UnknownCheckpointKeyError('k'), 'no such kid'),
      'UNKNOWN_KEY',
    ],
    [
      'a bad signature whose message says "unknown key"',
      new CheckpointSignatureError('unknown key material'),
      'CHECKPOINT_SIG_INVALID',
    ],
    [
      'a malformed checkpoint whose message mentions a signature',
      new CheckpointError('signature member missing'),
      'CHECKPOINT_MALFORMED',
    ],
  ]
  for (const [name, error, code] of cases)
    it(name, async () => {
      const { dir } = await signedLog(6, { every: 3 })
      const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), {
        keyring: refusingKeyring(3, error),
      })
      expect(r.findings.filter((f) => f.severity === 'error')).toEqual([
        expect.objectContaining({ code, seq: 2, checkpoint: 0 }),
      ])
    })
})

/** The error with another message (a keyring words its errors its own way; the code stays). */
function withMessage<E extends Error>(e: E, message: string): E {
  e.message = message
  return e
}

describe('anchors that hold nothing', () => {
  it('an anchor with no checkpoint of the stream, while the log has checkpoints, is an error', async () => {
    const anchorDir = tempDir()
    const { dir, keyring } = await signedLog(6, { every: 3, anchor: anchorDir })
    const store = await openFileStore({ dir, readOnly: true })
    expect(await verifyEveryWay(store, { keyring, anchor: directoryAnchor(anchorDir) })).toMatchObject({
      ok: true,
      anchoredThrough: 5,
    })
    // the anchor is wiped (an empty directory), or was never written for this stream
    rmSync(join(anchorDir, 's'), { recursive: true })
    for (const anchor of [directoryAnchor(anchorDir), directoryAnchor(tempDir())]) {
      const r = await verifyEveryWay(store, { keyring, anchor, anchorGraceMs: 0 })
      expect(r.ok).toBe(false)
      expect(r.anchoredThrough).toBeNull()
      expect(r.findings[0]).toMatchObject({ code: 'ANCHOR_EMPTY', severity: 'error', seq: 0 })
    }
  })

  it('an anchor that was empty only while the first checkpoint was being anchored is no finding', async () => {
    const anchorDir = tempDir()
    const { dir, keyring } = await signedLog(6, { every: 3, anchor: anchorDir })
    const real = directoryAnchor(anchorDir)
    const store = await openFileStore({ dir, readOnly: true })
    // the writer stored its first checkpoint, and anchors it only after the verifier's first lists
    const late = (emptyLists: number): AnchorSink & { lists: number } => {
      const sink = {
        lists: 0,
        put: (o: string, c: AnchoredCheckpoint) => real.put(o, c),
        list: async (o: string) => (sink.lists++ < emptyLists ? [] : real.list(o)),
      }
      return sink
    }
    for (const emptyLists of [1, 3]) {
      const anchor = late(emptyLists)
      const r = await verifyLog(store, { keyring, anchor, anchorGraceMs: 60_000 })
      expect(anchor.lists).toBe(emptyLists + 1)
      expect(r.ok).toBe(true)
      expect(r.findings).toEqual([
        expect.objectContaining({ code: 'UNANCHORED_TAIL', severity: 'warning', seq: 0 }),
      ])
    }
    // an anchor that stays empty past the grace period is reported, after listing again
    const never = late(Number.POSITIVE_INFINITY)
    const r = await verifyLog(store, { keyring, anchor: never, anchorGraceMs: 120 })
    expect(r.findings[0]).toMatchObject({ code: 'ANCHOR_EMPTY', severity: 'error' })
    expect(never.lists).toBeGreaterThanOrEqual(3)
    const none = late(Number.POSITIVE_INFINITY)
    expect((await verifyLog(store, { keyring, anchor: none, anchorGraceMs: 0 })).ok).toBe(false)
    expect(none.lists).toBe(2)
    await expect(verifyLog(store, { anchorGraceMs: -1 })).rejects.toThrow(RangeError)
    await expect(verifyLog(store, { anchorGraceMs: 0.5 })).rejects.toThrow(RangeError)
  })

  it('a directory anchor that does not exist cannot be listed (a mistyped path is no empty anchor)', async () => {
    const { dir, keyring } = await signedLog(3)
    const missing = directoryAnchor(join(tempDir(), 'no-such-dir'))
    await expect(missing.list('s')).rejects.toMatchObject({ code: 'ERR_AUDIT_STORE' })
    await expect(
      verifyLog(await openFileStore({ dir, readOnly: true }), { keyring, anchor: missing }),
    ).rejects.toMatchObject({ code: 'ERR_AUDIT_STORE' })
  })
})

describe('an empty log', () => {
  it('whose records and checkpoints were all removed says it is empty and unanchored', async () => {
    const { dir, keyring } = await signedLog(6, { every: 3 })
    for (const f of readdirSync(join(dir, 'segments'))) rmSync(join(dir, 'segments', f))
    rmSync(join(dir, 'checkpoints.jsonl'))
    const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
    expect(r).toMatchObject({ ok: true, records: 0, anchoredThrough: null, checkpointedThrough: null })
    expect(r.findings).toEqual([expect.objectContaining({ code: 'EMPTY_LOG', severity: 'warning', seq: 0 })])
    expect(r.findings[0]!.message).toMatch(/empty/)
    expect(r.findings[0]!.message).toMatch(/unanchored|no anchor/)
  })

  it('checked against an anchor that holds its checkpoints, is truncated', async () => {
    const anchorDir = tempDir()
    const { dir, keyring } = await signedLog(6, { every: 3, anchor: anchorDir })
    for (const f of readdirSync(join(dir, 'segments'))) rmSync(join(dir, 'segments', f))
    rmSync(join(dir, 'checkpoints.jsonl'))
    const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), {
      keyring,
      anchor: directoryAnchor(anchorDir),
    })
    expect(r.ok).toBe(false)
    expect(r.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['TRUNCATED', 'EMPTY_LOG']))
  })
})

describe('a damaged multi-segment file log', () => {
  it('a record deleted from an earlier segment is a finding, not a crash', async () => {
    // segments of about 4 records; record positions then no longer match the segment names
    const { dir, keyring } = await signedLog(24, { every: 8, segmentMaxBytes: 1500, maxBatch: 1 })
    const segments = readdirSync(join(dir, 'segments')).sort()
    expect(segments.length).toBeGreaterThan(3)
    const first = join(dir, 'segments', segments[0]!)
    const lines = readFileSync(first, 'utf8').split('\n')
    writeFileSync(first, lines.filter((_, i) => i !== 1).join('\n'))
    const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
    expect(r.ok).toBe(false)
    expect(r.records).toBe(23)
    expect(r.findings[0]).toMatchObject({ code: 'SEQ_GAP', seq: 1 })
    // a duplicated line shifts the later positions the other way
    writeFileSync(first, [lines[0], ...lines].join('\n'))
    const d = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
    expect(d.ok).toBe(false)
    expect(d.findings[0]).toMatchObject({ code: 'SEQ_DUP', seq: 0 })
  })
})

/** The records of a file log, their tree, and a way to sign checkpoints over them as the writer would. */
async function forger(dir: string, privateJwk: Parameters<typeof createCheckpointSigner>[0]) {
  const store = await openFileStore({ dir, readOnly: true })
  const tree = new MerkleTree()
  for await (const r of store.read(0)) tree.append(leafHash(r.bytes))
  const stored = await store.readCheckpoints()
  await store.close()
  const signer = await createCheckpointSigner(privateJwk)
  return {
    stored,
    /** Signs a checkpoint; defaults continue the chain after `after` with the true root at `size`. */
    async sign(fields: {
      index: number
      size: number
      after: StoredCheckpoint | null
      prev?: string
      root?: Uint8Array
      timestamp?: string
    }): Promise<StoredCheckpoint> {
      const jws = await signCheckpoint(signer, {
        index: fields.index,
        origin: 's',
        prev: fields.prev ?? (fields.after === null ? '0'.repeat(64) : checkpointHash(fields.after.jws)),
        root: fields.root ?? tree.root(fields.size),
        size: fields.size,
        timestamp: fields.timestamp ?? '2026-01-01T00:00:00.000Z',
      })
      return { size: fields.size, jws }
    },
    /** Replaces the stored checkpoints. */
    write(cps: readonly StoredCheckpoint[]): void {
      writeFileSync(
        join(dir, 'checkpoints.jsonl'),
        cps.map((c) => `${JSON.stringify({ jws: c.jws, size: c.size })}\n`).join(''),
      )
    },
  }
}

const errorsOf = (r: VerifyReport): Finding[] => r.findings.filter((f) => f.severity === 'error')

describe('the checkpoint chain, finding by finding', () => {
  it('a checkpoint at the right index with a prev from elsewhere (a splice) is out of its chain', async () => {
    const { dir, key, keyring } = await signedLog(6, { every: 3 })
    const f = await forger(dir, key.privateJwk)
    expect(f.stored.map((c) => c.size)).toEqual([3, 6])
    const cases: [string, StoredCheckpoint][] = [
      ['right index, wrong prev', await f.sign({ index: 1, size: 6, after: null, prev: 'a'.repeat(64) })],
      ['wrong index, right prev', await f.sign({ index: 2, size: 6, after: f.stored[0]! })],
    ]
    for (const [name, second] of cases) {
      f.write([f.stored[0]!, second])
      const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
      expect(errorsOf(r), name).toEqual([
        expect.objectContaining({ code: 'CHECKPOINT_REPLAY', seq: 5, checkpoint: 1, severity: 'error' }),
      ])
    }
    // the untouched chain verifies, so the finding came from the splice
    f.write(f.stored)
    expect(errorsOf(await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring }))).toEqual(
      [],
    )
  })

  it('a chained checkpoint of fewer records than the one before, or dated before it, is a rollback', async () => {
    const { dir, key, keyring } = await signedLog(6, { every: 3 })
    const f = await forger(dir, key.privateJwk)
    const big = await f.sign({ index: 0, size: 6, after: null, timestamp: '2026-01-01T00:00:10.000Z' })
    const shrunk = await f.sign({ index: 1, size: 3, after: big, timestamp: '2026-01-01T00:00:20.000Z' })
    const earlier = await f.sign({ index: 1, size: 6, after: big, timestamp: '2026-01-01T00:00:09.999Z' })
    const same = await f.sign({ index: 1, size: 6, after: big, timestamp: '2026-01-01T00:00:10.000Z' })
    for (const [second, expected] of [
      [
        shrunk,
        {
          code: 'ROLLBACK',
          seq: 2,
          checkpoint: 1,
          message: expect.stringMatching(/size 3, below the previous 6/),
        },
      ],
      [earlier, { code: 'ROLLBACK', seq: 5, checkpoint: 1, message: expect.stringMatching(/dated before/) }],
    ] as const) {
      f.write([big, second])
      const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
      expect(errorsOf(r)).toEqual([expect.objectContaining({ ...expected, severity: 'error' })])
    }
    // equal sizes and equal times are no rollback (a writer never signs them, a verifier accepts them)
    f.write([big, same])
    const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
    expect(r).toMatchObject({ ok: true, findings: [], checkpointedThrough: 5 })
  })

  it('TRUNCATED alone: records cut below a stored checkpoint, nothing else wrong', async () => {
    const { dir, keyring } = await signedLog(10, { every: 5 })
    const seg = join(dir, 'segments', readdirSync(join(dir, 'segments'))[0]!)
    const lines = readFileSync(seg, 'utf8').split('\n')
    writeFileSync(seg, `${lines.slice(0, 7).join('\n')}\n`)
    const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
    expect(r.ok).toBe(false)
    expect(r.records).toBe(7)
    expect(r.findings).toEqual([
      expect.objectContaining({ code: 'TRUNCATED', severity: 'error', seq: 7, checkpoint: 1 }),
      expect.objectContaining({ code: 'UNANCHORED_TAIL', severity: 'warning', seq: 5 }),
    ])
    expect(r.checkpointedThrough).toBe(4)
  })

  it('a checkpoint whose root does not match counts toward neither checkpointed nor anchored coverage', async () => {
    const anchorDir = tempDir()
    const { dir, key, keyring } = await signedLog(10, { every: 5, anchor: anchorDir })
    const f = await forger(dir, key.privateJwk)
    const forged = await f.sign({ index: 1, size: 10, after: f.stored[0]!, root: new Uint8Array(32).fill(9) })
    f.write([f.stored[0]!, forged])
    // the anchor holds the same forgery at index 1, so only the root is wrong
    rmSync(join(anchorDir, 's', `${'1'.padStart(20, '0')}.json`))
    await directoryAnchor(anchorDir).put('s', { ...forged, index: 1 })
    for (const anchor of [undefined, directoryAnchor(anchorDir)]) {
      const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), {
        keyring,
        ...(anchor === undefined ? {} : { anchor }),
      })
      expect(errorsOf(r).map((e) => e.code)).toEqual(
        anchor === undefined ? ['ROOT_MISMATCH'] : ['ROOT_MISMATCH', 'ROOT_MISMATCH'],
      )
      expect(r.checkpointedThrough).toBe(4)
      expect(r.anchoredThrough).toBe(anchor === undefined ? null : 4)
      expect(r.checkpoints).toEqual({
        total: anchor === undefined ? 2 : 4,
        verified: anchor === undefined ? 1 : 2,
      })
      expect(r.findings.at(-1)).toMatchObject({ code: 'UNANCHORED_TAIL', seq: 5 })
    }
  })

  it('stored checkpoints past the newest anchored one leave an unanchored tail', async () => {
    const anchorDir = tempDir()
    const { dir, key, keyring } = await signedLog(3, { anchor: anchorDir })
    // the writer goes on without its anchor (misconfigured, or the anchor was unreachable)
    const log = await openAuditLog({
      store: await openFileStore({ dir }),
      signer: await createCheckpointSigner(key.privateJwk),
      checkpointEvery: { ms: 0 },
    })
    for (let i = 3; i < 6; i++) await log.append(event(i))
    await log.close()
    const store = await openFileStore({ dir, readOnly: true })
    expect((await store.readCheckpoints()).map((c) => c.size)).toEqual([3, 6])
    const anchored = await verifyEveryWay(store, { keyring, anchor: directoryAnchor(anchorDir) })
    expect(anchored).toMatchObject({ ok: true, anchoredThrough: 2, checkpointedThrough: 5 })
    expect(anchored.findings).toEqual([
      expect.objectContaining({ code: 'UNANCHORED_TAIL', severity: 'warning', seq: 3 }),
    ])
    expect(anchored.findings[0]!.message).toMatch(/records 3\.\.5 are not covered by an anchored checkpoint/)
    const bare = await verifyEveryWay(store, { keyring })
    expect(bare).toMatchObject({ ok: true, findings: [], anchoredThrough: null, checkpointedThrough: 5 })
  })
})

describe('checkpoints that cannot be taken at their word', () => {
  it('without a keyring: one CHECKPOINT_UNVERIFIED warning, none verified; no warning for a log without checkpoints', async () => {
    const { dir } = await signedLog(4)
    const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }))
    expect(r).toMatchObject({ ok: true, checkpoints: { total: 1, verified: 0 }, checkpointedThrough: 3 })
    expect(r.findings).toEqual([
      expect.objectContaining({ code: 'CHECKPOINT_UNVERIFIED', severity: 'warning', seq: 0 }),
    ])
    const bare = tempDir()
    const log = await openAuditLog({ store: await openFileStore({ dir: bare, stream: 's' }) })
    await log.append(event(0))
    await log.close()
    const u = await verifyEveryWay(await openFileStore({ dir: bare, readOnly: true }))
    expect(u.findings.map((f) => f.code)).toEqual(['UNANCHORED_TAIL'])
  })

  it('a checkpoint signed for another stream, or stored under another size, is malformed', async () => {
    const { dir, key, keyring } = await signedLog(6, { every: 3 })
    const f = await forger(dir, key.privateJwk)
    const other = await signCheckpoint(await createCheckpointSigner(key.privateJwk), {
      index: 1,
      origin: 'other',
      prev: checkpointHash(f.stored[0]!.jws),
      root: new Uint8Array(32),
      size: 6,
      timestamp: '2026-01-01T00:00:00.000Z',
    })
    for (const [second, message] of [
      [{ size: 6, jws: other }, /another stream/],
      [{ ...f.stored[1]!, size: 5 }, /size does not match its signed size/],
    ] as const) {
      f.write([f.stored[0]!, second])
      const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
      expect(errorsOf(r)).toEqual([
        expect.objectContaining({
          code: 'CHECKPOINT_MALFORMED',
          checkpoint: 1,
          message: expect.stringMatching(message),
        }),
      ])
      expect(r.checkpointedThrough).toBe(2)
    }
  })

  it('a stored checkpoint file that does not parse is one CHECKPOINT_MALFORMED, and records are still checked', async () => {
    const { dir, keyring } = await signedLog(4)
    writeFileSync(join(dir, 'checkpoints.jsonl'), 'not a checkpoint\n')
    const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
    expect(r.records).toBe(4)
    expect(r.findings).toEqual([
      expect.objectContaining({
        code: 'CHECKPOINT_MALFORMED',
        severity: 'error',
        seq: 0,
        message: 'stored checkpoints are unreadable',
      }),
      expect.objectContaining({ code: 'UNANCHORED_TAIL', seq: 0 }),
    ])
  })

  it('a checkpoint repeated later in the chain is a replay, at its own position', async () => {
    const { dir, key, keyring } = await signedLog(6, { every: 3 })
    const f = await forger(dir, key.privateJwk)
    f.write([...f.stored, f.stored[1]!])
    const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
    expect(errorsOf(r)).toEqual([
      expect.objectContaining({ code: 'CHECKPOINT_REPLAY', checkpoint: 2, seq: 5 }),
    ])
  })

  it('an anchored checkpoint filed under another index, or differing from the stored one, is refused', async () => {
    const anchorDir = tempDir()
    const { dir, key, keyring } = await signedLog(6, { every: 3, anchor: anchorDir })
    const f = await forger(dir, key.privateJwk)
    const file = (i: number) => join(anchorDir, 's', `${String(i).padStart(20, '0')}.json`)
    const verify = async () =>
      verifyEveryWay(await openFileStore({ dir, readOnly: true }), {
        keyring,
        anchor: directoryAnchor(anchorDir),
      })
    // checkpoint 0 filed as checkpoint 1
    rmSync(file(1))
    writeFileSync(file(1), `${JSON.stringify({ index: 1, jws: f.stored[0]!.jws, size: 3 })}\n`)
    let r = await verify()
    expect(errorsOf(r)).toEqual([
      expect.objectContaining({
        code: 'CHECKPOINT_REPLAY',
        checkpoint: 1,
        seq: 2,
        message: expect.stringMatching(/carries index 0/),
      }),
    ])
    expect(r.anchoredThrough).toBe(2)
    // a validly signed checkpoint at index 1 that is not the stored one
    rmSync(file(1))
    const twin = await f.sign({
      index: 1,
      size: 6,
      after: f.stored[0]!,
      timestamp: '2026-06-01T00:00:00.000Z',
    })
    await directoryAnchor(anchorDir).put('s', { ...twin, index: 1 })
    r = await verify()
    expect(errorsOf(r)).toEqual([expect.objectContaining({ code: 'ANCHOR_MISMATCH', checkpoint: 1, seq: 5 })])
  })

  it('two signed roots for one size: EQUIVOCATION names the second checkpoint, ROOT_MISMATCH the wrong one', async () => {
    const anchorDir = tempDir()
    const { dir, key, keyring } = await signedLog(6, { every: 3, anchor: anchorDir })
    const f = await forger(dir, key.privateJwk)
    const wrong = await f.sign({ index: 2, size: 6, after: f.stored[1]!, root: new Uint8Array(32).fill(1) })
    f.write([...f.stored, wrong])
    const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), {
      keyring,
      anchor: directoryAnchor(anchorDir),
    })
    expect(errorsOf(r)).toEqual([
      expect.objectContaining({ code: 'EQUIVOCATION', seq: 5, checkpoint: 2 }),
      expect.objectContaining({ code: 'ROOT_MISMATCH', seq: 5, checkpoint: 2 }),
    ])
    expect(r.anchoredThrough).toBe(5)
  })

  it('a checkpoint of zero records (as older writers made) matches the empty tree', async () => {
    const { dir, key, keyring } = await signedLog(3)
    const f = await forger(dir, key.privateJwk)
    const zero = await f.sign({ index: 0, size: 0, after: null })
    const three = await f.sign({ index: 1, size: 3, after: zero })
    f.write([zero, three])
    const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
    expect(r).toMatchObject({ ok: true, findings: [], checkpoints: { total: 2, verified: 2 } })
  })
})

describe('the report', () => {
  it('puts errors before warnings, each by seq, and record findings before checkpoint findings at one seq', async () => {
    const { dir, key, keyring } = await signedLog(8, { every: 4, maxBatch: 1 })
    const f = await forger(dir, key.privateJwk)
    // record 3 altered: its HASH_MISMATCH and the ROOT_MISMATCH of the checkpoint of 4 are both at seq 3
    const seg = join(dir, 'segments', readdirSync(join(dir, 'segments'))[0]!)
    const lines = readFileSync(seg, 'utf8').split('\n')
    lines[3] = lines[3]!.replace('Patient/3"', 'Patient/9"')
    writeFileSync(seg, lines.join('\n'))
    const r = await verifyEveryWay(await openFileStore({ dir, readOnly: true }), { keyring })
    expect(r.findings.map((x) => [x.severity, x.seq, x.code])).toEqual([
      ['error', 3, 'HASH_MISMATCH'],
      ['error', 3, 'ROOT_MISMATCH'],
      ['error', 7, 'ROOT_MISMATCH'],
      ['warning', 0, 'UNANCHORED_TAIL'],
    ])
    expect(f.stored.map((c) => c.size)).toEqual([4, 8])
  })

  it('keeps at most maxFindings findings, and counts every record', async () => {
    const { dir, keyring } = await signedLog(6)
    const seg = join(dir, 'segments', readdirSync(join(dir, 'segments'))[0]!)
    // every record but the last (a store refuses to open on a bad last record) names another stream
    const lines = readFileSync(seg, 'utf8').split('\n')
    writeFileSync(
      seg,
      lines.map((l, i) => (i < 5 ? l.replace('"stream":"s"', '"stream":"t"') : l)).join('\n'),
    )
    const all = await verifyLog(await openFileStore({ dir, readOnly: true }), { keyring, workers: 0 })
    expect(all.findings.filter((x) => x.code === 'STREAM_MISMATCH')).toHaveLength(5)
    const two = await verifyLog(await openFileStore({ dir, readOnly: true }), {
      keyring,
      workers: 0,
      maxFindings: 2,
    })
    expect(two.findings).toHaveLength(2)
    expect(two.records).toBe(6)
    expect(two.ok).toBe(false)
  })

  it('an abort while waiting for an empty anchor throws the reason', async () => {
    const { dir, keyring } = await signedLog(3)
    const ac = new AbortController()
    const empty: AnchorSink = {
      put: async () => undefined,
      list: async () => {
        setTimeout(() => ac.abort(new Error('stop')), 0)
        return []
      },
    }
    await expect(
      verifyLog(await openFileStore({ dir, readOnly: true }), {
        keyring,
        anchor: empty,
        anchorGraceMs: 60_000,
        signal: ac.signal,
        workers: 0,
      }),
    ).rejects.toThrow('stop')
  })
})
