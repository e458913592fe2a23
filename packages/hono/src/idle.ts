/**
 * The two endpoints the browser idle watcher (`createIdleWatcher` of `@safeguards/session`) talks
 * to, as Hono handlers: the status poll, which reports the remaining idle and absolute time and
 * does NOT extend the session (an open tab must not keep a session alive), and the keep-alive,
 * sent only on real user activity, which does. Both answer 401 with the reason once the session
 * ended (the watcher signs out) and 503 when the store is down.
 *
 * @module
 */
import type { Csrf } from '@safeguards/http'
import type { SessionManager } from '@safeguards/session'
import type { Context, Handler } from 'hono'
import type { SafeguardsEnv } from './env.js'
import { refuse } from './internal/reply.js'
import { resolveFor, type SessionOptions } from './session.js'

/** Options of {@link idleStatus} and {@link keepAlive}: the session options less `activity` (each handler sets it). */
export type IdleOptions = Omit<SessionOptions, 'activity'>

/** Options of {@link keepAlive}: those of {@link idleStatus}, and the CSRF check it must make. */
export interface KeepAliveOptions extends IdleOptions {
  /**
   * The `createCsrf` of the app's sign-in (the keep-alive extends the session, a state change),
   * or `false` for a token-only API whose sessions travel in a header (no cookie to ride on).
   */
  csrf: Csrf | false
}

function timeLeft<D>(
  manager: SessionManager<D>,
  options: IdleOptions,
  activity: boolean,
): Handler<SafeguardsEnv<D>> {
  return async (c: Context<SafeguardsEnv<D>>) => {
    const out = await resolveFor(c, manager, { ...options, activity })
    if (!out.ok) return refuse(c, out.reason, out.reply)
    c.set('session', out.session)
    return c.json(manager.timeLeft(out.session))
  }
}

/**
 * The idle-watcher status poll (GET): 200 `{ idleRemainingMs, absoluteRemainingMs, remainingMs }`
 * with the session untouched, or the 401/503 refusal.
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff (a poll never extends a session).
 *
 * @hipaa 164.312(a)(2)(iii) supports
 * @nist AC-12 164.312(a)(2)(iii): the idle-watcher poll reads the remaining time without extending the session
 * @verifiedBy packages/hono/test/idle.test.ts
 * @throws {TypeError} when `manager` is not a session manager.
 * @example
 * ```ts
 * import { createCsrf } from '@safeguards/http'
 * import { idleStatus, keepAlive, type SafeguardsEnv } from '@safeguards/hono'
 * import { createSessionManager } from '@safeguards/session'
 * import { Hono } from 'hono'
 *
 * const sessions = createSessionManager()
 * const app = new Hono<SafeguardsEnv>()
 * const csrf = createCsrf(crypto.getRandomValues(new Uint8Array(32))) // the one signIn issues
 * app.get('/session/status', idleStatus(sessions))
 * app.post('/session/keep-alive', keepAlive(sessions, { csrf }))
 * ```
 */
export function idleStatus<D>(
  manager: SessionManager<D>,
  options: IdleOptions = {},
): Handler<SafeguardsEnv<D>> {
  if (typeof manager?.timeLeft !== 'function') throw new TypeError('"manager" expected a session manager')
  return timeLeft(manager, options, false)
}

/**
 * The idle-watcher keep-alive (POST, on real user activity only): extends the idle deadline (never
 * the absolute one) and answers like {@link idleStatus}. Extending a session is a state change, so
 * with cookie sessions it needs the CSRF header like any other POST (403 `csrf_missing` /
 * `csrf_invalid`, the session untouched).
 *
 * @throws {TypeError} when `manager` is not a session manager, or `csrf` is neither a `createCsrf`
 *   result nor `false`.
 * @example
 * ```ts
 * import { createCsrf } from '@safeguards/http'
 * import { keepAlive } from '@safeguards/hono'
 * import { createSessionManager } from '@safeguards/session'
 * import { Hono } from 'hono'
 *
 * const csrf = createCsrf(crypto.getRandomValues(new Uint8Array(32))) // the one signIn issues
 * new Hono().post('/session/keep-alive', keepAlive(createSessionManager(), { csrf }))
 * ```
 */
export function keepAlive<D>(
  manager: SessionManager<D>,
  options: KeepAliveOptions,
): Handler<SafeguardsEnv<D>> {
  if (typeof manager?.timeLeft !== 'function') throw new TypeError('"manager" expected a session manager')
  const { csrf, ...rest } = options ?? ({} as Partial<KeepAliveOptions>)
  if (csrf !== false && typeof csrf?.verify !== 'function')
    throw new TypeError('"csrf" expected the result of createCsrf, or false for a token-only API')
  const extend = timeLeft(manager, rest, true)
  if (csrf === false) return extend
  // The token is checked first, on a peek that does not itself extend the session.
  return async (c: Context<SafeguardsEnv<D>>, next) => {
    const peek = await resolveFor(c, manager, { ...rest, activity: false })
    if (!peek.ok) return refuse(c, peek.reason, peek.reply)
    const check = csrf.verify(c.req.method, c.req.raw.headers, peek.session.id)
    if (!check.ok) return refuse(c, check.reason, check.reply)
    return extend(c, next)
  }
}
