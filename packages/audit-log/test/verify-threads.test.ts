/**
 * Verification on worker threads: the log is cut into runs checked on different threads, and the
 * main thread joins them (the hash link across each boundary, the Merkle subtrees at each checkpoint
 * size). Tampering placed at a boundary, in the first or last record of a run, or across runs, must
 * give the report the main thread alone gives, naming the same first record.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bytesToHex } from '@safeguards/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type FindingCode, leafHash, openFileStore, type VerifyReport, verifyLog } from '../src/index.js'
import { isHexOf, matchRecord, recordTail, scanRecord } from '../src/internal/record-header.js'
import { signedLog, verifyEveryWay } from './helpers.js'

/** Runs of 8 records: [0, 8), [8, 16), [16, 24); checkpoints every 8 need roots at the boundaries. */
const RUN = 8
const SIZE = 24

async function makeLog() {
  const { dir, keyring } = await signedLog(SIZE, { every: RUN, stream: 'ehr-test', maxBatch: 1 })
  const path = join(dir, 'segments', `${'0'.repeat(20)}.jsonl`)
  const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1)
  return { dir, path, lines, keyring }
}

type Log = Awaited<ReturnType<typeof makeLog>>

/** Writes `lines` over the log and verifies it every way, also in runs of exactly {@link RUN}. */
async function verifyAs(log: Log, lines: string[], deep = false): Promise<VerifyReport> {
  writeFileSync(log.path, `${lines.join('\n')}\n`)
  const store = await openFileStore({ dir: log.dir, readOnly: true })
  return verifyEveryWay(store, { keyring: log.keyring, deep }, [1, 3, RUN])
}

function edit(line: string, at: number): string {
  return line.slice(0, at) + (line[at] === 'a' ? 'b' : 'a') + line.slice(at + 1)
}

/** A record for `seq` chained to `prevLine`, with other content than the log's own record. */
function sibling(template: string, prevLine: string, seq: number, tag: string): string {
  const v = JSON.parse(template) as { event: { requestId: string }; prev: string; seq: number }
  v.event.requestId = tag
  v.prev = bytesToHex(leafHash(new TextEncoder().encode(prevLine)))
  v.seq = seq
  // Members in canonical order, as the log writes them.
  return JSON.stringify({
    event: sortKeys(v.event),
    prev: v.prev,
    recorded: JSON.parse(template).recorded,
    seq,
    stream: 'ehr-test',
    v: 1,
  })
}

function sortKeys(o: object): object {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)))
}

function first(r: VerifyReport): { seq: number; code: FindingCode } {
  const f = r.findings[0]!
  return { seq: f.seq, code: f.code }
}

