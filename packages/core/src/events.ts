/**
 * The SDK's one event vocabulary. Every package reports what happened (a session ended, a login
 * failed, an emergency grant was used, a key was rotated, a backup failed verification) as a
 * {@link SafeguardEvent}: a dotted, stable `type`, the time from the injected clock, who acted, the
 * patient concerned where there is one, the outcome, and codes and counts. Never secrets, tokens,
 * passwords, key material or PHI values: identifiers only (a patient id as the app passed it; the
 * audit sink of `@safeguards/audit-log` pseudonymises it).
 *
 * Applications receive events through {@link EventSink}s given to each package (`events` option).
 * {@link createEmitter} is the one delivery helper, with one written failure policy:
 *
 * - A sink is **isolated** by default: it is called synchronously; whatever it throws, and a
 *   promise it returns that rejects, goes to `onSinkError` (and is counted); the operation that
 *   emitted the event goes on, and a slow promise is never awaited.
 * - A sink marked **critical** ({@link criticalSink}) is awaited, in order, before the operation
 *   returns; if it throws or rejects, the operation fails with {@link EventSinkError}
 *   (`ERR_EVENT_SINK`). Use it for the records HIPAA-minded apps must not lose: an access to PHI
 *   that could not be recorded should not happen (fail closed).
 * - When no sink listens, emitting costs one property read: hot paths check `emitter.active`
 *   before they build an event.
 *
 * HIPAA: 164.312(b) audit controls (one vocabulary the audit log records and the activity review
 * reads); 164.308(a)(5)(ii)(C) log-in monitoring (the `auth.*` events).
 *
 * @module
 */
import { type ErrorCategory, SafeguardsError } from './errors.js'

/** What came of the action an event reports. */
export type EventOutcome = 'success' | 'failure'

/** Fields every event has. */
export interface EventBase<T extends string> {
  /** The stable dotted name, for example `session.expired.idle`. */
  readonly type: T
  /** When it happened: ms since the epoch, from the emitting package's injected clock. */
  readonly at: number
  /** The package that emitted it, for example `@safeguards/session`. */
  readonly source: string
  /** Whether the action succeeded. A refusal (a wrong password, a denied access) is a `failure`. */
  readonly outcome: EventOutcome
  /** Who acted: a user or service id (never a name or an email the app did not use as its id). */
  readonly actor?: string
  /** The patient the action concerned, as an identifier, where there is one. */
  readonly subject?: string
  /** Why, as a stable code: a reason (`idle`, `replayed`, `no_matching_allow`) or an error code. */
  readonly code?: string
  /** Counts that help a reviewer (attempts, remaining codes, findings, records). */
  readonly counts?: Readonly<Record<string, number>>
}

// --- Sessions (@safeguards/session) -------------------------------------------------------------

/** Fields of every session event. `sessionId` is the SHA-256 of the token, never the token. */
export interface SessionEventFields {
  readonly sessionId: string
  /** The role the session holds, or `null`. */
  readonly role: string | null
}

/** A session was created at sign-in. */
export interface SessionCreatedEvent extends EventBase<'session.created'>, SessionEventFields {}
/** A session's token was replaced; `previousSessionId` is dead. */
export interface SessionRotatedEvent extends EventBase<'session.rotated'>, SessionEventFields {
  readonly previousSessionId: string
}
/** A session passed its idle deadline (automatic logoff). */
export interface SessionExpiredIdleEvent extends EventBase<'session.expired.idle'>, SessionEventFields {}
/** A session passed its absolute deadline. */
export interface SessionExpiredAbsoluteEvent
  extends EventBase<'session.expired.absolute'>,
    SessionEventFields {}
/** A session was ended: `code` is `logout`, `revoke-all`, `evicted` or `login`. */
export interface SessionRevokedEvent extends EventBase<'session.revoked'>, SessionEventFields {}

// --- Authentication (@safeguards/password, @safeguards/mfa) --------------------------------------

