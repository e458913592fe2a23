/**
 * Typed errors of `@safeguards/audit-log-postgres`. Messages carry codes, counts, SQLSTATEs and
 * schema/stream identifiers only: never record bodies, connection strings or passwords.
 *
 * HIPAA: 164.312(b) audit controls (failures of the audit trail itself are distinguishable by code
 * and can be alerted on without leaking PHI).
 *
 * @module
 */
import { SafeguardsError } from '@safeguards/core'

/** Error codes raised by `@safeguards/audit-log-postgres`. Stable: match on these, never on messages. */
export type AuditPgErrorCode =
  | 'ERR_AUDIT_PG_MIGRATION'
  | 'ERR_AUDIT_PG_CONFLICT'
  | 'ERR_AUDIT_PG_DATABASE'
  | 'ERR_AUDIT_PG_CORRUPT'
  | 'ERR_AUDIT_PG_CLOSED'

/**
 * The database schema cannot be migrated safely: an applied migration's checksum differs from the
 * one this version ships (someone edited the schema history), or the database is at a newer schema
 * version than this package knows.
 *
 * @example
 * ```ts
 * try { await migrate(pool, { schema: 'audit' }) }
 * catch (e) { if (isSafeguardsError(e, 'ERR_AUDIT_PG_MIGRATION')) alertOps(e.code) }
 * ```
 */
export class AuditPgMigrationError extends SafeguardsError<'ERR_AUDIT_PG_MIGRATION'> {
  /** @param message - names the schema and migration version, nothing else. */
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_AUDIT_PG_MIGRATION', message, options)
  }
}

/**
 * An append could not be committed after the configured number of retries because other writers
 * kept winning the race for the stream head (SQLSTATE 23505, 40001 or 40P01 each time). Nothing was
 * written by the failed attempt; the caller may retry.
 *
 * @example
 * ```ts
 * await store.append(stream, build) // throws AuditPgConflictError after `maxRetries` lost races
 * ```
 */
export class AuditPgConflictError extends SafeguardsError<'ERR_AUDIT_PG_CONFLICT'> {
  /** How many attempts were made. */
  readonly attempts: number
  /** @param attempts - how many attempts were made. */
  constructor(attempts: number, options?: { cause?: unknown }) {
    super('ERR_AUDIT_PG_CONFLICT', `append lost the race for the stream head ${attempts} times`, options)
    this.attempts = attempts
  }
}

/**
 * PostgreSQL refused an operation. The message gives the SQLSTATE only (for example `42501`
 * insufficient privilege, `SGA01` append-only violation, `SGA02` broken chain link); the
 * driver's error, which may quote values, is kept as `cause` for debugging and never serialised.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof AuditPgDatabaseError && e.sqlState === '42501') … }
 * ```
 */
export class AuditPgDatabaseError extends SafeguardsError<'ERR_AUDIT_PG_DATABASE'> {
  /** The SQLSTATE, or `'?????'` when the failure was not a server error (connection lost…). */
  readonly sqlState: string
  /** @param operation - what was being done; @param sqlState - the five-character SQLSTATE. */
  constructor(operation: string, sqlState: string, options?: { cause?: unknown }) {
    super('ERR_AUDIT_PG_DATABASE', `${operation} failed (SQLSTATE ${sqlState})`, options)
    this.sqlState = sqlState
  }
}

/**
 * A row read from the database does not have the shape this package writes (a hash of the wrong
 * length, a sequence number that is not a safe integer, rows out of order). Someone wrote to the
 * tables bypassing the store; run the verifier.
 *
 * @example
 * ```ts
 * for await (const row of store.read(stream)) … // throws AuditPgCorruptError on a malformed row
 * ```
 */
export class AuditPgCorruptError extends SafeguardsError<'ERR_AUDIT_PG_CORRUPT'> {
  /** @param message - names the stream position, never the row's content. */
  constructor(message: string) {
    super('ERR_AUDIT_PG_CORRUPT', message)
  }
}

/**
 * The store was used after `close()`.
 *
 * @example
 * ```ts
 * await store.close(); await store.append(…) // throws AuditPgClosedError
 * ```
 */
export class AuditPgClosedError extends SafeguardsError<'ERR_AUDIT_PG_CLOSED'> {
  constructor() {
    super('ERR_AUDIT_PG_CLOSED', 'the PostgreSQL audit store is closed')
  }
}
