/**
 * Record schema v1: the audit event (NIST SP 800-53 AU-3 content, shaped after FHIR R4
 * `AuditEvent`) and the envelope that chains it.
 *
 * Stored form: `canonicalize(envelope)` (RFC 8785), one record per line. The envelope is
 * `{ v: 1, stream, seq, prev, recorded, event }`; its entry hash is `SHA-256(0x00 || bytes)`, the
 * RFC 6962 leaf hash of exactly the stored bytes, and `prev` is the previous record's entry hash
 * (hex), so the chain links are the Merkle leaves.
 *
 * PHI stays out by construction: there is no free-text field, every string must be
 * identifier-shaped (printable ASCII without spaces or quotes, at most 256 characters), and
 * unknown fields are refused. Identifiers that are themselves sensitive (MRNs, user names) should be
 * passed through {@link createPseudonymizer}.
 *
 * HIPAA: 164.312(b) audit controls (what, when, who, where, outcome), 164.308(a)(1)(ii)(D)
 * information system activity review, 164.502(b) minimum necessary (no free text).
 *
 * @module
 */
import { canonicalize, hasLoneSurrogate, JsonParseError, parseJson, utf8Encode } from '@safeguards/core'
import { AuditEventError, NonCanonicalInputError } from './errors.js'

/** The record schema version written by this package. */
export const RECORD_VERSION = 1 as const

/** FHIR `AuditEvent.action`: Create, Read, Update, Delete, Execute. */
export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E'

/** FHIR `AuditEvent.outcome`: 0 success, 4 minor failure, 8 serious failure, 12 major failure. */
export type AuditOutcome = 0 | 4 | 8 | 12

/** A network access point (FHIR `agent.network`): address and type code 1..5. */
export interface AuditNetwork {
  /** IP address, host name or other identifier of the access point. */
  address: string
  /** FHIR network type: 1 machine name, 2 IP address, 3 telephone, 4 email, 5 URI. */
  type?: '1' | '2' | '3' | '4' | '5'
}

/** Who took part (FHIR `AuditEvent.agent`). */
export interface AuditAgent {
  /** Identifier of the user, service or device (a reference or a pseudonym). */
  who: string
  /** Whether this agent initiated the event. Required, as in FHIR R4. */
  requestor: boolean
  /** Agent type code (for example `humanuser`, `application`). */
  type?: string
  /** Role codes (for example `doctor`, `admin`). */
  role?: string[]
  /** Alternative identifier (for example the login name's pseudonym). */
  altId?: string
  /** Where the agent acted from. */
  network?: AuditNetwork
  /** Purpose-of-use codes (for example `TREAT`, `HPAYMT`). */
  purposeOfUse?: string[]
}

/** The system that observed the event (FHIR `AuditEvent.source`). */
export interface AuditSource {
  /** Identifier of the observing system (required). */
  observer: string
  /** Logical site or facility code. */
  site?: string
  /** Source type codes (1..9, FHIR `audit-source-type`). */
  type?: string[]
}

/** A data or object touched by the event (FHIR `AuditEvent.entity`). */
export interface AuditEntity {
  /** Identifier or reference of the object (for example `Observation/123`). */
  what: string
  /** Entity type code (for example `2` system object). */
  type?: string
  /** Entity role code (for example `4` domain resource). */
  role?: string
  /** Lifecycle code (for example `6` access/use). */
  lifecycle?: string
  /** Security label codes. */
  securityLabel?: string[]
}

/** A coded detail value: an identifier-shaped string, a safe integer or a boolean. */
export type AuditDetailValue = string | number | boolean

/**
 * An audit event, schema v1. Required: `type`, `action`, `outcome`, `agents` (at least one, each
 * with `requestor`), `source.observer`. The recorded time is set by the log.
 */
export interface AuditEvent {
  /** Event type code (for example `rest`, `login`, `export`). `safeguards.*` is reserved. */
  type: string
  /** Subtype codes (for example the FHIR interaction `read`, `search-type`). */
  subtype?: string[]
  /** What was done. */
  action: AuditAction
  /** How it ended. */
  outcome: AuditOutcome
  /** A coded reason for the outcome (never free text). */
  outcomeCode?: string
  /** When the event happened, if earlier than when it was recorded (RFC 3339 UTC). */
  occurred?: string
  /** Who took part (at least one). */
  agents: AuditAgent[]
  /** Who observed it. */
  source: AuditSource
  /** The patient the event concerns (a reference or pseudonym). */
  patient?: string
  /** Objects touched. */
  entities?: AuditEntity[]
  /** The request id (correlates with application logs, for example `X-Request-Id`). */
  requestId?: string
  /** Coded details: at most 32 members, identifier-shaped keys and values, safe integers only. */
  details?: Record<string, AuditDetailValue>
}