/** A password was checked and accepted. */
export interface PasswordSucceededEvent extends EventBase<'auth.password.succeeded'> {}
/** A password was checked and refused (`code`: `mismatch`, `throttled`, …). */
export interface PasswordFailedEvent extends EventBase<'auth.password.failed'> {}
/** Fields of the second-factor events. */
export interface FactorEventFields {
  /** The credential (factor) id; not secret. */
  readonly credentialId?: string
}
/** A TOTP code was accepted. */
export interface TotpSucceededEvent extends EventBase<'auth.totp.succeeded'>, FactorEventFields {}
/** A TOTP code was refused (`code`: `invalid`, `throttled`, `locked`, `disabled`, …). */
export interface TotpFailedEvent extends EventBase<'auth.totp.failed'>, FactorEventFields {}
/** A TOTP code that was already used was presented again. */
export interface TotpReplayedEvent extends EventBase<'auth.totp.replayed'>, FactorEventFields {}
/** An account or factor was locked or disabled after failures (`counts.failures`). */
export interface AuthLockedEvent extends EventBase<'auth.locked'>, FactorEventFields {}
/** A recovery code was used (`counts.remaining`), or refused (`outcome: 'failure'`). */
export interface RecoveryCodeUsedEvent extends EventBase<'auth.recovery-code.used'>, FactorEventFields {}
/** A factor was enrolled. */
export interface FactorEnrolledEvent extends EventBase<'auth.factor.enrolled'>, FactorEventFields {}
/** A factor was removed (for example at termination). */
export interface FactorRemovedEvent extends EventBase<'auth.factor.removed'>, FactorEventFields {}

// --- Access (@safeguards/rbac, and the app or middleware for record access) ----------------------

/** What an access concerned: a resource type, and an id where one was named. */
export interface AccessEventFields {
  /** The action: `read`, `create`, `update`, `delete`, `search` or a policy-defined verb. */
  readonly action: string
  /** The resource type, for example `Observation`. */
  readonly resourceType: string
  /** The resource id, where one was named (an identifier, not content). */
  readonly resourceId?: string
  /** The tenant, where the policy has tenants. */
  readonly tenant?: string
  /** The emergency grant the access relied on, if any. */
  readonly grantId?: string
}
/** An access decision allowed the request. */
export interface AccessAllowedEvent extends EventBase<'access.allowed'>, AccessEventFields {}
/** An access decision denied the request (`code` is the decision's reason). */
export interface AccessDeniedEvent extends EventBase<'access.denied'>, AccessEventFields {}
/** A patient record was read, created, updated or deleted, with the real outcome (after the work). */
export interface RecordAccessedEvent extends EventBase<'record.accessed'>, AccessEventFields {}
/** A break-glass grant was issued (`code`: the reason code). */
export interface EmergencyGrantedEvent extends EventBase<'access.emergency.granted'> {
  readonly grantId: string
  /** The grant's end, ms since the epoch. */
  readonly expiresAt: number
}
/** A break-glass grant was relied on by an access decision. */
export interface EmergencyUsedEvent extends EventBase<'access.emergency.used'>, AccessEventFields {
  readonly grantId: string
}
/** A break-glass grant was reviewed (`code`: `appropriate` or `inappropriate`). */
export interface EmergencyReviewedEvent extends EventBase<'access.emergency.reviewed'> {
  readonly grantId: string
}
/** A break-glass grant was revoked before its end. */
export interface EmergencyRevokedEvent extends EventBase<'access.emergency.revoked'> {
  readonly grantId: string
}
/** A second person approved a break-glass grant that needs approval (dual control). */
export interface EmergencyApprovedEvent extends EventBase<'access.emergency.approved'> {
  readonly grantId: string
}
/** A break-glass grant ended and was not reviewed by its review deadline (`outcome: 'failure'`). */
export interface EmergencyReviewOverdueEvent extends EventBase<'access.emergency.review-overdue'> {
  readonly grantId: string
  /** When the review was due, ms since the epoch. */
  readonly reviewDueAt: number
}

// --- Keys and encryption (@safeguards/envelope, @safeguards/pkcs11) ------------------------------

/** Fields of the key lifecycle events. */
export interface KeyEventFields {
  /** The key reference, for example `local:default@v2` (names a key, never holds one). */
  readonly keyRef: string
}
/** A key version was added (phase one of a rotation). */
export interface KeyCreatedEvent extends EventBase<'key.created'>, KeyEventFields {}
/** A key version became the primary. */
export interface KeyRotatedEvent extends EventBase<'key.rotated'>, KeyEventFields {}
/** A key version was retired. */
export interface KeyRetiredEvent extends EventBase<'key.retired'>, KeyEventFields {}
/** A key version was disabled. */
export interface KeyDisabledEvent extends EventBase<'key.disabled'>, KeyEventFields {}
/** A key version was enabled again. */
export interface KeyEnabledEvent extends EventBase<'key.enabled'>, KeyEventFields {}
/** A key version's material was destroyed (crypto-shredding). */
export interface KeyDestroyedEvent extends EventBase<'key.destroyed'>, KeyEventFields {}
/** A key version crossed its usage warning threshold (`counts.wraps`, `counts.limit`). */
export interface KeyBudgetWarningEvent extends EventBase<'key.budget.warning'>, KeyEventFields {}
/** A decryption failed (`code`: the error code; `keyRefs`: the keys its header named). */
export interface DecryptFailedEvent extends EventBase<'envelope.decrypt.failed'> {
  readonly keyRefs: readonly string[]
  /** The names of the context keys supplied (never their values). */
  readonly contextKeys: readonly string[]
}

