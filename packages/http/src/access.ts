/**
 * The access guard: a compiled policy's decision as HTTP. A refusal is a 403 with the decision's
 * reason code (never the policy or the rules). Obligations are enforced: the guard allows only
 * when every obligation of the decision is one it or the app fulfils; an unknown obligation
 * refuses (`obligation_unfulfilled`, as XACML 3.0 §7.18 asks of a policy enforcement point).
 * `audit:emergency-access` is fulfilled by the request's audit record
 * (`access.emergency.used`, purpose of use `BTG`).
 *
 * @module
 */
import type { AccessRequest, Decision, DecisionPoint } from '@safeguards/rbac'
import { type DenyReason, type HttpRefusal, type RefusalReason, refusal } from './reply.js'

/** The obligation the request audit record fulfils (an emergency access, audited as such). */
export const EMERGENCY_OBLIGATION = 'audit:emergency-access'

/** Options of {@link checkAccess}. */
export interface AccessOptions {
  /** Obligation ids the app fulfils itself (besides {@link EMERGENCY_OBLIGATION}). */
  fulfils?: readonly string[]
}

/** What {@link checkAccess} decided. The decision is kept for the audit record either way. */
export type AccessOutcome =
  | { readonly ok: true; readonly decision: Decision }
  | {
      readonly ok: false
      readonly decision: Decision
      readonly reason: RefusalReason
      readonly reply: HttpRefusal
    }

/**
 * Decides `request` with the compiled policy and turns the decision into an outcome.
 *
 * HIPAA: 164.312(a)(1) access control, 164.502(b) minimum necessary, 164.312(a)(2)(ii)
 * emergency access procedure (obligations enforced).
 *
 * @hipaa 164.312(a)(1) implements
 * @hipaa 164.312(a)(2)(ii) supports
 * @nist AC-3 164.312(a)(1): every request is decided by the compiled policy before the handler runs; a refusal is 403 with the reason code
 * @verifiedBy packages/http/test/server.test.ts
 * @throws whatever the decision point throws (a malformed request is a deny, not a throw).
 * @example
 * ```ts
 * const out = checkAccess(pdp, { subject, action: 'read', resource: { type: 'Observation', tenant: 't1' } })
 * if (!out.ok) return send(out.reply) // 403 {"error":"forbidden","reason":"no_matching_allow"}
 * ```
 */
export function checkAccess(
  pdp: DecisionPoint,
  request: AccessRequest,
  options: AccessOptions = {},
): AccessOutcome {
  const decision = pdp.decide(request)
  // A denial's reason is never `allow` or `emergency_access`.
  const denied = decision.reason as DenyReason
  if (!decision.allowed) return { ok: false, decision, reason: denied, reply: refusal(403, denied) }
  const fulfils = options.fulfils ?? []
  for (const o of decision.obligations)
    if (o.id !== EMERGENCY_OBLIGATION && !fulfils.includes(o.id))
      return {
        ok: false,
        decision,
        reason: 'obligation_unfulfilled',
        reply: refusal(403, 'obligation_unfulfilled'),
      }
  return { ok: true, decision }
}