/** A stored record (schema v1), as parsed back from its canonical bytes. */
export interface AuditRecord {
  /** Schema version, 1. */
  v: typeof RECORD_VERSION
  /** Stream identifier (the checkpoint origin). */
  stream: string
  /** Sequence number, 0-based, contiguous. */
  seq: number
  /** Entry hash of the previous record, 64 lowercase hex characters (zeros for seq 0). */
  prev: string
  /** When the log recorded the event: RFC 3339 UTC with milliseconds. */
  recorded: string
  /** The event. */
  event: AuditEvent
}

const TOKEN = /^[!#-[\]-_a-z|~]{1,256}$/ // printable ASCII without space, '"', '\\', '`', '{', '}'
const STREAM = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/
const MAX_LIST = 64
const MAX_DETAILS = 32

type Obj = Record<string, unknown>

function isPlainObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const p = Object.getPrototypeOf(v)
  return p === Object.prototype || p === null
}

function checkNumberCanonical(v: number, path: string): void {
  if (Number.isNaN(v) || !Number.isFinite(v))
    throw new NonCanonicalInputError('NaN and Infinity are not JSON', path)
  if (Object.is(v, -0)) throw new NonCanonicalInputError('-0 has no canonical form', path)
  if (!Number.isInteger(v)) throw new NonCanonicalInputError('float where an integer belongs', path)
  if (!Number.isSafeInteger(v)) throw new NonCanonicalInputError('integer beyond 2^53-1', path)
}

function token(v: unknown, path: string): string {
  if (typeof v !== 'string') {
    if (typeof v === 'number') checkNumberCanonical(v, path)
    if (typeof v === 'bigint') throw new NonCanonicalInputError('BigInt is not I-JSON', path)
    throw new AuditEventError('expected a string', path)
  }
  if (!TOKEN.test(v)) {
    if (hasLoneSurrogate(v)) throw new NonCanonicalInputError('lone surrogate in string', path)
    throw new AuditEventError(
      'expected an identifier or code (printable ASCII, no spaces, 1-256 chars)',
      path,
    )
  }
  return v
}

function tokens(v: unknown, path: string): string[] {
  if (!Array.isArray(v)) throw new AuditEventError('expected an array of codes', path)
  if (v.length === 0 || v.length > MAX_LIST)
    throw new AuditEventError(`expected 1 to ${MAX_LIST} entries`, path)
  return v.map((x, i) => token(x, `${path}/${i}`))
}

function object(v: unknown, path: string, allowed: readonly string[]): Obj {
  if (!isPlainObject(v)) throw new AuditEventError('expected an object', path)
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k))
      throw new AuditEventError('unknown field (free text is not accepted)', `${path}/${k}`)
  }
  return v
}

function required(o: Obj, key: string, path: string): unknown {
  const v = o[key]
  if (v === undefined) throw new AuditEventError(`"${key}" is required`, `${path}/${key}`)
  return v
}

function timestamp(v: unknown, path: string): string {
  if (typeof v !== 'string' || !TIMESTAMP.test(v) || Number.isNaN(Date.parse(v)))
    throw new AuditEventError('expected an RFC 3339 UTC timestamp', path)
  return v
}

function optional<T>(o: Obj, key: string, out: Obj, f: (v: unknown, p: string) => T, path: string): void {
  const v = o[key]
  if (v !== undefined) out[key] = f(v, `${path}/${key}`)
}

