/**
 * The two endpoints the browser idle watcher (`createIdleWatcher` of `@safeguards/session`) talks
 * to, as Hono handlers: the status poll, which reports the remaining idle and absolute time and
 * does NOT extend the session (an open tab must not keep a session alive), and the keep-alive,
 * sent only on real user activity, which does. Both answer 401 with the reason once the session
 * ended (the watcher signs out) and 503 when the store is down.
 *
 * @module
 */
import type { SessionManager } from '@safeguards/session'
import type { Context, Handler } from 'hono'
import type { SafeguardsEnv } from './env.js'
import { refuse } from './internal/reply.js'
import { resolveFor, type SessionOptions } from './session.js'

/** Options of {@link idleStatus} and {@link keepAlive}: the session options less `activity` (each handler sets it). */
export type IdleOptions = Omit<SessionOptions, 'activity'>

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
 * import { idleStatus, keepAlive, type SafeguardsEnv } from '@safeguards/hono'
 * import { createSessionManager } from '@safeguards/session'
 * import { Hono } from 'hono'
 *
 * const sessions = createSessionManager()
 * const app = new Hono<SafeguardsEnv>()
 * app.get('/session/status', idleStatus(sessions))
 * app.post('/session/keep-alive', keepAlive(sessions))
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
 * the absolute one) and answers like {@link idleStatus}.
 *
 * @throws {TypeError} when `manager` is not a session manager.
 * @example
 * ```ts
 * import { keepAlive } from '@safeguards/hono'
 * import { createSessionManager } from '@safeguards/session'
 * import { Hono } from 'hono'
 *
 * new Hono().post('/session/keep-alive', keepAlive(createSessionManager()))
 * ```
 */
export function keepAlive<D>(
  manager: SessionManager<D>,
  options: IdleOptions = {},
): Handler<SafeguardsEnv<D>> {
  if (typeof manager?.timeLeft !== 'function') throw new TypeError('"manager" expected a session manager')
  return timeLeft(manager, options, true)
}
