/**
 * HTTP response security headers as one plain record, so one call serves Express
 * (`res.set(headers)`), Fastify (`reply.headers(headers)`) and Hono (`c.header(name, value)`).
 * The base is helmet 8's defaults (what users already know), tightened for PHI:
 * `Cache-Control: no-store` (OWASP Secure Headers Project), HSTS for at least a year with
 * subdomains (RFC 6797; hstspreload.org's rules when `preload` is asked for), `frame-ancestors
 * 'none'` with `X-Frame-Options: DENY`, and a restrictive Content-Security-Policy.
 *
 * @module
 */
import { assertKnownOptions } from '@safeguards/core'
import { TransportConfigError } from './errors.js'

/** HSTS settings. */
export interface HstsOptions {
  /** Seconds, at least 31 536 000 (one year, hstspreload.org's minimum); default 63 072 000 (two years). */
  maxAge?: number
  /** Apply to every subdomain (default true; required for `preload`). */
  includeSubDomains?: boolean
  /** Ask browsers to ship the domain in their preload list (default false: it is hard to undo). */
  preload?: boolean
}

/** Options of {@link securityHeaders}. */
export interface SecurityHeadersOptions {
  /** HSTS settings, or false to leave the header out (for a plain-HTTP development server). */
  hsts?: HstsOptions | false
  /** The response may carry PHI: forbid caching anywhere (default true). */
  phi?: boolean
  /**
   * Content-Security-Policy directives merged over the default (a directive given here replaces
   * the default's), a whole policy string, or false to leave the header out (an API that sets
   * its own). `frame-ancestors` follows `frameAncestors`.
   */
  contentSecurityPolicy?: Readonly<Record<string, readonly string[]>> | string | false
  /** Who may frame the page: `'none'` (default, `X-Frame-Options: DENY`) or `'self'` (`SAMEORIGIN`). */
  frameAncestors?: 'none' | 'self'
  /** Referrer-Policy (default `no-referrer`). */
  referrerPolicy?: 'no-referrer' | 'same-origin' | 'strict-origin' | 'strict-origin-when-cross-origin'
  /** Cross-Origin-Embedder-Policy (default: not sent; `require-corp` isolates the page but blocks cross-origin resources). */
  crossOriginEmbedderPolicy?: 'require-corp' | 'credentialless'
}

/** A response header record: lower-case names, string values. */
export type SecurityHeaders = Readonly<Record<string, string>>

const KNOWN: ReadonlySet<string> = new Set([
  'hsts',
  'phi',
  'contentSecurityPolicy',
  'frameAncestors',
  'referrerPolicy',
  'crossOriginEmbedderPolicy',
])
const HSTS_KNOWN: ReadonlySet<string> = new Set(['maxAge', 'includeSubDomains', 'preload'])

/** One year, in seconds: the least `max-age` we send (hstspreload.org's minimum). */
export const HSTS_MIN_MAX_AGE = 31_536_000

/** The default HSTS `max-age`: two years. */
export const HSTS_DEFAULT_MAX_AGE = 63_072_000

/** The default Content-Security-Policy directives (helmet 8's, with `default-src 'self'` and no inline styles). */
export const DEFAULT_CSP: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'font-src': ["'self'"],
  'form-action': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
  'upgrade-insecure-requests': [],
})

/** Powerful features no PHI page needs: all denied. */
const PERMISSIONS_POLICY =
  'accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()'

const configError = (message: string): TransportConfigError => new TransportConfigError(message)

function hstsValue(hsts: HstsOptions): string {
  assertKnownOptions(hsts, HSTS_KNOWN, configError)
  const maxAge = hsts.maxAge ?? HSTS_DEFAULT_MAX_AGE
  if (!Number.isSafeInteger(maxAge) || maxAge < HSTS_MIN_MAX_AGE)
    throw new TransportConfigError('"hsts.maxAge" must be an integer of at least 31536000 seconds (one year)')
  const sub = hsts.includeSubDomains ?? true
  if (hsts.preload === true && !sub)
    throw new TransportConfigError('"hsts.preload" requires "includeSubDomains" (hstspreload.org)')
  return `max-age=${maxAge}${sub ? '; includeSubDomains' : ''}${hsts.preload === true ? '; preload' : ''}`
}

