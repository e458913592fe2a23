/**
 * Export to FHIR R4 `AuditEvent` (http://hl7.org/fhir/R4/auditevent.html), shaped after IHE Basic
 * Audit Log Patterns (BALP): agents keep `requestor`, the patient becomes an entity with object role
 * 1 (patient), the request id an entity identifier typed `X-Request-Id`, and the record's integrity
 * data (stream, seq, entry hash, prev) an extension, so an exported event can be traced back to the
 * signed log.
 *
 * Codes keep their own systems: DICOM event IDs (PS3.16 CID 400) as `type`, DICOM event type codes
 * (CID 401) and FHIR restful interactions as `subtype`, DICOM participant roles (CID 402) as
 * `agent.type`, all under `http://dicom.nema.org/resources/ontology/DCM` or their HL7 system; a
 * code of none of these goes under a `urn:safeguards:audit-log:` system, never under DICOM's. The
 * resource id is a name-based UUID of the record's stream and seq; Bundle entries are
 * `urn:uuid:<id>`.
 *
 * The R4 JSON schema does not enforce `recorded` or `agent.requestor` (both 1..1 in the spec);
 * {@link checkFhirAuditEvent} checks them in code.
 *
 * HIPAA: 164.312(b) audit controls and 164.308(a)(1)(ii)(D) information system activity review
 * (events in the format SIEMs and FHIR servers ingest).
 *
 * @module
 */
import { bytesToHex, utf8Decode, utf8Encode } from '@safeguards/core'
import { leafHashOf, sha256Fast } from './internal/sha256.js'
import type { AuditEvent, AuditRecord } from './record.js'
import type { StoredRecord } from './store.js'

/** A FHIR R4 AuditEvent resource (JSON). */
export type FhirAuditEvent = Record<string, unknown> & { resourceType: 'AuditEvent' }

/** The extension URL carrying the record's integrity data. */
export const INTEGRITY_EXTENSION = 'urn:safeguards:audit-log:integrity' as const

const HL7 = 'http://terminology.hl7.org/CodeSystem'
const DCM = 'http://dicom.nema.org/resources/ontology/DCM'
const RESTFUL = 'http://hl7.org/fhir/restful-interaction'
const PRIVATE = 'urn:safeguards:audit-log'
const REFERENCE = /^[A-Z][A-Za-z]{1,63}\/[A-Za-z0-9\-.]{1,64}$/

/** DICOM PS3.16 CID 400 "Audit Event ID" (110100..110114): FHIR R4 `audit-event-type`. */
const DICOM_EVENT_ID = /^1101(0\d|1[0-4])$/
/** DICOM PS3.16 CID 401 "Audit Event Type Code" (110120..110142): FHIR R4 `audit-event-sub-type`. */
const DICOM_EVENT_TYPE_CODE = /^1101([23]\d|4[0-2])$/
/** DICOM PS3.16 CID 402 "Audit Active Participant Role ID" (110150..110155): R4 `participation-role-type`. */
const DICOM_ROLE_ID = /^11015[0-5]$/
/** FHIR R4 `restful-interaction` codes (the other half of `audit-event-sub-type`). */
const RESTFUL_INTERACTIONS: ReadonlySet<string> = new Set([
  'read',
  'vread',
  'update',
  'patch',
  'delete',
  'history',
  'history-instance',
  'history-type',
  'history-system',
  'create',
  'search',
  'search-type',
  'search-system',
  'capabilities',
  'transaction',
  'batch',
  'operation',
])
/** FHIR R4 `extra-security-role-type` codes. */
const SECURITY_ROLE_TYPES: ReadonlySet<string> = new Set([
  'humanuser',
  'datacollector',
  'dataprocessor',
  'datasubject',
])

function coding(system: string, code: string): { system: string; code: string } {
  return { system, code }
}

function refOrId(v: string): Record<string, unknown> {
  return REFERENCE.test(v) ? { reference: v } : { identifier: { value: v } }
}

/** `AuditEvent.type`: `rest` (HL7) or a DICOM event ID; any other code is ours, not DICOM's. */
function eventTypeSystem(type: string): string {
  if (type === 'rest') return `${HL7}/audit-event-type`
  if (DICOM_EVENT_ID.test(type)) return DCM
  return `${PRIVATE}:event-type`
}

