/**
 * Versioned, idempotent schema migrations for the PostgreSQL audit store, run by {@link migrate}
 * and recorded in `<schema>.audit_schema_migrations` (version, name, SHA-256 of the SQL, who and
 * when). Each migration runs in one transaction (PostgreSQL DDL is transactional) under a
 * transaction-level advisory lock, so concurrent deployments serialise and a failed migration
 * leaves nothing behind.
 *
 * Schema (version 1; version 2 rewrites the link trigger's query, same rule; version 3 adds the lock
 * table and bounds lock waits; version 4 adds the query keys; version 5 adds group commit and
 * compares the key table's text bytewise):
 * - `audit_stream (stream PK, created_at)`: one row per stream, written once.
 * - `audit_entry (stream, seq, prev_hash, entry_hash, body)`: `PRIMARY KEY (stream, seq)`,
 *   `UNIQUE (stream, prev_hash)`, `CHECK (entry_hash = sha256('\x00' || body))`; `body` holds the
 *   record's exact canonical bytes. An AFTER INSERT trigger refuses a row whose `prev_hash` is not
 *   the `entry_hash` of `seq - 1`, or a record 0 of an unregistered stream (SQLSTATE `SGA02`), so
 *   the database itself refuses forks and gaps.
 * - `audit_checkpoint (stream, idx, size, body)`: `PRIMARY KEY (stream, idx)`, the exact JWS bytes;
 *   contiguous `idx`, non-decreasing `size`.
 * - Statement triggers on every table refuse UPDATE, DELETE and TRUNCATE (SQLSTATE `SGA01`) for
 *   every role, the owner included.
 * - `audit_stream_lock (stream, scope)`: rows `entries` and `checkpoints` per stream, added by a
 *   trigger when the stream is registered. Writers lock them `FOR UPDATE`, which needs the `UPDATE`
 *   privilege only writer roles hold (the append-only trigger refuses an actual UPDATE).
 * - `audit_entry_key (stream, kind, value, seq)` (version 4): the keys queries narrow by, `p` for the
 *   event's patient and `a` for each agent's `who`, filled by an AFTER INSERT trigger in the append's
 *   transaction (SECURITY DEFINER: writers hold only SELECT on it); its primary key is the index.
 * - `audit_append_events(stream, known, known_hash, events, recorded, lock_timeout_ms)` (version 4):
 *   the log's append: under the stream's lock, in one statement, builds the records from the events
 *   exactly as the log does, inserts them and returns the entry hashes the writer had not seen and
 *   the new ones (no round trip while the lock is held, never a refusal for a moved head).
 * - `audit_append_queued(...)` (version 5, a procedure): the log's append with group commit. The
 *   writer alone (gate free, nothing queued) appends at once under the gate; otherwise it
 *   queues its batch in the UNLOGGED `audit_append_queue` and commits; whoever holds the
 *   stream's gate (a row of the UNLOGGED `audit_stream_gate`, locked `FOR UPDATE`) sequences every
 *   queued batch of the stream in one transaction under the stream's lock row, so N writers cost
 *   one lock turn and one WAL flush per round instead of one per batch; each writer reads its
 *   records' hashes once their batch is committed. Writer roles hold only EXECUTE on it and its
 *   SECURITY DEFINER steps, nothing on the two unlogged tables.
 * - `audit_append(...)` and `audit_append_checkpoint(...)`: conditional appends under the stream's
 *   lock row, every lock wait bounded by their last argument (`lock_timeout` for their own
 *   transaction; SQLSTATE `55P03` past it). Versions 1 and 2 used a transaction-level advisory lock,
 *   which any role could take (see the README).
 *
 * HIPAA: 164.312(b) audit controls, including the trail's integrity (append-only tables);
 * 164.316(b)(1) documentation (the schema history is itself recorded).
 *
 * @module
 */
import { bytesToHex, sha256, utf8Encode } from '@safeguards/core'
import { AuditPgMigrationError } from './errors.js'
import { dbError, inTransaction, type Queryable, withConnection } from './internal/db.js'
import { DEFAULT_SCHEMA, quoteIdentifier } from './internal/identifiers.js'
import { V1, V2, V3, V4, V5 } from './internal/migration-sql.js'

/** One schema migration. `sql` uses `{{schema}}` where the quoted schema name goes. */
export interface Migration {
  /** Version number: 1, 2, 3… applied in order, never reused. */
  readonly version: number
  /** Short description, recorded with the version. */
  readonly name: string
  /** The SQL, with `{{schema}}` standing for the quoted schema name. */
  readonly sql: string
}

/**
 * Every migration this version ships, in order (for review, or to apply through your own migration
 * tool: record `version` and `sha256(version \n name \n sql)` as {@link migrate} does).
 *
 * HIPAA: 164.316(b)(1) documentation (the schema is reviewable as data).
 *
 * @example
 * ```ts
 * for (const m of migrations) console.log(m.version, m.name)
 * ```
 */
