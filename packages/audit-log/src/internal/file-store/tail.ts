/**
 * Tail recovery of the file store: where the log ends (the head), read from the segments, brought
 * up to date with what other processes appended, and a torn last line (a write a crashed process
 * never finished, never acknowledged) cut off under the lock and reported as a
 * {@link TailRecovery}. A complete last line that is not the expected record, or does not chain,
 * is corruption: refused (fail closed).
 *
 * @module
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { bytesToHex } from '@safeguards/core'
import { AuditCorruptionError } from '../../errors.js'
import { type StoreHead, type TailRecovery, ZERO_HASH } from '../../store.js'
import { readRecordHeader } from '../record-header.js'
import { leafHashOf, sha256Fast } from '../sha256.js'
import { lastLine, NL, openOrFail, segmentStarts, segName } from './segments.js'

/** The end of the log as this process knows it. */
export interface Tail {
  /** First seq of the last segment (-1: no segment yet). */
  segStart: number
  /** Bytes of complete lines in the last segment. */
  offset: number
  size: number
  hash: Uint8Array
}

/** Sees record `seq` (its line, without the newline) at byte `offset` of the segment `seg`. */
export type LineObserver = (seg: number, seq: number, offset: number, line: Uint8Array) => void

/** A known position: record `seq` starts at `offset` of segment `seg`. */
export interface Position {
  seg: number
  offset: number
}

const MAX_POSITIONS = 64

/** The tail of one log directory's segments, its torn bytes and the recoveries not yet taken. */
export class SegmentTail {
  tail: Tail = { segStart: -1, offset: 0, size: 0, hash: ZERO_HASH }
  /** Bytes after the last complete line (an unfinished write). */
  torn = 0
  #recoveries: TailRecovery[] = []
  /** Known (seq → byte offset) positions in segments, for catch-up reads. */
  readonly positions: Map<number, Position> = new Map()
  readonly #segDir: string
  readonly #stream: string
  /** Called for each complete line taken at the tail (records other writers appended). */
  readonly #onLine: LineObserver | undefined

  constructor(segDir: string, stream: string, onLine?: LineObserver) {
    this.#segDir = segDir
    this.#stream = stream
    this.#onLine = onLine
  }

  /** A copy of the head. */
  head(): StoreHead {
    return { size: this.tail.size, hash: this.tail.hash.slice() }
  }

  /** Remembers where record `size` starts (the next append's position), keeping the last 64. */
  remember(size: number, seg: number, offset: number): void {
    this.positions.set(size, { seg, offset })
    if (this.positions.size > MAX_POSITIONS) this.positions.delete(this.positions.keys().next().value!)
  }

  /** The recoveries made since the last call. */
  takeRecoveries(): readonly TailRecovery[] {
    const r = this.#recoveries
    this.#recoveries = []
    return r
  }

  /** Finds the head from the last segment's last complete line (no lock; nothing modified). */
  init(): void {
    const starts = segmentStarts(this.#segDir)
    for (let i = starts.length - 1; i >= 0; i--) {
      const seg = starts[i]!
      const { line, offset, torn } = lastLine(join(this.#segDir, segName(seg)))
      if (i === starts.length - 1) this.torn = torn
      if (line === null) {
        if (i === starts.length - 1 && i > 0) continue // an empty new segment: look at the previous one
        if (i === 0) {
          if (seg !== 0) throw new AuditCorruptionError('first segment does not start at seq 0', seg)
          this.tail = { segStart: seg, offset: 0, size: 0, hash: ZERO_HASH }
          return
        }
      }
      if (line === null) continue
      const header = readRecordHeader(line)
      if (header === null || header.stream !== this.#stream || header.seq < seg)
        throw new AuditCorruptionError('last record of the log is not a valid record', seg)
      const last = starts[starts.length - 1]!
      if (last !== seg && last !== header.seq + 1)
        throw new AuditCorruptionError('empty segment does not continue the log', last)
      this.tail =
        last === seg
          ? { segStart: seg, offset, size: header.seq + 1, hash: leafHashOf(line) }
          : { segStart: last, offset: 0, size: header.seq + 1, hash: leafHashOf(line) }
      this.positions.set(this.tail.size, { seg: this.tail.segStart, offset: this.tail.offset })
      return
    }
  }

  /**
   * Brings the tail up to date with what other processes wrote. With the lock held, a torn last line
   * is cut off; without it, only complete lines count.
   */
  refresh(locked: boolean): void {
    const starts = segmentStarts(this.#segDir)
    if (starts.length === 0) return
    const t = this.tail
    let idx = starts.indexOf(t.segStart)
    if (idx < 0) {
      if (t.segStart === -1) idx = 0
      else throw new AuditCorruptionError('segment disappeared', t.segStart)
    }
    for (let i = idx; i < starts.length; i++) {
      const seg = starts[i]!
      if (seg !== this.tail.segStart) {
        if (seg !== this.tail.size) throw new AuditCorruptionError('segment does not continue the log', seg)
        this.tail = { segStart: seg, offset: 0, size: this.tail.size, hash: this.tail.hash }
      }
      this.#scanFrom(seg, locked && i === starts.length - 1)
    }
  }

  #scanFrom(seg: number, cutTorn: boolean): void {
    const fd = openOrFail(join(this.#segDir, segName(seg)), cutTorn ? 'r+' : 'r', 'segment')
    try {
      const end = fstatSync(fd).size
      const pos = this.tail.offset
      if (end < pos)
        throw new AuditCorruptionError('segment shrank below acknowledged records', this.tail.size)
      if (end === pos) return
      const buf = new Uint8Array(end - pos)
      let got = 0
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, pos + got)
        if (n === 0) break
        got += n
      }
      const start = this.#takeLines(seg, pos, buf, got)
      const rest = end - this.tail.offset
      if (rest > 0 && cutTorn) {
        const torn = buf.subarray(start, got)
        ftruncateSync(fd, this.tail.offset)
        fdatasyncSync(fd)
        this.#recoveries.push({
          size: this.tail.size,
          discardedBytes: rest,
          discardedSha256: sha256Fast(torn),
        })
        this.torn = 0
      } else {
        this.torn = rest
      }
      this.remember(this.tail.size, seg, this.tail.offset)
    } finally {
      closeSync(fd)
    }
  }

  /** Takes the complete lines of `buf` (read at `pos`) into the tail; returns where the rest starts. */
  #takeLines(seg: number, pos: number, buf: Uint8Array, got: number): number {
    let start = 0
    for (;;) {
      const nl = buf.indexOf(NL, start)
      if (nl < 0 || nl >= got) return start
      const line = buf.subarray(start, nl)
      const header = readRecordHeader(line)
      if (header === null || header.seq !== this.tail.size || header.stream !== this.#stream)
        throw new AuditCorruptionError('log tail is not a valid record', this.tail.size)
      if (header.prev !== bytesToHex(this.tail.hash))
        throw new AuditCorruptionError('log tail does not chain', this.tail.size)
      this.#onLine?.(seg, this.tail.size, pos + start, line)
      this.tail = { segStart: seg, offset: pos + nl + 1, size: this.tail.size + 1, hash: leafHashOf(line) }
      start = nl + 1
    }
  }
}
