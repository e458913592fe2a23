/**
 * Reads the envelope fields of a stored record without parsing the event. In canonical form
 * (RFC 8785 sorts members) a v1 record is
 * `{"event":{…},"prev":"<hex>","recorded":"<ts>","seq":<n>,"stream":"<id>","v":1}`, so the fields
 * after the event sit in a fixed shape at the end of the line. {@link scanRecord} finds them by
 * walking back from the end over bytes, without allocating strings (the verifier's hot path).
 */

/** Byte positions of the envelope fields in a record. */
export interface RecordLayout {
  /** Offset of the 64 hex characters of `prev`. */
  prevAt: number
  /** Offset of the 24 characters of `recorded`. */
  recordedAt: number
  /** The sequence number. */
  seq: number
  /** Offset and end of the stream id. */
  streamAt: number
  streamEnd: number
  /** Offset of the `}` that closes the event. */
  eventEnd: number
}

/** The envelope fields of a record, as strings. */
export interface RecordHeader {
  /** The event's `type` when it is a plain token ending the event (it is the event's last member). */
  type: string | undefined
  prev: string
  recorded: string
  seq: number
  stream: string
  v: number
}

const HEAD = [...'{"event":{'].map((c) => c.charCodeAt(0))
const lit = (s: string): number[] => [...s].map((c) => c.charCodeAt(0))
const V1 = lit(',"v":1}')
const STREAM = lit(',"stream":"')
const SEQ = lit(',"seq":')
const RECORDED = lit('","recorded":"')
const PREV = lit('},"prev":"')

/** True when `l` ends at `end` in `b` and starts at `lo` or later. */
function endsWith(b: Uint8Array, end: number, l: number[], lo = 0): boolean {
  const start = end - l.length
  if (start < lo) return false
  for (let i = 0; i < l.length; i++) if (b[start + i] !== l[i]) return false
  return true
}

function isStreamChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x2d
  )
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)
}

/** Finds the envelope fields, or returns null when the bytes are not a canonical v1 envelope. */
export function scanRecord(b: Uint8Array): RecordLayout | null {
  const n = b.length
  if (n < 140) return null
  for (let i = 0; i < HEAD.length; i++) if (b[i] !== HEAD[i]) return null
  if (!endsWith(b, n, V1)) return null
  let i = n - V1.length // points after the closing quote of the stream id
  if (b[i - 1] !== 0x22) return null
  const streamEnd = i - 1
  let j = streamEnd
  while (j > 0 && isStreamChar(b[j - 1]!)) j--
  const streamAt = j
  if (streamEnd - streamAt < 1 || streamEnd - streamAt > 128 || !endsWith(b, streamAt, STREAM)) return null
  i = streamAt - STREAM.length // after the last seq digit
  j = i
  while (j > 0 && b[j - 1]! >= 0x30 && b[j - 1]! <= 0x39) j--
  const digits = i - j
  if (digits < 1 || digits > 16 || (digits > 1 && b[j] === 0x30)) return null
  let seq = 0
  for (let k = j; k < i; k++) seq = seq * 10 + (b[k]! - 0x30)
  if (!Number.isSafeInteger(seq) || !endsWith(b, j, SEQ)) return null
  i = j - SEQ.length // after the closing quote of recorded
  if (b[i - 1] !== 0x22) return null
  const recordedAt = i - 1 - 24
  if (recordedAt < 0 || !endsWith(b, recordedAt, RECORDED)) return null
  const prevEnd = recordedAt - RECORDED.length // position of the closing quote of prev
  const prevAt = prevEnd - 64
  if (prevAt < 0 || !endsWith(b, prevAt, PREV)) return null
  for (let k = prevAt; k < prevEnd; k++) if (!isHex(b[k]!)) return null
  return { prevAt, recordedAt, seq, streamAt, streamEnd, eventEnd: prevAt - PREV.length }
}

const latin1 = new TextDecoder('latin1')
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const TYPE = /"type":"([!#-[\]-_a-z|~]{1,256})"$/

/** Returns the header, or null when the bytes do not have the canonical v1 envelope shape. */
export function readRecordHeader(bytes: Uint8Array): RecordHeader | null {
  const l = scanRecord(bytes)
  if (l === null) return null
  const recorded = latin1.decode(bytes.subarray(l.recordedAt, l.recordedAt + 24))
  if (!TS.test(recorded)) return null
  const tail = latin1.decode(bytes.subarray(Math.max(0, l.eventEnd - 280), l.eventEnd))
  return {
    type: TYPE.exec(tail)?.[1],
    prev: latin1.decode(bytes.subarray(l.prevAt, l.prevAt + 64)),
    recorded,
    seq: l.seq,
    stream: latin1.decode(bytes.subarray(l.streamAt, l.streamEnd)),
    v: 1,
  }
}

