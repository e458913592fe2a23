/**
 * CSRF protection for cookie sessions: the signed double-submit token of `@safeguards/http`
 * (OWASP CSRF Prevention Cheat Sheet), bound to the session. Safe methods pass; any other needs
 * the `x-csrf-token` header (or the form field the app reads) equal to the `__Host-sg-csrf`
 * cookie and signed for this session, else 403 `csrf_missing` / `csrf_invalid`. Mount it after
 * {@link session}; issue the cookie with `signIn(c, …, { csrf })`.
 *
 * @module
 */
import type { Csrf } from '@safeguards/http'
import type { Context, MiddlewareHandler } from 'hono'
import type { SafeguardsEnv } from './env.js'
import { refuse } from './internal/reply.js'

/** Options of {@link csrfProtection}. */
export interface CsrfProtectionOptions {
  /** Reads the token from the request when it is not in the `x-csrf-token` header (a form field). */
  submitted?: (c: Context) => string | undefined | Promise<string | undefined>
}

/**
 * The CSRF middleware (after {@link session}: without a session it refuses with `csrf_missing`).
 *
 * @hipaa 164.312(c)(1) supports
 * @nist SC-23 164.312(c)(1): a state-changing request must carry a token signed for its session
 * @verifiedBy packages/hono/test/server.test.ts
 * @throws {TypeError} when `csrf` is not made by `createCsrf`.
 * @example
 * ```ts
 * import { createCsrf } from '@safeguards/http'
 * import { csrfProtection, session, type SafeguardsEnv } from '@safeguards/hono'
 * import { createSessionManager } from '@safeguards/session'
 * import { Hono } from 'hono'
 *
 * const sessions = createSessionManager()
 * const csrf = createCsrf(crypto.getRandomValues(new Uint8Array(32)))
 * const app = new Hono<SafeguardsEnv>()
 * app.use('/api/*', session(sessions), csrfProtection(csrf))
 * ```
 */
export function csrfProtection(
  csrf: Csrf,
  options: CsrfProtectionOptions = {},
): MiddlewareHandler<SafeguardsEnv> {
  if (typeof csrf?.verify !== 'function') throw new TypeError('"csrf" expected the result of createCsrf')
  return async (c, next) => {
    const sessionId = c.get('session')?.id ?? ''
    const submitted = options.submitted ? await options.submitted(c) : undefined
    const check = csrf.verify(c.req.method, c.req.raw.headers, sessionId, submitted)
    if (!check.ok) return refuse(c, check.reason, check.reply)
    await next()
    return undefined
  }
}
