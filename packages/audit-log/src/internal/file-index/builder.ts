/**
 * The index of one segment in memory, built line by line as records are written or read: postings
 * by term and the sparse offset table. It covers a contiguous range `[from, to)` of the segment; a
 * line that does not continue it is ignored (the range is caught up by reading, see FileIndex).
 * Its start may come from index files of the segment's first runs (`base`, the open segment's
 * partial files): lookups then join the files' postings and its own.
 *
 * @module
 */
import { EVERY, type IndexContent, type IndexFile } from './format.js'
import { termsOf } from './terms.js'

/** Records per partial index file of the open segment (a multiple of EVERY). */
export const RUN = 16_384

/** Where to start reading for a record: a line start at or before it, in the same segment. */
export interface Anchor {
  readonly seq: number
  readonly offset: number
}

/** What a query needs of a segment's index, in memory or from a file. */
export interface SegmentLookup {
  /** Absolute seqs that may hold `term`, ascending. */
  postings(term: number): readonly number[]
  /** A line start at or before `seq`. */
  anchor(seq: number): Anchor
}

/** The anchor for `seq` in a range starting at `first`, with offset table `offsets` (holes allowed). */
export function anchorIn(first: number, offsets: ArrayLike<number | undefined>, seq: number): Anchor {
  for (let k = Math.min(Math.floor((seq - first) / EVERY), offsets.length - 1); k >= 0; k--) {
    const o = offsets[k]
    if (o !== undefined) return { seq: first + k * EVERY, offset: o }
  }
  return { seq: first, offset: 0 }
}

/** A sealed segment's index file as a {@link SegmentLookup}. */
export function fileLookup(file: IndexFile): SegmentLookup {
  return {
    postings: (term) => file.postings(term),
    anchor: (seq) => anchorIn(file.header.firstSeq, file.offsets, seq),
  }
}

/** A growable array of 32-bit integers. */
class U32List {
  a: Uint32Array = new Uint32Array(1024)
  n = 0
  push(v: number): void {
    if (this.n === this.a.length) {
      const bigger = new Uint32Array(this.a.length * 2)
      bigger.set(this.a)
      this.a = bigger
    }
    this.a[this.n++] = v
  }
  concat(other: U32List): U32List {
    const out = new U32List()
    out.a = new Uint32Array(Math.max(1024, this.n + other.n))
    out.a.set(this.a.subarray(0, this.n))
    out.a.set(other.a.subarray(0, other.n), this.n)
    out.n = this.n + other.n
    return out
  }
}

/**
 * The in-memory index of records `[from, to)` of the segment starting at `seg`: (term, record)
 * pairs in record order, two integers per term of a record, so the append path allocates nothing
 * per record. A lookup scans the pairs (fast enough for one segment); a run or a segment written
 * to a file is sorted by term then.
 */
export class SegmentBuilder implements SegmentLookup {
  readonly seg: number
  /** First record covered (the segment's first when `base` covers the start). */
  from: number
  to: number
  /** Byte offset where record `to` starts. */
  nextOffset: number
  /** Index files covering `[seg, ownFrom)`, in order. */
  #base: readonly IndexFile[]
  #ownFrom: number
  #ownFromOffset: number
  /** Terms, and the record (seq − seg) of each, in record order. */
  #terms: U32List = new U32List()
  #recs: U32List = new U32List()
  readonly #offsets: (number | undefined)[] = []

  constructor(seg: number, from: number, fromOffset: number, base: readonly IndexFile[] = []) {
    this.seg = seg
    this.from = base.length > 0 ? seg : from
    this.to = from
    this.nextOffset = fromOffset
    this.#base = base
    this.#ownFrom = from
    this.#ownFromOffset = fromOffset
  }

  /**
   * Adds record `seq` (its line, without the newline, starting at `offset`; its terms if known) if
   * it continues the range.
   */
  add(seq: number, offset: number, line: Uint8Array, terms: readonly number[] = termsOf(line)): boolean {
    if (seq !== this.to || offset !== this.nextOffset) return false
    const rel = seq - this.seg
    if (rel % EVERY === 0) this.#offsets[rel / EVERY] = offset
    for (const t of terms) {
      this.#terms.push(t)
      this.#recs.push(rel)
    }
    this.to = seq + 1
    this.nextOffset = offset + line.length + 1
    return true
  }