/** `AuditEvent.subtype`: a DICOM event type code or a FHIR restful interaction; else ours. */
function subtypeSystem(code: string): string {
  if (DICOM_EVENT_TYPE_CODE.test(code)) return DCM
  if (RESTFUL_INTERACTIONS.has(code)) return RESTFUL
  return `${PRIVATE}:subtype`
}

/** `AuditEvent.agent.type`: an HL7 security role type or a DICOM participant role; else ours. */
function agentTypeSystem(code: string): string {
  if (SECURITY_ROLE_TYPES.has(code)) return `${HL7}/extra-security-role-type`
  if (DICOM_ROLE_ID.test(code)) return DCM
  return `${PRIVATE}:agent-type`
}

/**
 * The resource id of record `seq` of `stream`: a name-based UUID (RFC 9562 §5.8, version 8, from
 * SHA-256 as in its Appendix B.2) of `"safeguards.audit-log/fhir-id\n" ‖ stream ‖ "\n" ‖ seq`. Stable
 * (re-exports overwrite rather than duplicate) and distinct for distinct records, where a sanitised
 * stream name would not be (`ehr_prod` and `ehr-prod`).
 */
function resourceId(stream: string, seq: number): string {
  return nameUuid(`safeguards.audit-log/fhir-id\n${stream}\n${seq}`)
}

