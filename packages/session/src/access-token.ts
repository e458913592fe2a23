/**
 * The optional stateless mode: short-lived JWTs (RFC 7519, profile of RFC 9068 `at+jwt`) bound to
 * a server session, for services that want to check a request without a store round trip for
 * every field. Off unless you create it.
 *
 * Binding: each token carries `sid` (the session id) and expires at the earlier of its TTL (at
 * most 5 minutes) and the session's deadline when it was issued, so it never outlives the session's
 * idle or absolute deadline. `verify` also checks the session's tombstone, so a logout or
 * "log out everywhere" kills outstanding tokens at once. Algorithms are pinned: `alg: none`, an
 * algorithm other than the configured one (an HS256 token verified with an ES256 public key, the
 * classic swap) and `crit` headers are refused.
 *
 * Caveat (documented in the README): the idle timeout in this mode is enforced at issue time;
 * between issues, a token is valid for its TTL whatever the user does. A pure JWT cannot enforce
 * 164.312(a)(2)(iii) to the millisecond; the server session behind it does.
 *
 * @module
 */
import { bytesToBase64url, type RandomSource, randomBytes } from '@safeguards/core'
import { errors, jwtVerify, SignJWT } from 'jose'
import { SessionConfigError } from './errors.js'
import type { SessionManager } from './manager.js'

/** Algorithms the stateless mode accepts (one per instance). */
export type AccessTokenAlgorithm = 'HS256' | 'HS384' | 'HS512' | 'ES256' | 'ES384' | 'EdDSA' | 'Ed25519'

/** The signing and verification keys. */
export type AccessTokenKeys =
  | { readonly alg: 'HS256' | 'HS384' | 'HS512'; readonly secret: Uint8Array }
  | {
      readonly alg: 'ES256' | 'ES384' | 'EdDSA' | 'Ed25519'
      /** Needed to issue; omit on services that only verify. */
      readonly privateKey?: CryptoKey
      readonly publicKey: CryptoKey
    }

/** Options of {@link createAccessTokens}. */
export interface AccessTokenOptions {
  /** The session manager the tokens are bound to. */
  sessions: SessionManager
  /** Keys and the one algorithm. */
  keys: AccessTokenKeys
  /** `iss`. */
  issuer: string
  /** `aud`. */
  audience: string
  /** Lifetime in seconds, 1 to 300 (5 minutes). Default 120. */
  ttlSeconds?: number
  /** Randomness for `jti`. */
  random?: RandomSource
}

/** The verified claims. */
export interface AccessTokenClaims {
  /** The user (`sub`). */
  readonly userId: string
  /** The session id (`sid`). */
  readonly sessionId: string
  /** The role, or `null`. */
  readonly role: string | null
  /** Last (re)authentication, ms since the epoch (`auth_time` is in seconds). */
  readonly authAt: number
  /** Expiry, ms since the epoch. */
  readonly expiresAt: number
  /** `jti`. */
  readonly tokenId: string
}

/** Issues and verifies access tokens. */
export interface AccessTokens {
  /**
   * A JWT for the session of `sessionToken`, or `null` when that session is not live. Issuing
   * validates the session with `activity` (default true: call it on a user-initiated refresh).
   */
  issue(
    sessionToken: unknown,
    options?: { activity?: boolean },
  ): Promise<{ jwt: string; expiresAt: number } | null>
  /** The claims of a valid, unrevoked token, or `null` (never throws for a bad token). */
  verify(jwt: unknown): Promise<AccessTokenClaims | null>
}

const MAX_JWT_LENGTH = 4096
const TYP = 'at+jwt'
const MIN_SECRET: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 }

/**
 * Creates the stateless token issuer/verifier.
 *
 * HIPAA: 164.312(d) person or entity authentication; 164.312(a)(2)(iii) automatic logoff (tokens
 * never outlive the server session's deadline, and revocation is honoured).
 *
 * @hipaa 164.312(a)(2)(iii) supports
 * @nist SC-23 164.312(a)(2)(iii): short-lived signed tokens bound to a live server session never outlive its deadline
 * @appResponsibility Keep access-token lifetimes short; they bound how late a revocation takes effect between issues.
 * @verifiedBy packages/session/test/access-token.test.ts
 * @throws {SessionConfigError} for an unsupported algorithm, a short HMAC secret (shorter than the
 * hash), keys of the wrong kind, or a TTL outside 1–300 s.
 * @example
 * ```ts
 * const tokens = createAccessTokens({
 *   sessions,
 *   keys: { alg: 'HS256', secret: randomBytes(32) },
 *   issuer: 'https://clinic.example',
 *   audience: 'clinic-api',
 * })
 * const issued = await tokens.issue(sessionToken) // { jwt, expiresAt } | null
 * const claims = await tokens.verify(issued.jwt) // null once revoked or expired
 * ```
 */
