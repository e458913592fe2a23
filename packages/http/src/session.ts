/**
 * Session resolution as HTTP: the live session, or a 401 naming why it ended (idle, absolute,
 * revoked, unknown, absent, a bad cookie), or a 503 when the store cannot answer (fail closed).
 * Sign-in, privilege change (rotation: a new token, the old one dead at once) and sign-out as
 * `Set-Cookie` values. Tokens appear only in `Set-Cookie`, never in a body or an error.
 *
 * Sources: OWASP Session Management Cheat Sheet (renewal on privilege change, cookie attributes);
 * ASVS 5.0 V7.2-V7.4.
 *
 * @module
 */
import {
  type CreateOptions,
  type Session,
  type SessionManager,
  SessionStoreUnavailableError,
} from '@safeguards/session'
import { type CookieOptions, clearCookie, readCookie, SESSION_COOKIE, sessionCookie } from './cookie.js'
import { type HttpRefusal, refusal, type SessionRefusalReason } from './reply.js'
import type { HeaderSource } from './types.js'

/** What {@link resolveSession} found. */
export type SessionOutcome<D = unknown> =
  | { readonly ok: true; readonly session: Session<D>; readonly token: string }
  | { readonly ok: false; readonly reason: SessionRefusalReason; readonly reply: HttpRefusal }

/** Options of {@link resolveSession}. */
export interface ResolveSessionOptions {
  /** True (default) when the request is user activity; false for polls (the idle deadline stays). */
  activity?: boolean
  /** The session cookie (default name {@link SESSION_COOKIE}). */
  cookie?: CookieOptions
}

const REASONS = {
  idle: 'session_idle',
  absolute: 'session_absolute',
  revoked: 'session_revoked',
  unknown: 'session_unknown',
} as const

const no = <D>(status: 401 | 503, reason: SessionRefusalReason): SessionOutcome<D> => ({
  ok: false,
  reason,
  reply: refusal(status, reason),
})

/**
 * Resolves the session cookie of a request.
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff (an ended session is refused with its reason),
 * 164.312(d) person or entity authentication.
 *
 * @hipaa 164.312(a)(2)(iii) implements
 * @hipaa 164.312(d) supports
 * @nist AC-12 164.312(a)(2)(iii): every request is refused once the idle or absolute deadline passed, with the reason code
 * @nist SC-23 164.312(d): the token travels only in a __Host- cookie and is never echoed
 * @appResponsibility Serve the app over HTTPS only, run resolveSession on every route that serves PHI, and call rotateSession on every role change or step-up.
 * @verifiedBy packages/http/test/server.test.ts
 * @throws whatever the manager throws other than `SessionStoreUnavailableError` (misuse).
 * @example
 * ```ts
 * const out = await resolveSession(sessions, req.headers)
 * if (!out.ok) return send(out.reply) // 401 session_idle, 503 session_store_unavailable, …
 * ```
 */
export async function resolveSession<D>(
  manager: SessionManager<D>,
  headers: HeaderSource,
  options: ResolveSessionOptions = {},
): Promise<SessionOutcome<D>> {
  const read = readCookie(headers, options.cookie?.name ?? SESSION_COOKIE)
  if (read.status === 'absent') return no(401, 'session_absent')
  if (read.status !== 'present') return no(401, 'session_cookie_invalid')
  try {
    const r = await manager.resolve(read.value, { activity: options.activity !== false })
    if (r.status === 'active') return { ok: true, session: r.session, token: read.value }
    return no(401, REASONS[r.status])
  } catch (e) {
    if (e instanceof SessionStoreUnavailableError) return no(503, 'session_store_unavailable')
    throw e
  }
}

/** A session just issued, with the `Set-Cookie` values to send. */
export interface IssuedCookie<D = unknown> {
  readonly session: Session<D>
  /** The `Set-Cookie` header values (the session cookie first). */
  readonly setCookie: readonly string[]
}

/**
 * Signs `userId` in: a fresh session (the token the client held before, if any, is revoked: no
 * fixation) and its cookie.
 *
 * @throws whatever `manager.create` throws (store down, session cap, bad data).
 * @example
 * ```ts
 * const { setCookie } = await signIn(sessions, 'u-17', req.headers, { role: 'nurse' })
 * ```
 */
export async function signIn<D>(
  manager: SessionManager<D>,
  userId: string,
  headers: HeaderSource,
  options: CreateOptions<D> & { cookie?: CookieOptions } = {},
): Promise<IssuedCookie<D>> {
  const { cookie, ...create } = options
  const prev = readCookie(headers, cookie?.name ?? SESSION_COOKIE)
  const issued = await manager.create(userId, {
    ...create,
    ...(prev.status === 'present' ? { previousToken: prev.value } : {}),
  })
  return { session: issued.session, setCookie: [sessionCookie(issued.token, cookie)] }
}

/**
 * Rotates the session on a privilege change (a role change, a step-up, a reauthentication): a
 * new token in a new cookie; the old token is revoked at once. `null` when the session is not live.
 *
 * @hipaa 164.312(d) supports
 * @nist SC-23 164.312(d): the token is renewed on every privilege change and the old one revoked
 * @verifiedBy packages/http/test/server.test.ts
 * @throws whatever `manager.rotate` or `reauthenticate` throws (store down, reauthentication due).
 * @example
 * ```ts
 * const next = await rotateSession(sessions, token, { role: 'admin' })
 * ```
 */
export async function rotateSession<D>(
  manager: SessionManager<D>,
  token: string,
  options: { role?: string | null; reauthenticated?: boolean; cookie?: CookieOptions } = {},
): Promise<IssuedCookie<D> | null> {
  const opts = options.role === undefined ? {} : { role: options.role }
  const issued =
    options.reauthenticated === true
      ? await manager.reauthenticate(token, opts)
      : await manager.rotate(token, opts)
  if (issued === null) return null
  return { session: issued.session, setCookie: [sessionCookie(issued.token, options.cookie)] }
}

/**
 * Signs out: revokes the session and returns the `Set-Cookie` value that deletes the cookie.
 *
 * @throws whatever `manager.revoke` throws (store down).
 * @example
 * ```ts
 * res.setHeader('set-cookie', await signOut(sessions, req.headers))
 * ```
 */
export async function signOut<D>(
  manager: SessionManager<D>,
  headers: HeaderSource,
  options: { cookie?: CookieOptions } = {},
): Promise<string> {
  const name = options.cookie?.name ?? SESSION_COOKIE
  const read = readCookie(headers, name)
  if (read.status === 'present') await manager.revoke(read.value)
  return clearCookie(
    name,
    options.cookie?.sameSite === undefined ? {} : { sameSite: options.cookie.sameSite },
  )
}