  /** Takes in `prefix`, which covers `[seg, this.from)`: the builder then covers the segment from its start. */
  absorb(prefix: SegmentBuilder): void {
    if (prefix.seg !== this.seg || prefix.from !== this.seg || prefix.to !== this.from)
      throw new RangeError('prefix does not meet the range')
    this.#terms = prefix.#terms.concat(this.#terms)
    this.#recs = prefix.#recs.concat(this.#recs)
    prefix.#offsets.forEach((o, k) => {
      if (this.#offsets[k] === undefined) this.#offsets[k] = o
    })
    this.#base = prefix.#base
    this.#ownFrom = prefix.#ownFrom
    this.#ownFromOffset = prefix.#ownFromOffset
    this.from = this.seg
  }

  postings(term: number): readonly number[] {
    const out: number[] = []
    for (const f of this.#base) for (const s of f.postings(term)) out.push(s)
    const t = this.#terms.a
    const r = this.#recs.a
    let last = -1
    for (let i = 0; i < this.#terms.n; i++)
      if (t[i] === term && r[i] !== last) {
        last = r[i]!
        out.push(this.seg + last)
      }
    return out
  }

  anchor(seq: number): Anchor {
    if (seq < this.#ownFrom)
      for (const f of this.#base)
        if (seq < f.header.firstSeq + f.header.count) return anchorIn(f.header.firstSeq, f.offsets, seq)
    const a = anchorIn(this.seg, this.#offsets, seq)
    return a.seq >= this.#ownFrom || seq < this.#ownFrom
      ? a
      : { seq: this.#ownFrom, offset: this.#ownFromOffset }
  }

  /** Offset of record `seq`, when the table has it (a multiple of EVERY from the segment's start). */
  offsetOf(seq: number): number | undefined {
    return (seq - this.seg) % EVERY === 0 ? this.#offsets[(seq - this.seg) / EVERY] : undefined
  }

  /** The first seq this builder added itself (before it: its base files). */
  get ownFrom(): number {
    return this.#ownFrom
  }

  /** Postings by term of the pairs of records `[lo, hi)` this builder added itself. */
  #own(lo: number, hi: number, into: Map<number, number[]>): void {
    const r = this.#recs.a
    const n = this.#recs.n
    const bound = (rel: number): number => {
      let a = 0
      let b = n
      while (a < b) {
        const m = (a + b) >>> 1
        if (r[m]! < rel) a = m + 1
        else b = m
      }
      return a
    }
    const t = this.#terms.a
    for (let i = bound(lo - this.seg), end = bound(hi - this.seg); i < end; i++) {
      const seq = this.seg + r[i]!
      const list = into.get(t[i]!)
      if (list === undefined) into.set(t[i]!, [seq])
      else if (list[list.length - 1] !== seq) list.push(seq)
    }
  }

  /**
   * The content of records `[lo, hi)` this builder added itself: one run (`lo` a multiple of RUN
   * from the segment's start, `hi` at most `lo + RUN`).
   */
  runContent(lo: number, hi: number = lo + RUN): IndexContent {
    const terms = new Map<number, number[]>()
    this.#own(lo, hi, terms)
    const offsets: number[] = []
    for (let s = lo; s < hi; s += EVERY) offsets.push(this.#offsets[(s - this.seg) / EVERY]!)
    return { terms, offsets }
  }

  /** The content for a whole segment's index file; the builder must cover the segment from its start. */
  content(): IndexContent {
    if (this.from !== this.seg) throw new RangeError('the builder does not cover the segment')
    const terms = new Map<number, number[]>()
    const offsets: number[] = []
    for (const f of this.#base) {
      const c = f.content()
      for (const [t, list] of c.terms) terms.set(t, (terms.get(t) ?? []).concat(list))
      offsets.push(...c.offsets)
    }
    this.#own(this.#ownFrom, this.to, terms)
    for (let s = this.#ownFrom; s < this.to; s += EVERY) offsets.push(this.#offsets[(s - this.seg) / EVERY]!)
    return { terms, offsets }
  }
}
