/**
 * The terms the file index keeps for a record: `p:<patient>` for the event's `patient` and
 * `w:<who>` for every agent's `who`, read from the stored bytes without parsing the record.
 *
 * A stored record is canonical JSON (RFC 8785: no whitespace, `"` and `\` escaped inside strings),
 * so in a line without a backslash every `"patient":"` is a key followed by a string value, and the
 * value ends at the next `"`. The scanner takes every such occurrence (a nested member of the same
 * name adds an extra term, which only adds a candidate: the query checks each one). A line with a
 * backslash (an escaped character could spell a key), or where a key is followed by anything but a
 * value start, or that is not a canonical v1 envelope (a damaged line), is parsed instead, so the terms are never fewer than what a query matches on. A line
 * that does not parse gets {@link UNINDEXED}: it is a candidate of every query (a scan would stop
 * at it with a corruption error, and so does the indexed query).
 *
 * @module
 */
import { utf8Decode, utf8Encode } from '@safeguards/core'
import { scanRecord } from '../record-header.js'
import { indexOfByte } from '../runs.js'

/** The term of a record the index cannot read: a candidate of every query. */
export const UNINDEXED = '\u0000'

/** The term for a patient. */
export function patientTerm(patient: string): string {
  return `p:${patient}`
}

/** The term for an agent's `who`. */
export function whoTerm(who: string): string {
  return `w:${who}`
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const KEYS: readonly { key: Uint8Array; prefix: string }[] = [
  { key: utf8Encode('"patient"'), prefix: 'p:' },
  { key: utf8Encode('"who"'), prefix: 'w:' },
]

type IndexOfSeq = (this: Uint8Array, value: Uint8Array, byteOffset: number) => number
const bufferIndexOf: IndexOfSeq | undefined = (
  globalThis as { Buffer?: { prototype: { indexOf: IndexOfSeq } } }
).Buffer?.prototype.indexOf

/** The index of the byte sequence `needle` in `b` at or after `from`, or -1. */
function indexOfSeq(b: Uint8Array, needle: Uint8Array, from: number): number {
  if (bufferIndexOf !== undefined) return bufferIndexOf.call(b, needle, from)
  const first = needle[0]!
  for (let i = indexOfByte(b, first, from); i >= 0; i = indexOfByte(b, first, i + 1)) {
    let k = 1
    while (k < needle.length && b[i + k] === needle[k]) k++
    if (k === needle.length) return i
  }
  return -1
}

/** Text of `b[from, to)`: ASCII directly, anything else through the UTF-8 decoder. */
function text(b: Uint8Array, from: number, to: number): string {
  let ascii = true
  for (let i = from; i < to; i++)
    if (b[i]! >= 0x80) {
      ascii = false
      break
    }
  if (!ascii || to - from > 512) return utf8Decode(b.subarray(from, to))
  let s = ''
  for (let i = from; i < to; i++) s += String.fromCharCode(b[i]!)
  return s
}

/** The terms of `line` by scanning, or null when the line must be parsed instead. */
function scanTerms(line: Uint8Array): string[] | null {
  const out: string[] = []
  for (const { key, prefix } of KEYS) {
    for (let at = indexOfSeq(line, key, 0); at >= 0; at = indexOfSeq(line, key, at + 1)) {
      const after = at + key.length
      const c = line[after]
      // A value equal to the key's name ends with `,` `}` `]`; a key is followed by `:`.
      if (c === 0x2c || c === 0x7d || c === 0x5d) continue
      if (c !== COLON) return null
      if (line[after + 1] !== QUOTE) {
        const v = line[after + 1]
        // A number, object, array, true, false or null: never equal to a query's string.
        if (v === undefined || v === 0x20 || v === 0x09 || v === 0x0a || v === 0x0d) return null
        continue
      }
      const end = indexOfByte(line, QUOTE, after + 2)
      if (end < 0) return null
      out.push(prefix + text(line, after + 2, end))
    }
  }
  return out
}

/** The terms of a parsed record (the definition a query matches on), or null when it is not one. */
function parsedTerms(line: Uint8Array): string[] | null {
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
  const out: string[] = []
  if (typeof event.patient === 'string') out.push(patientTerm(event.patient))
  for (const a of event.agents as unknown[]) {
    const who = (a as { who?: unknown } | null)?.who
    if (typeof who === 'string') out.push(whoTerm(who))
  }
  return out
}

/**
 * The terms of one stored line: at least `p:` of the event's patient and `w:` of each agent's who
 * (duplicates possible), or `[UNINDEXED]` for a line that is not a record.
 */
export function termsOf(line: Uint8Array): string[] {
  const scanned = indexOfByte(line, BACKSLASH, 0) < 0 && scanRecord(line) !== null ? scanTerms(line) : null
  return scanned ?? parsedTerms(line) ?? [UNINDEXED]
}
