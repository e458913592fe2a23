/**
 * The audit sink: every {@link SafeguardEvent} the SDK emits, appended to an audit log as a
 * FHIR R4-shaped {@link AuditEvent}, through one table ({@link auditSinkTable}).
 *
 * Codes (DICOM PS3.16 and HL7 FHIR R4, the systems {@link toFhirAuditEvent} exports them under):
 * - `AuditEvent.type`: a DICOM "Audit Event ID" (CID 400): 110100 Application Activity, 110101
 *   Audit Log Used, 110113 Security Alert, 110114 User Authentication; or `rest` (FHIR R4
 *   `audit-event-type`) for accesses to records.
 * - `AuditEvent.subtype`: a DICOM "Audit Event Type Code" (CID 401): 110122 Login, 110123 Logout,
 *   110127 Emergency Override Started, 110129 Security Configuration, 110137 User Security
 *   Attributes Changed, 110138 Emergency Override Stopped; for `rest` rows the FHIR restful
 *   interaction of the access (`read`, `create`, `update`, `delete`, `search-type`).
 * - `agent.purposeOfUse`: `BTG` (break the glass, HL7 v3-ActReason) on the emergency-access rows.
 * - `outcome`: 0 on success; on failure the row's code, 4 (minor failure: a refusal, a wrong
 *   password) or 8 (serious failure: a security alert, a failed access to a record).
 *
 * What a record carries: the actor as the requestor agent (or the emitting package when there is
 * no actor), with the network access point the app's `network` option names for the event (the
 * caller's address: the packages that emit events do not see the request, the app does), the subject as `patient` (pseudonymised when a {@link Pseudonymizer} is given), the
 * event's `code` as `outcomeCode`, its time as `occurred`, the resource or key as an entity, and
 * in `details` the event type (`event`), the emitting package (`emitter`), the counts
 * (`counts.<name>`) and the row's listed fields. Nothing else of the event is read, so a field the
 * table does not name never reaches the log.
 *
 * HIPAA: 164.312(b) audit controls (every safeguard's events recorded in one vocabulary),
 * 164.308(a)(5)(ii)(C) log-in monitoring, 164.312(a)(2)(ii) emergency access procedure (break-glass
 * use recorded with `BTG`).
 *
 * @module
 */
import { criticalSink, type EventSink, type SafeguardEvent, type SafeguardEventType } from '@safeguards/core'
import type { AuditLog } from './log.js'
import type { Pseudonymizer } from './pseudonym.js'
import {
  type AuditAction,
  type AuditAgent,
  type AuditDetailValue,
  type AuditEntity,
  type AuditEvent,
  type AuditNetwork,
  type AuditOutcome,
  formatRecorded,
} from './record.js'

/** One row of {@link auditSinkTable}: how one event type becomes an audit event. */
export interface AuditSinkRow {
  /** `AuditEvent.type`: a DICOM CID 400 event ID, or `rest` for an access to a record. */
  readonly type: '110100' | '110101' | '110113' | '110114' | 'rest'
  /** A DICOM CID 401 event type code. `rest` rows take the FHIR interaction from the access. */
  readonly subtype?: string
  /** `AuditEvent.action`; `access` rows take it from the event's `action` (read → R, …). */
  readonly action: AuditAction | 'access'
  /** The outcome code of a failure: 4 minor, 8 serious; `severity`: 8 for an error, 4 a warning. */
  readonly failure: 4 | 8 | 'severity'
  /** Whether the agent's purpose of use is `BTG` (break the glass). */
  readonly btg?: true
  /** Event fields copied into `details` (scalars: identifiers, numbers, booleans). */
  readonly details?: readonly string[]
  /** Event fields naming the object of the event (a resource, a key), recorded as entities. */
  readonly entity?: 'resource' | 'keyRef' | 'keyRefs'
}

