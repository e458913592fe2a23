/**
 * The file store's run reader: the complete lines `from <= seq < to` of the segments as runs
 * ({@link RecordRun}), one positional read of a chunk per run into a buffer the caller then owns.
 * The next read starts after the last line taken, so a line cut by the chunk's end is read again
 * whole (no carry buffer, no copy); a line longer than the chunk is read again with a bigger one.
 *
 * @module
 */
import { open as openAsync } from 'node:fs/promises'
import { join } from 'node:path'
import { readRecordHeader } from '../record-header.js'
import { indexOfByte, type RecordRun, type RunReadOptions } from '../runs.js'
import { ioError, NL, segName } from './segments.js'

const CHUNK = 4 << 20

type FileHandle = Awaited<ReturnType<typeof openAsync>>

/** Where to read: the segments (first seqs, ascending) of `segDir`, records `from <= seq < end`. */
export interface RunRange {
  segDir: string
  starts: readonly number[]
  from: number
  end: number
  /**
   * A known line start at or before `from` in its segment, if any (saves reading the segment from
   * its start): the tail's last positions, or the file index's offset table.
   */
  known: KnownLine | undefined
}

/** Record `seq` starts at byte `offset` of the segment whose first seq is `seg`. */
export interface KnownLine {
  seg: number
  seq: number
  offset: number
}

/** The runs of `range`. */
export async function* readSegmentRuns(range: RunRange, options: RunReadOptions): AsyncGenerator<RecordRun> {
  const { starts, from, end, known } = range
  let i = 0
  while (i + 1 < starts.length && starts[i + 1]! <= from) i++
  for (; i < starts.length; i++) {
    const seg = starts[i]!
    if (seg >= end) return
    let at =
      known !== undefined && known.seg === seg && known.seq >= seg && known.seq <= from
        ? { seq: known.seq, offset: known.offset }
        : { seq: seg, offset: 0 }
    let fh: FileHandle
    try {
      fh = await openAsync(join(range.segDir, segName(seg)), 'r')
    } catch (e) {
      throw ioError('open segment', e)
    }
    try {
      if (at.offset > 0 && !(await startsRecord(fh, at))) at = { seq: seg, offset: 0 }
      const done = yield* segmentRuns(fh, at, from, end, options)
      if (done) return
    } finally {
      await fh.close()
    }
  }
}

/**
 * Whether record `at.seq` starts at `at.offset` (a known position is a hint, never trusted: an
 * index file that names a wrong offset only costs reading the segment from its start).
 */
async function startsRecord(fh: FileHandle, at: { seq: number; offset: number }): Promise<boolean> {
  const buf = new Uint8Array(64 * 1024)
  const { bytesRead } = await fh.read(buf, 0, buf.length, at.offset - 1)
  if (bytesRead < 2 || buf[0] !== NL) return false
  const nl = indexOfByte(buf.subarray(0, bytesRead), NL, 1)
  // A line longer than the window: accept the position only when its line start is certain.
  if (nl < 0) return false
  return readRecordHeader(buf.subarray(1, nl))?.seq === at.seq
}

/** The lines of one chunk from `from` on: where they end, and where the next read starts. */
interface ChunkLines {
  ends: Float64Array
  count: number
  /** Offset of the first line taken in the chunk (-1: none). */
  first: number
  firstSeq: number
  /** Offset after the last complete line seen. */
  next: number
  seq: number
  /** Reached `end`. */
  done: boolean
}

function linesOf(data: Uint8Array, seq: number, from: number, end: number, maxRecords: number): ChunkLines {
  const out: ChunkLines = {
    ends: new Float64Array(Math.min(maxRecords, 1024)),
    count: 0,
    first: -1,
    firstSeq: seq,
    next: 0,
    seq,
    done: false,
  }
  for (;;) {
    const nl = indexOfByte(data, NL, out.next)
    if (nl < 0) break
    if (out.seq >= from) {
      if (out.first < 0) {
        out.first = out.next
        out.firstSeq = out.seq
      }
      if (out.count === out.ends.length) {
        const bigger = new Float64Array(out.count * 2)
        bigger.set(out.ends)
        out.ends = bigger
      }
      out.ends[out.count++] = nl - out.first
    }
    out.seq++
    out.next = nl + 1
    if (out.seq >= end) {
      out.done = true
      break
    }
    if (out.count >= maxRecords) break
  }
  return out
}

/** The runs of one segment from `at`; returns true when `end` was reached. */
async function* segmentRuns(
  fh: FileHandle,
  at: { seq: number; offset: number },
  from: number,
  end: number,
  options: RunReadOptions,
): AsyncGenerator<RecordRun, boolean> {
  let { seq, offset } = at
  let size = CHUNK
  for (;;) {
    options.signal?.throwIfAborted()
    const chunk = options.alloc?.(size) ?? new Uint8Array(size)
    const { bytesRead } = await fh.read(chunk, 0, size, offset)
    if (bytesRead === 0) return false
    const l = linesOf(chunk.subarray(0, bytesRead), seq, from, end, options.maxRecords)
    if (l.next === 0) {
      if (bytesRead < size) return false // a torn last line: not a record
      size *= 2
      continue
    }
    seq = l.seq
    offset += l.next
    if (l.count > 0)
      yield { from: l.firstSeq, bytes: chunk.subarray(l.first, l.next), ends: l.ends.slice(0, l.count) }
    if (l.done) return true
    // Runs capped at a few records: read about that much next time, not a whole chunk.
    if (l.count >= options.maxRecords)
      size = Math.min(CHUNK, Math.max(64 * 1024, Math.ceil((l.next / l.count) * (l.count + 1) * 1.25)))
  }
}
