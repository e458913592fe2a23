/**
 * The normaliser: one audit record (schema v1, `@safeguards/audit-log`) to the few fields the
 * detectors read. The vocabulary is the default (DICOM PS3.15 A.5 / FHIR R4 AuditEvent):
 * - a sign-in is an event of `type` `110114` (User Authentication) with subtype `110122` (Login);
 *   outcome 0 is a success, 4 or 8 a failure; the account is the requestor agent's `who` and the
 *   source its `network.address`;
 * - a record access is an event with a `patient` and an action C, R, U, D or E, by the requestor
 *   agent's `who`; outcome 4 or 8 on it is a denial;
 * - an emergency access is a record access whose requestor's `purposeOfUse` contains `BTG`;
 * - the time of an event is its `occurred`, else its `recorded`; an `occurred` more than
 *   {@link MAX_FUTURE_SKEW_MS} after `recorded` is distrusted and `recorded` is used.
 *
 * Other vocabularies map their codes through the rules file's `vocabulary` ({@link Vocabulary}).
 *
 * A record that does not parse, or lacks what every record has, is a {@link RecordProblem}, never
 * an exception.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review (what is reviewed).
 *
 * @module
 */

/** What kind of event the detectors see. */
export type EventKind = 'sign-in' | 'access' | 'other'

/**
 * One audit record as the detectors read it: identifiers and codes only, no free text.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review (the reviewed fields; identifiers as stored).
 *
 * @example
 * ```ts
 * const n = normalizeRecord(record)
 * if (n.ok && n.event.kind === 'sign-in' && n.event.failed) console.log(n.event.seq)
 * ```
 */
export interface NormalEvent {
  /** The record's seq (the store's position). */
  readonly seq: number
  /** Event time, ms since the epoch: `occurred`, else `recorded`. */
  readonly t: number
  readonly kind: EventKind
  /** The requestor agent's `who` (the account, for a sign-in; the user, for an access). */
  readonly who: string | undefined
  /** The requestor agent's `network.address`. */
  readonly address: string | undefined
  /** The requestor agent's role codes. */
  readonly roles: readonly string[] | undefined
  /** The FHIR outcome code (0, 4, 8, 12). */
  readonly outcome: number
  /** Outcome 4 or 8: a failed sign-in, or a denied access. */
  readonly failed: boolean
  /** The patient of a record access. */
  readonly patient: string | undefined
  /** The requestor's purpose of use contains `BTG` (break the glass). */
  readonly btg: boolean
}

/**
 * A record the monitor could not read, reported the way `verifyLog` reports one (its codes).
 *
 * HIPAA: 164.312(b) audit controls (a damaged trail is reported, never skipped silently).
 *
 * @example
 * ```ts
 * for (const p of result.problems) console.error(p.seq, p.code)
 * ```
 */
export interface RecordProblem {
  readonly seq: number
  readonly code: 'MALFORMED' | 'STREAM_MISMATCH'
  readonly severity: 'error'
  /** One safe line (no record contents). */
  readonly message: string
}

/** Outcome of {@link normalizeRecord}. */
export type NormalizeResult = { ok: true; event: NormalEvent } | { ok: false; problem: RecordProblem }

/**
 * An `occurred` later than `recorded` by more than this (5 minutes) is distrusted: `recorded` is
 * used instead (a client clock in the future cannot push the stream time ahead).
 *
 * @example
 * ```ts
 * MAX_FUTURE_SKEW_MS // 300000
 * ```
 */
export const MAX_FUTURE_SKEW_MS = 300_000

const ACTIONS = new Set(['C', 'R', 'U', 'D', 'E'])

import { DEFAULT_VOCABULARY, type Vocabulary } from './vocabulary.js'

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const problem = (seq: number, code: RecordProblem['code'], message: string): NormalizeResult => ({
  ok: false,
  problem: { seq, code, severity: 'error', message },
})

