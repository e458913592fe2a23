/**
 * `@safeguards/http`: the framework-neutral HTTP layer the Express, Fastify and Hono adapters
 * are built on. Plain header maps in, plain replies out.
 *
 * @packageDocumentation
 */

export type { SecurityHeaders, SecurityHeadersOptions } from '@safeguards/transport'
export { securityHeaders } from '@safeguards/transport'
export type { AccessOptions, AccessOutcome } from './access.js'
export { checkAccess, EMERGENCY_OBLIGATION } from './access.js'
export type { RequestAudit, RequestAuditOptions, RequestFacts } from './audit.js'
export { createRequestAudit, requestEvent } from './audit.js'
export type { CookieOptions, CookieRead, SameSite, SerializeOptions } from './cookie.js'
export {
  CSRF_COOKIE,
  clearCookie,
  MAX_COOKIE_HEADER,
  MAX_COOKIE_VALUE,
  parseCookieHeader,
  readCookie,
  SESSION_COOKIE,
  serializeCookie,
  sessionCookie,
} from './cookie.js'
export type { Csrf, CsrfOptions, CsrfReason, CsrfResult } from './csrf.js'
export { CSRF_HEADER, createCsrf, SAFE_METHODS } from './csrf.js'
export type { HttpErrorCode } from './errors.js'
export { HttpConfigError, HttpError, HttpThrottleStoreError } from './errors.js'
export { idleStatus, keepAlive } from './idle.js'
export type { DenyReason, HttpRefusal, HttpReply, RefusalReason, SessionRefusalReason } from './reply.js'
export { JSON_HEADERS, jsonReply, refusal } from './reply.js'
export type { IssuedCookie, ResolveSessionOptions, SessionOutcome } from './session.js'
export { resolveSession, rotateSession, signIn, signOut } from './session.js'
export type {
  SignInThrottle,
  SignInThrottleOptions,
  ThrottleHit,
  ThrottleOutcome,
  ThrottleRule,
  ThrottleStore,
} from './throttle.js'
export {
  createMemoryThrottleStore,
  createSignInThrottle,
  DEFAULT_ACCOUNT_RULE,
  DEFAULT_ADDRESS_RULE,
} from './throttle.js'
export type { RedisEvalClient, RedisThrottleStoreOptions } from './throttle-redis.js'
export { createRedisThrottleStore } from './throttle-redis.js'
export type { HeaderSource } from './types.js'