const RECOVERED = lit('"type":"safeguards.recovered"')

/** True when the record's event type is `safeguards.recovered` (layout from {@link scanRecord}). */
export function isRecoveredRecord(b: Uint8Array, l: RecordLayout): boolean {
  return endsWith(b, l.eventEnd, RECOVERED)
}

/** Where {@link matchRecord} found the fields. */
export interface RecordMatch {
  /** The sequence number. */
  seq: number
  /** Offset (in the buffer) of the `}` that closes the event. */
  eventEnd: number
}

const STREAM_ID = /^[A-Za-z0-9._-]{1,128}$/

/**
 * The bytes every record of `stream` ends with (`,"stream":"<id>","v":1}`) for {@link matchRecord},
 * or null when the id could not appear in a canonical envelope as {@link scanRecord} reads it.
 */
export function recordTail(stream: string): Uint8Array | null {
  return STREAM_ID.test(stream) ? new Uint8Array(lit(`,"stream":"${stream}","v":1}`)) : null
}

const HEX_DIGITS = lit('0123456789abcdef')
/** For each byte value, its two lowercase hex digits as one little-endian 16-bit number. */
const HEX_PAIRS = new Uint16Array(256).map((_, v) => HEX_DIGITS[v >> 4]! | (HEX_DIGITS[v & 15]! << 8))

/**
 * The verifier's fast path: true when the record at `b[start..end)` is a canonical v1 envelope (as
 * {@link scanRecord} reads it) whose stream is the one `tail` ({@link recordTail}) names and whose
 * `prev` is the lowercase hex of `prev` (32 bytes as a latin1 string). Then `out` holds its seq and
 * event end. False means "not this fast case", not "malformed": the caller runs {@link scanRecord}.
 * Walks only the envelope's fixed shape and compares `prev` once (no separate hex check: equal to a
 * hex string is hex).
 */
export function matchRecord(
  b: Uint8Array,
  start: number,
  end: number,
  tail: Uint8Array,
  prev: string,
  out: RecordMatch,
): boolean {
  if (end - start < 140) return false
  for (let i = 0; i < HEAD.length; i++) if (b[start + i] !== HEAD[i]) return false
  const i = end - tail.length // after the last seq digit
  if (i < start) return false
  for (let k = 0; k < tail.length; k++) if (b[i + k] !== tail[k]) return false
  let j = i
  while (j > start && b[j - 1]! >= 0x30 && b[j - 1]! <= 0x39) j--
  const digits = i - j
  if (digits < 1 || digits > 16 || (digits > 1 && b[j] === 0x30)) return false
  let seq = 0
  for (let k = j; k < i; k++) seq = seq * 10 + (b[k]! - 0x30)
  if (!Number.isSafeInteger(seq) || !endsWith(b, j, SEQ, start)) return false
  const q = j - SEQ.length // after the closing quote of recorded
  if (q - 1 < start || b[q - 1] !== 0x22) return false
  const recordedAt = q - 1 - 24
  if (!endsWith(b, recordedAt, RECORDED, start)) return false
  const prevAt = recordedAt - RECORDED.length - 64
  if (!endsWith(b, prevAt, PREV, start) || !isHexOf(b, prevAt, prev)) return false
  out.seq = seq
  out.eventEnd = prevAt - PREV.length
  return true
}

/** True when `b[at..at+64)` is the lowercase hex of `hash` (32 bytes as a latin1 string). */
export function isHexOf(b: Uint8Array, at: number, hash: string): boolean {
  if (at < 0 || at + 64 > b.length) return false
  for (let k = 0; k < 32; k++)
    if ((b[at + 2 * k]! | (b[at + 2 * k + 1]! << 8)) !== HEX_PAIRS[hash.charCodeAt(k)]) return false
  return true
}

/** {@link isRecoveredRecord} for an event that ends at `eventEnd` in a record starting at `start`. */
export function isRecoveredAt(b: Uint8Array, eventEnd: number, start: number): boolean {
  return endsWith(b, eventEnd, RECOVERED, start)
}

/** True when `b[at..at+expected.length)` equals `expected`. */
export function bytesAt(b: Uint8Array, at: number, expected: Uint8Array): boolean {
  if (at + expected.length > b.length) return false
  for (let i = 0; i < expected.length; i++) if (b[at + i] !== expected[i]) return false
  return true
}