const SESSION = ['sessionId', 'role'] as const
const FACTOR = ['credentialId'] as const
const ACCESS = ['tenant', 'grantId'] as const
const login = { type: '110114', subtype: '110122', action: 'E', failure: 4 } as const
const logout = { type: '110114', subtype: '110123', action: 'E', failure: 4 } as const
const access = { type: 'rest', action: 'access', entity: 'resource', details: ACCESS } as const
const keyChange = { type: '110113', subtype: '110129', failure: 8, entity: 'keyRef' } as const

/**
 * The one mapping from SDK events to audit events (see the module documentation for the codes).
 * Exhaustive: a new {@link SafeguardEventType} without a row fails the type check.
 *
 * Choices: a session's creation and rotation are sign-ins (110122 Login), its expiry and revocation
 * sign-outs (110123 Logout, automatic logoff included); a lock, an enrolled or removed factor
 * change the user's security attributes (110137); a key's lifecycle is a change of security
 * configuration (110129, which PS3.15 A.5.3.11 gives for security alerts about keys and
 * certificates); a replay, a decryption failure, a failed backup and an audit finding are security
 * alerts without a narrower CID 401 code; a successful backup verification is application activity
 * (110100) and a log verification is a use of the audit log (110101, action R as PS3.15 A.5.3.2).
 */
export const auditSinkTable: Readonly<Record<SafeguardEventType, AuditSinkRow>> = Object.freeze({
  'session.created': { ...login, details: SESSION },
  'session.rotated': { ...login, details: [...SESSION, 'previousSessionId'] },
  'session.expired.idle': { ...logout, details: SESSION },
  'session.expired.absolute': { ...logout, details: SESSION },
  'session.revoked': { ...logout, details: SESSION },
  'auth.password.succeeded': login,
  'auth.password.failed': login,
  'auth.totp.succeeded': { ...login, details: FACTOR },
  'auth.totp.failed': { ...login, details: FACTOR },
  'auth.totp.replayed': { type: '110113', action: 'E', failure: 8, details: FACTOR },
  'auth.locked': { type: '110113', subtype: '110137', action: 'U', failure: 8, details: FACTOR },
  'auth.recovery-code.used': { ...login, details: FACTOR },
  'auth.factor.enrolled': { type: '110113', subtype: '110137', action: 'C', failure: 4, details: FACTOR },
  'auth.factor.removed': { type: '110113', subtype: '110137', action: 'D', failure: 4, details: FACTOR },
  'access.allowed': { ...access, failure: 4 },
  'access.denied': { ...access, failure: 4 },
  'record.accessed': { ...access, failure: 8 },
  'access.emergency.granted': {
    type: '110113',
    subtype: '110127',
    action: 'E',
    failure: 4,
    btg: true,
    details: ['grantId', 'expiresAt'],
  },
  'access.emergency.used': { ...access, failure: 8, btg: true },
  'access.emergency.reviewed': { type: '110113', action: 'E', failure: 4, btg: true, details: ['grantId'] },
  'access.emergency.revoked': {
    type: '110113',
    subtype: '110138',
    action: 'E',
    failure: 4,
    btg: true,
    details: ['grantId'],
  },
  'access.emergency.approved': {
    type: '110113',
    subtype: '110127',
    action: 'E',
    failure: 4,
    btg: true,
    details: ['grantId'],
  },
  'access.emergency.review-overdue': {
    type: '110113',
    action: 'E',
    failure: 4,
    btg: true,
    details: ['grantId', 'reviewDueAt'],
  },
  'key.created': { ...keyChange, action: 'C' },
  'key.rotated': { ...keyChange, action: 'U' },
  'key.retired': { ...keyChange, action: 'U' },
  'key.disabled': { ...keyChange, action: 'U' },
  'key.enabled': { ...keyChange, action: 'U' },
  'key.destroyed': { ...keyChange, action: 'D' },
  'key.budget.warning': { type: '110113', action: 'E', failure: 4, entity: 'keyRef' },
  'envelope.decrypt.failed': { type: '110113', action: 'E', failure: 8, entity: 'keyRefs' },
  'backup.verified': { type: '110100', action: 'E', failure: 8, details: ['bagId'] },
  'backup.failed': { type: '110113', action: 'E', failure: 8, details: ['bagId'] },
  'audit.verified': { type: '110101', action: 'R', failure: 8, details: ['stream'] },
  'audit.finding': { type: '110113', action: 'E', failure: 'severity', details: ['stream', 'severity'] },
} as const satisfies Record<SafeguardEventType, AuditSinkRow>)

