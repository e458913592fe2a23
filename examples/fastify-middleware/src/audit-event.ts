/**
 * The access record of one request, as a core {@link SafeguardEvent} that the audit sink of
 * `@safeguards/audit-log` codes (FHIR `rest` with the interaction, DICOM outcome, `BTG` for an
 * emergency grant): who, what (the access check's action and resource type, or the method and the
 * route pattern, never the URL, query string or body), the outcome with a reason code, the HTTP
 * status as a count, and the patient id (pseudonymised by the sink). Built only from codes and
 * ids, so it holds no PHI and no token.
 */
import type { SafeguardEvent } from '@safeguards/core'
import type { Decision, Resource } from '@safeguards/rbac'

/** Why a request was not authenticated. */
export type AuthnFailure = 'no_session' | 'invalid_session' | 'session_store_unavailable'

/** The `source` of the events the plugin emits. */
export const SOURCE = '@safeguards-examples/fastify-middleware'

/** What the plugin learned about a request, in the order its hooks ran. */
export interface RequestFacts {
  at: number
  method: string
  /** The route pattern (`/api/patients/:patient`), or undefined when no route matched. */
  route: string | undefined
  status: number
  userId: string | undefined
  authn: AuthnFailure | undefined
  /** The RBAC action asked for, the resource and the decision, when an access check ran. */
  access: { action: string; resource: Resource; decision: Decision } | undefined
  /** The patient the request concerns (an id; the audit sink pseudonymises it). */
  patient: string | undefined
}

/** The FHIR interactions of the HTTP methods (the audit sink maps them to actions R, C, U, D). */
const VERBS: Readonly<Record<string, string>> = {
  GET: 'read',
  HEAD: 'read',
  POST: 'create',
  PUT: 'update',
  PATCH: 'update',
  DELETE: 'delete',
}

/** Characters outside the audit schema's code alphabet (printable ASCII without space, `"\`{}`). */
const NOT_CODE = /[^!#-[\]-_a-z|~]/g

/** A route pattern as a code: odd characters (regex routes) become `_`, at most 256 characters. */
function routeCode(route: string | undefined): string {
  if (route === undefined || route === '') return 'unmatched'
  return route.replace(NOT_CODE, '_').slice(0, 256)
}

/**
 * The record of one request: `access.denied` when the plugin refused it (no session, or a denied
 * access decision: outcome 4), `access.emergency.used` when the decision relied on an emergency
 * grant (its `audit:emergency-access` obligation; purpose of use `BTG`), else `record.accessed`
 * with the real outcome (8 on a failure).
 */
export function requestRecord(facts: RequestFacts): SafeguardEvent {
  const { access, status } = facts
  const refused = facts.authn !== undefined || (access !== undefined && !access.decision.allowed)
  const code =
    facts.authn ??
    (access !== undefined && (refused || status < 400) ? access.decision.reason : String(status))
  const emergency = access?.decision.obligations.find((o) => o.id === 'audit:emergency-access')
  const common = {
    at: facts.at,
    source: SOURCE,
    outcome: status < 400 ? ('success' as const) : ('failure' as const),
    ...(facts.userId === undefined ? {} : { actor: facts.userId }),
    ...(facts.patient === undefined ? {} : { subject: facts.patient }),
    code,
    counts: { status },
    action: access?.action ?? VERBS[facts.method] ?? facts.method.toLowerCase().replace(NOT_CODE, '_'),
    resourceType: access?.resource.type ?? routeCode(facts.route),
    ...(access?.resource.id === undefined ? {} : { resourceId: access.resource.id }),
    ...(access?.resource.tenant === undefined ? {} : { tenant: access.resource.tenant }),
  }
  if (refused) return { ...common, type: 'access.denied' }
  if (emergency?.grant !== undefined)
    return { ...common, type: 'access.emergency.used', grantId: emergency.grant }
  return { ...common, type: 'record.accessed' }
}