export function createAccessTokens(options: AccessTokenOptions): AccessTokens {
  const { sessions, keys, issuer, audience, random = randomBytes } = options
  const ttlSeconds = options.ttlSeconds ?? 120
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 300)
    throw new SessionConfigError('"ttlSeconds" must be an integer in [1, 300]')
  if (typeof issuer !== 'string' || issuer === '' || typeof audience !== 'string' || audience === '')
    throw new SessionConfigError('"issuer" and "audience" must be non-empty strings')
  const { alg, signKey, verifyKey } = resolveKeys(keys)

  return {
    async issue(
      sessionToken: unknown,
      opts?: { activity?: boolean },
    ): Promise<{ jwt: string; expiresAt: number } | null> {
      if (signKey === undefined) throw new SessionConfigError('issuing needs "keys.privateKey"')
      const session = await sessions.validate(sessionToken, { activity: opts?.activity !== false })
      if (session === null) return null
      const nowMs = sessions.now()
      const expSec = Math.floor(Math.min(nowMs + ttlSeconds * 1000, session.expiresAt) / 1000)
      if (expSec * 1000 <= nowMs) return null // the session ends within this second: no token
      const jwt = await new SignJWT({
        sid: session.id,
        role: session.role,
        auth_time: Math.floor(session.authAt / 1000),
      })
        .setProtectedHeader({ alg, typ: TYP })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(session.userId)
        .setIssuedAt(Math.floor(nowMs / 1000))
        .setExpirationTime(expSec)
        .setJti(bytesToBase64url(random(16)))
        .sign(signKey)
      return { jwt, expiresAt: expSec * 1000 }
    },
    async verify(jwt: unknown): Promise<AccessTokenClaims | null> {
      if (typeof jwt !== 'string' || jwt.length === 0 || jwt.length > MAX_JWT_LENGTH) return null
      let payload: Record<string, unknown>
      try {
        const r = await jwtVerify(jwt, verifyKey, {
          algorithms: [alg],
          issuer,
          audience,
          typ: TYP,
          currentDate: new Date(sessions.now()),
          maxTokenAge: ttlSeconds,
          clockTolerance: 0,
          requiredClaims: ['exp', 'iat', 'sub', 'sid', 'jti', 'auth_time'],
        })
        payload = r.payload
      } catch (e) {
        if (e instanceof errors.JOSEError) return null
        throw e
      }
      const claims = claimsOf(payload)
      if (claims === null || (await sessions.isRevoked(claims.sessionId))) return null
      return claims
    },
  }
}

/** The algorithm and the signing and verification keys. @throws {SessionConfigError} */
function resolveKeys(keys: AccessTokenOptions['keys']): {
  alg: AccessTokenAlgorithm
  signKey: CryptoKey | Uint8Array | undefined
  verifyKey: CryptoKey | Uint8Array
} {
  const alg = keys?.alg
  if (alg === 'HS256' || alg === 'HS384' || alg === 'HS512') {
    const secret = (keys as { secret?: unknown }).secret
    if (!(secret instanceof Uint8Array) || secret.length < (MIN_SECRET[alg] as number))
      throw new SessionConfigError(`"keys.secret" must be a Uint8Array of at least ${MIN_SECRET[alg]} bytes`)
    const key = new Uint8Array(secret)
    return { alg, signKey: key, verifyKey: key }
  }
  if (alg === 'ES256' || alg === 'ES384' || alg === 'EdDSA' || alg === 'Ed25519') {
    const k = keys as { privateKey?: CryptoKey; publicKey?: CryptoKey }
    if (!isCryptoKey(k.publicKey, 'public'))
      throw new SessionConfigError('"keys.publicKey" must be a public CryptoKey')
    if (k.privateKey !== undefined && !isCryptoKey(k.privateKey, 'private'))
      throw new SessionConfigError('"keys.privateKey" must be a private CryptoKey')
    return { alg, signKey: k.privateKey, verifyKey: k.publicKey }
  }
  throw new SessionConfigError('"keys.alg" is not a supported algorithm')
}

/** The claims of a verified payload, or null when one has the wrong shape. */
function claimsOf(payload: Record<string, unknown>): AccessTokenClaims | null {
  const { sub, sid, role, auth_time, exp, jti } = payload
  if (typeof sub !== 'string' || typeof sid !== 'string' || !/^[0-9a-f]{64}$/.test(sid)) return null
  if (role !== null && typeof role !== 'string') return null
  if (typeof auth_time !== 'number' || typeof exp !== 'number' || typeof jti !== 'string') return null
  return {
    userId: sub,
    sessionId: sid,
    role,
    authAt: auth_time * 1000,
    expiresAt: exp * 1000,
    tokenId: jti,
  }
}

function isCryptoKey(k: unknown, type: 'public' | 'private'): k is CryptoKey {
  return typeof k === 'object' && k !== null && (k as { type?: unknown }).type === type && 'algorithm' in k
}
