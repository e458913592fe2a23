/**
 * The file index format (v1): one immutable file per run of records of a segment,
 * `index/<segment>-<first seq>.idx`.
 *
 * ```
 * "SGAIDX" 0x01                       magic and version
 * uleb(n) header                      canonical JSON: {count, every, firstSeq, lastEntryHash,
 *                                     segmentBytes, stream, terms, v:1}
 * ceil(count / every) × uleb          byte offset of record firstSeq + k·every: the first as is,
 *                                     then the (positive) differences
 * terms × { u32 term, u32 at }        big-endian: 32-bit term hashes, strictly ascending, and where
 *                                     each one's postings start in the area below
 * postings area, per term:            uleb(n), then n × uleb: seq − firstSeq of the first, then the
 *                                     (positive) gaps
 * 32 bytes                            SHA-256 of everything before
 * ```
 *
 * Postings are delta + unsigned LEB128 (as Lucene's), the term table fixed-width so a lookup is a
 * binary search over the file's bytes with nothing decoded beforehand (a query opens one file per
 * run), the offsets a sparse seq → byte table so a candidate record is read from at most
 * `every − 1` lines before it. Decoding checks every bound it reads and throws
 * {@link IndexFormatError} on anything it would otherwise have to guess; the order of the whole
 * term table is checked by {@link IndexFile.content} (what verification reads).
 *
 * @module
 */
import { canonicalize, utf8Decode, utf8Encode } from '@safeguards/core'
import { sha256Fast } from '../sha256.js'

/** Records between two entries of the offset table. */
export const EVERY = 64

const MAGIC = utf8Encode('SGAIDX\u0001')

/** What an index file says it covers: checked against the segment before the file is used. */
export interface IndexHeader {
  readonly v: 1
  readonly stream: string
  readonly firstSeq: number
  readonly count: number
  /** The segment file's size in bytes. */
  readonly segmentBytes: number
  /** Lowercase hex of the entry (leaf) hash of the segment's last record. */
  readonly lastEntryHash: string
  readonly every: number
  readonly terms: number
}

/** An index file that cannot be decoded (damaged, truncated, or not one). */
export class IndexFormatError extends Error {
  override readonly name = 'IndexFormatError'
}

/** The content of an index: postings (absolute seqs, ascending) by term, and the offset table. */
export interface IndexContent {
  readonly terms: ReadonlyMap<number, readonly number[]>
  /** Offset of record `firstSeq + k·EVERY`, for every k below `ceil(count / EVERY)`. */
  readonly offsets: readonly number[]
}

class Writer {
  buf = new Uint8Array(1 << 16)
  len = 0
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const bigger = new Uint8Array(size)
    bigger.set(this.buf.subarray(0, this.len))
    this.buf = bigger
  }
  uleb(v: number): void {
    if (v < 0x80 && this.len < this.buf.length) {
      this.buf[this.len++] = v
      return
    }
    this.reserve(8)
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    this.buf[this.len++] = v
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
  }
}

/** Unsigned LEB128 of `v` (a safe integer ≥ 0). */
export function encodeUleb(v: number): Uint8Array {
  const w = new Writer()
  w.uleb(v)
  return w.buf.slice(0, w.len)
}

/** Encodes an index file. `header.terms` and `header.every` are filled in here. */
export function encodeIndex(
  header: Omit<IndexHeader, 'v' | 'every' | 'terms'>,
  content: IndexContent,
): Uint8Array {
  const sorted = new Float64Array(content.terms.size)
  let n = 0
  for (const [t, p] of content.terms) {
    if (!Number.isInteger(t) || t < 0 || t > 0xffffffff) throw new RangeError('term out of range')
    if (p.length > 0) sorted[n++] = t
  }
  const terms = sorted.subarray(0, n).sort()
  const full: IndexHeader = { ...header, v: 1, every: EVERY, terms: n }
  const w = new Writer()
  w.bytes(MAGIC)
  const h = utf8Encode(canonicalize(full))
  w.uleb(h.length)
  w.bytes(h)
  const slots = Math.ceil(header.count / EVERY)
  if (content.offsets.length !== slots) throw new RangeError('offset table does not cover the segment')
  let prevOffset = 0
  for (let k = 0; k < slots; k++) {
    const o = content.offsets[k]!
    w.uleb(k === 0 ? o : o - prevOffset)
    prevOffset = o
  }
  const table = w.len
  w.reserve(n * 8)
  w.len += n * 8
  const area = w.len
  for (let i = 0; i < n; i++) {
    const term = terms[i]!
    const postings = content.terms.get(term)!
    const at = w.len - area
    for (let k = 0; k < 4; k++) {
      w.buf[table + i * 8 + k] = (term >>> (24 - 8 * k)) & 0xff
      w.buf[table + i * 8 + 4 + k] = (at >>> (24 - 8 * k)) & 0xff
    }
    w.uleb(postings.length)
    let prev = header.firstSeq
    for (const seq of postings) {
      w.uleb(seq - prev)
      prev = seq
    }
  }
  w.bytes(sha256Fast(w.buf.subarray(0, w.len)))
  return w.buf.slice(0, w.len)
}