/** Options for {@link auditSink} and {@link auditEventOf}. */
export interface AuditSinkOptions {
  /** The observer the audit events name (`source.observer`): this service's id, for example `ehr-api`. */
  source: string
  /** The site or facility code (`source.site`). */
  site?: string
  /** Pseudonymises the subject (patient id) with this key before it is recorded. */
  pseudonymize?: Pseudonymizer
  /**
   * Awaited, and its failure fails the operation that emitted the event (default true): an access
   * to PHI that could not be recorded should not happen. `false` makes an isolated sink.
   */
  critical?: boolean
  /**
   * The network access point of the event's requestor (`agent.network`), or `undefined` for none:
   * typically the remote address of the request being served, which the app keeps in a
   * per-request context (`AsyncLocalStorage`) because the packages emitting the events never see
   * the request. Called once per event, synchronously, in the emitting operation's async context.
   * The address must be identifier-shaped (the record schema's token: printable ASCII, no spaces,
   * at most 256 characters), or the append is refused. It is what the monitor's `password-spray`
   * detector groups failed sign-ins by.
   */
  network?: (event: SafeguardEvent) => AuditNetwork | undefined
}

/** FHIR restful interactions and actions of the access verbs; any other verb is `E`. */
const INTERACTIONS: Readonly<Record<string, readonly [AuditAction, string]>> = {
  read: ['R', 'read'],
  create: ['C', 'create'],
  update: ['U', 'update'],
  delete: ['D', 'delete'],
  search: ['R', 'search-type'],
}

type Fields = Readonly<Record<string, unknown>>

function outcomeOf(event: SafeguardEvent, row: AuditSinkRow): AuditOutcome {
  if (event.outcome === 'success') return 0
  if (row.failure !== 'severity') return row.failure
  return event.type === 'audit.finding' && event.severity === 'warning' ? 4 : 8
}

function entitiesOf(event: Fields, row: AuditSinkRow): AuditEntity[] | undefined {
  if (row.entity === 'resource') {
    const type = String(event.resourceType)
    const what = event.resourceId === undefined ? type : `${type}/${String(event.resourceId)}`
    return [{ what, type: '2', role: '4' }] // system object, domain resource
  }
  if (row.entity === 'keyRef') return [{ what: String(event.keyRef), type: '2', role: '13' }] // security resource
  if (row.entity === 'keyRefs')
    return (event.keyRefs as readonly string[]).map((what) => ({ what, type: '2', role: '13' }))
  return undefined
}

function detailsOf(event: SafeguardEvent, row: AuditSinkRow): Record<string, AuditDetailValue> {
  const out: Record<string, AuditDetailValue> = { event: event.type, emitter: event.source }
  const fields = event as unknown as Fields
  for (const name of row.details ?? []) {
    const v = fields[name]
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[name] = v
  }
  for (const [name, n] of Object.entries(event.counts ?? {})) out[`counts.${name}`] = n
  return out
}

/**
 * The audit event that {@link auditSink} appends for `event` (pure; for tests and custom sinks).
 *
 * @throws {RangeError} when `event.at` is not a time in years 0000-9999.
 * @throws whatever `options.network` throws.
 * @example
 * ```ts
 * const e = auditEventOf(
 *   { type: 'session.expired.idle', at: 0, source: '@safeguards/session', outcome: 'success', sessionId: 'ab12', role: null },
 *   { source: 'ehr-api' },
 * )
 * e.subtype // ['110123'] (Logout)
 * ```
 */
