/**
 * Parsing the scripts' replies (see `scripts.ts` for their layouts) into session records and
 * touch results; any reply of another shape fails closed with `ERR_SESSION_STORE_UNAVAILABLE`.
 *
 * @module
 */
import type { SessionRecord, TouchResult } from '@safeguards/session'
import { SessionStoreUnavailableError } from '../errors.js'

const UNKNOWN: TouchResult = Object.freeze({ status: 'unknown' })
const REVOKED: TouchResult = Object.freeze({ status: 'revoked' })

/**
 * Parses TOUCH's and UPDATE's one-string answer: 'U', 'R', or '<A|X>|<reason>|l|e|i|x|c|a|r|k|u',
 * the active one preceded by 'D<length>|<data>' when the session carries data.
 */
export function compactTouchResult(reply: unknown, id: string): TouchResult {
  if (reply === 'U') return UNKNOWN
  if (reply === 'R') return REVOKED
  if (typeof reply !== 'string') throw new SessionStoreUnavailableError('touch (unexpected reply)')
  if (reply[0] !== 'D') return parseRecordReply(reply, id, undefined)
  const bar = reply.indexOf('|')
  const length = Number(reply.slice(1, bar))
  // Lua's string.len counts bytes: the JSON text is ASCII-safe only if the app's data is, so
  // measure in UTF-8 rather than trusting string length.
  const rest = reply.slice(bar + 1)
  const data = utf8Prefix(rest, length)
  if (bar < 0 || !Number.isSafeInteger(length) || data === null)
    throw new SessionStoreUnavailableError('touch (unexpected reply)')
  return parseRecordReply(rest.slice(data.length), id, data)
}

/** The leading characters of `text` whose UTF-8 encoding is exactly `bytes` long, or null. */
function utf8Prefix(text: string, bytes: number): string | null {
  let n = 0
  let i = 0
  while (n < bytes && i < text.length) {
    const c = text.codePointAt(i) as number
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4
    i += c >= 0x10000 ? 2 : 1
  }
  return n === bytes ? text.slice(0, i) : null
}

function parseRecordReply(text: string, id: string, data: string | undefined): TouchResult {
  // kind | why | l | e | i | x | c | a | role | indexKey | userId (userId last: it may contain '|')
  const cut: number[] = []
  let from = 0
  for (let n = 0; n < 10; n++) {
    const at = text.indexOf('|', from)
    if (at < 0) throw new SessionStoreUnavailableError('touch (unexpected reply)')
    cut.push(at)
    from = at + 1
  }
  const field = (n: number): string => text.slice(n === 0 ? 0 : (cut[n - 1] as number) + 1, cut[n])
  const num = (n: number): number => {
    const f = field(n)
    return f === '' ? Number.NaN : Number(f)
  }
  const kind = field(0)
  const parsed = recordOf(id, text.slice(from), field(8), [num(6), num(7), num(2), num(4), num(5)])
  if (parsed === undefined) throw new SessionStoreUnavailableError('touch (unexpected reply)')
  const record: SessionRecord = data === undefined ? parsed : { ...parsed, data }
  if (kind === 'A') return { status: 'active', record }
  const why = field(1)
  if (kind === 'X' && (why === 'idle' || why === 'absolute'))
    return { status: 'expired', reason: why, record }
  throw new SessionStoreUnavailableError('touch (unexpected reply)')
}

/** A list-shaped touch result (`replace`): `active`, `expired`, `revoked` or `unknown`, with the record. */
export function touchResult(operation: string, reply: unknown[]): TouchResult {
  switch (reply[0]) {
    case 'active': {
      const [r] = records(operation, reply, 1)
      if (r !== undefined) return { status: 'active', record: r }
      break
    }
    case 'expired': {
      const [r] = records(operation, reply, 2)
      if (r !== undefined && (reply[1] === 'idle' || reply[1] === 'absolute'))
        return { status: 'expired', reason: reply[1], record: r }
      break
    }
    case 'revoked':
      return REVOKED
    case 'unknown':
      return UNKNOWN
  }
  throw new SessionStoreUnavailableError(`${operation} (unexpected reply)`)
}

/** The records of a reply from index `start` on, 8 fields each (id, u, r, c, a, l, i, x). */
export function records(operation: string, reply: unknown[], start: number): SessionRecord[] {
  const out: SessionRecord[] = []
  if ((reply.length - start) % 8 !== 0)
    throw new SessionStoreUnavailableError(`${operation} (unexpected reply)`)
  for (let i = start; i < reply.length; i += 8) {
    const [id, userId, role, ...times] = reply.slice(i, i + 8)
    const nums = times.map((v) => (typeof v === 'string' ? Number(v) : Number.NaN))
    const record =
      typeof id === 'string' && typeof userId === 'string' && typeof role === 'string'
        ? recordOf(id, userId, role, nums)
        : undefined
    if (record === undefined) throw new SessionStoreUnavailableError(`${operation} (unexpected reply)`)
    out.push(record)
  }
  return out
}

/**
 * A record from a reply's fields: `role` is `-` (none) or `+<role>`, `times` are createdAt, authAt,
 * lastActivityAt, idleTimeoutMs and absoluteExpiresAt. Undefined when a field is malformed.
 */
function recordOf(id: string, userId: string, role: string, times: number[]): SessionRecord | undefined {
  if ((role !== '-' && role[0] !== '+') || times.length !== 5 || !times.every(Number.isSafeInteger))
    return undefined
  const [createdAt, authAt, lastActivityAt, idleTimeoutMs, absoluteExpiresAt] = times as [
    number,
    number,
    number,
    number,
    number,
  ]
  const roleName = role === '-' ? null : role.slice(1)
  return { id, userId, role: roleName, createdAt, authAt, lastActivityAt, idleTimeoutMs, absoluteExpiresAt }
}
