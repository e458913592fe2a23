/**
 * Reads chosen records of one segment: for each wanted seq (ascending), start at the index's anchor
 * at or before it (or keep walking when the previous record is closer) and walk lines to it. A
 * record is one positional read away when the anchors are dense enough (every 64 records).
 *
 * @module
 */
import { open } from 'node:fs/promises'
import type { StoredRecord } from '../../store.js'
import { ioError, NL } from '../file-store/segments.js'
import { readRecordHeader } from '../record-header.js'
import { indexOfByte } from '../runs.js'
import type { SegmentLookup } from './builder.js'

const WINDOW = 64 * 1024

type FileHandle = Awaited<ReturnType<typeof open>>

/** A window of a file read at `start`, re-read whenever a line is not inside it. */
class Window {
  buf: Uint8Array = new Uint8Array(WINDOW)
  start = -1
  len = 0
  readonly fh: FileHandle
  constructor(fh: FileHandle) {
    this.fh = fh
  }

  /** The line at `offset`: [index in buf of its first byte, of its newline], or null at the end. */
  async line(offset: number): Promise<[number, number] | null> {
    const rel = offset - this.start
    if (this.start >= 0 && rel >= 0 && rel < this.len) {
      const nl = indexOfByte(this.buf.subarray(0, this.len), NL, rel)
      if (nl >= 0) return [rel, nl]
    }
    for (let size = WINDOW; ; size *= 2) {
      if (this.buf.length < size) this.buf = new Uint8Array(size)
      const { bytesRead } = await this.fh.read(this.buf, 0, size, offset)
      this.start = offset
      this.len = bytesRead
      const nl = indexOfByte(this.buf.subarray(0, bytesRead), NL, 0)
      if (nl >= 0) return [0, nl]
      if (bytesRead < size) return null
    }
  }
}

/**
 * The records `seqs` (ascending, all in the segment) of the segment file at `path`. Each line found
 * must be the record wanted (its own `seq`): an index that points elsewhere or past the end
 * (damaged, forged) is not followed further, and `rest(seq)` (the store's read from that seq,
 * which counts lines) gives the remaining records instead, every one a candidate.
 */
export async function* fetchRecords(
  path: string,
  seqs: readonly number[],
  lookup: SegmentLookup,
  rest: (from: number) => AsyncIterable<StoredRecord>,
  signal: AbortSignal | undefined,
): AsyncGenerator<StoredRecord> {
  if (seqs.length === 0) return
  let fh: FileHandle
  try {
    fh = await open(path, 'r')
  } catch (e) {
    throw ioError('open segment', e)
  }
  try {
    const w = new Window(fh)
    let seq = -1
    let offset = 0
    for (const want of seqs) {
      signal?.throwIfAborted()
      const a = lookup.anchor(want)
      if (seq < 0 || want < seq || a.seq > seq) {
        seq = a.seq
        offset = a.offset
      }
      for (;;) {
        const line = await w.line(offset)
        if (line === null) {
          yield* rest(want)
          return
        }
        const [from, nl] = line
        if (seq === want) {
          const bytes = w.buf.slice(from, nl)
          if (readRecordHeader(bytes)?.seq !== want) {
            yield* rest(want)
            return
          }
          yield { seq, bytes }
        }
        offset = w.start + nl + 1
        if (++seq > want) break
      }
    }
  } finally {
    await fh.close()
  }
}