export function auditEventOf(event: SafeguardEvent, options: AuditSinkOptions): AuditEvent {
  const row: AuditSinkRow = auditSinkTable[event.type]
  const fields = event as unknown as Fields
  let action: AuditAction
  let subtype: string[] | undefined
  if (row.action === 'access') {
    const verb = String(fields.action)
    const known = INTERACTIONS[verb]
    action = known?.[0] ?? 'E'
    subtype = [known?.[1] ?? verb]
  } else {
    action = row.action
    subtype = row.subtype === undefined ? undefined : [row.subtype]
  }
  const agent: AuditAgent = { who: event.actor ?? event.source, requestor: true }
  const network = options.network?.(event)
  if (network !== undefined)
    agent.network = network.type === undefined ? { address: network.address } : { ...network }
  if (row.btg === true) agent.purposeOfUse = ['BTG']
  const out: AuditEvent = {
    type: row.type,
    action,
    outcome: outcomeOf(event, row),
    occurred: formatRecorded(event.at),
    agents: [agent],
    source:
      options.site === undefined
        ? { observer: options.source }
        : { observer: options.source, site: options.site },
    details: detailsOf(event, row),
  }
  if (subtype !== undefined) out.subtype = subtype
  if (event.code !== undefined) out.outcomeCode = event.code
  if (event.subject !== undefined)
    out.patient =
      options.pseudonymize === undefined ? event.subject : options.pseudonymize.pseudonym(event.subject)
  const entities = entitiesOf(fields, row)
  if (entities !== undefined) out.entities = entities
  return out
}

/**
 * An event sink that appends every SDK event to an audit log, mapped by {@link auditSinkTable}.
 * Critical by default: the operation that emitted the event fails with `ERR_EVENT_SINK` when the
 * record could not be appended (fail closed, for access records to PHI).
 *
 * @hipaa 164.312(b) supports
 * @hipaa 164.308(a)(5)(ii)(C) supports
 * @nist AU-2 164.312(b): every SDK event (sign-ins, sign-outs, access decisions, emergency access, key changes, verification results) becomes an audit record through one documented table
 * @nist AU-5 164.312(b): the sink is critical by default, so an event that cannot be recorded fails the operation that emitted it
 * @evidence audit records coded with DICOM and FHIR R4 codes (110114 User Authentication with 110122 Login and 110123 Logout, 110113 Security Alert, rest interactions, BTG purpose of use)
 * @appResponsibility Give the sink to every package's `events` option; keep the sink critical for access to PHI; give a pseudonymizer when subject ids are sensitive; give a `network` hook returning the caller's address, so that sign-in records say where they came from (log-in monitoring groups password spraying by it).
 * @verifiedBy packages/audit-log/test/sink.test.ts
 * @param log - the audit log to append to.
 * @param options - the observer id, and pseudonymisation and criticality.
 * @throws {TypeError} when `log` has no `append`, `options.source` is not a string or
 *   `options.network` is given and not a function.
 * @example
 * ```ts
 * const events = auditSink(log, { source: 'ehr-api', pseudonymize: createPseudonymizer(psKey) })
 * const sessions = createSessionManager({ store, events })
 * // The caller's address on every record, from a per-request AsyncLocalStorage the app fills:
 * const withAddress = auditSink(log, {
 *   source: 'ehr-api',
 *   network: () => {
 *     const address = requestContext.getStore()?.address
 *     return address === undefined ? undefined : { address, type: '2' } // 2: IP address
 *   },
 * })
 * ```
 */
export function auditSink(log: Pick<AuditLog, 'append'>, options: AuditSinkOptions): EventSink {
  if (typeof log !== 'object' || log === null || typeof log.append !== 'function')
    throw new TypeError('"log" expected an AuditLog')
  if (typeof options !== 'object' || options === null || typeof options.source !== 'string')
    throw new TypeError('"options.source" expected a string')
  if (options.network !== undefined && typeof options.network !== 'function')
    throw new TypeError('"options.network" expected a function')
  const opts: AuditSinkOptions = { ...options }
  const write = async (event: SafeguardEvent): Promise<void> => {
    await log.append(auditEventOf(event, opts))
  }
  return options.critical === false ? write : criticalSink(write)
}