function agent(v: unknown, path: string): AuditAgent {
  const o = object(v, path, ['who', 'requestor', 'type', 'role', 'altId', 'network', 'purposeOfUse'])
  const requestor = required(o, 'requestor', path)
  if (typeof requestor !== 'boolean') throw new AuditEventError('expected a boolean', `${path}/requestor`)
  const who = token(required(o, 'who', path), `${path}/who`)
  const f: Obj = {}
  optional(o, 'type', f, token, path)
  optional(o, 'role', f, tokens, path)
  optional(o, 'altId', f, token, path)
  optional(
    o,
    'network',
    f,
    (n, p) => {
      const no = object(n, p, ['address', 'type'])
      const net: Obj = { address: token(required(no, 'address', p), `${p}/address`) }
      if (no.type !== undefined) {
        if (!['1', '2', '3', '4', '5'].includes(no.type as string))
          throw new AuditEventError('expected a network type 1-5', `${p}/type`)
        net.type = no.type
      }
      return net
    },
    path,
  )
  optional(o, 'purposeOfUse', f, tokens, path)
  // Members in RFC 8785 order, so JSON.stringify of the result is already canonical.
  f.requestor = requestor
  f.who = who
  return ordered(f, AGENT_ORDER) as unknown as AuditAgent
}

function entity(v: unknown, path: string): AuditEntity {
  const o = object(v, path, ['what', 'type', 'role', 'lifecycle', 'securityLabel'])
  const f: Obj = { what: token(required(o, 'what', path), `${path}/what`) }
  optional(o, 'type', f, token, path)
  optional(o, 'role', f, token, path)
  optional(o, 'lifecycle', f, token, path)
  optional(o, 'securityLabel', f, tokens, path)
  return ordered(f, ENTITY_ORDER) as unknown as AuditEntity
}

const EVENT_ORDER = [
  'action',
  'agents',
  'details',
  'entities',
  'occurred',
  'outcome',
  'outcomeCode',
  'patient',
  'requestId',
  'source',
  'subtype',
  'type',
] as const
const AGENT_ORDER = ['altId', 'network', 'purposeOfUse', 'requestor', 'role', 'type', 'who'] as const
const ENTITY_ORDER = ['lifecycle', 'role', 'securityLabel', 'type', 'what'] as const

/** The members of `f` (fixed schema names) inserted in RFC 8785 order. */
function ordered(f: Obj, order: readonly string[]): Obj {
  const out: Obj = {}
  for (const k of order) if (f[k] !== undefined) out[k] = f[k]
  return out
}

function details(v: unknown, path: string): Record<string, AuditDetailValue> {
  if (!isPlainObject(v)) throw new AuditEventError('expected an object', path)
  const keys = Object.keys(v).sort()
  if (keys.length > MAX_DETAILS) throw new AuditEventError(`at most ${MAX_DETAILS} details`, path)
  const out: Record<string, AuditDetailValue> = {}
  for (const k of keys) {
    const p = `${path}/${k}`
    token(k, p)
    const x = v[k]
    let value: AuditDetailValue
    if (typeof x === 'boolean') value = x
    else if (typeof x === 'number') {
      checkNumberCanonical(x, p)
      value = x
    } else value = token(x, p)
    // defineProperty: a "__proto__" key stays an ordinary member
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true })
  }
  return out
}

function list<T>(v: unknown, path: string, f: (x: unknown, p: string) => T, min: number): T[] {
  if (!Array.isArray(v)) throw new AuditEventError('expected an array', path)
  if (v.length < min || v.length > MAX_LIST)
    throw new AuditEventError(`expected ${min} to ${MAX_LIST} entries`, path)
  return v.map((x, i) => f(x, `${path}/${i}`))
}

/**
 * Validates an event (an object, or JSON text parsed strictly) against schema v1 and returns a
 * fresh, normalised copy holding only the known fields.
 *
 * HIPAA: 164.312(b) audit controls (required AU-3 content), 164.502(b) minimum necessary (no free
 * text, no unknown fields).
 *
 * @param input - the event, or its JSON text (duplicate member names are then refused).
 * @param options - `allowReserved` lets the log write its own `safeguards.*` events.
 * @throws {NonCanonicalInputError} (`ERR_AUDIT_NON_CANONICAL`) for -0, NaN, floats where integers
 *   belong, integers beyond 2^53-1, lone surrogates, duplicate member names, malformed JSON text.
 * @throws {AuditEventError} (`ERR_AUDIT_INVALID_EVENT`) for a missing, unknown or ill-typed field.
 * @example
 * ```ts
 * const event = validateEvent({
 *   type: 'rest', action: 'R', outcome: 0,
 *   agents: [{ who: 'Practitioner/7', requestor: true }],
 *   source: { observer: 'ehr-api' }, patient: 'Patient/42',
 * })
 * ```
 */
