/**
 * Sessions in Hono: a middleware that resolves the `__Host-` session cookie into `c.var.session`
 * (or refuses: 401 with the reason the session ended, 503 when the store is down, fail closed),
 * and the helpers that set the cookie: {@link signIn}, {@link rotateSession} on a privilege
 * change (the old token dead at once), {@link signOut}. The token lives only in the cookie: it is
 * never a context variable, a body or a log line.
 *
 * Sources: OWASP Session Management Cheat Sheet; ASVS 5.0 V7.2-V7.4.
 *
 * @module
 */
import {
  type CookieOptions,
  type Csrf,
  resolveSession as coreResolve,
  rotateSession as coreRotate,
  signIn as coreSignIn,
  signOut as coreSignOut,
  type HeaderSource,
  refusal,
  SESSION_COOKIE,
  type SessionOutcome,
} from '@safeguards/http'
import type { CreateOptions, Session, SessionManager } from '@safeguards/session'
import type { Context, MiddlewareHandler } from 'hono'
import type { SafeguardsEnv } from './env.js'
import { refuse } from './internal/reply.js'

/** Where the session token is read from. */
export type TokenSource = 'cookie' | 'authorization'

/** Options of {@link session}. */
export interface SessionOptions {
  /** The session cookie's name and SameSite (default `__Host-sg-session`, `Lax`). */
  cookie?: CookieOptions
  /**
   * `cookie` (default, for browsers) or `authorization` (`Authorization: Bearer <token>`, for API
   * clients that hold the token themselves; no cookie is read and CSRF does not apply).
   */
  from?: TokenSource
  /** False for requests that are not user activity (the idle deadline does not move). Default true. */
  activity?: boolean
}

/** What the session middleware remembers of a request, out of reach of handlers and loggers. */
interface Held {
  readonly manager: SessionManager<never>
  readonly token: string
  readonly cookie: CookieOptions | undefined
}
const held = new WeakMap<Context, Held>()

const BEARER = /^Bearer ([A-Za-z0-9_-]{1,4096})$/

const no = <D>(reason: 'session_absent' | 'session_unknown'): SessionOutcome<D> => ({
  ok: false,
  reason,
  reply: refusal(401, reason),
})

/** Resolves the request's session (for the middleware and the idle endpoints). */
export async function resolveFor<D>(
  c: Context,
  manager: SessionManager<D>,
  options: SessionOptions,
): Promise<SessionOutcome<D>> {
  let headers: HeaderSource = c.req.raw.headers
  if (options.from === 'authorization') {
    const auth = c.req.header('authorization')
    if (auth === undefined) return no('session_absent')
    const m = BEARER.exec(auth)
    if (m === null) return no('session_unknown') // not a token this service issued
    headers = { cookie: `${options.cookie?.name ?? SESSION_COOKIE}=${m[1] as string}` }
  }
  const out = await coreResolve(manager, headers, {
    activity: options.activity !== false,
    ...(options.cookie ? { cookie: options.cookie } : {}),
  })
  if (out.ok)
    held.set(c, { manager: manager as SessionManager<never>, token: out.token, cookie: options.cookie })
  return out
}

/**
 * The session middleware: sets `c.var.session` for a live session, else answers 401 with the
 * reason (`session_absent`, `session_cookie_invalid`, `session_idle`, `session_absolute`,
 * `session_revoked`, `session_unknown`) or 503 `session_store_unavailable` (fail closed).
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff, 164.312(d) person or entity authentication.
 *
 * @hipaa 164.312(a)(2)(iii) implements
 * @hipaa 164.312(d) supports
 * @nist AC-12 164.312(a)(2)(iii): a request on a session past its idle or absolute deadline is refused with the reason
 * @verifiedBy packages/hono/test/server.test.ts
 * @throws {TypeError} when `manager` is not a session manager; at request time, whatever the manager throws other than a store failure (misuse).
 * @example
 * ```ts
 * import { session, type SafeguardsEnv } from '@safeguards/hono'
 * import { createSessionManager } from '@safeguards/session'
 * import { Hono } from 'hono'
 *
 * const sessions = createSessionManager()
 * const app = new Hono<SafeguardsEnv>()
 * app.use('/api/*', session(sessions))
 * app.get('/api/me', (c) => c.json({ user: c.var.session.userId }))
 * ```
 */
