/**
 * The terms the file index keeps for a record: a 32-bit hash of `p:<patient>` for the event's
 * `patient` and of `w:<who>` for every agent's `who`, read from the stored bytes without parsing the
 * record. Hashes keep identifiers out of the index files and make a term one integer (no string
 * per record on the append path); two identifiers with one hash only add candidates, which the
 * query checks.
 *
 * A stored record is canonical JSON (RFC 8785: no whitespace, `"` and `\` escaped inside strings),
 * so in a line without a backslash every `"patient":"` is a key followed by a string value, and the
 * value ends at the next `"`. The scanner takes every such occurrence in one pass over the bytes (a
 * nested member of the same name adds an extra term, which only adds a candidate: the query checks
 * each one). A line with a backslash (an escaped character could spell a key), where a key is
 * followed by whitespace, or that does not begin and end as a v1 record, is parsed instead, so the
 * terms are never fewer than what a query matches on. A line that does not parse gets
 * {@link UNINDEXED}: it is a candidate of every query, so an indexed query meets a damaged record
 * where a scan would (and stops with the same corruption error). A line damaged inside the event
 * that still scans is found by its terms only; `verifyLog` reports it either way.
 *
 * @module
 */
import { utf8Decode, utf8Encode } from '@safeguards/core'

/** The term of a record the index cannot read: a candidate of every query. */
export const UNINDEXED = 0

/** FNV-1a over `b[from, to)` from state `h`, as a 32-bit integer. */
function fnv(h: number, b: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) h = Math.imul(h ^ b[i]!, 0x01000193)
  return h
}

/** The finished term: murmur3's finaliser (spreads similar identifiers), never {@link UNINDEXED}. */
function finish(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  h = (h ^ (h >>> 16)) >>> 0
  return h === UNINDEXED ? 1 : h
}

const P_SEED = fnv(0x811c9dc5, utf8Encode('p:'), 0, 2)
const W_SEED = fnv(0x811c9dc5, utf8Encode('w:'), 0, 2)

/** The term for a patient: a 32-bit hash of its UTF-8 (equal hashes only add candidates). */
export function patientTerm(patient: string): number {
  const b = utf8Encode(patient)
  return finish(fnv(P_SEED, b, 0, b.length))
}

/** The term for an agent's `who`. */
export function whoTerm(who: string): number {
  const b = utf8Encode(who)
  return finish(fnv(W_SEED, b, 0, b.length))
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const PATIENT_KEY = utf8Encode('patient":')
const WHO_KEY = utf8Encode('who":')
const HEAD = utf8Encode('{"event":{')
const TAIL = utf8Encode(',"v":1}')

/** True when `key` sits at `at` in `b`. */
function at(b: Uint8Array, i: number, key: Uint8Array): boolean {
  if (i + key.length > b.length) return false
  for (let k = 0; k < key.length; k++) if (b[i + k] !== key[k]) return false
  return true
}

/**
 * The terms of `line` in one pass over its bytes, or null when the line must be parsed instead (a
 * backslash, a key followed by whitespace, or not the shape of a v1 record at all).
 */
function scanTerms(line: Uint8Array): number[] | null {
  const n = line.length
  if (!at(line, 0, HEAD) || !at(line, n - TAIL.length, TAIL)) return null
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const c = line[i]!
    if (c === BACKSLASH) return null
    if (c !== QUOTE) continue
    const next = line[i + 1]
    let seed = 0
    let v = -1
    if (next === 0x70 && at(line, i + 1, PATIENT_KEY)) {
      seed = P_SEED
      v = i + 1 + PATIENT_KEY.length
    } else if (next === 0x77 && at(line, i + 1, WHO_KEY)) {
      seed = W_SEED
      v = i + 1 + WHO_KEY.length
    } else continue
    // `"patient":` — a key; a value equal to the name would be followed by `,` `}` or `]`.
    const first = line[v]
    if (first !== QUOTE) {
      // A number, object, array, true, false or null never equals a query's string; whitespace
      // is not canonical: parse.
      if (first === undefined || first === 0x20 || first === 0x09 || first === 0x0a || first === 0x0d)
        return null
      i = v - 1
      continue
    }
    let end = v + 1
    while (end < n && line[end] !== QUOTE && line[end] !== BACKSLASH) end++
    if (end >= n || line[end] === BACKSLASH) return null
    out.push(finish(fnv(seed, line, v + 1, end)))
    i = end
  }
  return out
}

/** The terms of a parsed record (the definition a query matches on), or null when it is not one. */
function parsedTerms(line: Uint8Array): number[] | null {
  let r: unknown
  try {
    r = JSON.parse(utf8Decode(line))
  } catch {
    return null
  }
  const event = (r as { event?: unknown } | null)?.event as
    | { patient?: unknown; agents?: unknown }
    | null
    | undefined
  if (typeof event !== 'object' || event === null || !Array.isArray(event.agents)) return null
  const out: number[] = []
  if (typeof event.patient === 'string') out.push(patientTerm(event.patient))
  for (const a of event.agents as unknown[]) {
    const who = (a as { who?: unknown } | null)?.who
    if (typeof who === 'string') out.push(whoTerm(who))
  }
  return out
}

/**
 * The terms of one stored line: at least the patient term of the event's patient and the who term
 * of each agent's who (duplicates possible), or `[UNINDEXED]` for a line that is not a record.
 */
export function termsOf(line: Uint8Array): number[] {
  return scanTerms(line) ?? parsedTerms(line) ?? [UNINDEXED]
}
