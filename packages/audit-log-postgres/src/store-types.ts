/**
 * The PostgreSQL store's public types: its options and the store interface (the implementation is
 * `store.ts`).
 *
 * @module
 */
import type {
  AuditStore,
  IndexAnswer,
  IndexProblem,
  IndexQuery,
  ReadOptions,
  StoreHead,
} from '@safeguards/audit-log'
import type pg from 'pg'

/** Options for {@link openPostgresStore}: a `pool` you own, or a `connectionString` for a pool the store owns. */
export interface PostgresStoreOptions {
  /** Stream identifier: 1-128 characters of `[A-Za-z0-9._-]`, starting alphanumeric. */
  stream: string
  /** Schema holding the audit tables (default `safeguards_audit`). */
  schema?: string
  /** A pool to use. The store never ends it. Takes precedence over `connectionString`. */
  pool?: pg.Pool
  /** Connection string for a pool the store creates and ends on `close()`. */
  connectionString?: string
  /** Size of the pool the store creates (default 4). */
  maxConnections?: number
  /** Rows fetched per query by `read` (default 2000). */
  readBatch?: number
  /**
   * Open for reading only (verifiers, exports): the stream must already exist, nothing is written,
   * and `append`/`appendCheckpoint` throw `AuditStoreError`. Default false.
   */
  readOnly?: boolean
  /** Milliseconds to wait for a new connection of the store's own pool (default 10 000). */
  connectTimeoutMs?: number
  /**
   * Longest wait, in milliseconds, for each lock an append takes (default 5000, at most 3 600 000):
   * the stream's lock row, held by another writer's append in flight, or a table lock queued behind
   * the owner's DDL. Past it the append fails with `AuditLockTimeoutError`
   * (`ERR_AUDIT_LOCK_TIMEOUT`) and writes nothing, so request paths that wait on `append` fail
   * closed instead of hanging. Set per append with `SET LOCAL lock_timeout` semantics: it never
   * changes the session of a pool you pass in.
   */
  lockTimeoutMs?: number
  /**
   * Run {@link migrate} before opening (default false). Needs a role allowed to create the schema;
   * applications connecting as the insert-only role leave this off and migrate at deploy time.
   */
  migrate?: boolean
}

/** An {@link AuditStore} on PostgreSQL. */
export interface PostgresAuditStore extends AuditStore {
  /** The schema holding the tables. */
  readonly schema: string
  /**
   * The candidates of a patient or user query from the key table (schema version 4), read in
   * pages in sequence order; complete for the whole snapshot (`through = query.size`).
   */
  queryIndex(query: IndexQuery): Promise<IndexAnswer | undefined>
  /**
   * The key table against the records below `size`, the keys recomputed from the stored bytes
   * (`verifyLog` with `deep: true` reports each disagreement as `INDEX_MISMATCH`).
   */
  checkIndex(size: number, options?: ReadOptions): Promise<readonly IndexProblem[]>
  /**
   * Appends events as the next records, built by the database under the stream's lock; the entry
   * hashes of the records the caller had not seen and of the new ones (the audit log uses it).
   */
  appendEvents(
    known: StoreHead,
    events: readonly string[],
    recorded: string,
  ): Promise<{ missed: Uint8Array[]; hashes: Uint8Array[] }>
}
