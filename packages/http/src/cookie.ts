/**
 * The session and CSRF cookies (RFC 6265 §4.1 and §5.2; the `__Host-` prefix of RFC 6265bis
 * §4.1.3.2; OWASP Session Management Cheat Sheet "Cookies"): `Secure`, `HttpOnly` (the session
 * cookie), `SameSite=Lax` by default, `Path=/`, never `Domain`. Parsing is strict where it
 * matters for a bearer token: a cookie sent twice (cookie tossing) or an oversized header is
 * refused, not guessed at.
 *
 * @module
 */
import { HttpConfigError } from './errors.js'
import { headerOf } from './internal/headers.js'
import type { HeaderSource } from './types.js'

/** The default session cookie name. */
export const SESSION_COOKIE = '__Host-sg-session'
/** The default CSRF cookie name (readable by the page's script, which echoes it in a header). */
export const CSRF_COOKIE = '__Host-sg-csrf'
/** The longest `Cookie` header read (bytes as UTF-16 units); longer is refused as `oversized`. */
export const MAX_COOKIE_HEADER = 8192
/** The longest single cookie value read; longer is refused as `oversized`. */
export const MAX_COOKIE_VALUE = 4096

/** `SameSite` values this package sets (`None` is not offered: it would need CSRF everywhere). */
export type SameSite = 'Lax' | 'Strict'

/** Options of the cookies this package writes. */
export interface CookieOptions {
  /** The cookie name; must start with `__Host-` (default {@link SESSION_COOKIE}). */
  name?: string
  /** `SameSite` (default `Lax`). */
  sameSite?: SameSite
}

/** What reading one cookie found. */
export type CookieRead =
  | { readonly status: 'absent' }
  | { readonly status: 'present'; readonly value: string }
  | { readonly status: 'duplicate' }
  | { readonly status: 'oversized' }

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/ // RFC 7230 token (cookie-name)
const VALUE_RE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/ // RFC 6265 cookie-octet

/**
 * Parses a `Cookie` header into every value of every name (RFC 6265 §5.4 order kept). Never
 * throws: pairs without `=` are skipped, one pair of surrounding double quotes is removed.
 *
 * @example
 * ```ts
 * parseCookieHeader('a=1; b="2"; a=3').get('a') // ['1', '3']
 * ```
 */
export function parseCookieHeader(header: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq <= 0) continue
    const name = part.slice(0, eq).trim()
    if (name.length === 0) continue
    let value = part.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    const list = out.get(name)
    if (list === undefined) out.set(name, [value])
    else list.push(value)
  }
  return out
}

/**
 * Reads one cookie from the request headers: `absent`, `present` with its value, `duplicate`
 * (sent more than once: refuse, it may be a tossed cookie) or `oversized`.
 *
 * @example
 * ```ts
 * readCookie(req.headers, SESSION_COOKIE) // { status: 'present', value: '…' }
 * ```
 */
export function readCookie(headers: HeaderSource, name: string): CookieRead {
  const header = headerOf(headers, 'cookie', '; ')
  if (header === undefined || header.length === 0) return { status: 'absent' }
  if (header.length > MAX_COOKIE_HEADER) return { status: 'oversized' }
  const values = parseCookieHeader(header).get(name)
  if (values === undefined) return { status: 'absent' }
  if (values.length > 1) return { status: 'duplicate' }
  const value = values[0] as string
  if (value.length > MAX_COOKIE_VALUE) return { status: 'oversized' }
  return value.length === 0 ? { status: 'absent' } : { status: 'present', value }
}

/** Attributes of {@link serializeCookie}. */
export interface SerializeOptions {
  sameSite?: SameSite
  /** Default true. */
  httpOnly?: boolean
  /** Seconds; 0 deletes the cookie. Omit for a browser-session cookie. */
  maxAge?: number
}

/**
 * A `Set-Cookie` value with the `__Host-` rules: `Secure; Path=/`, no `Domain`.
 *
 * @throws {HttpConfigError} when the name lacks `__Host-` or is not an RFC 7230 token, the value
 *   has characters outside RFC 6265 cookie-octets, or `maxAge` is not a non-negative integer.
 * @example
 * ```ts
 * serializeCookie('__Host-sg-session', token) // '__Host-sg-session=…; Path=/; Secure; HttpOnly; SameSite=Lax'
 * ```
 */
export function serializeCookie(name: string, value: string, options: SerializeOptions = {}): string {
  if (!name.startsWith('__Host-') || !TOKEN_RE.test(name))
    throw new HttpConfigError('cookie names must be RFC 7230 tokens starting with "__Host-"')
  if (!VALUE_RE.test(value) || value.length > MAX_COOKIE_VALUE)
    throw new HttpConfigError('cookie values must be RFC 6265 cookie-octets, at most 4096')
  const sameSite = options.sameSite ?? 'Lax'
  if (sameSite !== 'Lax' && sameSite !== 'Strict')
    throw new HttpConfigError('"sameSite" must be Lax or Strict')
  let out = `${name}=${value}; Path=/; Secure`
  if (options.httpOnly !== false) out += '; HttpOnly'
  out += `; SameSite=${sameSite}`
  if (options.maxAge !== undefined) {
    if (!Number.isSafeInteger(options.maxAge) || options.maxAge < 0)
      throw new HttpConfigError('"maxAge" must be a non-negative integer of seconds')
    out += `; Max-Age=${options.maxAge}`
  }
  return out
}

/**
 * The `Set-Cookie` value carrying a session token (HttpOnly, no `Max-Age`: the server's idle
 * and absolute deadlines decide, and the cookie dies with the browser session).
 *
 * @throws {HttpConfigError} on a bad name or `sameSite`.
 * @example
 * ```ts
 * res.setHeader('set-cookie', sessionCookie(issued.token))
 * ```
 */
export function sessionCookie(token: string, options: CookieOptions = {}): string {
  return serializeCookie(options.name ?? SESSION_COOKIE, token, {
    ...(options.sameSite === undefined ? {} : { sameSite: options.sameSite }),
  })
}

/**
 * The `Set-Cookie` value that deletes a cookie (`Max-Age=0`), for sign-out.
 *
 * @throws {HttpConfigError} on a bad name.
 * @example
 * ```ts
 * res.setHeader('set-cookie', clearCookie(SESSION_COOKIE))
 * ```
 */
export function clearCookie(name: string = SESSION_COOKIE, options: { sameSite?: SameSite } = {}): string {
  return serializeCookie(name, '', { ...options, maxAge: 0 })
}