describe('verify on worker threads, tampering at run boundaries', () => {
  // The last record of a run, the first of the next, and the ends of the log.
  const positions = [0, RUN - 1, RUN, 2 * RUN - 1, 2 * RUN, SIZE - 2]

  it('a changed byte in a record is found at that record', async () => {
    const log = await makeLog()
    for (const k of positions) {
      const ls = [...log.lines]
      ls[k] = edit(ls[k]!, 30)
      const r = await verifyAs(log, ls)
      expect(first(r), `record ${k}`).toEqual({ seq: k, code: 'HASH_MISMATCH' })
    }
  })

  it('a changed prev breaks the links on both sides and is found at that record', async () => {
    const log = await makeLog()
    for (const k of positions) {
      const ls = [...log.lines]
      ls[k] = edit(ls[k]!, ls[k]!.indexOf('"prev"') + 12)
      const r = await verifyAs(log, ls)
      expect(first(r), `record ${k}`).toEqual({ seq: k, code: 'CHAIN_BREAK' })
    }
  })

  it('malformed, foreign-stream and non-canonical records are found at that record', async () => {
    const log = await makeLog()
    for (const k of [RUN - 1, RUN, 2 * RUN]) {
      let ls = [...log.lines]
      ls[k] = '{"not":"a record"}'
      expect(first(await verifyAs(log, ls)), `record ${k}`).toEqual({ seq: k, code: 'MALFORMED' })
      ls = [...log.lines]
      ls[k] = ls[k]!.replace('"stream":"ehr-test"', '"stream":"ehr-tess"')
      expect(first(await verifyAs(log, ls)), `record ${k}`).toEqual({ seq: k, code: 'STREAM_MISMATCH' })
      ls = [...log.lines]
      ls[k] = ls[k]!.replace('"action":"R"', '"action":"Q"')
      expect(first(await verifyAs(log, ls, true)), `record ${k}`).toEqual({ seq: k, code: 'NON_CANONICAL' })
    }
  })

  it('records deleted or duplicated at a boundary are found there', async () => {
    const log = await makeLog()
    for (const k of [RUN - 1, RUN, 2 * RUN]) {
      const gap = await verifyAs(
        log,
        log.lines.filter((_, i) => i !== k),
      )
      expect(first(gap), `record ${k}`).toEqual({ seq: k, code: 'SEQ_GAP' })
      const dup = await verifyAs(log, [
        ...log.lines.slice(0, k + 1),
        log.lines[k]!,
        ...log.lines.slice(k + 1),
      ])
      expect(first(dup), `record ${k}`).toEqual({ seq: k, code: 'SEQ_DUP' })
    }
  })

  it('a fork across runs: a second record 8 chained to record 7', async () => {
    const log = await makeLog()
    const fork = sibling(log.lines[RUN]!, log.lines[RUN - 1]!, RUN, 'forged')
    // The forged record takes the first position of the second run; the log's own record 8 follows.
    const ls = [...log.lines.slice(0, RUN), fork, ...log.lines.slice(RUN)]
    const r = await verifyAs(log, ls)
    expect(first(r)).toEqual({ seq: RUN, code: 'SEQ_DUP' })
    // The tree over the first 16 positions now holds the forged record: the checkpoint disagrees.
    expect(r.findings).toContainEqual(expect.objectContaining({ seq: 2 * RUN - 1, code: 'ROOT_MISMATCH' }))
    expect(r.findings.some((f) => f.code === 'ROOT_MISMATCH' && f.seq === RUN - 1)).toBe(false)
  })

  it('a rewritten branch across a boundary, re-chained: found by the checkpoint at the boundary', async () => {
    const log = await makeLog()
    const ls = [...log.lines]
    for (let k = RUN - 2; k <= RUN + 1; k++) ls[k] = sibling(log.lines[k]!, ls[k - 1]!, k, `rewritten-${k}`)
    const r = await verifyAs(log, ls)
    expect(first(r)).toEqual({ seq: RUN - 1, code: 'ROOT_MISMATCH' })
    // The first original record after the branch no longer links to it.
    expect(r.findings).toContainEqual(expect.objectContaining({ seq: RUN + 1, code: 'HASH_MISMATCH' }))
  })

  it('an intact log: the same report, progress at the end, every checkpoint root matched', async () => {
    const log = await makeLog()
    const progress: [number, number][] = []
    const store = await openFileStore({ dir: log.dir, readOnly: true })
    const r = await verifyLog(store, {
      keyring: log.keyring,
      workers: 2,
      chunkRecords: 5,
      onProgress: (done, total) => progress.push([done, total]),
    })
    expect(r.ok).toBe(true)
    expect(r.findings).toEqual([])
    expect(r.checkpoints.verified).toBe(r.checkpoints.total)
    expect(progress.at(-1)).toEqual([SIZE, SIZE])
    expect(await verifyEveryWay(store, { keyring: log.keyring }, [2, 5, 7, RUN, 64])).toEqual(r)
  })

  it('an aborted verification throws the reason, and the next one still works', async () => {
    const log = await makeLog()
    const store = await openFileStore({ dir: log.dir, readOnly: true })
    const ac = new AbortController()
    ac.abort(new Error('stop'))
    await expect(verifyLog(store, { workers: 2, chunkRecords: 2, signal: ac.signal })).rejects.toThrow('stop')
    expect((await verifyLog(store, { keyring: log.keyring, workers: 2, chunkRecords: 2 })).ok).toBe(true)
  })

  it('refuses a bad workers or chunkRecords option', async () => {
    const log = await makeLog()
    const store = await openFileStore({ dir: log.dir, readOnly: true })
    await expect(verifyLog(store, { workers: -1 })).rejects.toThrow(RangeError)
    await expect(verifyLog(store, { workers: 1.5 })).rejects.toThrow(RangeError)
    await expect(verifyLog(store, { chunkRecords: 0 })).rejects.toThrow(RangeError)
  })
})

describe('the verifier fast path agrees with the full envelope scan', () => {
  it('matchRecord accepts a record only where scanRecord reads the same fields (property)', async () => {
    const log = await makeLog()
    const enc = new TextEncoder()
    const tail = recordTail('ehr-test')!
    const records = log.lines.map((l) => enc.encode(l))
    const hashes = records.map((b) => String.fromCharCode(...leafHash(b)))
    const out = { seq: 0, eventEnd: 0 }
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: SIZE - 1 }),
        // Edits mostly in the envelope (the last ~260 bytes), with bytes an envelope is made of.
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...enc.encode('0123456789abcdefA",:{}1s'), 0, 0xff)), {
          maxLength: 3,
        }),
        fc.nat(8),
        (k, edits, pad) => {
          const rec = records[k]!.slice()
          for (const [at, byte] of edits)
            rec[at % 4 === 0 ? at % rec.length : rec.length - 1 - (at % 260)] = byte
          // In a buffer with bytes before and after, as runs hold it.
          const buf = new Uint8Array(pad + rec.length + 1).fill(0x7b)
          buf.set(rec, pad)
          const matched = matchRecord(buf, pad, pad + rec.length, tail, hashes[k - 1]!, out)
          const l = scanRecord(rec)
          const full =
            l !== null &&
            new TextDecoder().decode(rec.subarray(l.streamAt, l.streamEnd)) === 'ehr-test' &&
            isHexOf(rec, l.prevAt, hashes[k - 1]!)
          expect(matched).toBe(full)
          if (matched)
            expect({ seq: out.seq, eventEnd: out.eventEnd - pad }).toEqual({
              seq: l!.seq,
              eventEnd: l!.eventEnd,
            })
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('a stream id that cannot appear in an envelope gets no fast path', () => {
    expect(recordTail('a/b')).toBeNull()
    expect(recordTail('x'.repeat(129))).toBeNull()
    expect(recordTail('ehr-test')).not.toBeNull()
  })
})
