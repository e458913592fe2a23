/**
 * `@safeguards/hono`: the Safeguards HTTP layer as Hono middleware, with typed context variables
 * (`c.var.session`, `c.var.access`, `c.var.refused`). Built on `@safeguards/http`.
 *
 * @packageDocumentation
 */

export type { CookieOptions, Csrf, RefusalReason, SecurityHeadersOptions } from '@safeguards/http'
export { createCsrf, createSignInThrottle } from '@safeguards/http'
export type { RequestAuditMiddlewareOptions } from './audit.js'
export { requestAudit } from './audit.js'
export type { CsrfProtectionOptions } from './csrf.js'
export { csrfProtection } from './csrf.js'
export type { AccessFacts, SafeguardsEnv, SafeguardsVariables } from './env.js'
export { HttpConfigError, HttpError, type HttpErrorCode, HttpThrottleStoreError } from './errors.js'
export type { GuardOptions } from './guard.js'
export { guard } from './guard.js'
export { securityHeaders } from './headers.js'
export type { IdleOptions, KeepAliveOptions } from './idle.js'
export { idleStatus, keepAlive } from './idle.js'
export type { SessionOptions, TokenSource } from './session.js'
export { rotateSession, session, signIn, signOut } from './session.js'
export type { SignInThrottleMiddlewareOptions } from './throttle.js'
export { peerAddress, signInThrottle } from './throttle.js'
