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
  postings(term: string): readonly number[]
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

function slice(list: readonly number[], lo: number, hi: number): number[] {
  let a = 0
  let b = list.length
  while (a < b) {
    const m = (a + b) >>> 1
    if (list[m]! < lo) a = m + 1
    else b = m
  }
  const start = a
  b = list.length
  while (a < b) {
    const m = (a + b) >>> 1
    if (list[m]! < hi) a = m + 1
    else b = m
  }
  return list.slice(start, a)
}

/** The in-memory index of records `[from, to)` of the segment starting at `seg`. */
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
  #terms: Map<string, number[]> = new Map()
  readonly #offsets: (number | undefined)[] = []
  /** The terms first seen in each run (by its first seq): a run's partial file holds only those. */
  readonly #runTerms: Map<number, string[]> = new Map()

  constructor(seg: number, from: number, fromOffset: number, base: readonly IndexFile[] = []) {
    this.seg = seg
    this.from = base.length > 0 ? seg : from
    this.to = from
    this.nextOffset = fromOffset
    this.#base = base
    this.#ownFrom = from
    this.#ownFromOffset = fromOffset
  }

  /** Adds record `seq` (its line, without the newline, starting at `offset`) if it continues the range. */
  add(seq: number, offset: number, line: Uint8Array): boolean {
    if (seq !== this.to || offset !== this.nextOffset) return false
    const rel = seq - this.seg
    if (rel % EVERY === 0) this.#offsets[rel / EVERY] = offset
    const run = seq - (rel % RUN)
    let runTerms = this.#runTerms.get(run)
    if (runTerms === undefined) {
      runTerms = []
      this.#runTerms.set(run, runTerms)
    }
    for (const t of termsOf(line)) {
      const list = this.#terms.get(t)
      if (list === undefined) {
        this.#terms.set(t, [seq])
        runTerms.push(t)
      } else if (list[list.length - 1]! < seq) {
        if (list[list.length - 1]! < run) runTerms.push(t)
        list.push(seq)
      }
    }
    this.to = seq + 1
    this.nextOffset = offset + line.length + 1
    return true
  }

  /** Takes in `prefix`, which covers `[seg, this.from)`: the builder then covers the segment from its start. */
  absorb(prefix: SegmentBuilder): void {
    if (prefix.seg !== this.seg || prefix.from !== this.seg || prefix.to !== this.from)
      throw new RangeError('prefix does not meet the range')
    const terms = prefix.#terms
    for (const [t, list] of this.#terms) {
      const cur = terms.get(t)
      terms.set(t, cur === undefined ? list : cur.concat(list))
    }
    this.#terms = terms
    for (const [run, list] of prefix.#runTerms)
      this.#runTerms.set(run, list.concat(this.#runTerms.get(run) ?? []))
    prefix.#offsets.forEach((o, k) => {
      if (this.#offsets[k] === undefined) this.#offsets[k] = o
    })
    this.#base = prefix.#base
    this.#ownFrom = prefix.#ownFrom
    this.#ownFromOffset = prefix.#ownFromOffset
    this.from = this.seg
  }

  postings(term: string): readonly number[] {
    const own = this.#terms.get(term) ?? []
    if (this.#base.length === 0) return own
    const out: number[] = []
    for (const f of this.#base) for (const s of f.postings(term)) out.push(s)
    for (const s of own) out.push(s)
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

  /**
   * The content of records `[lo, lo + RUN)`, one whole run this builder added itself (`lo` a
   * multiple of RUN from the segment's start); forgets which terms the run touched.
   */
  runContent(lo: number): IndexContent {
    const hi = lo + RUN
    const terms = new Map<string, number[]>()
    for (const t of this.#runTerms.get(lo) ?? []) {
      const part = slice(this.#terms.get(t)!, lo, hi)
      if (part.length > 0) terms.set(t, part)
    }
    this.#runTerms.delete(lo)
    const offsets: number[] = []
    for (let s = lo; s < hi; s += EVERY) offsets.push(this.#offsets[(s - this.seg) / EVERY]!)
    return { terms, offsets }
  }

  /** The content for a whole segment's index file; the builder must cover the segment from its start. */
  content(): IndexContent {
    if (this.from !== this.seg) throw new RangeError('the builder does not cover the segment')
    const terms = new Map<string, number[]>()
    const offsets: number[] = []
    for (const f of this.#base) {
      const c = f.content()
      for (const [t, list] of c.terms) terms.set(t, (terms.get(t) ?? []).concat(list))
      offsets.push(...c.offsets)
    }
    for (const [t, list] of this.#terms) terms.set(t, (terms.get(t) ?? []).concat(list))
    for (let s = this.#ownFrom; s < this.to; s += EVERY) offsets.push(this.#offsets[(s - this.seg) / EVERY]!)
    return { terms, offsets }
  }
}
