/**
 * Typed errors of `@safeguards/envelope-postgres`. Store failures use the code of
 * `@safeguards/envelope`'s subject-key stores, `ERR_SUBJECT_KEY_STORE`, so code that handles the
 * file store handles this one; {@link SubjectKeyPgStoreError} adds the SQLSTATE. Messages carry
 * operations, SQLSTATEs and schema names only: never key material, subject ids, connection strings
 * or passwords.
 *
 * HIPAA: 164.312(b) audit controls (failures are distinguishable by code without leaking PHI).
 *
 * @module
 */
import { CodedError, type ErrorCategory } from '@safeguards/core'
import { SubjectKeyStoreError } from '@safeguards/envelope'

/** Error codes raised by this package in addition to `ERR_SUBJECT_KEY_STORE`. */
export type EnvelopePgErrorCode = 'ERR_ENVELOPE_PG_MIGRATION'

/**
 * The subject-key schema cannot be used or migrated safely: it was never migrated, or the database
 * is at a newer schema version than this package knows.
 *
 * @example
 * ```ts
 * try { await migrateSubjectKeys(pool, { schema: 'keys' }) }
 * catch (e) { if (isSafeguardsError(e, 'ERR_ENVELOPE_PG_MIGRATION')) alertOps(e.code) }
 * ```
 */
export class EnvelopePgMigrationError extends CodedError<'ERR_ENVELOPE_PG_MIGRATION'> {
  static override readonly code = 'ERR_ENVELOPE_PG_MIGRATION'
  static override readonly category: ErrorCategory = 'conflict'
}

/**
 * PostgreSQL refused an operation or the connection failed: a `SubjectKeyStoreError` (code
 * `ERR_SUBJECT_KEY_STORE`) that also exposes the SQLSTATE, for example `42501` insufficient
 * privilege, `SGE01` a delete of a subject key (the table refuses them: shred instead), `SGE02` a
 * change to a tombstone. The driver's error, which may quote values, is kept as `cause`.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof SubjectKeyPgStoreError && e.sqlState === '42501') … }
 * ```
 */
export class SubjectKeyPgStoreError extends SubjectKeyStoreError {
  /** The SQLSTATE, or `'?????'` when the failure was not a server error (connection lost…). */
  readonly sqlState: string
  /** @param operation - what was being done; @param sqlState - the SQLSTATE; @param options - the cause. */
  constructor(operation: string, sqlState: string, options?: { cause?: unknown }) {
    super(`subject-key store: ${operation} failed (SQLSTATE ${sqlState})`, { cause: options?.cause })
    this.sqlState = sqlState
  }
}
