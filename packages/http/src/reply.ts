/**
 * What the neutral core hands an adapter to send: a status, plain lower-case headers and a JSON
 * body. Refusals carry a stable reason code and nothing else (never a token, a policy or PHI).
 *
 * @module
 */
import type { DecisionReason } from '@safeguards/rbac'

/** A reply for the adapter to send as is. `headers` names are lower-case. */
export interface HttpReply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  /** JSON text (may be empty for 204). */
  readonly body: string
}

/** A refusal: an {@link HttpReply} with the reason code its body also carries. */
export interface HttpRefusal extends HttpReply {
  readonly reason: RefusalReason
}

/** The reasons of an rbac denial (its decision's reason). */
export type DenyReason = Exclude<DecisionReason, 'allow' | 'emergency_access'>

/** Why the session check refused a request (401), or could not decide (503). */
export type SessionRefusalReason =
  | 'session_absent'
  | 'session_cookie_invalid'
  | 'session_idle'
  | 'session_absolute'
  | 'session_revoked'
  | 'session_unknown'
  | 'session_store_unavailable'

/** Every reason code a refusal can carry. Stable: match on them, never on messages. */
export type RefusalReason =
  | SessionRefusalReason
  | 'csrf_missing'
  | 'csrf_invalid'
  | 'obligation_unfulfilled'
  | DenyReason
  | 'signin_throttled_account'
  | 'signin_throttled_address'
  | 'throttle_store_unavailable'
  | 'audit_unavailable'

const ERRORS: Readonly<Record<number, string>> = {
  401: 'unauthenticated',
  403: 'forbidden',
  429: 'too_many_requests',
  503: 'unavailable',
}

/** Headers every JSON reply of this package carries. */
export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
})

/**
 * A JSON reply.
 *
 * @example
 * ```ts
 * jsonReply(200, { ok: true }) // { status: 200, headers: { 'content-type': … }, body: '{"ok":true}' }
 * ```
 */
export function jsonReply(
  status: number,
  value: unknown,
  headers: Readonly<Record<string, string>> = {},
): HttpReply {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(value) }
}

/**
 * A refusal: `{"error":"forbidden","reason":"no_matching_allow"}` with the status.
 *
 * @example
 * ```ts
 * refusal(401, 'session_idle').body // '{"error":"unauthenticated","reason":"session_idle"}'
 * ```
 */
export function refusal(
  status: 401 | 403 | 429 | 503,
  reason: RefusalReason,
  headers: Readonly<Record<string, string>> = {},
): HttpRefusal {
  return { ...jsonReply(status, { error: ERRORS[status], reason }, headers), reason }
}