function requestorOf(agents: unknown): Json | undefined {
  if (!Array.isArray(agents)) return undefined
  for (const a of agents) if (isObject(a) && a.requestor === true) return a
  return undefined
}

/** An array of codes as stored (entries that are not strings simply never match a code). */
function codesOf(v: unknown): readonly string[] | undefined {
  return Array.isArray(v) ? (v as string[]) : undefined
}

function eventTime(event: Json, recorded: number): number {
  if (typeof event.occurred !== 'string') return recorded
  const occurred = Date.parse(event.occurred)
  if (Number.isNaN(occurred) || occurred > recorded + MAX_FUTURE_SKEW_MS) return recorded
  return occurred
}

function kindOf(event: Json, v: Vocabulary): EventKind {
  if (typeof event.patient === 'string' && typeof event.action === 'string' && ACTIONS.has(event.action))
    return 'access'
  if (typeof event.type === 'string' && v.signIn.types.includes(event.type)) {
    if (v.signIn.subtypes.length === 0) return 'sign-in'
    const sub = event.subtype
    if (Array.isArray(sub) && sub.some((c) => v.signIn.subtypes.includes(c as string))) return 'sign-in'
  }
  return 'other'
}

/**
 * Normalises one parsed record. `seq` is the store's position of the record; `stream`, when
 * given, must match the record's. Never throws: a damaged record is a problem.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review (reads identifiers and codes only).
 *
 * @throws never: a record that cannot be read is returned as `{ ok: false, problem }`.
 * @example
 * ```ts
 * const n = normalizeRecord(JSON.parse(line), 41)
 * ```
 */
export function normalizeRecord(
  record: unknown,
  seq: number,
  stream?: string,
  vocabulary: Vocabulary = DEFAULT_VOCABULARY,
): NormalizeResult {
  if (!isObject(record) || !isObject(record.event)) return problem(seq, 'MALFORMED', 'not an audit record')
  if (record.seq !== seq) return problem(seq, 'MALFORMED', 'the record names another seq')
  if (stream !== undefined && record.stream !== stream)
    return problem(seq, 'STREAM_MISMATCH', 'the record names another stream')
  const recorded = typeof record.recorded === 'string' ? Date.parse(record.recorded) : Number.NaN
  if (Number.isNaN(recorded)) return problem(seq, 'MALFORMED', 'no valid "recorded" time')
  const event = record.event
  const outcome = typeof event.outcome === 'number' ? event.outcome : -1
  const agent = requestorOf(event.agents)
  const who = typeof agent?.who === 'string' ? agent.who : undefined
  const network = agent?.network
  const kind = kindOf(event, vocabulary)
  return {
    ok: true,
    event: {
      seq,
      t: eventTime(event, recorded),
      kind,
      who,
      address: isObject(network) && typeof network.address === 'string' ? network.address : undefined,
      roles: codesOf(agent?.role),
      outcome,
      failed: vocabulary.failureOutcomes.includes(outcome),
      patient: kind === 'access' ? (event.patient as string) : undefined,
      btg: codesOf(agent?.purposeOfUse)?.some((c) => vocabulary.emergencyPurposes.includes(c)) === true,
    },
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Decodes, parses and normalises one stored record (`{ seq, bytes }`). Never throws.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review; 164.312(b) (damaged records are reported).
 *
 * @throws never: undecodable or unparseable bytes are returned as a `MALFORMED` problem.
 * @example
 * ```ts
 * for await (const r of store.read(0)) {
 *   const n = normalizeStored(r, store.stream)
 * }
 * ```
 */
export function normalizeStored(
  record: { readonly seq: number; readonly bytes: Uint8Array },
  stream?: string,
  vocabulary: Vocabulary = DEFAULT_VOCABULARY,
): NormalizeResult {
  let parsed: unknown
  try {
    parsed = JSON.parse(decoder.decode(record.bytes))
  } catch {
    return problem(record.seq, 'MALFORMED', 'the record does not parse')
  }
  return normalizeRecord(parsed, record.seq, stream, vocabulary)
}
