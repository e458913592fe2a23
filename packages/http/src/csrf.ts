/**
 * CSRF defence for cookie sessions: the signed double-submit cookie bound to the session (OWASP
 * Cross-Site Request Forgery Prevention Cheat Sheet, "Signed Double-Submit Cookie"). The token is
 * `nonce.mac` with `mac = HMAC-SHA256(key, len(sessionId) "!" sessionId "!" nonce)`; it is sent in
 * the `__Host-sg-csrf` cookie (readable by the page) and echoed by the page in the
 * `x-csrf-token` header (or a form field the adapter passes in). Safe methods (GET, HEAD,
 * OPTIONS, TRACE) are exempt; comparisons are constant-time; a token minted for another session
 * (or by someone without the key) is refused.
 *
 * @module
 */
import {
  base64urlToBytes,
  bytesToBase64url,
  hmac,
  type RandomSource,
  randomBytes,
  timingSafeEqual,
  utf8Encode,
} from '@safeguards/core'
import { CSRF_COOKIE, readCookie, type SameSite, serializeCookie } from './cookie.js'
import { HttpConfigError } from './errors.js'
import { headerOf } from './internal/headers.js'
import { type HttpRefusal, refusal } from './reply.js'
import type { HeaderSource } from './types.js'

/** The request header the page echoes the token in. */
export const CSRF_HEADER = 'x-csrf-token'

/** Methods that must not change state, exempt from the check (RFC 9110 §9.2.1). */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/** Why a CSRF check refused (403). */
export type CsrfReason = 'csrf_missing' | 'csrf_invalid'

/** What {@link Csrf.verify} found. */
export type CsrfResult =
  | { readonly ok: true; readonly exempt: boolean }
  | { readonly ok: false; readonly reason: CsrfReason; readonly reply: HttpRefusal }

/** Options of {@link createCsrf}. */
export interface CsrfOptions {
  /** The cookie name (default {@link CSRF_COOKIE}). */
  cookie?: string
  sameSite?: SameSite
  random?: RandomSource
}

/** The CSRF helper. */
export interface Csrf {
  /** A fresh token bound to `sessionId` (the session's id, not its token). */
  issue(sessionId: string): string
  /** The `Set-Cookie` value carrying `token` (not HttpOnly: the page echoes it). */
  cookie(token: string): string
  /**
   * Checks a request: exempt for safe methods; else the cookie and the submitted token (the
   * `x-csrf-token` header unless `submitted` is given) must be equal and bound to `sessionId`.
   */
  verify(method: string, headers: HeaderSource, sessionId: string, submitted?: string): CsrfResult
}

const NONCE_BYTES = 16
const TOKEN_RE = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/

/**
 * Creates the CSRF helper with a server secret of at least 32 bytes.
 *
 * HIPAA: 164.312(c)(1) integrity (no forged state changes on a user's behalf), 164.312(d).
 *
 * @hipaa 164.312(c)(1) supports
 * @hipaa 164.312(d) supports
 * @nist SC-23 164.312(d): state-changing requests must carry a token bound to the session by HMAC, compared in constant time
 * @appResponsibility Keep the CSRF key in a secret store, issue a new token at sign-in and on every rotation, and have the page echo it on every state-changing request.
 * @verifiedBy packages/http/test/server.test.ts
 * @throws {HttpConfigError} when `key` is not a Uint8Array of at least 32 bytes, or the cookie name lacks `__Host-`.
 * @example
 * ```ts
 * const csrf = createCsrf(key)
 * const check = csrf.verify(req.method, req.headers, session.id)
 * if (!check.ok) return send(check.reply) // 403 csrf_missing / csrf_invalid
 * ```
 */
export function createCsrf(key: Uint8Array, options: CsrfOptions = {}): Csrf {
  if (!(key instanceof Uint8Array) || key.length < 32)
    throw new HttpConfigError('"key" must be a Uint8Array of at least 32 bytes')
  const secret = key.slice()
  const name = options.cookie ?? CSRF_COOKIE
  serializeCookie(name, 'x') // validates the name now
  const random = options.random ?? randomBytes
  const mac = (sessionId: string, nonce: string): Uint8Array =>
    hmac('sha256', secret, utf8Encode(`${sessionId.length}!${sessionId}!${nonce}`))
  const no = (reason: CsrfReason): CsrfResult => ({ ok: false, reason, reply: refusal(403, reason) })
  return {
    issue(sessionId: string): string {
      const nonce = bytesToBase64url(random(NONCE_BYTES))
      return `${nonce}.${bytesToBase64url(mac(sessionId, nonce))}`
    },
    cookie(token: string): string {
      return serializeCookie(name, token, {
        httpOnly: false,
        ...(options.sameSite === undefined ? {} : { sameSite: options.sameSite }),
      })
    },
    verify(method: string, headers: HeaderSource, sessionId: string, submitted?: string): CsrfResult {
      if (SAFE_METHODS.has(method.toUpperCase())) return { ok: true, exempt: true }
      const read = readCookie(headers, name)
      const sent = submitted ?? headerOf(headers, CSRF_HEADER)
      if (read.status === 'absent' || sent === undefined || sent.length === 0) return no('csrf_missing')
      if (read.status !== 'present') return no('csrf_invalid')
      const same = timingSafeEqual(utf8Encode(read.value), utf8Encode(sent))
      if (!same || !TOKEN_RE.test(sent)) return no('csrf_invalid')
      const dot = sent.indexOf('.')
      let given: Uint8Array
      try {
        given = base64urlToBytes(sent.slice(dot + 1))
      } catch {
        return no('csrf_invalid') // non-canonical base64url
      }
      return timingSafeEqual(mac(sessionId, sent.slice(0, dot)), given)
        ? { ok: true, exempt: false }
        : no('csrf_invalid')
    },
  }
}
