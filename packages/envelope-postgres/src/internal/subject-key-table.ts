/**
 * The `subject_key` table: its statements (insert-if-absent, shred to a tombstone, compare-and-set
 * rewrap, pages of active rows) and the row-to-record mapping. Arguments are checked by the store
 * in `store.ts`; every PostgreSQL failure becomes `SubjectKeyPgStoreError` (through `dbError`).
 *
 * HIPAA: 164.310(d)(2)(i) disposal (durable tombstones); 164.312(a)(2)(iv) encryption.
 *
 * @module
 */
import type { NewSubjectKey, ShredOutcome, SubjectKeyRecord, WrappedSubjectKey } from '@safeguards/envelope'
import type pg from 'pg'
import { EnvelopePgMigrationError } from '../errors.js'
import { SUBJECT_KEY_SCHEMA_VERSION, schemaVersion } from '../migrations.js'
import { dbError } from './sql.js'

interface Row {
  ref: string
  state: 'active' | 'shredded'
  kek_provider: string | null
  kek_key_ref: string | null
  edk: Uint8Array | null
  created_at: string
  shredded_at: string | null
}

const COLUMNS = 'ref, state, kek_provider, kek_key_ref, edk, created_at, shredded_at'

function toRecord(r: Row): SubjectKeyRecord {
  const createdAt = Number(r.created_at)
  if (r.state === 'active' && r.kek_provider !== null && r.kek_key_ref !== null && r.edk !== null) {
    const edk = new Uint8Array(r.edk.byteLength)
    edk.set(r.edk)
    return {
      ref: r.ref,
      state: 'active',
      wrapped: { providerId: r.kek_provider, keyRef: r.kek_key_ref, edk },
      createdAt,
    }
  }
  return { ref: r.ref, state: 'shredded', createdAt, shreddedAt: Number(r.shredded_at) }
}

/** The statements on one schema's `subject_key` table. */
export class SubjectKeyTable {
  readonly #pool: pg.Pool
  readonly #schema: string
  readonly #table: string

  /** `schema`: the quoted schema name. */
  constructor(pool: pg.Pool, schema: string) {
    this.#pool = pool
    this.#schema = schema
    this.#table = `${schema}.subject_key`
  }

  async #q<R extends pg.QueryResultRow>(op: string, sql: string, params: unknown[]): Promise<R[]> {
    try {
      return (await this.#pool.query<R>(sql, params)).rows
    } catch (e) {
      throw dbError(op, e)
    }
  }

  /** Refuses a schema at another version, and a session whose commits would not be durable. */
  async checkOpen(name: string): Promise<void> {
    const version = await schemaVersion(this.#pool, this.#schema).catch((e: unknown) => {
      throw dbError('open', e)
    })
    if (version !== SUBJECT_KEY_SCHEMA_VERSION)
      throw new EnvelopePgMigrationError(
        version === 0
          ? `schema ${name} is not migrated: run migrateSubjectKeys first`
          : `schema ${name} is at version ${version}; this package reads ${SUBJECT_KEY_SCHEMA_VERSION}`,
      )
    const sync = await this.#q<{ synchronous_commit: string }>('open', 'SHOW synchronous_commit', [])
    if (sync[0]?.synchronous_commit === 'off')
      throw dbError('open (synchronous_commit is off: shreds would not be durable)', { code: '55000' })
  }

  /** The records of `refs` that exist. */
  async getMany(refs: readonly string[]): Promise<SubjectKeyRecord[]> {
    const rows = await this.#q<Row>(
      'get',
      `SELECT ${COLUMNS} FROM ${this.#table} WHERE ref = ANY($1::text[])`,
      [refs],
    )
    return rows.map(toRecord)
  }

  /** Inserts the entries that are absent; returns every entry's record (the winner's where another came first). */
  async insertMany(entries: readonly NewSubjectKey[], at: number): Promise<SubjectKeyRecord[]> {
    const rows = await this.#q<Row>(
      'create',
      `INSERT INTO ${this.#table} (ref, state, kek_provider, kek_key_ref, edk, created_at)
       SELECT r, 'active', p, k, e, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) AS u(r, p, k, e)
       ON CONFLICT (ref) DO NOTHING RETURNING ${COLUMNS}`,
      [
        entries.map((e) => e.ref),
        entries.map((e) => e.wrapped.providerId),
        entries.map((e) => e.wrapped.keyRef),
        entries.map((e) => e.wrapped.edk),
        at,
      ],
    )
    const out = rows.map(toRecord)
    if (out.length < entries.length) {
      // Rows another writer (or a shred) committed first: read them in a new statement (a new
      // snapshot under READ COMMITTED), so the caller gets the winner's key or the tombstone.
      const mine = new Set(out.map((r) => r.ref))
      out.push(...(await this.getMany(entries.map((e) => e.ref).filter((r) => !mine.has(r)))))
    }
    return out
  }

  /** Turns `ref` into a tombstone (inserting one when there is no row). */
  async shred(ref: string, at: number): Promise<ShredOutcome> {
    const rows = await this.#q<{ inserted: boolean }>(
      'shred',
      `INSERT INTO ${this.#table} AS t (ref, state, created_at, shredded_at) VALUES ($1, 'shredded', $2, $2)
       ON CONFLICT (ref) DO UPDATE
         SET state = 'shredded', kek_provider = NULL, kek_key_ref = NULL, edk = NULL, shredded_at = EXCLUDED.shredded_at
         WHERE t.state = 'active'
       RETURNING (xmax = 0) AS inserted`,
      [ref, at],
    )
    const row = rows[0]
    return row === undefined ? 'already-shredded' : row.inserted ? 'tombstoned' : 'destroyed'
  }

  /** Active records after `after`, by reference, at most `limit`. */
  async listActive(after: string | undefined, limit: number): Promise<SubjectKeyRecord[]> {
    const rows = await this.#q<Row>(
      'listActive',
      `SELECT ${COLUMNS} FROM ${this.#table} WHERE state = 'active' AND ($1::text IS NULL OR ref > $1) ORDER BY ref LIMIT $2`,
      [after ?? null, limit],
    )
    return rows.map(toRecord)
  }

  /** Replaces the wrapped key of an active `ref` if it is still `expected`. */
  async replaceWrapped(ref: string, expected: WrappedSubjectKey, next: WrappedSubjectKey): Promise<boolean> {
    const rows = await this.#q<{ ref: string }>(
      'replaceWrapped',
      `UPDATE ${this.#table} SET kek_provider = $4, kek_key_ref = $5, edk = $6
       WHERE ref = $1 AND state = 'active' AND kek_provider = $2 AND kek_key_ref = $3 AND edk = $7 RETURNING ref`,
      [ref, expected.providerId, expected.keyRef, next.providerId, next.keyRef, next.edk, expected.edk],
    )
    return rows.length === 1
  }
}
