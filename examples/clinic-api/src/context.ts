/**
 * What the routes share: the Hono app type (the signed-in user and a request id on every request)
 * and the services the wiring (`clinic.ts`) builds for them.
 */
import type { AuditLog, AuditStore } from '@safeguards/audit-log'
import type { Clock, Emitter, EventSink } from '@safeguards/core'
import type { LocalKeyring } from '@safeguards/envelope'
import type { SafeguardsVariables } from '@safeguards/hono'
import type { createTotpVerifier } from '@safeguards/mfa'
import type { PasswordHasher } from '@safeguards/password'
import type { DecisionPoint } from '@safeguards/rbac'
import type { SessionManager } from '@safeguards/session'
import type { Hono } from 'hono'
import type { ChallengeStore } from './challenges.js'
import type { Records } from './records.js'
import type { Staff } from './staff.js'

/**
 * The clinic's Hono app: each request carries its id and, under `/api/*`, the live session
 * (`c.var.session`, typed by `@safeguards/hono`), the signed-in user, and on a chart read the
 * access decision (`c.var.access`).
 */
export type ClinicApp = Hono<ClinicEnv>

/** The Hono `Env` of the clinic's app. */
export interface ClinicEnv {
  Variables: SafeguardsVariables & { user: Staff; requestId: string }
}

/** The services the routes use. */
export interface ClinicServices {
  readonly clock: Clock
  /**
   * The clinic's own events (record accesses, a refused emergency-access request), delivered to
   * the critical audit sink: `await events.emit(...)` rejects with `ERR_EVENT_SINK` when the record was not written.
   */
  readonly events: Emitter
  /** The critical audit sink, for the routes' calls that take `events` (backups, log verification). */
  readonly audit: EventSink
  readonly log: AuditLog
  readonly store: AuditStore
  readonly pdp: DecisionPoint
  readonly keyring: LocalKeyring
  readonly records: Records
  readonly sessions: SessionManager
  readonly totp: ReturnType<typeof createTotpVerifier>
  readonly hasher: PasswordHasher
  readonly challenges: ChallengeStore
  /** The argon2id verifier of each seeded user, by username. */
  readonly verifiers: ReadonlyMap<string, string>
  /** The TOTP secret of each seeded user, by user id. */
  readonly totpSecrets: ReadonlyMap<string, Uint8Array>
  /** The recorded actor of a sign-in for an unknown username (a keyed pseudonym of the name). */
  readonly unknownAccount: (username: string) => string
}

/** The source of the events the clinic emits itself. */
export const CLINIC_SOURCE = 'clinic-api'