function nameUuid(name: string): string {
  const h = sha256Fast(utf8Encode(name)).subarray(0, 16)
  h[6] = (h[6]! & 0x0f) | 0x80 // version 8
  h[8] = (h[8]! & 0x3f) | 0x80 // variant 10
  const x = bytesToHex(h)
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * Maps one record to a FHIR R4 AuditEvent.
 *
 * HIPAA: 164.312(b) audit controls.
 *
 * @param record - the parsed record.
 * @param entryHash - the record's entry hash (hex), for the integrity extension.
 * @throws never for records that passed {@link validateEvent}.
 * @example
 * ```ts
 * const resource = toFhirAuditEvent(record, entryHashHex)
 * ```
 */
export function toFhirAuditEvent(record: AuditRecord, entryHash: string): FhirAuditEvent {
  const e: AuditEvent = record.event
  const out: FhirAuditEvent = {
    resourceType: 'AuditEvent',
    id: resourceId(record.stream, record.seq),
    extension: [
      {
        url: INTEGRITY_EXTENSION,
        extension: [
          { url: 'stream', valueString: record.stream },
          { url: 'seq', valueString: String(record.seq) },
          { url: 'entryHash', valueString: entryHash },
          { url: 'prev', valueString: record.prev },
        ],
      },
    ],
    type: coding(eventTypeSystem(e.type), e.type),
    action: e.action,
    recorded: record.recorded,
    outcome: String(e.outcome),
    agent: e.agents.map((a) => {
      const agent: Record<string, unknown> = { who: refOrId(a.who), requestor: a.requestor }
      if (a.type !== undefined) agent.type = { coding: [coding(agentTypeSystem(a.type), a.type)] }
      if (a.role !== undefined) agent.role = a.role.map((r) => ({ coding: [coding(`${PRIVATE}:role`, r)] }))
      if (a.altId !== undefined) agent.altId = a.altId
      if (a.network !== undefined)
        agent.network = a.network.type === undefined ? { address: a.network.address } : { ...a.network }
      if (a.purposeOfUse !== undefined)
        agent.purposeOfUse = a.purposeOfUse.map((p) => ({ coding: [coding(`${HL7}/v3-ActReason`, p)] }))
      return agent
    }),
    source: {
      observer: refOrId(e.source.observer),
      ...(e.source.site === undefined ? {} : { site: e.source.site }),
      ...(e.source.type === undefined
        ? {}
        : { type: e.source.type.map((t) => coding(`${HL7}/security-source-type`, t)) }),
    },
  }
  if (e.subtype !== undefined) out.subtype = e.subtype.map((s) => coding(subtypeSystem(s), s))
  if (e.occurred !== undefined) out.period = { start: e.occurred, end: e.occurred }
  if (e.outcomeCode !== undefined) out.outcomeDesc = e.outcomeCode
  const entity: Record<string, unknown>[] = []
  if (e.patient !== undefined)
    entity.push({
      what: refOrId(e.patient),
      type: coding(`${HL7}/audit-entity-type`, '1'),
      role: coding(`${HL7}/object-role`, '1'),
    })
  for (const en of e.entities ?? []) {
    const x: Record<string, unknown> = { what: refOrId(en.what) }
    if (en.type !== undefined) x.type = coding(`${HL7}/audit-entity-type`, en.type)
    if (en.role !== undefined) x.role = coding(`${HL7}/object-role`, en.role)
    if (en.lifecycle !== undefined) x.lifecycle = coding(`${HL7}/dicom-audit-lifecycle`, en.lifecycle)
    if (en.securityLabel !== undefined)
      x.securityLabel = en.securityLabel.map((l) => coding(`${HL7}/v3-Confidentiality`, l))
    entity.push(x)
  }
  if (e.requestId !== undefined)
    entity.push({
      what: { identifier: { type: { text: 'X-Request-Id' }, value: e.requestId } },
      type: coding(`${HL7}/audit-entity-type`, '4'),
    })
  if (e.details !== undefined)
    entity.push({
      type: coding(`${HL7}/audit-entity-type`, '4'),
      detail: Object.entries(e.details).map(([k, v]) => ({ type: k, valueString: String(v) })),
    })
  if (entity.length > 0) out.entity = entity
  return out
}

/**
 * Parses a stored record and maps it to a FHIR R4 AuditEvent.
 *
 * @hipaa 164.308(a)(1)(ii)(D) supports
 * @nist AU-7 164.308(a)(1)(ii)(D)
 * @evidence FHIR R4 AuditEvent resources (NDJSON or a Bundle) validated against the R4 schema
 * @verifiedBy packages/audit-log/test/fhir.test.ts
 * @throws {SyntaxError} when the bytes are not JSON (verify the log first).
 * @example
 * ```ts
 * for await (const r of store.read(0)) out.write(`${JSON.stringify(storedToFhir(r))}\n`)
 * ```
 */
export function storedToFhir(record: StoredRecord): FhirAuditEvent {
  const parsed = JSON.parse(utf8Decode(record.bytes)) as AuditRecord
  return toFhirAuditEvent(parsed, bytesToHex(leafHashOf(record.bytes)))
}

/**
 * Checks what the R4 JSON schema leaves out: `recorded` present (an instant) and every agent's
 * `requestor` present (a boolean). Returns the problems found (empty when fine).
 *
 * HIPAA: 164.312(b) audit controls (exported events keep the content the spec makes mandatory).
 *
 * @throws never.
 * @example
 * ```ts
 * checkFhirAuditEvent(resource) // []
 * ```
 */
export function checkFhirAuditEvent(resource: unknown): string[] {
  const problems: string[] = []
  const r = resource as Record<string, unknown> | null
  if (typeof r !== 'object' || r === null || r.resourceType !== 'AuditEvent') return ['not an AuditEvent']
  if (
    typeof r.recorded !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(r.recorded)
  )
    problems.push('recorded is missing or not an instant')
  const agents = r.agent
  if (!Array.isArray(agents) || agents.length === 0) problems.push('agent is missing')
  else
    agents.forEach((a, i) => {
      if (typeof (a as { requestor?: unknown }).requestor !== 'boolean')
        problems.push(`agent[${i}].requestor is missing`)
    })
  return problems
}

/**
 * Wraps AuditEvents in a FHIR R4 `collection` Bundle.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review.
 *
 * @throws never.
 * @example
 * ```ts
 * const bundle = fhirBundle(resources, '2026-01-01T00:00:00.000Z')
 * ```
 */
export function fhirBundle(resources: readonly FhirAuditEvent[], timestamp: string): Record<string, unknown> {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp,
    entry: resources.map((resource) => ({
      // FHIR R4 §2.36.4: fullUrl is an absolute URL or a urn:uuid. The resource ids this module
      // makes are UUIDs; any other id gets a name-based UUID of its own.
      fullUrl: `urn:uuid:${typeof resource.id === 'string' && UUID.test(resource.id) ? resource.id : nameUuid(`safeguards.audit-log/fhir-id\n${String(resource.id)}`)}`,
      resource,
    })),
  }
}
