/**
 * Versioned, idempotent migrations of the PostgreSQL subject-key store, run by
 * {@link migrateSubjectKeys} and recorded in `<schema>.envelope_schema_migrations` (version, name,
 * SHA-256 of the SQL, who and when). Each run is one transaction under a transaction-level
 * advisory lock, so concurrent deployments serialise and a failed migration leaves nothing behind.
 * The schema is described on `V1` (`src/internal/sql.ts`) and in the README.
 *
 * HIPAA: 164.316(b)(1) documentation (the schema history is recorded); 164.310(d)(2)(i) disposal
 * (the table refuses deletes and changes to tombstones).
 *
 * @module
 */
import { bytesToHex, sha256, utf8Encode } from '@safeguards/core'
import type pg from 'pg'
import { EnvelopePgMigrationError } from './errors.js'
import { DEFAULT_SCHEMA, dbError, quoteIdentifier, V1 } from './internal/sql.js'

/** The schema version this package writes and reads. */
export const SUBJECT_KEY_SCHEMA_VERSION = 1

/** Options of {@link migrateSubjectKeys}. */
export interface MigrateSubjectKeysOptions {
  /** The schema to create or upgrade (default `safeguards_envelope`). */
  schema?: string
}

/** What {@link migrateSubjectKeys} did. */
export interface MigrateSubjectKeysResult {
  /** The version before (0: nothing there). */
  from: number
  /** The version after. */
  to: number
}

const MIGRATIONS = [{ version: 1, name: 'subject keys and tombstones', sql: V1 }] as const

function checksum(m: { version: number; name: string; sql: string }): string {
  return bytesToHex(sha256(utf8Encode(`${m.version}\n${m.name}\n${m.sql}`)))
}

/**
 * Creates or upgrades the subject-key tables in `schema`: idempotent, safe to run from several
 * deployments at once (an advisory lock serialises them), each run one transaction.
 *
 * HIPAA: 164.316(b)(1) documentation (applied versions are recorded with their checksums).
 *
 * @throws {EnvelopePgMigrationError} when an applied migration's checksum differs or the database
 *   is at a newer version than this package.
 * @throws {SubjectKeyPgStoreError} when PostgreSQL refuses (for example, no CREATE privilege).
 * @example
 * ```ts
 * import pg from 'pg'
 * import { migrateSubjectKeys } from '@safeguards/envelope-postgres'
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * await migrateSubjectKeys(pool, { schema: 'safeguards_envelope' })
 * ```
 */
export async function migrateSubjectKeys(
  db: pg.Pool,
  options: MigrateSubjectKeysOptions = {},
): Promise<MigrateSubjectKeysResult> {
  const name = options.schema ?? DEFAULT_SCHEMA
  const schema = quoteIdentifier(name, 'schema')
  const client = await db.connect()
  try {
    await client.query('BEGIN')
    try {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`safeguards_envelope:${name}`])
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
      await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.envelope_schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(), applied_by text NOT NULL DEFAULT current_user)`)
      const applied = await client.query<{ version: number; sha256: string }>(
        `SELECT version, sha256 FROM ${schema}.envelope_schema_migrations ORDER BY version`,
      )
      const from = applied.rows.reduce((v, r) => Math.max(v, r.version), 0)
      if (from > SUBJECT_KEY_SCHEMA_VERSION)
        throw new EnvelopePgMigrationError(
          `schema ${name} is at version ${from}, newer than this package knows`,
        )
      for (const m of MIGRATIONS) {
        const row = applied.rows.find((r) => r.version === m.version)
        if (row !== undefined) {
          if (row.sha256 !== checksum(m))
            throw new EnvelopePgMigrationError(
              `schema ${name}: migration ${m.version} differs from the one applied`,
            )
          continue
        }
        await client.query(m.sql.replaceAll('{{schema}}', schema))
        await client.query(
          `INSERT INTO ${schema}.envelope_schema_migrations (version, name, sha256) VALUES ($1, $2, $3)`,
          [m.version, m.name, checksum(m)],
        )
      }
      await client.query('COMMIT')
      return { from, to: SUBJECT_KEY_SCHEMA_VERSION }
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw e
    }
  } catch (e) {
    if (e instanceof EnvelopePgMigrationError) throw e
    throw dbError('migrate', e)
  } finally {
    client.release()
  }
}

/** The applied version of `schema` (0 when not migrated). @internal */
export async function schemaVersion(db: pg.Pool, schema: string): Promise<number> {
  const reg = await db.query<{ t: string | null }>(`SELECT to_regclass($1) AS t`, [
    `${schema}.envelope_schema_migrations`,
  ])
  if (reg.rows[0]?.t == null) return 0
  const r = await db.query<{ v: number | null }>(
    `SELECT max(version) AS v FROM ${schema}.envelope_schema_migrations`,
  )
  return r.rows[0]?.v ?? 0
}
