/**
 * Reads the envelope fields of a stored record without parsing the event. In canonical form
 * (RFC 8785 sorts members) a v1 record is
 * `{"event":{…},"prev":"<hex>","recorded":"<ts>","seq":<n>,"stream":"<id>","v":1}`, so the fields
 * after the event sit in a fixed shape at the end of the line.
 */

/** The envelope fields of a record, read from its tail. */
export interface RecordHeader {
  /** The event's `type` when it could be read from the tail window (it is the event's last member). */
  type: string | undefined
  prev: string
  recorded: string
  seq: number
  stream: string
  v: number
}

const TAIL =
  /(?:"type":"([!#-[\]-_a-z|~]{1,256})")?\},"prev":"([0-9a-f]{64})","recorded":"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)","seq":(0|[1-9]\d{0,15}),"stream":"([A-Za-z0-9._-]{1,128})","v":([1-9]\d{0,3})\}$/
const HEAD = '{"event":{'
const TAIL_MAX = 600
const latin1 = new TextDecoder('latin1')

/** Returns the header, or null when the bytes do not have the canonical v1 envelope shape. */
export function readRecordHeader(bytes: Uint8Array): RecordHeader | null {
  const n = bytes.length
  if (n < HEAD.length + 100) return null
  for (let i = 0; i < HEAD.length; i++) if (bytes[i] !== HEAD.charCodeAt(i)) return null
  const start = n > TAIL_MAX ? n - TAIL_MAX : 0
  const tail = latin1.decode(bytes.subarray(start))
  const m = TAIL.exec(tail)
  if (m === null) return null
  const seq = Number(m[4])
  if (!Number.isSafeInteger(seq)) return null
  return { type: m[1], prev: m[2]!, recorded: m[3]!, seq, stream: m[5]!, v: Number(m[6]) }
}
