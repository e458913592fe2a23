/**
 * One audit record per request, written through the audit sink before the response leaves, fail
 * closed. Hono sends nothing until the middleware chain returns its `Response`, so this middleware
 * holds the response by construction: after the handler ran it appends the request's record
 * (`access.denied` for a refusal, `access.emergency.used` with purpose of use `BTG` when the
 * decision relied on an emergency grant, else `record.accessed`), and when that append fails it
 * replaces the response with 503 `audit_unavailable`: none of the data, no `Set-Cookie`.
 *
 * @module
 */
import type { AuditLog } from '@safeguards/audit-log'
import { createRequestAudit, type RequestAuditOptions, type RequestFacts } from '@safeguards/http'
import type { Context, MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import type { SafeguardsEnv } from './env.js'
import { toResponse } from './internal/reply.js'

/** Options of {@link requestAudit}. */
export interface RequestAuditMiddlewareOptions extends RequestAuditOptions {
  /**
   * The patient the request concerns when no guard named one (default: the guarded resource's
   * `patient`). Pseudonymised by the sink when `pseudonymize` is set.
   */
  patient?: (c: Context) => string | undefined
}

/** The facts of the request, once its response is ready. */
function factsOf(c: Context<SafeguardsEnv>, patient: RequestAuditMiddlewareOptions['patient']): RequestFacts {
  const access = c.get('access')
  const who = access?.resource.patient ?? patient?.(c)
  return {
    method: c.req.method,
    // The pattern of the last route matched (`/patients/:id`), never the path or the query.
    route: routePath(c, -1) || undefined,
    status: c.res.status,
    actor: c.get('session')?.userId,
    refused: c.get('refused'),
    ...(access ? { access } : {}),
    ...(who === undefined ? {} : { patient: who }),
  }
}

/**
 * The request-audit middleware. Mount it first (after {@link securityHeaders}), for every route.
 *
 * HIPAA: 164.312(b) audit controls, 164.308(a)(1)(ii)(D) information system activity review.
 *
 * @hipaa 164.312(b) implements
 * @hipaa 164.308(a)(1)(ii)(D) supports
 * @nist AU-2 164.312(b)
 * @nist AU-5 164.312(b): an audit write that fails withholds the response (503, no data, no cookie)
 * @evidence one audit record per Hono request (access.denied, record.accessed, access.emergency.used with BTG) appended before the response leaves
 * @verifiedBy packages/hono/test/server.test.ts
 * @throws {TypeError} when `log` has no `append`.
 * @example
 * ```ts
 * import { openAuditLog, openFileStore } from '@safeguards/audit-log'
 * import { requestAudit, securityHeaders, type SafeguardsEnv } from '@safeguards/hono'
 * import { Hono } from 'hono'
 *
 * const log = await openAuditLog({ store: await openFileStore({ dir: './audit', stream: 'ehr-api' }) })
 * const app = new Hono<SafeguardsEnv>()
 * app.use(securityHeaders(), requestAudit(log, { observer: 'ehr-api' }))
 * ```
 */
export function requestAudit(
  log: Pick<AuditLog, 'append'>,
  options: RequestAuditMiddlewareOptions,
): MiddlewareHandler<SafeguardsEnv> {
  const { patient, ...rest } = options
  const audit = createRequestAudit(log, rest)
  return async (c, next) => {
    await next()
    const failed = await audit.finish(factsOf(c, patient))
    if (failed === null) return
    await c.res.body?.cancel().catch(() => undefined)
    c.res = undefined // drop the handler's response and its headers (Set-Cookie) before replacing it
    c.res = toResponse(failed)
  }
}
