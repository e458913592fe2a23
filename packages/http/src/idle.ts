/**
 * The two endpoints the browser idle watcher (`createIdleWatcher` of `@safeguards/session`) talks
 * to: a status poll that reports the remaining idle and absolute time WITHOUT extending the
 * session (a poll is not user activity: an open tab must not keep a session alive), and a
 * keep-alive, sent only on real user activity, that does extend it. Both answer 401 with the
 * reason once the session ended (the watcher signs out), 503 when the store is down.
 *
 * @module
 */
import type { SessionManager } from '@safeguards/session'
import type { CookieOptions } from './cookie.js'
import { type HttpReply, jsonReply } from './reply.js'
import { resolveSession } from './session.js'
import type { HeaderSource } from './types.js'

async function timeLeftReply<D>(
  manager: SessionManager<D>,
  headers: HeaderSource,
  activity: boolean,
  cookie: CookieOptions | undefined,
): Promise<HttpReply> {
  const out = await resolveSession(manager, headers, { activity, ...(cookie ? { cookie } : {}) })
  if (!out.ok) return out.reply
  return jsonReply(200, manager.timeLeft(out.session))
}

/**
 * The idle-watcher status poll: 200 `{ idleRemainingMs, absoluteRemainingMs, remainingMs }`, the
 * session untouched (its idle deadline does not move), or the 401/503 refusal.
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff (a poll never extends a session).
 *
 * @hipaa 164.312(a)(2)(iii) supports
 * @nist AC-12 164.312(a)(2)(iii): the idle-watcher poll reads the remaining time without extending the session
 * @verifiedBy packages/http/test/server.test.ts
 * @throws whatever the manager throws other than a store failure.
 * @example
 * ```ts
 * app.get('/session/status', async (req, res) => send(res, await idleStatus(sessions, req.headers)))
 * ```
 */
export function idleStatus<D>(
  manager: SessionManager<D>,
  headers: HeaderSource,
  options: { cookie?: CookieOptions } = {},
): Promise<HttpReply> {
  return timeLeftReply(manager, headers, false, options.cookie)
}

/**
 * The idle-watcher keep-alive (send it only on real user activity): extends the idle deadline
 * and answers like {@link idleStatus}. Extending a session is a state change: with cookie
 * sessions, check the CSRF token first, on a `resolveSession(…, { activity: false })` peek (the
 * adapters' keep-alives do).
 *
 * @throws whatever the manager throws other than a store failure.
 * @example
 * ```ts
 * app.post('/session/keep-alive', async (req, res) => send(res, await keepAlive(sessions, req.headers)))
 * ```
 */
export function keepAlive<D>(
  manager: SessionManager<D>,
  headers: HeaderSource,
  options: { cookie?: CookieOptions } = {},
): Promise<HttpReply> {
  return timeLeftReply(manager, headers, true, options.cookie)
}