/** A reader over an index file's bytes; every read is bounds-checked. */
class Reader {
  at: number
  readonly b: Uint8Array
  readonly end: number
  constructor(b: Uint8Array, at: number, end: number) {
    this.b = b
    this.at = at
    this.end = end
  }
  uleb(): number {
    let v = 0
    let scale = 1
    for (let i = 0; i < 8; i++) {
      if (this.at >= this.end) throw new IndexFormatError('truncated')
      const c = this.b[this.at++]!
      v += (c & 0x7f) * scale
      if (c < 0x80) {
        if (!Number.isSafeInteger(v)) break
        return v
      }
      scale *= 0x80
    }
    throw new IndexFormatError('bad number')
  }
  skip(n: number): void {
    if (n > this.end - this.at) throw new IndexFormatError('truncated')
    this.at += n
  }
  take(n: number): Uint8Array {
    if (n > this.end - this.at) throw new IndexFormatError('truncated')
    const s = this.b.subarray(this.at, this.at + n)
    this.at += n
    return s
  }
}

function checkHeader(h: unknown): IndexHeader {
  const x = h as Partial<IndexHeader> | null
  const int = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0
  if (
    typeof x !== 'object' ||
    x === null ||
    x.v !== 1 ||
    typeof x.stream !== 'string' ||
    !int(x.firstSeq) ||
    !int(x.count) ||
    !int(x.segmentBytes) ||
    !int(x.terms) ||
    x.every !== EVERY ||
    typeof x.lastEntryHash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(x.lastEntryHash)
  )
    throw new IndexFormatError('bad header')
  return x as IndexHeader
}

/** Reads only the header of an index file (checksum included), or throws {@link IndexFormatError}. */
function openFile(bytes: Uint8Array): { header: IndexHeader; r: Reader } {
  if (bytes.length < MAGIC.length + 33) throw new IndexFormatError('truncated')
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw new IndexFormatError('not an index')
  const end = bytes.length - 32
  const sum = sha256Fast(bytes.subarray(0, end))
  for (let i = 0; i < 32; i++) if (sum[i] !== bytes[end + i]) throw new IndexFormatError('checksum')
  const r = new Reader(bytes, MAGIC.length, end)
  let header: IndexHeader
  try {
    header = checkHeader(JSON.parse(utf8Decode(r.take(r.uleb()))))
  } catch (e) {
    if (e instanceof IndexFormatError) throw e
    throw new IndexFormatError('bad header')
  }
  return { header, r }
}

/** A decoded index file: lookups decode one term's postings on demand. */
export class IndexFile {
  readonly header: IndexHeader
  readonly offsets: Float64Array
  readonly #bytes: Uint8Array
  /** Where the term table starts, and the postings area (which ends at `#end`). */
  readonly #table: number
  readonly #area: number
  readonly #end: number

  /** @throws {IndexFormatError} when the bytes are not a whole v1 index file with a sound header. */
  constructor(bytes: Uint8Array) {
    const { header, r } = openFile(bytes)
    this.header = header
    this.#bytes = bytes
    const slots = Math.ceil(header.count / EVERY)
    this.offsets = new Float64Array(slots)
    for (let k = 0; k < slots; k++) {
      const d = r.uleb()
      if (k > 0 && d === 0) throw new IndexFormatError('offsets')
      this.offsets[k] = k === 0 ? d : this.offsets[k - 1]! + d
    }
    if (slots > 0 && this.offsets[slots - 1]! >= header.segmentBytes) throw new IndexFormatError('offsets')
    if (header.terms * 8 > r.end - r.at) throw new IndexFormatError('terms')
    this.#table = r.at
    this.#area = r.at + header.terms * 8
    this.#end = r.end
    if (header.terms > 0 && this.#at(0) !== 0) throw new IndexFormatError('postings')
  }

  #u32(at: number): number {
    const b = this.#bytes
    return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0
  }

  #termAt(i: number): number {
    return this.#u32(this.#table + i * 8)
  }

  #at(i: number): number {
    return this.#u32(this.#table + i * 8 + 4)
  }

  /** The postings of term `i`, absolute seqs ascending. @throws {IndexFormatError} */
  #postingsAt(i: number): number[] {
    const { firstSeq, count } = this.header
    const start = this.#area + this.#at(i)
    const stop = i + 1 < this.header.terms ? this.#area + this.#at(i + 1) : this.#end
    if (start >= stop || stop > this.#end) throw new IndexFormatError('postings')
    const r = new Reader(this.#bytes, start, stop)
    const n = r.uleb()
    if (n === 0 || n > count || n > stop - r.at) throw new IndexFormatError('postings')
    const out: number[] = new Array(n)
    let seq = firstSeq
    for (let k = 0; k < n; k++) {
      const d = r.uleb()
      if (k > 0 && d === 0) throw new IndexFormatError('postings order')
      seq += d
      out[k] = seq
    }
    if (r.at !== r.end || seq >= firstSeq + count) throw new IndexFormatError('postings')
    return out
  }

  /** The postings of `term` (absolute seqs, ascending; empty when absent). @throws {IndexFormatError} */
  postings(term: number): number[] {
    let lo = 0
    let hi = this.header.terms - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const t = this.#termAt(mid)
      if (t === term) return this.#postingsAt(mid)
      if (t < term) lo = mid + 1
      else hi = mid - 1
    }
    return []
  }

  /**
   * Every term and its postings (verification and tests), after checking the whole file: terms
   * strictly ascending, postings areas in order and covering the area exactly.
   *
   * @throws {IndexFormatError}
   */
  content(): IndexContent {
    const terms = new Map<number, number[]>()
    for (let i = 0; i < this.header.terms; i++) {
      if (i > 0 && (this.#termAt(i) <= this.#termAt(i - 1) || this.#at(i) <= this.#at(i - 1)))
        throw new IndexFormatError('term order')
      terms.set(this.#termAt(i), this.#postingsAt(i))
    }
    if (this.header.terms === 0 && this.#area !== this.#end) throw new IndexFormatError('trailing bytes')
    return { terms, offsets: [...this.offsets] }
  }
}
