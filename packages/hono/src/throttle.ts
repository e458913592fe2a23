/**
 * Sign-in throttling for the password step, per account and per source address (NIST SP 800-63B
 * §5.2.2, OWASP Authentication Cheat Sheet): a middleware in front of the handler that checks the
 * password. Past the limit it answers 429 with `Retry-After` (even with the right password), and
 * 503 `throttle_store_unavailable` when a shared store cannot answer (fail closed). After a
 * correct password the handler calls `throttle.succeeded(account)`.
 *
 * @module
 */
import { HttpThrottleStoreError, refusal, type SignInThrottle, type ThrottleOutcome } from '@safeguards/http'
import type { Context, MiddlewareHandler } from 'hono'
import type { SafeguardsEnv } from './env.js'
import { refuse } from './internal/reply.js'

/** Options of {@link signInThrottle}. */
export interface SignInThrottleMiddlewareOptions {
  /** The account the attempt is for (for example the `username` of the JSON body). */
  account: (c: Context) => string | Promise<string>
  /**
   * The source address (default: the TCP peer's under `@hono/node-server`, else `unknown`; on
   * other runtimes pass `getConnInfo`). Never a client-written header such as `X-Forwarded-For`
   * unless a proxy you run sets it.
   */
  address?: (c: Context) => string
}

/**
 * The TCP peer's address under `@hono/node-server` (`c.env.incoming`), else `unknown`: the
 * default `address` of {@link signInThrottle}. Never a client-written header.
 *
 * @throws never.
 * @example
 * ```ts
 * app.post('/login', signInThrottle(throttle, { account, address: peerAddress }), handler)
 * ```
 */
export function peerAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined
  return env?.incoming?.socket?.remoteAddress ?? 'unknown'
}

/**
 * The sign-in throttle middleware.
 *
 * HIPAA: 164.308(a)(5)(ii)(C) log-in monitoring, 164.312(d) person or entity authentication.
 *
 * @hipaa 164.308(a)(5)(ii)(C) supports
 * @hipaa 164.312(d) supports
 * @nist AC-7 164.312(d): failed password attempts are limited per account and per address, answered 429 with Retry-After
 * @verifiedBy packages/hono/test/server.test.ts
 * @throws {TypeError} when `account` is not a function; at request time, whatever `account` throws.
 * @example
 * ```ts
 * import { createSignInThrottle } from '@safeguards/http'
 * import { signInThrottle, type SafeguardsEnv } from '@safeguards/hono'
 * import { Hono } from 'hono'
 *
 * const throttle = createSignInThrottle()
 * const account = async (c: { req: { json(): Promise<unknown> } }) =>
 *   String(((await c.req.json()) as { username?: unknown }).username ?? '')
 * const app = new Hono<SafeguardsEnv>()
 * app.post('/login', signInThrottle(throttle, { account }), async (c) => {
 *   // … check the password; on success:
 *   await throttle.succeeded(await account(c))
 *   return c.json({ ok: true })
 * })
 * ```
 */
export function signInThrottle(
  throttle: SignInThrottle,
  options: SignInThrottleMiddlewareOptions,
): MiddlewareHandler<SafeguardsEnv> {
  if (typeof options?.account !== 'function') throw new TypeError('"account" expected a function')
  const address = options.address ?? peerAddress
  return async (c, next) => {
    const account = await options.account(c)
    let outcome: ThrottleOutcome
    try {
      outcome = await throttle.attempt(account, address(c))
    } catch (e) {
      if (!(e instanceof HttpThrottleStoreError)) throw e
      return refuse(c, 'throttle_store_unavailable', refusal(503, 'throttle_store_unavailable'))
    }
    if (!outcome.allowed) return refuse(c, outcome.reason, outcome.reply)
    await next()
    return undefined
  }
}