// --- Backups and the audit log (@safeguards/backup, @safeguards/audit-log) -----------------------

/** A backup verified (`counts.files`, `counts.bytes`). */
export interface BackupVerifiedEvent extends EventBase<'backup.verified'> {
  /** The bag's id (`External-Identifier`), where it has one. */
  readonly bagId?: string
}
/** A backup failed verification (`code`: the first error finding; `counts.findings`). */
export interface BackupFailedEvent extends EventBase<'backup.failed'> {
  readonly bagId?: string
}
/** An audit log verified (`counts.records`, `counts.checkpoints`; `outcome` says whether it was clean). */
export interface AuditVerifiedEvent extends EventBase<'audit.verified'> {
  readonly stream: string
}
/** A verification of an audit log found a problem (`code`: the finding; `counts.seq`). */
export interface AuditFindingEvent extends EventBase<'audit.finding'> {
  readonly stream: string
  readonly severity: 'error' | 'warning'
}

/** Every event the SDK emits. Switch on `type`. */
export type SafeguardEvent =
  | SessionCreatedEvent
  | SessionRotatedEvent
  | SessionExpiredIdleEvent
  | SessionExpiredAbsoluteEvent
  | SessionRevokedEvent
  | PasswordSucceededEvent
  | PasswordFailedEvent
  | TotpSucceededEvent
  | TotpFailedEvent
  | TotpReplayedEvent
  | AuthLockedEvent
  | RecoveryCodeUsedEvent
  | FactorEnrolledEvent
  | FactorRemovedEvent
  | AccessAllowedEvent
  | AccessDeniedEvent
  | RecordAccessedEvent
  | EmergencyGrantedEvent
  | EmergencyUsedEvent
  | EmergencyReviewedEvent
  | EmergencyRevokedEvent
  | EmergencyApprovedEvent
  | EmergencyReviewOverdueEvent
  | KeyCreatedEvent
  | KeyRotatedEvent
  | KeyRetiredEvent
  | KeyDisabledEvent
  | KeyEnabledEvent
  | KeyDestroyedEvent
  | KeyBudgetWarningEvent
  | DecryptFailedEvent
  | BackupVerifiedEvent
  | BackupFailedEvent
  | AuditVerifiedEvent
  | AuditFindingEvent

/** The `type` of every event. */
export type SafeguardEventType = SafeguardEvent['type']

/** The event of one `type`. */
export type SafeguardEventOf<T extends SafeguardEventType> = Extract<SafeguardEvent, { type: T }>

/** Every event type, in the order above (for documentation, tests and exhaustive tables). */
export const safeguardEventTypes: readonly SafeguardEventType[] = Object.freeze([
  'session.created',
  'session.rotated',
  'session.expired.idle',
  'session.expired.absolute',
  'session.revoked',
  'auth.password.succeeded',
  'auth.password.failed',
  'auth.totp.succeeded',
  'auth.totp.failed',
  'auth.totp.replayed',
  'auth.locked',
  'auth.recovery-code.used',
  'auth.factor.enrolled',
  'auth.factor.removed',
  'access.allowed',
  'access.denied',
  'record.accessed',
  'access.emergency.granted',
  'access.emergency.used',
  'access.emergency.reviewed',
  'access.emergency.revoked',
  'access.emergency.approved',
  'access.emergency.review-overdue',
  'key.created',
  'key.rotated',
  'key.retired',
  'key.disabled',
  'key.enabled',
  'key.destroyed',
  'key.budget.warning',
  'envelope.decrypt.failed',
  'backup.verified',
  'backup.failed',
  'audit.verified',
  'audit.finding',
] satisfies SafeguardEventType[])

// --- Sinks and delivery --------------------------------------------------------------------------

/** Receives events. Return a promise to do async work (it is awaited only for critical sinks). */
export type EventSink = ((event: SafeguardEvent) => void | Promise<void>) & {
  /** Marked by {@link criticalSink}: awaited, and its failure fails the operation. */
  readonly critical?: true
}

/** What packages accept as their `events` option: one sink or several. */
export type EventSinks = EventSink | readonly EventSink[]

