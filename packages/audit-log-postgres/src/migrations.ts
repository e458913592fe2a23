/**
 * Versioned, idempotent schema migrations for the PostgreSQL audit store, run by {@link migrate}
 * and recorded in `<schema>.audit_schema_migrations` (version, name, SHA-256 of the SQL, who and
 * when). Each migration runs in one transaction (PostgreSQL DDL is transactional) under a
 * transaction-level advisory lock, so concurrent deployments serialise and a failed migration
 * leaves nothing behind.
 *
 * Schema (version 1):
 * - `audit_stream (stream PK, genesis, header, created_at)`: one row per stream, written once.
 * - `audit_entry (stream, seq, prev_hash, entry_hash, body)`: `PRIMARY KEY (stream, seq)`,
 *   `UNIQUE (stream, prev_hash)`; `body` holds the record's exact canonical bytes. An AFTER INSERT
 *   trigger refuses a row whose `prev_hash` is not the `entry_hash` of `seq - 1` (or the stream's
 *   genesis for the first record), so the database itself refuses forks and gaps.
 * - `audit_checkpoint (stream, idx, size, root_hash, body)`: `PRIMARY KEY (stream, idx)`, the
 *   exact signed checkpoint bytes.
 * - Triggers on every table refuse UPDATE, DELETE and TRUNCATE (SQLSTATE `SGA01`) for every role,
 *   the owner included.
 * - `audit_lock_stream(stream)`: takes the stream's transaction-level advisory lock and returns the
 *   head seen after the lock was granted.
 *
 * HIPAA: 164.312(b) audit controls; 164.312(c)(1) integrity (append-only tables);
 * 164.316(b)(2) documentation (the schema history is itself recorded).
 *
 * @module
 */
import { bytesToHex, sha256, utf8Encode } from '@safeguards/core'
import { AuditPgMigrationError } from './errors.js'
import { dbError, inTransaction, type Queryable, withConnection } from './internal/db.js'
import { DEFAULT_SCHEMA, quoteIdentifier } from './internal/identifiers.js'

/** One schema migration. `sql` uses `{{schema}}` where the quoted schema name goes. */
export interface Migration {
  /** Version number: 1, 2, 3… applied in order, never reused. */
  readonly version: number
  /** Short description, recorded with the version. */
  readonly name: string
  /** The SQL, with `{{schema}}` standing for the quoted schema name. */
  readonly sql: string
}

