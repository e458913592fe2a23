/**
 * The audit event for one request: who, what (method and route pattern, never the URL, query
 * string or body), the outcome, the authentication and access decisions with their reason codes,
 * and the patient as a keyed pseudonym. Built only from codes and ids, so it holds no PHI and no
 * token.
 */
import type { AuditAction, AuditEvent, AuditOutcome } from '@safeguards/audit-log'
import type { Decision } from '@safeguards/rbac'

/** Why a request was not authenticated. */
export type AuthnFailure = 'no_session' | 'invalid_session' | 'session_store_unavailable'

/** What the plugin learned about a request, in the order its hooks ran. */
export interface RequestFacts {
  method: string
  /** The route pattern (`/api/patients/:patient`), or undefined when no route matched. */
  route: string | undefined
  status: number
  /** Fastify's request id; recorded only when it is a plain code (a client may choose it). */
  requestId: string
  userId: string | undefined
  authn: AuthnFailure | undefined
  /** The RBAC action asked for, and the decision, when an access check ran. */
  access: { action: string; decision: Decision } | undefined
  /** The patient's pseudonym, when the request concerns one patient. */
  patient: string | undefined
}

const ACTIONS: Readonly<Record<string, AuditAction>> = {
  GET: 'R',
  HEAD: 'R',
  POST: 'C',
  PUT: 'U',
  PATCH: 'U',
  DELETE: 'D',
}

/** Characters outside the audit schema's code alphabet (printable ASCII without space, `"\`{}`). */
const NOT_CODE = /[^!#-[\]-_a-z|~]/g
const PLAIN_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** A route pattern as a code: odd characters (regex routes) become `_`, at most 256 characters. */
function routeCode(route: string | undefined): string {
  if (route === undefined || route === '') return 'unmatched'
  return route.replace(NOT_CODE, '_').slice(0, 256)
}

/** Maps HTTP status to the audit outcome: success, minor failure (4xx), serious failure (5xx). */
function outcomeOf(status: number): AuditOutcome {
  return status < 400 ? 0 : status < 500 ? 4 : 8
}

/** The audit event for one request. */
export function requestEvent(facts: RequestFacts, observer: string): AuditEvent {
  const details: Record<string, string> = { route: routeCode(facts.route) }
  if (facts.authn !== undefined) details.authn = facts.authn
  if (facts.access !== undefined) {
    details.access = facts.access.action
    details.decision = facts.access.decision.reason
    const emergency = facts.access.decision.obligations.find((o) => o.id === 'audit:emergency-access')
    if (emergency?.grant !== undefined) details.emergencyGrant = emergency.grant
    if (emergency?.reasonCode !== undefined) details.emergencyReason = emergency.reasonCode
  }
  return {
    type: 'rest',
    subtype: [facts.method.toLowerCase().replace(NOT_CODE, '_')],
    action: ACTIONS[facts.method] ?? 'E',
    outcome: outcomeOf(facts.status),
    outcomeCode: String(facts.status),
    agents: [{ who: facts.userId === undefined ? 'anonymous' : `user/${facts.userId}`, requestor: true }],
    source: { observer },
    ...(PLAIN_ID.test(facts.requestId) ? { requestId: facts.requestId } : {}),
    ...(facts.patient !== undefined ? { patient: facts.patient } : {}),
    details,
  }
}
