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
  directoryAnchor,
  type Keyring,
  openFileStore,
  readCheckpointUnverified,
  UnknownCheckpointKeyError,
  verifyLog,
} from '../src/index.js'
import { signedLog, tempDir, verifyEveryWay } from './helpers.js'

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
