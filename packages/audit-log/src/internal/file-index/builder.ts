/**
 * The index of one segment in memory, built line by line as records are written or read: postings
 * by term and the sparse offset table. It covers a contiguous range `[from, to)` of the segment; a
 * line that does not continue it is ignored (the range is caught up by reading, see FileIndex).
 *
 * @module
 */
import { EVERY, type IndexContent, type IndexFile } from './format.js'
import { termsOf } from './terms.js'

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

/** The anchor for `seq` in a segment starting at `seg` with offset table `offsets` (holes allowed). */
export function anchorIn(seg: number, offsets: ArrayLike<number | undefined>, seq: number): Anchor {
  for (let k = Math.min(Math.floor((seq - seg) / EVERY), offsets.length - 1); k >= 0; k--) {
    const o = offsets[k]
    if (o !== undefined) return { seq: seg + k * EVERY, offset: o }
  }
  return { seq: seg, offset: 0 }
}

/** A sealed segment's index file as a {@link SegmentLookup}. */
export function fileLookup(file: IndexFile): SegmentLookup {
  return {
    postings: (term) => file.postings(term),
    anchor: (seq) => anchorIn(file.header.firstSeq, file.offsets, seq),
  }
}

/** The in-memory index of records `[from, to)` of the segment starting at `seg`. */
export class SegmentBuilder implements SegmentLookup {
  readonly seg: number
  from: number
  to: number
  /** Byte offset where record `to` starts. */
  nextOffset: number
  readonly #terms: Map<string, number[]> = new Map()
  readonly #offsets: (number | undefined)[] = []

  constructor(seg: number, from: number, fromOffset: number) {
    this.seg = seg
    this.from = from
    this.to = from
    this.nextOffset = fromOffset
  }

  /** Adds record `seq` (its line, without the newline, starting at `offset`) if it continues the range. */
  add(seq: number, offset: number, line: Uint8Array): boolean {
    if (seq !== this.to || offset !== this.nextOffset) return false
    const rel = seq - this.seg
    if (rel % EVERY === 0) this.#offsets[rel / EVERY] = offset
    for (const t of termsOf(line)) {
      const list = this.#terms.get(t)
      if (list === undefined) this.#terms.set(t, [seq])
      else if (list[list.length - 1] !== seq) list.push(seq)
    }
    this.to = seq + 1
    this.nextOffset = offset + line.length + 1
    return true
  }

  /** Takes in `prefix`, which covers `[seg, this.from)`: the builder then covers the segment from its start. */
  absorb(prefix: SegmentBuilder): void {
    if (prefix.seg !== this.seg || prefix.from !== this.seg || prefix.to !== this.from)
      throw new RangeError('prefix does not meet the range')
    for (const [t, list] of prefix.#terms) {
      const cur = this.#terms.get(t)
      this.#terms.set(t, cur === undefined ? list : list.concat(cur))
    }
    prefix.#offsets.forEach((o, k) => {
      if (this.#offsets[k] === undefined) this.#offsets[k] = o
    })
    this.from = this.seg
  }

  postings(term: string): readonly number[] {
    return this.#terms.get(term) ?? []
  }

  anchor(seq: number): Anchor {
    return anchorIn(this.seg, this.#offsets, seq)
  }

  /** The content for an index file; the builder must cover the segment from its start. */
  content(): IndexContent {
    if (this.from !== this.seg) throw new RangeError('the builder does not cover the segment')
    const slots = Math.ceil((this.to - this.seg) / EVERY)
    const offsets: number[] = []
    for (let k = 0; k < slots; k++) offsets.push(this.#offsets[k]!)
    return { terms: this.#terms, offsets }
  }
}
