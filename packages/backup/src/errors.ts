/**
 * Typed errors for `@safeguards/backup`.
 *
 * A verification that finds a problem does not throw: it returns a report whose findings carry
 * codes (see `findings.ts`). The errors here are for misuse (bad keys, bad options), for a source
 * tree that cannot be bagged, and for alert delivery. Messages carry codes and counts, never file
 * names or contents (names can be PHI).
 *
 * @module
 */
import { CodedError, type ErrorCategory } from '@safeguards/core'

/** The {@link ErrorCategory} of each code this package's base class covers: the one table of its codes. */
const categories = {
  ERR_BACKUP_KEY: 'invalid-argument',
  ERR_BACKUP_SOURCE: 'io',
  ERR_BACKUP_DESTINATION: 'io',
  ERR_BACKUP_ATTESTATION: 'integrity',
  ERR_BACKUP_STATE: 'invalid-input',
  ERR_BACKUP_ALERT: 'unavailable',
} as const

/** Error codes thrown by `@safeguards/backup`. Stable: match on them, never on messages. */
export type BackupErrorCode = keyof typeof categories

/**
 * Base class of every error thrown by `@safeguards/backup`.
 *
 * HIPAA: 164.312(b) audit controls (stable codes that can be logged without PHI).
 *
 * @example
 * ```ts
 * try { await createBag(src, dest, { signingKey }) } catch (e) {
 *   if (e instanceof BackupError) log.error({ code: e.code })
 * }
 * ```
 */
export class BackupError<C extends BackupErrorCode = BackupErrorCode> extends CodedError<C> {
  /** The {@link ErrorCategory} of each code, read by every subclass (the type keeps it complete). */
  static override readonly categories: typeof categories = categories
}

/**
 * A signing or verification key is unusable: wrong type, missing `kid`, or an algorithm outside
 * the allow-list (`EdDSA`/`Ed25519` with an Ed25519 key, `ES256` with a P-256 key).
 *
 * @example
 * ```ts
 * await importSigningKey({ kty: 'oct', k: '...' }) // throws BackupKeyError (ERR_BACKUP_KEY)
 * ```
 */
export class BackupKeyError extends BackupError<'ERR_BACKUP_KEY'> {
  static override readonly code = 'ERR_BACKUP_KEY'
}

/**
 * The source tree cannot be bagged faithfully: it contains symlinks, devices, sockets or FIFOs,
 * or a file could not be read. The message gives counts only.
 *
 * @example
 * ```ts
 * await createBag('/srv/export', '/backups/2026-11-22') // throws BackupSourceError if /srv/export has a symlink
 * ```
 */
export class BackupSourceError extends BackupError<'ERR_BACKUP_SOURCE'> {
  static override readonly code = 'ERR_BACKUP_SOURCE'
}

/**
 * The bag destination already exists and is not empty, or cannot be written.
 *
 * @example
 * ```ts
 * await createBag(src, existingBag) // throws BackupDestinationError (ERR_BACKUP_DESTINATION)
 * ```
 */
export class BackupDestinationError extends BackupError<'ERR_BACKUP_DESTINATION'> {
  static override readonly code = 'ERR_BACKUP_DESTINATION'
}

/**
 * An attestation given as input (for example the previous one in the chain, when creating a new
 * bag) is malformed.
 *
 * @example
 * ```ts
 * await createBag(src, dest, { signingKey, previousAttestation: 'garbage' }) // throws ERR_BACKUP_ATTESTATION
 * ```
 */
export class BackupAttestationError extends BackupError<'ERR_BACKUP_ATTESTATION'> {
  static override readonly code = 'ERR_BACKUP_ATTESTATION'
}

/**
 * A verifier state file (coverage and attestation chain) is malformed.
 *
 * @example
 * ```ts
 * await loadVerifyState('/var/lib/backup/state.json') // throws BackupStateError on a corrupt file
 * ```
 */
export class BackupStateError extends BackupError<'ERR_BACKUP_STATE'> {
  static override readonly code = 'ERR_BACKUP_STATE'
}

/**
 * One or more alert sinks failed to deliver. The verification result is unaffected: callers must
 * still exit with the verification's failure code.
 *
 * @example
 * ```ts
 * const outcome = await sendAlerts(alert, sinks) // never throws; outcome.failed lists sink names
 * ```
 */
export class BackupAlertError extends BackupError<'ERR_BACKUP_ALERT'> {
  static override readonly code = 'ERR_BACKUP_ALERT'
}
