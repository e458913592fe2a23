/**
 * The `@safeguards/envelope` {@link SubjectKeyStore} on PostgreSQL: one table of wrapped subject
 * keys and tombstones, shared by every application instance, for crypto-shredding at scale.
 *
 * Concurrency: every operation is one autocommit statement on the row's primary key.
 * - `create`: `INSERT … ON CONFLICT (ref) DO NOTHING RETURNING`; when another writer's row won
 *   (committed first, or a tombstone), a second statement reads it, so both get the winner's key.
 * - `shred`: `INSERT … (tombstone) ON CONFLICT (ref) DO UPDATE … WHERE state = 'active'`: an
 *   active row becomes a tombstone (its wrapped key set to NULL), a missing row becomes one, an
 *   existing tombstone is left alone. A shred and a create of the same reference serialise on the
 *   row: whichever commits first, the row ends a tombstone and no create afterwards succeeds.
 * - The table refuses DELETE, TRUNCATE and any change to a tombstone (triggers, SQLSTATE `SGE01`,
 *   `SGE02`), so not even the owner's mistake brings a key back.
 *
 * Durability: a shred resolves after COMMIT; a pool this module creates forces
 * `synchronous_commit=on`, and a pool you pass in is refused when it is `off`. The old row
 * version (with the wrapped key) stays in the table's dead tuples until VACUUM and in WAL and
 * backups: it is wrapped under the KEK, so rotate the KEK (`rewrapSubjectKeys`) and destroy the old
 * version to make those copies unreadable; run `VACUUM` on the table to drop the dead tuples early.
 *
 * HIPAA: 164.310(d)(2)(i) disposal; 164.312(a)(2)(iv) encryption (keys stored wrapped only).
 *
 * @module
 */
import type { ShredOutcome, SubjectKeyRecord, SubjectKeyStore, WrappedSubjectKey } from '@safeguards/envelope'
import { assertSubjectRef } from '@safeguards/envelope'
import pg from 'pg'
import { DEFAULT_SCHEMA, dbError, quoteIdentifier } from './internal/sql.js'
import { SubjectKeyTable } from './internal/subject-key-table.js'

/** Options of {@link openPostgresSubjectKeyStore}: a pool, or a connection string to create one. */
export interface PostgresSubjectKeyStoreOptions {
  /** A pool to use (not closed by `close`). Give `pool` or `connectionString`. */
  pool?: pg.Pool
  /** A connection string; the store creates (and `close` ends) its own pool. */
  connectionString?: string
  /** The migrated schema (default `safeguards_envelope`). */
  schema?: string
  /** Connections in a pool the store creates (default 4). */
  maxConnections?: number
}

/** A subject-key store on PostgreSQL. */
export interface PostgresSubjectKeyStore extends SubjectKeyStore {
  /** The schema it uses. */
  readonly schema: string
  /** Ends the pool when the store created it. */
  close(): Promise<void>
}

/** Rows per statement in `createMany`. */
const BATCH = 5000

function checkTime(at: number): void {
  if (!Number.isSafeInteger(at) || at < 0) throw new RangeError('"at" expected ms since the epoch')
}

/**
 * Opens the subject-key store in a migrated schema (run `migrateSubjectKeys` first).
 *
 * HIPAA: 164.310(d)(2)(i) disposal (durable tombstones shared by every instance);
 * 164.312(a)(2)(iv) encryption (subject keys stored wrapped under the KEK).
 *
 * @hipaa 164.310(d)(2)(i) supports
 * @hipaa 164.312(a)(2)(iv) supports
 * @nist MP-6 164.310(d)(2)(i): shredding replaces the wrapped subject key with a tombstone in one committed statement; triggers refuse deletes and changes to tombstones
 * @nist SC-12 164.312(a)(2)(iv): subject keys shared by every instance, created once (insert-if-absent) and wrapped under the KEK
 * @evidence subject_key rows: state, created_at and shredded_at per opaque reference (no subject ids, no key material in the clear)
 * @appResponsibility Keep synchronous_commit on; restrict the table to the application role; VACUUM after shredding, and rotate and destroy the old KEK version so WAL and backups cannot yield a shredded key.
 * @config pool or connection string, schema
 * @verifiedBy packages/envelope-postgres/test/shred.test.ts
 * @throws {EnvelopePgMigrationError} when the schema is not migrated or is newer than this package.
 * @throws {SubjectKeyPgStoreError} when PostgreSQL refuses or `synchronous_commit` is off.
 * @example
 * ```ts
 * import { createSubjectKeys, LocalKeyring } from '@safeguards/envelope'
 * import { openPostgresSubjectKeyStore } from '@safeguards/envelope-postgres'
 *
 * const store = await openPostgresSubjectKeyStore({ connectionString: process.env.DATABASE_URL })
 * const subjects = createSubjectKeys({ kek: await LocalKeyring.open('/var/lib/app/keyring.json'), store })
 * ```
 */
export async function openPostgresSubjectKeyStore(
  options: PostgresSubjectKeyStoreOptions,
): Promise<PostgresSubjectKeyStore> {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" expected an object')
  const name = options.schema ?? DEFAULT_SCHEMA
  const schema = quoteIdentifier(name, 'schema')
  const own = options.pool === undefined
  if (own && typeof options.connectionString !== 'string')
    throw new TypeError('"pool" or "connectionString" is required')
  const pool =
    options.pool ??
    new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 4,
      options: '-c synchronous_commit=on',
    })
  const table = new SubjectKeyTable(pool, schema)
  try {
    await table.checkOpen(name)
  } catch (e) {
    if (own) await pool.end().catch(() => undefined)
    throw e
  }
  return {
    schema: name,
    async get(ref) {
      assertSubjectRef(ref)
      return (await table.getMany([ref]))[0]
    },
    async create(ref, wrapped, at) {
      checkEntry(ref, wrapped)
      checkTime(at)
      const [rec] = await table.insertMany([{ ref, wrapped }], at)
      if (rec === undefined) throw dbError('create', { code: 'P0002' })
      return rec
    },
    async createMany(entries, at) {
      checkTime(at)
      for (const e of entries) checkEntry(e.ref, e.wrapped)
      const out: SubjectKeyRecord[] = []
      for (let i = 0; i < entries.length; i += BATCH)
        out.push(...(await table.insertMany(entries.slice(i, i + BATCH), at)))
      return out
    },
    async shred(ref, at): Promise<ShredOutcome> {
      assertSubjectRef(ref)
      checkTime(at)
      return table.shred(ref, at)
    },
    async listActive(after, limit) {
      if (!Number.isSafeInteger(limit) || limit < 1)
        throw new RangeError('"limit" expected a positive integer')
      return table.listActive(after, limit)
    },
    async replaceWrapped(ref, expected, next) {
      checkEntry(ref, expected)
      checkEntry(ref, next)
      return table.replaceWrapped(ref, expected, next)
    },
    async close() {
      if (own) await pool.end()
    },
  }
}

function checkEntry(ref: string, w: WrappedSubjectKey): void {
  assertSubjectRef(ref)
  if (typeof w?.providerId !== 'string' || typeof w.keyRef !== 'string' || !(w.edk instanceof Uint8Array))
    throw new TypeError('"wrapped" expected { providerId, keyRef, edk }')
}
