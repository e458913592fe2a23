/**
 * `securityHeaders()` of `@safeguards/transport` as Hono middleware: HSTS, a locked-down CSP,
 * `nosniff`, `no-store` and the rest on every response, refusals and errors included.
 *
 * @module
 */
import { securityHeaders as headersOf, type SecurityHeadersOptions } from '@safeguards/http'
import type { MiddlewareHandler } from 'hono'

/**
 * The security-headers middleware. Mount it first: it sets the headers on whatever response the
 * rest of the chain produced (the audit's 503, a 401, a 404, the error handler's 500). A header
 * the handler set itself is kept (a route may relax `cache-control`).
 *
 * HIPAA: 164.312(e)(1) transmission security.
 *
 * @hipaa 164.312(e)(1) supports
 * @nist SC-8 164.312(e)(1): HSTS and the other security headers on every response
 * @verifiedBy packages/hono/test/server.test.ts
 * @throws {TypeError} / {RangeError} for bad options (from `securityHeaders` of `@safeguards/transport`).
 * @example
 * ```ts
 * import { securityHeaders } from '@safeguards/hono'
 * import { Hono } from 'hono'
 *
 * const app = new Hono()
 * app.use(securityHeaders({ hsts: { maxAge: 31_536_000 } }))
 * ```
 */
export function securityHeaders(options?: SecurityHeadersOptions): MiddlewareHandler {
  const headers = Object.entries(headersOf(options))
  return async (c, next) => {
    await next()
    let h = c.res.headers
    try {
      for (const [k, v] of headers) if (!h.has(k)) h.set(k, v)
    } catch {
      // Immutable headers (a Response passed through from fetch): copy the response first.
      c.res = new Response(c.res.body, c.res)
      h = c.res.headers
      for (const [k, v] of headers) if (!h.has(k)) h.set(k, v)
    }
  }
}
