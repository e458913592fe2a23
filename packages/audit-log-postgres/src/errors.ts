/**
 * Typed errors of `@safeguards/audit-log-postgres`. Store failures reuse the codes of
 * `@safeguards/audit-log` (`ERR_AUDIT_STORE`, `ERR_AUDIT_CONFLICT`, `ERR_AUDIT_CORRUPT`,
 * `ERR_AUDIT_LOCK_TIMEOUT`, `ERR_AUDIT_CLOSED`), so code that handles the file store handles this
 * one. `ERR_AUDIT_LOCK_TIMEOUT` (`AuditLockTimeoutError`): a lock an append needed was not granted
 * within the store's `lockTimeoutMs` (SQLSTATE `55P03`); nothing was written. Messages carry codes,
 * counts, SQLSTATEs and schema identifiers only: never record bodies, connection strings or passwords.
 *
 * HIPAA: 164.312(b) audit controls (failures of the audit trail itself are distinguishable by code
 * and can be alerted on without leaking PHI).
 *
 * @module
 */
import { AuditStoreError } from '@safeguards/audit-log'
import { CodedError, type ErrorCategory } from '@safeguards/core'

/** Error codes raised by this package in addition to those of `@safeguards/audit-log`. */
export type AuditPgErrorCode = 'ERR_AUDIT_PG_MIGRATION'

/**
 * The database schema cannot be used or migrated safely: it was never migrated, an applied
 * migration's checksum differs from the one this version ships (someone edited the schema history),
 * or the database is at a newer schema version than this package knows.
 *
 * @example
 * ```ts
 * try { await migrate(pool, { schema: 'audit' }) }
 * catch (e) { if (isSafeguardsError(e, 'ERR_AUDIT_PG_MIGRATION')) alertOps(e.code) }
 * ```
 */
export class AuditPgMigrationError extends CodedError<'ERR_AUDIT_PG_MIGRATION'> {
  static override readonly code = 'ERR_AUDIT_PG_MIGRATION'
  static override readonly category: ErrorCategory = 'conflict'
}

/**
 * PostgreSQL refused an operation or the connection failed: an `AuditStoreError` (code
 * `ERR_AUDIT_STORE`) that also exposes the SQLSTATE, for example `42501` insufficient privilege,
 * `SGA01` append-only violation (a trigger refused UPDATE/DELETE/TRUNCATE), `SGA02` a row that does
 * not extend the chain. The driver's error, which may quote values, is kept as `cause` and never
 * serialised.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof AuditPgStoreError && e.sqlState === '42501') … }
 * ```
 */
export class AuditPgStoreError extends AuditStoreError {
  /** The SQLSTATE, or `'?????'` when the failure was not a server error (connection lost…). */
  readonly sqlState: string
  /**
   * @param operation - what was being done; @param sqlState - the five-character SQLSTATE;
   * @param options - `cause`, and `detail` (a system error code such as `ECONNREFUSED`) when the
   *   failure was not a server error.
   */
  constructor(operation: string, sqlState: string, options?: { cause?: unknown; detail?: string }) {
    super(`${operation} failed (${options?.detail ?? `SQLSTATE ${sqlState}`})`, { cause: options?.cause })
    this.sqlState = sqlState
  }
}
