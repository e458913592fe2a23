/**
 * The verifier's per-record work on one run of consecutive records, done the same way on any thread
 * (the main thread or a worker): entry hashes, envelope checks, the hash links inside the run, the
 * optional deep check, and the roots of the complete RFC 6962 subtrees that cover the run.
 *
 * The result is facts, not findings: which seq each record carries, whether its stream and its link
 * to the previous record hold. The verifier turns them into findings in one pass in order, exactly as
 * if it had read the records itself, and joins the runs: it checks the first record's link against
 * the previous run's last entry hash and appends the subtree roots to its compact range. RFC 6962
 * subtrees are aligned on powers of two, so the roots of `[a, b)` split at the checkpoint sizes
 * inside it are what the compact range would have computed from the leaves.
 *
 * Hashes stay latin1 strings of 32 characters (one byte each) between native calls: `crypto.hash`
 * with a string output costs a fraction of one that allocates a Buffer per call.
 */
import { hash } from 'node:crypto'
import { canonicalize } from '@safeguards/core'
import { validateEvent } from '../record.js'
import {
  bytesAt,
  isHexOf,
  isRecoveredAt,
  matchRecord,
  type RecordMatch,
  recordTail,
  scanRecord,
} from './record-header.js'

/** The record's stream is the log's stream. */
export const STREAM_OK = 1
/** The record's `prev` is the entry hash of the record before it in the run (not set for the first). */
export const LINK_OK = 2
/** The record is a `safeguards.recovered` record. */
export const RECOVERED = 4
/** With `deep`: the record is canonical and schema-valid. */
export const DEEP_OK = 8

/** A run of consecutive records to check. */
export interface RunTask {
  /** Position (store sequence number) of the first record. */
  from: number
  /** The records: record i is `bytes[i === 0 ? 0 : ends[i - 1] + 1, ends[i])`. The byte after each
   * record is a separator the checker overwrites. */
  bytes: Uint8Array
  /** End offset of each record in `bytes`. */
  ends: Float64Array
  /** Tree sizes strictly inside the run where the verifier needs a root, ascending. */
  cuts: readonly number[]
  /** Leaves at positions `>= treeEnd` are needed by no root: they are not hashed into subtrees. */
  treeEnd: number
}

/** What a run's records are, in the order of the run. */
export interface RunFacts {
  /** Position of the first record. */
  from: number
  /** Number of records. */
  count: number
  /** Per record: the seq its envelope carries, or -1 when it is not a canonical v1 envelope. */
  seqs: Float64Array<ArrayBuffer>
  /** Per record: {@link STREAM_OK} | {@link LINK_OK} | {@link RECOVERED} | {@link DEEP_OK}. */
  flags: Uint8Array<ArrayBuffer>
  /** The first record's `prev` (64 hex characters), when its envelope is valid. */
  firstPrev: string | null
  /**
   * Every record is the expected one: seq = position, the log's stream, linked to the record before
   * it in the run, not a recovery record, and (with `deep`) canonical. The verifier then only checks
   * the first link and the roots.
   */
  clean: boolean
  /** The last record's entry hash (latin1). */
  lastHash: string
  /** The tree: segments end at the cuts and at the run's end (or `treeEnd`); absolute end of each. */
  segmentEnds: number[]
  /** Number of subtrees in each segment. */
  segmentTrees: number[]
  /** Height of each subtree, in order. */
  heights: Uint8Array<ArrayBuffer>
  /** Root of each subtree, 32 bytes each, in order. */
  roots: Uint8Array<ArrayBuffer>
}

/** What every run of one verification shares. */
export interface RunConfig {
  /** The log's stream id. */
  stream: string
  /** Also check each record's event schema and canonical form. */
  deep: boolean
}

const decoder = new TextDecoder('utf-8', { fatal: true })

function deepOk(bytes: Uint8Array): boolean {
  try {
    const text = decoder.decode(bytes)
    const v = JSON.parse(text) as { event?: unknown }
    validateEvent(v.event, { allowReserved: true })
    return canonicalize(v) === text
  } catch {
    return false
  }
}

/** The complete aligned subtrees covering `[a, b)`: heights in order (RFC 6962 compact range). */
function subtrees(a: number, b: number, out: number[]): number {
  let p = a
  let n = 0
  while (p < b) {
    let h = 0
    while (p % 2 ** (h + 1) === 0 && p + 2 ** (h + 1) <= b) h++
    out.push(h)
    p += 2 ** h
    n++
  }
  return n
}

/** Checks runs for one verification; keeps scratch buffers between runs. */
export class RunChecker {
  readonly #config: RunConfig
  readonly #tail: Uint8Array | null
  readonly #stream: Uint8Array
  readonly #node = new Uint8Array(65)
  readonly #match: RecordMatch = { seq: 0, eventEnd: 0 }
  #first = new Uint8Array(4096)

  constructor(config: RunConfig) {
    this.#config = config
    this.#tail = recordTail(config.stream)
    this.#stream = new TextEncoder().encode(config.stream)
    this.#node[0] = 1
  }

