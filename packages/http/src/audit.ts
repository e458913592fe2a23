/**
 * One audit record per request, written through the audit sink before the response leaves, fail
 * closed: when the record cannot be written the client gets 503 `audit_unavailable` and none of
 * the data. The adapter contract: hold the response (status, headers, body) until
 * {@link RequestAudit.finish} resolves; send it when that gives `null`, else send the 503 it gives
 * instead. The record is the request in core's vocabulary: `access.denied` for a refusal,
 * `access.emergency.used` when the decision relied on an emergency grant (the sink records it
 * with purpose of use `BTG`), else `record.accessed` with the real outcome and status.
 *
 * @module
 */
import { type AuditLog, auditSink, type Pseudonymizer } from '@safeguards/audit-log'
import { type Clock, createEmitter, type SafeguardEvent, systemClock } from '@safeguards/core'
import type { Decision, Resource } from '@safeguards/rbac'
import { EMERGENCY_OBLIGATION } from './access.js'
import { type HttpRefusal, type RefusalReason, refusal } from './reply.js'

/** What the adapter knows of a request once its response is ready (ids and codes, never content). */
export interface RequestFacts {
  /** The HTTP method. */
  readonly method: string
  /** The route pattern (`/patients/:id`), never the path with ids or the query string. */
  readonly route?: string | undefined
  /** The status about to be sent. */
  readonly status: number
  /** The signed-in user, when the session check passed. */
  readonly actor?: string | undefined
  /** The refusal reason, when the request was refused by a check. */
  readonly refused?: RefusalReason | undefined
  /** The access check that ran. */
  readonly access?:
    | { readonly action: string; readonly resource: Resource; readonly decision: Decision }
    | undefined
  /** The patient the request concerns (pseudonymised by the sink when `pseudonymize` is set). */
  readonly patient?: string | undefined
}

/** The `source` of the request events. */
const SOURCE = '@safeguards/http'

const VERBS: Readonly<Record<string, string>> = {
  GET: 'read',
  HEAD: 'read',
  POST: 'create',
  PUT: 'update',
  PATCH: 'update',
  DELETE: 'delete',
}

/**
 * The event recorded for one request (pure; for tests and custom sinks).
 *
 * @example
 * ```ts
 * requestEvent({ method: 'GET', route: '/x', status: 401, refused: 'session_idle' }, Date.now(), '@safeguards/http').type // 'access.denied'
 * ```
 */
export function requestEvent(facts: RequestFacts, at: number, source: string): SafeguardEvent {
  const { access, status } = facts
  const refused = facts.refused !== undefined || (access !== undefined && !access.decision.allowed)
  const emergency = access?.decision.obligations.find((o) => o.id === EMERGENCY_OBLIGATION)
  const common = {
    at,
    source,
    outcome: !refused && status < 400 ? ('success' as const) : ('failure' as const),
    ...(facts.actor === undefined ? {} : { actor: facts.actor }),
    ...(facts.patient === undefined ? {} : { subject: facts.patient }),
    code: facts.refused ?? (access && (refused || status < 400) ? access.decision.reason : String(status)),
    counts: { status },
    action: access?.action ?? VERBS[facts.method] ?? 'execute',
    resourceType: access?.resource.type ?? facts.route ?? 'unmatched',
    ...(access?.resource.id === undefined ? {} : { resourceId: access.resource.id }),
    ...(access?.resource.tenant === undefined ? {} : { tenant: access.resource.tenant }),
  }
  if (refused) return { ...common, type: 'access.denied' }
  if (emergency?.grant !== undefined)
    return { ...common, type: 'access.emergency.used', grantId: emergency.grant }
  return { ...common, type: 'record.accessed' }
}

/** Options of {@link createRequestAudit}. */
export interface RequestAuditOptions {
  /** This service's id (`source.observer` of the records), for example `ehr-api`. */
  observer: string
  /** Keyed pseudonyms for patient ids (recommended). */
  pseudonymize?: Pseudonymizer
  /** Called with the write failure (log it; it never holds PHI from us). */
  onError?: (error: unknown) => void
  clock?: Clock
}

/** The per-request auditor. */
export interface RequestAudit {
  /**
   * Appends the request's record. Resolves `null` when it is written (send the response), or the
   * 503 `audit_unavailable` refusal to send instead (fail closed). Never rejects.
   */
  finish(facts: RequestFacts): Promise<HttpRefusal | null>
}

/**
 * Creates the per-request auditor over an audit log, through `auditSink` (critical).
 *
 * HIPAA: 164.312(b) audit controls (a record of every request, before its response), 164.308(a)(1)(ii)(D)
 * information system activity review.
 *
 * @hipaa 164.312(b) implements
 * @hipaa 164.308(a)(1)(ii)(D) supports
 * @nist AU-2 164.312(b)
 * @nist AU-3 164.312(b)
 * @nist AU-5 164.312(b): an audit write that fails withholds the response (503, no data)
 * @appResponsibility Hold every response until finish() resolves, send its 503 instead when it returns one, and never stream PHI before the record is written.
 * @evidence one audit record per request (access.denied, record.accessed, access.emergency.used with BTG) appended before the response leaves
 * @verifiedBy packages/http/test/server.test.ts
 * @throws {TypeError} when `log` has no `append`.
 * @example
 * ```ts
 * const audit = createRequestAudit(log, { observer: 'ehr-api' })
 * const failed = await audit.finish({ method: 'GET', route: '/patients/:id', status: 200, actor: 'u-17' })
 * if (failed) send(failed) // 503, the data withheld
 * ```
 */
export function createRequestAudit(
  log: Pick<AuditLog, 'append'>,
  options: RequestAuditOptions,
): RequestAudit {
  if (typeof log?.append !== 'function') throw new TypeError('"log" expected an audit log with append()')
  const { pseudonymize, observer } = options
  const records = createEmitter({
    events: auditSink(log, { source: observer, ...(pseudonymize ? { pseudonymize } : {}) }),
  })
  const clock = options.clock ?? systemClock
  const unavailable = refusal(503, 'audit_unavailable')
  return {
    async finish(facts: RequestFacts): Promise<HttpRefusal | null> {
      try {
        await records.emit(requestEvent(facts, clock.now(), SOURCE))
        return null
      } catch (e) {
        options.onError?.(e)
        return unavailable
      }
    },
  }
}
