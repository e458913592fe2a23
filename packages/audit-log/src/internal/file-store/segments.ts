/**
 * Segment files of the file store: names, listing, the last complete line of a file, whole writes
 * and data syncs, and the I/O error wrapper every file-store step uses.
 *
 * @module
 */
import { closeSync, fdatasync, openSync, readdirSync, readSync, statSync, writeSync } from 'node:fs'
import { errorCode } from '@safeguards/core/node'
import { AuditStoreError } from '../../errors.js'
import type { AppendRecord, StoreHead } from '../../store.js'

/** The line separator of segments and `checkpoints.jsonl`. */
export const NL = 0x0a

/** The file name of the segment whose first record is `start`: 20 digits and `.jsonl`. */
export function segName(start: number): string {
  return `${String(start).padStart(20, '0')}.jsonl`
}

/** An `AuditStoreError` naming the operation and the system error code (never a path). */
export function ioError(op: string, e: unknown): AuditStoreError {
  return new AuditStoreError(`${op} failed (${errorCode(e) ?? 'unknown'})`, { cause: e })
}

/** `openSync`, failing with {@link ioError} (`open <what>`). */
export function openOrFail(path: string, flags: string, what: string): number {
  try {
    return openSync(path, flags)
  } catch (e) {
    throw ioError(`open ${what}`, e)
  }
}

/** Byte equality (hashes: not secret, no constant time needed). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** The first seq of each segment in `segDir`, ascending. */
export function segmentStarts(segDir: string): number[] {
  let names: string[]
  try {
    names = readdirSync(segDir)
  } catch (e) {
    throw ioError('readdir', e)
  }
  const out: number[] = []
  for (const n of names) {
    const m = /^(\d{20})\.jsonl$/.exec(n)
    if (m !== null) out.push(Number(m[1]))
  }
  return out.sort((a, b) => a - b)
}

/** `fdatasync` as a promise; a failure is an {@link AuditStoreError}. */
export function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fdatasync(fd, (e) => (e === null ? resolve() : reject(ioError('fdatasync', e))))
  })
}

/** Writes all of `bytes` at the descriptor's position (`O_APPEND`: the end). */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let written = 0
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
}

/** Checks that `records` continue `expected` (seq and prev) and hold no newline. */
export function checkBatch(expected: StoreHead, records: readonly AppendRecord[]): void {
  let seq = expected.size
  let prev = expected.hash
  for (const r of records) {
    if (r.seq !== seq || !bytesEqual(r.prevHash, prev) || r.hash.length !== 32)
      throw new RangeError('"records" do not continue the expected head')
    if (r.bytes.indexOf(NL) >= 0) throw new RangeError('"records" bytes contain a newline')
    seq++
    prev = r.hash
  }
}

/** The records as one buffer of lines (each followed by a newline). */
export function joinLines(records: readonly AppendRecord[]): Uint8Array {
  let total = 0
  for (const r of records) total += r.bytes.length + 1
  const buf = new Uint8Array(total)
  let at = 0
  for (const r of records) {
    buf.set(r.bytes, at)
    at += r.bytes.length
    buf[at++] = NL
  }
  return buf
}

/** The last complete line of a file, its end offset, and how many torn bytes follow it. */
export function lastLine(path: string): { line: Uint8Array | null; offset: number; torn: number } {
  return readingSegment(path, (fd) => {
    const size = statSync(path).size
    let window = 64 * 1024
    for (;;) {
      const start = Math.max(0, size - window)
      const buf = new Uint8Array(size - start)
      readSync(fd, buf, 0, buf.length, start)
      const lastNl = buf.lastIndexOf(NL)
      if (lastNl < 0) {
        if (start === 0) return { line: null, offset: 0, torn: size }
        window *= 4
        continue
      }
      const prevNl = lastNl > 0 ? buf.lastIndexOf(NL, lastNl - 1) : -1
      if (prevNl < 0 && start > 0) {
        window *= 4
        continue
      }
      return {
        line: buf.slice(prevNl + 1, lastNl),
        offset: start + lastNl + 1,
        torn: size - (start + lastNl + 1),
      }
    }
  })
}

/**
 * The line that ends (with its newline) exactly at byte `end` of a file, or null when the byte
 * before `end` is not a newline or the file is shorter.
 */
export function lineEndingAt(path: string, end: number): Uint8Array | null {
  if (end < 1) return null
  return readingSegment(path, (fd) => {
    for (let window = 64 * 1024; ; window *= 4) {
      const start = Math.max(0, end - window)
      const buf = new Uint8Array(end - start)
      if (readSync(fd, buf, 0, buf.length, start) !== buf.length || buf[buf.length - 1] !== NL) return null
      const prevNl = buf.length > 1 ? buf.lastIndexOf(NL, buf.length - 2) : -1
      if (prevNl >= 0 || start === 0) return buf.slice(prevNl + 1, buf.length - 1)
    }
  })
}

/** Runs `f` on a read descriptor of the segment file at `path`, closed afterwards. */
function readingSegment<T>(path: string, f: (fd: number) => T): T {
  const fd = openOrFail(path, 'r', 'segment')
  try {
    return f(fd)
  } finally {
    closeSync(fd)
  }
}