/** The event options every emitting package accepts. */
export interface EventOptions {
  /** Where events go (default: nowhere). */
  events?: EventSinks
  /**
   * Receives what an isolated sink threw or rejected with, and the event. Default: ignored.
   * Its own errors are ignored too.
   */
  onSinkError?: (error: unknown, event: SafeguardEvent) => void
}

/**
 * Marks a sink as critical: awaited before the operation returns, and its failure fails the
 * operation with {@link EventSinkError}.
 *
 * @example
 * ```ts
 * import { criticalSink } from '@safeguards/core'
 *
 * const records = criticalSink(async (event) => {
 *   await fetch('https://siem.example/ingest', { method: 'POST', body: JSON.stringify(event) })
 * })
 * ```
 */
export function criticalSink(sink: (event: SafeguardEvent) => void | Promise<void>): EventSink {
  if (typeof sink !== 'function') throw new TypeError('"sink" expected a function')
  return Object.assign((event: SafeguardEvent) => sink(event), { critical: true as const })
}

/**
 * A critical event sink failed, so the operation that emitted the event failed too (fail closed).
 * `cause` holds what the sink threw; `eventType` names the event.
 *
 * @example
 * ```ts
 * try {
 *   await sessions.create({ userId })
 * } catch (e) {
 *   if (isSafeguardsError(e, 'ERR_EVENT_SINK')) return res.status(503).end()
 * }
 * ```
 */
export class EventSinkError extends SafeguardsError<'ERR_EVENT_SINK'> {
  /** The type of the event that could not be delivered. */
  readonly eventType: SafeguardEventType
  /** @param eventType - the event; @param cause - what the sink threw. */
  constructor(eventType: SafeguardEventType, cause: unknown) {
    const category: ErrorCategory = 'unavailable'
    super('ERR_EVENT_SINK', `a critical event sink failed on ${eventType}`, { cause, category })
    this.eventType = eventType
  }
}

/** Delivers events to a package's sinks under the failure policy of this module. */
export interface Emitter {
  /** True when at least one sink listens: build events only then. */
  readonly active: boolean
  /**
   * Delivers `event`. Returns `undefined` when no sink is critical (nothing to await), otherwise a
   * promise that rejects with {@link EventSinkError} when a critical sink fails.
   */
  emit(event: SafeguardEvent): Promise<void> | undefined
  /** How many isolated-sink failures were seen (each also went to `onSinkError`). */
  readonly sinkErrors: number
}

const inactive: Emitter = Object.freeze({ active: false, sinkErrors: 0, emit: (): undefined => undefined })

/**
 * Builds the emitter a package uses for its `events` option.
 *
 * @throws {TypeError} when `events` holds something that is not a function.
 * @example
 * ```ts
 * import { createEmitter, type EventOptions } from '@safeguards/core'
 *
 * const events = createEmitter({ events: (e) => console.log(e.type, e.outcome) } satisfies EventOptions)
 * if (events.active)
 *   await events.emit({ type: 'auth.locked', at: Date.now(), source: 'my-app', outcome: 'success', actor: 'u1' })
 * ```
 */
export function createEmitter(options: EventOptions | undefined): Emitter {
  const given = options?.events
  if (given === undefined) return inactive
  const sinks: readonly EventSink[] = typeof given === 'function' ? [given] : [...given]
  for (const s of sinks) if (typeof s !== 'function') throw new TypeError('"events" expected functions')
  if (sinks.length === 0) return inactive
  const onSinkError = options?.onSinkError
  if (onSinkError !== undefined && typeof onSinkError !== 'function')
    throw new TypeError('"onSinkError" expected a function')
  const isolated = sinks.filter((s) => s.critical !== true)
  const critical = sinks.filter((s) => s.critical === true)
  let sinkErrors = 0
  const report = (error: unknown, event: SafeguardEvent): void => {
    sinkErrors++
    try {
      onSinkError?.(error, event)
    } catch {
      // Nowhere left to report to; the operation's outcome must not change.
    }
  }
  const deliverCritical = async (event: SafeguardEvent): Promise<void> => {
    for (const sink of critical) {
      try {
        await sink(event)
      } catch (e) {
        throw new EventSinkError(event.type, e)
      }
    }
  }
  return {
    active: true,
    get sinkErrors(): number {
      return sinkErrors
    },
    emit(event: SafeguardEvent): Promise<void> | undefined {
      for (const sink of isolated) {
        try {
          const r = sink(event)
          if (r instanceof Promise) r.catch((e: unknown) => report(e, event))
        } catch (e) {
          report(e, event)
        }
      }
      return critical.length === 0 ? undefined : deliverCritical(event)
    },
  }
}