const V1 = String.raw`
CREATE FUNCTION {{schema}}.audit_refuse_change() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  RAISE EXCEPTION 'audit table %.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'SGA01';
END
$fn$;

CREATE TABLE {{schema}}.audit_stream (
  stream     text        PRIMARY KEY CHECK (octet_length(stream) BETWEEN 1 AND 256),
  genesis    bytea       NOT NULL CHECK (octet_length(genesis) = 32),
  header     bytea       NULL CHECK (header IS NULL OR octet_length(header) <= 65536),
  created_at timestamptz NOT NULL DEFAULT statement_timestamp()
);

CREATE TABLE {{schema}}.audit_entry (
  stream     text   NOT NULL REFERENCES {{schema}}.audit_stream (stream),
  seq        bigint NOT NULL CHECK (seq >= 0 AND seq <= 9007199254740991),
  prev_hash  bytea  NOT NULL CHECK (octet_length(prev_hash) = 32),
  entry_hash bytea  NOT NULL CHECK (octet_length(entry_hash) = 32),
  body       bytea  NOT NULL CHECK (octet_length(body) BETWEEN 2 AND 1048576),
  PRIMARY KEY (stream, seq),
  CONSTRAINT audit_entry_one_successor UNIQUE (stream, prev_hash)
);

CREATE TABLE {{schema}}.audit_checkpoint (
  stream     text        NOT NULL REFERENCES {{schema}}.audit_stream (stream),
  idx        bigint      NOT NULL CHECK (idx >= 1 AND idx <= 9007199254740991),
  size       bigint      NOT NULL CHECK (size >= 0 AND size <= 9007199254740991),
  root_hash  bytea       NOT NULL CHECK (octet_length(root_hash) = 32),
  body       bytea       NOT NULL CHECK (octet_length(body) BETWEEN 2 AND 262144),
  created_at timestamptz NOT NULL DEFAULT statement_timestamp(),
  PRIMARY KEY (stream, idx)
);

CREATE FUNCTION {{schema}}.audit_entry_link() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  first_seq bigint;
BEGIN
  SELECT min(e.seq) INTO first_seq FROM {{schema}}.audit_entry e WHERE e.stream = NEW.stream;
  IF NEW.seq = first_seq AND NEW.seq = 0 OR NEW.seq = first_seq AND NEW.seq = 1 THEN
    PERFORM 1 FROM {{schema}}.audit_stream s WHERE s.stream = NEW.stream AND s.genesis = NEW.prev_hash;
  ELSE
    PERFORM 1 FROM {{schema}}.audit_entry e
      WHERE e.stream = NEW.stream AND e.seq = NEW.seq - 1 AND e.entry_hash = NEW.prev_hash;
  END IF;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit entry % does not extend the chain of its stream', NEW.seq USING ERRCODE = 'SGA02';
  END IF;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER audit_entry_link AFTER INSERT ON {{schema}}.audit_entry
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.audit_entry_link();

CREATE FUNCTION {{schema}}.audit_checkpoint_link() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  IF NEW.idx > 1 THEN
    PERFORM 1 FROM {{schema}}.audit_checkpoint c WHERE c.stream = NEW.stream AND c.idx = NEW.idx - 1;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'audit checkpoint % does not follow its predecessor', NEW.idx USING ERRCODE = 'SGA02';
    END IF;
  END IF;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER audit_checkpoint_link AFTER INSERT ON {{schema}}.audit_checkpoint
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.audit_checkpoint_link();

CREATE TRIGGER audit_stream_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {{schema}}.audit_stream
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_refuse_change();
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {{schema}}.audit_entry
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_refuse_change();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {{schema}}.audit_checkpoint
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_refuse_change();
CREATE TRIGGER audit_schema_migrations_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
  ON {{schema}}.audit_schema_migrations
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_refuse_change();

-- The writers' mutual exclusion. A plpgsql function runs each statement on a fresh snapshot
-- (READ COMMITTED), so the head query below sees every append committed before the lock was granted.
CREATE FUNCTION {{schema}}.audit_lock_stream(p_stream text)
  RETURNS TABLE (head_seq bigint, head_hash bytea, genesis bytea)
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('safeguards-audit:' || {{schema_literal}} || ':' || p_stream, 0));
  RETURN QUERY
    SELECT e.seq, e.entry_hash, s.genesis
      FROM {{schema}}.audit_stream s
      LEFT JOIN LATERAL (
        SELECT x.seq, x.entry_hash FROM {{schema}}.audit_entry x
         WHERE x.stream = s.stream ORDER BY x.seq DESC LIMIT 1
      ) e ON true
     WHERE s.stream = p_stream;
END
$fn$;

REVOKE ALL ON FUNCTION {{schema}}.audit_lock_stream(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_refuse_change() FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_entry_link() FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_checkpoint_link() FROM PUBLIC;
`

/** Every migration this version ships, in order. */
export const migrations: readonly Migration[] = Object.freeze([
  Object.freeze({ version: 1, name: 'audit streams, entries, checkpoints; append-only triggers', sql: V1 }),
])

/** The schema version this package writes and reads. */
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
 * HIPAA: 164.312(b) audit controls (the tables that hold the trail); 164.316(b)(2) documentation
 * (each applied version is recorded with its checksum, role and time).
 *
 * @param db - a `pg.Pool` or a connected client.
 * @param options - `schema` (default `safeguards_audit`).
 * @throws {RangeError} when `schema` is not a lower-case SQL identifier.
 * @throws {AuditPgMigrationError} (code `ERR_AUDIT_PG_MIGRATION`) when an applied migration's checksum
 *   differs from the shipped one, or the database is newer than this package.
 * @throws {AuditPgDatabaseError} (code `ERR_AUDIT_PG_DATABASE`) when PostgreSQL refuses (SQLSTATE only).
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
  const schema = options.schema ?? DEFAULT_SCHEMA
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
        return { schema, applied, version: SCHEMA_VERSION }
      })
    } catch (error) {
      if (error instanceof AuditPgMigrationError) throw error
      throw dbError(`migrating schema ${schema}`, error)
    }
  })
}
