/**
 * The access guard: a middleware that asks a compiled policy (`@safeguards/rbac`) whether the
 * request may proceed, and answers 403 with the decision's reason when it may not. Obligations
 * are enforced: a decision carrying one the app does not fulfil is refused
 * (`obligation_unfulfilled`); an emergency access (`audit:emergency-access`) is fulfilled by the
 * request's audit record ({@link requestAudit}), written as `access.emergency.used` with purpose of
 * use `BTG` before the response leaves.
 *
 * @module
 */
import { type AccessOptions, checkAccess } from '@safeguards/http'
import type { AccessRequest, DecisionPoint } from '@safeguards/rbac'
import type { Context, MiddlewareHandler } from 'hono'
import type { SafeguardsEnv } from './env.js'
import { refuse } from './internal/reply.js'

/** Options of {@link guard}. */
export interface GuardOptions extends AccessOptions {
  /**
   * The request header naming an emergency-access grant (default `x-emergency-access`; `false`:
   * never read one). Ignored when the request built by the app already names a grant.
   */
  emergencyHeader?: string | false
}

/**
 * The access guard. `request` builds the access request from the context (the subject from
 * `c.var.session`, the resource from the route's parameters); the decision is kept in
 * `c.var.access` for the audit record, allowed or not.
 *
 * HIPAA: 164.312(a)(1) access control, 164.312(a)(2)(ii) emergency access procedure.
 *
 * @hipaa 164.312(a)(1) implements
 * @hipaa 164.312(a)(2)(ii) supports
 * @nist AC-3 164.312(a)(1): every guarded route is decided by the compiled policy, a denial answered 403 with its reason
 * @verifiedBy packages/hono/test/server.test.ts
 * @throws {TypeError} when `pdp` is not a decision point; at request time, whatever `request` throws.
 * @example
 * ```ts
 * import { guard, session, type SafeguardsEnv } from '@safeguards/hono'
 * import { compilePolicy } from '@safeguards/rbac'
 * import { createSessionManager } from '@safeguards/session'
 * import { Hono } from 'hono'
 *
 * const sessions = createSessionManager()
 * const pdp = compilePolicy({
 *   version: 1,
 *   tenants: ['clinic-a'],
 *   roles: [{ id: 'nurse' }],
 *   rules: [{ id: 'r', effect: 'allow', roles: ['nurse'], actions: ['read'], resources: ['Observation'] }],
 * })
 * const app = new Hono<SafeguardsEnv>()
 * app.get(
 *   '/patients/:id/observations',
 *   session(sessions),
 *   guard(pdp, (c) => ({
 *     subject: { id: c.var.session.userId, tenant: 'clinic-a', roles: [c.var.session.role ?? ''] },
 *     action: 'read',
 *     resource: { type: 'Observation', tenant: 'clinic-a', patient: c.req.param('id') },
 *   })),
 *   (c) => c.json({ observations: [] }),
 * )
 * ```
 */
export function guard<E extends SafeguardsEnv = SafeguardsEnv>(
  pdp: DecisionPoint,
  request: (c: Context<E>) => AccessRequest | Promise<AccessRequest>,
  options: GuardOptions = {},
): MiddlewareHandler<E> {
  if (typeof pdp?.decide !== 'function') throw new TypeError('"pdp" expected a decision point')
  const header = options.emergencyHeader ?? 'x-emergency-access'
  const access = options.fulfils ? { fulfils: options.fulfils } : {}
  return async (c, next) => {
    const built = await request(c)
    const grant = header === false || built.emergencyAccess !== undefined ? undefined : c.req.header(header)
    const req = grant ? { ...built, emergencyAccess: grant } : built
    const outcome = checkAccess(pdp, req, access)
    c.set('access', { action: req.action, resource: req.resource, decision: outcome.decision })
    if (!outcome.ok) return refuse(c, outcome.reason, outcome.reply)
    await next()
    return undefined
  }
}