export const migrations: readonly Migration[] = Object.freeze([
  Object.freeze({ version: 1, name: 'audit streams, entries, checkpoints; append-only triggers', sql: V1 }),
  Object.freeze({ version: 2, name: 'chain-link trigger in one pass over the inserted rows', sql: V2 }),
  Object.freeze({
    version: 3,
    name: 'writers lock a row only writer roles may lock; bounded lock waits',
    sql: V3,
  }),
  Object.freeze({
    version: 4,
    name: 'query keys (patient, agent) kept by a trigger in the append transaction, existing rows keyed; server-built appends',
    sql: V4,
  }),
  Object.freeze({
    version: 5,
    name: 'group commit: queued server-built appends, drained by whoever holds the stream gate; key table compared bytewise',
    sql: V5,
  }),
])

/**
 * The schema version this package writes and reads; `openPostgresStore` refuses any other.
 *
 * @example
 * ```ts
 * const { version } = await migrate(pool); console.assert(version === SCHEMA_VERSION)
 * ```
 */
export const SCHEMA_VERSION: number = migrations.length

/** Options for {@link migrate}. */
export interface MigrateOptions {
  /** Schema that holds the audit tables (default `safeguards_audit`); a lower-case SQL identifier. */
  schema?: string
}

/** What {@link migrate} did. */
export interface MigrateResult {
  /** The schema migrated. */
  schema: string
  /** Versions applied by this call, in order (empty when the schema was already current). */
  applied: number[]
  /** The schema version now in the database. */
  version: number
}

function checksum(migration: Migration): string {
  return bytesToHex(sha256(utf8Encode(`${migration.version}\n${migration.name}\n${migration.sql}`)))
}

function render(sql: string, schema: string): string {
  const quoted = quoteIdentifier(schema, 'schema')
  // The schema name matches ^[a-z_][a-z0-9_]*$, so it is safe inside a single-quoted literal too.
  return sql.replaceAll('{{schema}}', quoted).replaceAll('{{schema_literal}}', `'${schema}'`)
}

/**
 * Creates or upgrades the audit schema. Idempotent: a second run applies nothing. Safe to run from
 * several processes at once (they serialise on an advisory lock). Needs a role that may create the
 * schema (or owns it); the application's role should NOT be that role (see {@link grantAppRole}).
 *
 * HIPAA: 164.312(b) audit controls (the tables that hold the trail); 164.316(b)(1) documentation
 * (each applied version is recorded with its checksum, role and time).
 *
 * @param db - a `pg.Pool` or a connected client.
 * @param options - `schema` (default `safeguards_audit`).
 * @throws {RangeError} when `schema` is not a lower-case SQL identifier.
 * @throws {AuditPgMigrationError} (code `ERR_AUDIT_PG_MIGRATION`) when an applied migration's checksum
 *   differs from the shipped one, or the database is newer than this package.
 * @throws {AuditPgStoreError} (code `ERR_AUDIT_STORE`) when PostgreSQL refuses (SQLSTATE only).
 * @example
 * ```ts
 * import pg from 'pg'
 * import { migrate } from '@safeguards/audit-log-postgres'
 *
 * const pool = new pg.Pool({ connectionString: process.env.MIGRATION_DATABASE_URL })
 * const { applied, version } = await migrate(pool, { schema: 'audit' })
 * ```
 */
export async function migrate(db: Queryable, options: MigrateOptions = {}): Promise<MigrateResult> {
  return migrateTo(db, options.schema ?? DEFAULT_SCHEMA, SCHEMA_VERSION)
}

/**
 * {@link migrate}, stopping at version `target` (tests build a deployment of an older version with it,
 * then upgrade it). Not part of the package's exports.
 *
 * @internal
 */
export async function migrateTo(db: Queryable, schema: string, target: number): Promise<MigrateResult> {
  const q = quoteIdentifier(schema, 'schema')
  return withConnection(db, async (client) => {
    try {
      return await inTransaction(client, async () => {
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
          `safeguards-audit-migrate:${schema}`,
        ])
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${q}`)
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${q}.audit_schema_migrations (
             version    integer     PRIMARY KEY CHECK (version >= 1),
             name       text        NOT NULL,
             checksum   text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
             applied_by text        NOT NULL DEFAULT current_user,
             applied_at timestamptz NOT NULL DEFAULT statement_timestamp()
           )`,
        )
        const { rows } = await client.query<{ version: number; checksum: string }>(
          `SELECT version, checksum FROM ${q}.audit_schema_migrations ORDER BY version`,
        )
        const done = new Map(rows.map((r) => [r.version, r.checksum]))
        for (const [version] of done) {
          if (version > SCHEMA_VERSION) {
            throw new AuditPgMigrationError(
              `schema ${schema} is at version ${version}, newer than this package (${SCHEMA_VERSION})`,
            )
          }
        }
        const applied: number[] = []
        for (const migration of migrations) {
          if (migration.version > target) break
          const sum = checksum(migration)
          const recorded = done.get(migration.version)
          if (recorded !== undefined) {
            if (recorded !== sum) {
              throw new AuditPgMigrationError(
                `schema ${schema}: migration ${migration.version} was applied with different SQL (checksum mismatch)`,
              )
            }
            continue
          }
          await client.query(render(migration.sql, schema))
          await client.query(
            `INSERT INTO ${q}.audit_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`,
            [migration.version, migration.name, sum],
          )
          applied.push(migration.version)
        }
        return { schema, applied, version: Math.max(target, ...done.keys()) }
      })
    } catch (error) {
      if (error instanceof AuditPgMigrationError) throw error
      throw dbError(`migrating schema ${schema}`, error)
    }
  })
}