export function validateEvent(input: unknown, options?: { allowReserved?: boolean }): AuditEvent {
  let value = input
  if (typeof input === 'string') {
    try {
      value = parseJson(input, { maxLength: 65536, maxDepth: 16 })
    } catch (e) {
      if (e instanceof JsonParseError)
        throw new NonCanonicalInputError('invalid JSON text', `@${e.offset}`, { cause: e })
      throw e
    }
  }
  const o = object(value, '', [
    'type',
    'subtype',
    'action',
    'outcome',
    'outcomeCode',
    'occurred',
    'agents',
    'source',
    'patient',
    'entities',
    'requestId',
    'details',
  ])
  const type = token(required(o, 'type', ''), '/type')
  if (type.startsWith('safeguards.') && options?.allowReserved !== true)
    throw new AuditEventError('event types starting with "safeguards." are reserved', '/type')
  const action = required(o, 'action', '')
  if (action !== 'C' && action !== 'R' && action !== 'U' && action !== 'D' && action !== 'E')
    throw new AuditEventError('expected one of C, R, U, D, E', '/action')
  const outcome = required(o, 'outcome', '')
  if (typeof outcome === 'number') checkNumberCanonical(outcome, '/outcome')
  if (outcome !== 0 && outcome !== 4 && outcome !== 8 && outcome !== 12)
    throw new AuditEventError('expected one of 0, 4, 8, 12', '/outcome')
  const f: Obj = { type, action, outcome }
  optional(o, 'subtype', f, tokens, '')
  optional(o, 'outcomeCode', f, token, '')
  optional(o, 'occurred', f, timestamp, '')
  f.agents = list(required(o, 'agents', ''), '/agents', agent, 1)
  const src = object(required(o, 'source', ''), '/source', ['observer', 'site', 'type'])
  const source: Obj = { observer: token(required(src, 'observer', '/source'), '/source/observer') }
  optional(src, 'site', source, token, '/source')
  optional(src, 'type', source, tokens, '/source')
  f.source = source
  optional(o, 'patient', f, token, '')
  optional(o, 'entities', f, (v, p) => list(v, p, entity, 0), '')
  optional(o, 'requestId', f, token, '')
  optional(o, 'details', f, details, '')
  // Members in RFC 8785 order, so JSON.stringify of the result is already canonical.
  return ordered(f, EVENT_ORDER) as unknown as AuditEvent
}

/**
 * Checks a stream identifier: 1-128 characters of `[A-Za-z0-9._-]`, starting alphanumeric.
 *
 * @throws {TypeError} when not a string. @throws {RangeError} when not a valid identifier.
 * @example
 * ```ts
 * assertStreamId('ehr-prod') // ok
 * ```
 */
export function assertStreamId(stream: unknown): asserts stream is string {
  if (typeof stream !== 'string') throw new TypeError('"stream" expected a string')
  if (!STREAM.test(stream)) throw new RangeError('"stream" expected 1-128 characters of [A-Za-z0-9._-]')
}

/**
 * Formats a millisecond timestamp as the record's `recorded` value: RFC 3339 UTC, milliseconds.
 *
 * @throws {RangeError} for a time outside years 0000-9999.
 * @example
 * ```ts
 * formatRecorded(0) // '1970-01-01T00:00:00.000Z'
 * ```
 */
export function formatRecorded(ms: number): string {
  const d = new Date(ms)
  if (Number.isNaN(d.getTime()) || ms < -62167219200000 || ms > 253402300799999)
    throw new RangeError('"ms" outside 0000-9999')
  return d.toISOString()
}

/**
 * Encodes a record envelope as its canonical bytes (what is stored and hashed).
 *
 * @throws {NonCanonicalInputError} if the record cannot be canonicalised (cannot happen for
 *   validated events).
 * @example
 * ```ts
 * const bytes = encodeRecord({ v: 1, stream: 's', seq: 0, prev: '0'.repeat(64), recorded, event })
 * ```
 */
export function encodeRecord(record: AuditRecord): Uint8Array {
  try {
    return utf8Encode(canonicalize(record))
  } catch (e) {
    throw new NonCanonicalInputError('record has no canonical form', '', { cause: e })
  }
}