export function session<D = unknown>(
  manager: SessionManager<D>,
  options: SessionOptions = {},
): MiddlewareHandler<SafeguardsEnv<D>> {
  if (typeof manager?.resolve !== 'function') throw new TypeError('"manager" expected a session manager')
  return async (c, next) => {
    const out = await resolveFor(c, manager, options)
    if (!out.ok) return refuse(c, out.reason, out.reply)
    c.set('session', out.session)
    await next()
    return undefined
  }
}

const appendCookies = (c: Context, lines: readonly string[]): void => {
  for (const line of lines) c.header('set-cookie', line, { append: true })
}

/**
 * Signs `userId` in after the app verified the credentials: a fresh session in the cookie (the
 * token the browser held before is revoked: no fixation), a fresh CSRF token when `csrf` is
 * given, and `c.var.session` set (the request's audit record names the new user).
 *
 * @throws whatever `manager.create` throws (store down, session cap, bad data).
 * @example
 * ```ts
 * app.post('/login', async (c) => {
 *   // … the password checked …
 *   const s = await signIn(c, sessions, 'u-17', { role: 'nurse', csrf })
 *   return c.json({ idleRemainingMs: sessions.timeLeft(s).idleRemainingMs })
 * })
 * ```
 */
export async function signIn<D>(
  c: Context,
  manager: SessionManager<D>,
  userId: string,
  options: CreateOptions<D> & { cookie?: CookieOptions; csrf?: Csrf } = {},
): Promise<Session<D>> {
  const { csrf, ...rest } = options
  const issued = await coreSignIn(manager, userId, c.req.raw.headers, rest)
  appendCookies(c, issued.setCookie)
  if (csrf) c.header('set-cookie', csrf.cookie(csrf.issue(issued.session.id)), { append: true })
  c.set('session', issued.session)
  return issued.session
}

/**
 * Rotates the request's session on a privilege change (a role change, a step-up, a
 * reauthentication): a new token in a new cookie, the old one revoked at once, a new CSRF token
 * when `csrf` is given, `c.var.session` updated. `null` when the request has no live session
 * (the {@link session} middleware did not run or refused).
 *
 * @hipaa 164.312(d) supports
 * @nist SC-23 164.312(d): the token is renewed on every privilege change and the old one revoked
 * @verifiedBy packages/hono/test/server.test.ts
 * @throws whatever `manager.rotate` / `reauthenticate` throws (store down, reauthentication due).
 * @example
 * ```ts
 * app.post('/api/step-up', async (c) => {
 *   const next = await rotateSession(c, { role: 'admin', csrf })
 *   return next ? c.json({ role: next.role }) : c.json({ error: 'unauthenticated' }, 401)
 * })
 * ```
 */
export async function rotateSession<D = unknown>(
  c: Context,
  options: { role?: string | null; reauthenticated?: boolean; csrf?: Csrf } = {},
): Promise<Session<D> | null> {
  const h = held.get(c)
  if (h === undefined) return null
  const { csrf, ...rest } = options
  const issued = await coreRotate(h.manager as SessionManager<D>, h.token, {
    ...rest,
    ...(h.cookie ? { cookie: h.cookie } : {}),
  })
  if (issued === null) return null
  held.set(c, { ...h, token: '' })
  appendCookies(c, issued.setCookie)
  if (csrf) c.header('set-cookie', csrf.cookie(csrf.issue(issued.session.id)), { append: true })
  c.set('session', issued.session as Session<never>)
  return issued.session
}

/**
 * Signs out: revokes the session of the cookie and deletes the cookie (`Max-Age=0`).
 *
 * @throws whatever `manager.revoke` throws (store down).
 * @example
 * ```ts
 * app.post('/logout', async (c) => {
 *   await signOut(c, sessions)
 *   return c.body(null, 204)
 * })
 * ```
 */
export async function signOut<D>(
  c: Context,
  manager: SessionManager<D>,
  options: { cookie?: CookieOptions } = {},
): Promise<void> {
  c.header('set-cookie', await coreSignOut(manager, c.req.raw.headers, options), { append: true })
}
