/**
 * Posting list operations of the file index: the candidates of a query (the intersection of its
 * keys' postings, plus the records no term could be read from) and the comparison `verify` makes
 * between an index and the one rebuilt from the records.
 *
 * @module
 */
import type { IndexContent } from './format.js'

function intersect(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = []
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    if (a[i]! < b[j]!) i++
    else if (a[i]! > b[j]!) j++
    else {
      out.push(a[i]!)
      i++
      j++
    }
  }
  return out
}

function union(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Number.POSITIVE_INFINITY
    const y = j < b.length ? b[j]! : Number.POSITIVE_INFINITY
    out.push(Math.min(x, y))
    if (x <= y) i++
    if (y <= x) j++
  }
  return out
}

/**
 * The candidate seqs `after < seq < end`, ascending: those in every list of `keys` (a record must
 * match every key given), and every one of `always`.
 */
export function mergeCandidates(
  keys: readonly (readonly number[])[],
  always: readonly number[],
  after: number,
  end: number,
): number[] {
  let hit = keys[0] ?? []
  for (let k = 1; k < keys.length; k++) hit = intersect(hit, keys[k]!)
  return union(hit, always).filter((s) => s > after && s < end)
}

/** How an index differs from the truth: postings it lacks and adds, wrong offsets, the first seq. */
export interface ContentDiff {
  readonly missing: number
  readonly extra: number
  readonly offsets: number
  readonly seq: number
}

/** Counts one list's seqs absent from the other; reports the smallest. */
function absent(a: readonly number[], b: readonly number[], first: { seq: number }): number {
  const set = new Set(b)
  let n = 0
  for (const s of a)
    if (!set.has(s)) {
      n++
      if (s < first.seq) first.seq = s
    }
  return n
}

/** The differences of `actual` from `truth`, or null when they hold the same postings and offsets. */
export function compareContent(truth: IndexContent, actual: IndexContent): ContentDiff | null {
  const first = { seq: Number.POSITIVE_INFINITY }
  let missing = 0
  let extra = 0
  for (const [t, list] of truth.terms) missing += absent(list, actual.terms.get(t) ?? [], first)
  for (const [t, list] of actual.terms) extra += absent(list, truth.terms.get(t) ?? [], first)
  let offsets = 0
  const slots = Math.max(truth.offsets.length, actual.offsets.length)
  for (let k = 0; k < slots; k++) if (truth.offsets[k] !== actual.offsets[k]) offsets++
  if (missing + extra + offsets === 0) return null
  const seq = Number.isFinite(first.seq) ? first.seq : -1
  return { missing, extra, offsets, seq }
}
