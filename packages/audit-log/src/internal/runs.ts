/**
 * Runs: consecutive records in one buffer, the unit the verifier hands to a thread. A store can
 * yield them directly ({@link READ_RUNS}: the file store reads a chunk of its segment file and
 * yields the complete lines in place, no copy); any other store is read through `readBatches` /
 * `read` and its records are packed into runs.
 */
import type { AuditStore, ReadOptions, StoredRecord } from '../store.js'
import { readInBatches } from './batches.js'

/** Consecutive records in one buffer. Record i is `bytes[i === 0 ? 0 : ends[i - 1] + 1, ends[i])`. */
export interface RecordRun {
  /** Position (store sequence number) of the first record. */
  readonly from: number
  /** The records, each followed by one separator byte. The consumer owns the buffer (it may
   * overwrite separators and transfer `bytes.buffer` to another thread). */
  readonly bytes: Uint8Array
  /** The end offset of each record in `bytes`. */
  readonly ends: Float64Array
}

/** Options for {@link READ_RUNS}. */
export interface RunReadOptions extends ReadOptions {
  /** At most this many records per run. */
  maxRecords: number
  /** Buffers for reads, `size` bytes (any content); the verifier recycles the buffers of checked runs. */
  alloc?: (size: number) => Uint8Array
}

/** A store's own way to yield runs (records `from <= seq < to`, as `read` would). */
export const READ_RUNS: unique symbol = Symbol('safeguards.audit-log.readRuns')

/** A store with {@link READ_RUNS}. */
export interface RunSource {
  [READ_RUNS](from: number, to: number | undefined, options: RunReadOptions): AsyncIterable<RecordRun>
}

function hasRuns(store: AuditStore): store is AuditStore & RunSource {
  return typeof (store as Partial<RunSource>)[READ_RUNS] === 'function'
}

/** Bytes per packed run (a run also ends at `maxRecords`). */
const PACK_BYTES = 4 << 20

function pack(records: readonly StoredRecord[], from: number, bytes: number): RecordRun {
  const buf = new Uint8Array(bytes + records.length)
  const ends = new Float64Array(records.length)
  let at = 0
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!.bytes
    buf.set(r, at)
    at += r.length
    ends[i] = at
    at++
  }
  return { from, bytes: buf, ends }
}

async function* packed(
  store: AuditStore,
  from: number,
  to: number | undefined,
  options: RunReadOptions,
): AsyncIterable<RecordRun> {
  const readOptions: ReadOptions = options.signal === undefined ? {} : { signal: options.signal }
  // Positions count the records as read (a damaged store's own seq values are not trusted here).
  let list: StoredRecord[] = []
  let bytes = 0
  let first = from
  for await (const batch of readInBatches(store, from, to, readOptions))
    for (const r of batch) {
      list.push(r)
      bytes += r.bytes.length
      if (list.length >= options.maxRecords || bytes >= PACK_BYTES) {
        yield pack(list, first, bytes)
        first += list.length
        list = []
        bytes = 0
      }
    }
  if (list.length > 0) yield pack(list, first, bytes)
}

/** The records `from <= seq < to` of any store, in runs of at most `options.maxRecords`. */
export function readRuns(
  store: AuditStore,
  from: number,
  to: number | undefined,
  options: RunReadOptions,
): AsyncIterable<RecordRun> {
  return hasRuns(store) ? store[READ_RUNS](from, to, options) : packed(store, from, to, options)
}

/** The records of a run as `read` yields them (views into the run's buffer). */
export function recordsOf(run: RecordRun): StoredRecord[] {
  const out: StoredRecord[] = new Array(run.ends.length)
  let start = 0
  for (let i = 0; i < run.ends.length; i++) {
    const end = run.ends[i]!
    out[i] = { seq: run.from + i, bytes: run.bytes.subarray(start, end) }
    start = end + 1
  }
  return out
}

// Buffer's indexOf is memchr; Uint8Array's walks in JS-speed steps (about 5x slower per line here).
// Called on plain Uint8Arrays: no Buffer is created or returned. Runtimes without a global Buffer
// (Deno, browsers, workers) use Uint8Array's.
type IndexOf = (this: Uint8Array, value: number, byteOffset: number) => number
const bufferIndexOf: IndexOf | undefined = (globalThis as { Buffer?: { prototype: { indexOf: IndexOf } } })
  .Buffer?.prototype.indexOf

/** The index of `byte` in `b` at or after `from`, or -1. */
export function indexOfByte(b: Uint8Array, byte: number, from: number): number {
  return bufferIndexOf !== undefined && b.length <= 0x7fffffff
    ? bufferIndexOf.call(b, byte, from)
    : b.indexOf(byte, from)
}