  /** The RFC 6962 leaf hash of the record at `bytes[start..end)`, using the byte before it. */
  #leaf(bytes: Uint8Array, start: number, end: number): string {
    if (start > 0) {
      bytes[start - 1] = 0
      return hash('sha256', bytes.subarray(start - 1, end), 'binary')
    }
    const n = end + 1
    if (this.#first.length < n) this.#first = new Uint8Array(Math.max(n, this.#first.length * 2))
    this.#first[0] = 0
    this.#first.set(bytes.subarray(0, end), 1)
    return hash('sha256', this.#first.subarray(0, n), 'binary')
  }

  #nodeHash(left: string, right: string): string {
    const s = this.#node
    for (let k = 0; k < 32; k++) {
      s[1 + k] = left.charCodeAt(k)
      s[33 + k] = right.charCodeAt(k)
    }
    return hash('sha256', s, 'binary')
  }

  /** Checks one run. */
  check(task: RunTask): RunFacts {
    const { from, bytes, ends } = task
    const count = ends.length
    const seqs = new Float64Array(count)
    const flags = new Uint8Array(count)
    const deep = this.#config.deep
    const tail = this.#tail
    const m = this.#match

    // The subtrees of [from, stop), split at the cuts.
    const stop = Math.min(from + count, Math.max(from, task.treeEnd))
    const { segmentEnds, segmentTrees, heights } = segmentsOf(from, stop, task.cuts)
    const roots = new Uint8Array(32 * heights.length)
    const stack: string[] = []
    let top = 0
    let tree = 0
    let filled = 0
    let size = heights.length > 0 ? 2 ** heights[0]! : 0

    let prev: string | null = null
    let firstPrev: string | null = null
    let clean = true
    const wanted = deep ? STREAM_OK | LINK_OK | DEEP_OK : STREAM_OK | LINK_OK
    for (let i = 0; i < count; i++) {
      const start = i === 0 ? 0 : ends[i - 1]! + 1
      const end = ends[i]!
      const leaf = this.#leaf(bytes, start, end)
      let seq = -1
      let flag = 0
      let eventEnd = -1
      if (prev !== null && tail !== null && matchRecord(bytes, start, end, tail, prev, m)) {
        seq = m.seq
        eventEnd = m.eventEnd
        flag = STREAM_OK | LINK_OK
      } else {
        const record = bytes.subarray(start, end)
        const l = scanRecord(record)
        if (l !== null) {
          seq = l.seq
          eventEnd = start + l.eventEnd
          if (l.streamEnd - l.streamAt === this.#stream.length && bytesAt(record, l.streamAt, this.#stream))
            flag |= STREAM_OK
          if (prev !== null && isHexOf(record, l.prevAt, prev)) flag |= LINK_OK
          if (i === 0) firstPrev = String.fromCharCode(...record.subarray(l.prevAt, l.prevAt + 64))
        }
      }
      if (seq >= 0) {
        if (isRecoveredAt(bytes, eventEnd, start)) flag |= RECOVERED
        if (deep && deepOk(bytes.subarray(start, end))) flag |= DEEP_OK
      }
      seqs[i] = seq
      flags[i] = flag
      if (clean && (seq !== from + i || (flag | (i === 0 ? LINK_OK : 0)) !== wanted)) clean = false
      prev = leaf

      if (from + i < stop) {
        let h = leaf
        filled++
        for (let k = filled; (k & 1) === 0; k >>>= 1) h = this.#nodeHash(stack[--top]!, h)
        stack[top++] = h
        if (filled === size) {
          for (let k = 0; k < 32; k++) roots[32 * tree + k] = h.charCodeAt(k)
          tree++
          top = 0
          filled = 0
          size = tree < heights.length ? 2 ** heights[tree]! : 0
        }
      }
    }
    return {
      from,
      count,
      seqs,
      flags,
      firstPrev,
      clean,
      lastHash: prev ?? '',
      segmentEnds,
      segmentTrees,
      heights,
      roots,
    }
  }
}

/**
 * The subtrees of [from, stop), split at the cuts: each segment's end and number of subtrees, and
 * the heights of every subtree in order.
 */
function segmentsOf(
  from: number,
  stop: number,
  cuts: readonly number[],
): { segmentEnds: number[]; segmentTrees: number[]; heights: Uint8Array<ArrayBuffer> } {
  const heightList: number[] = []
  const segmentEnds: number[] = []
  const segmentTrees: number[] = []
  let a = from
  for (const s of [...cuts.filter((c) => c > from && c < stop), stop]) {
    if (s <= a) continue
    segmentTrees.push(subtrees(a, s, heightList))
    segmentEnds.push(s)
    a = s
  }
  return { segmentEnds, segmentTrees, heights: Uint8Array.from(heightList) }
}

/** The lowercase hex of a hash held as a latin1 string. */
export function latin1ToHex(hash: string): string {
  let out = ''
  for (let k = 0; k < hash.length; k++) out += hash.charCodeAt(k).toString(16).padStart(2, '0')
  return out
}
