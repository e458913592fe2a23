/**
 * The plugin's options, checked once at registration (a bad option throws there, never per request).
 *
 * @module
 */
import type { AuditLog, Pseudonymizer } from '@safeguards/audit-log'
import type { Clock } from '@safeguards/core'
import type {
  CookieOptions,
  CsrfOptions,
  SecurityHeadersOptions,
  SignInThrottleOptions,
} from '@safeguards/http'
import type { DecisionPoint, Subject } from '@safeguards/rbac'
import type { Session, SessionManager } from '@safeguards/session'
import type { FastifyRequest } from 'fastify'
import type { SessionData } from './types.js'

/** Options of the {@link safeguards} plugin. */
export interface SafeguardsOptions {
  /** The session manager (`createSessionManager`; a Redis store when there is more than one process). */
  sessions: SessionManager<SessionData>
  /** The compiled policy (`compilePolicy`). */
  pdp: DecisionPoint
  /** The access subject of a session: its user id, tenant and roles (from your directory). */
  subject: (session: Session<SessionData>, request: FastifyRequest) => Subject | Promise<Subject>
  /** The audit log every request is recorded in (through `auditSink`, critical). */
  log: Pick<AuditLog, 'append'>
  /** This service's id (`source.observer` of the records), for example `ehr-api`. */
  observer: string
  /** Keyed pseudonyms for patient ids (recommended). */
  pseudonymize?: Pseudonymizer
  /** Called with an audit write failure (the reply is then a 503). Default: logs its code. */
  onAuditError?: (error: unknown) => void
  /** The CSRF secret (≥ 32 random bytes, the same on every instance). */
  csrfKey: Uint8Array
  /** CSRF cookie options (`createCsrf`). */
  csrf?: CsrfOptions
  /** The session cookie (default `__Host-sg-session`, SameSite=Lax). */
  cookie?: CookieOptions
  /** The sign-in throttle (default: per account 5 / 15 min, per address 50 / 15 min, in memory). */
  throttle?: SignInThrottleOptions
  /** `securityHeaders()` options: the headers set on every response. */
  headers?: SecurityHeadersOptions
  /**
   * The idle-watcher routes: `GET status` (does not extend the session) and `POST keepAlive`
   * (extends it; needs the CSRF header). Default `/session/status` and `/session/keep-alive`;
   * `false` registers none.
   */
  idleRoutes?: { status?: string; keepAlive?: string } | false
  /** The request header carrying an emergency-access grant id (default `x-emergency-access`; `false`: none). */
  emergencyHeader?: string | false
  /** Obligation ids the app fulfils on every route (besides the emergency-access audit record). */
  fulfils?: readonly string[]
  /** The clock of audit records and the throttle (default the system clock). */
  clock?: Clock
}