function cspValue(
  csp: Readonly<Record<string, readonly string[]>> | string,
  frameAncestors: 'none' | 'self',
): string {
  if (typeof csp === 'string') {
    if (/[\r\n]/.test(csp)) throw new TransportConfigError('"contentSecurityPolicy" must be one line')
    return csp
  }
  const merged: Record<string, readonly string[]> = { ...DEFAULT_CSP, ...csp }
  merged['frame-ancestors'] = [`'${frameAncestors}'`]
  const parts: string[] = []
  for (const [name, values] of Object.entries(merged)) {
    if (!/^[a-z-]+$/.test(name))
      throw new TransportConfigError(
        '"contentSecurityPolicy" directive names are lower-case words and hyphens',
      )
    for (const v of values)
      if (/[;,\r\n]/.test(v))
        throw new TransportConfigError(`"contentSecurityPolicy" ${name} has a value with ; , or a line break`)
    parts.push(values.length === 0 ? name : `${name} ${values.join(' ')}`)
  }
  return parts.join('; ')
}

/**
 * The security headers for an HTTP response, as a plain record of lower-case names:
 * `strict-transport-security` (`max-age=63072000; includeSubDomains`, preload opt-in),
 * `cache-control: no-store, max-age=0` and `pragma: no-cache` for PHI responses (the default),
 * `content-security-policy` (restrictive, `frame-ancestors 'none'`), `x-frame-options: DENY`,
 * `x-content-type-options: nosniff`, `referrer-policy: no-referrer`, `permissions-policy` denying
 * camera, microphone, geolocation and the like, `cross-origin-opener-policy` and
 * `cross-origin-resource-policy: same-origin`, plus helmet's `x-dns-prefetch-control`,
 * `x-permitted-cross-domain-policies` and `origin-agent-cluster`. Browsers ignore HSTS received over
 * plain HTTP (RFC 6797 §8.1), so the record is the same for every request. Compute it once.
 *
 * @param options - HSTS, PHI caching, CSP, framing, referrer and COEP settings.
 * @throws {TransportConfigError} on an unknown option, an HSTS `max-age` under one year, `preload`
 * without `includeSubDomains`, or a CSP value that would break the header.
 *
 * @hipaa 164.312(e)(1) supports
 * @hipaa 164.312(e)(2)(i) supports
 * @nist SC-8 164.312(e)(1): HSTS keeps browsers on HTTPS, so PHI never travels in clear after the first visit
 * @nist SC-8 164.312(e)(2)(i): no-store keeps PHI responses out of shared and browser caches; nosniff and CSP keep responses from being reinterpreted
 * @evidence the HSTS header that `safeguards transit check` reads from the running server
 * @appResponsibility Serve every subdomain over HTTPS before sending includeSubDomains or preload; relax the CSP only for the origins you load from.
 * @config hsts, phi, contentSecurityPolicy, frameAncestors, referrerPolicy, crossOriginEmbedderPolicy
 * @verifiedBy packages/transport/test/headers.test.ts
 *
 * @example
 * ```ts
 * import { securityHeaders } from '@safeguards/transport'
 *
 * const headers = securityHeaders({ hsts: { preload: true } })
 * headers['strict-transport-security'] // 'max-age=63072000; includeSubDomains; preload'
 * headers['cache-control'] // 'no-store, max-age=0'
 * ```
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): SecurityHeaders {
  assertKnownOptions(options, KNOWN, configError)
  const frameAncestors = options.frameAncestors ?? 'none'
  if (frameAncestors !== 'none' && frameAncestors !== 'self')
    throw new TransportConfigError('"frameAncestors" must be "none" or "self"')
  const out: Record<string, string> = {}
  if (options.hsts !== false) out['strict-transport-security'] = hstsValue(options.hsts ?? {})
  if (options.phi !== false) {
    out['cache-control'] = 'no-store, max-age=0'
    out.pragma = 'no-cache'
  }
  const csp = options.contentSecurityPolicy ?? {}
  if (csp !== false) out['content-security-policy'] = cspValue(csp, frameAncestors)
  out['x-frame-options'] = frameAncestors === 'none' ? 'DENY' : 'SAMEORIGIN'
  out['x-content-type-options'] = 'nosniff'
  out['referrer-policy'] = options.referrerPolicy ?? 'no-referrer'
  out['permissions-policy'] = PERMISSIONS_POLICY
  out['cross-origin-opener-policy'] = 'same-origin'
  out['cross-origin-resource-policy'] = 'same-origin'
  if (options.crossOriginEmbedderPolicy !== undefined)
    out['cross-origin-embedder-policy'] = options.crossOriginEmbedderPolicy
  out['origin-agent-cluster'] = '?1'
  out['x-dns-prefetch-control'] = 'off'
  out['x-permitted-cross-domain-policies'] = 'none'
  return Object.freeze(out)
}
