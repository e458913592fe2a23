/**
 * Patients with an encrypted SSN in PostgreSQL, found by SSN through a blind index.
 *
 * Table: `id bigint primary key, ssn_ct bytea` (an envelope bound to table, column and row id)
 * and `ssn_bidx text` (the blind index, hex) with a btree index on it. A lookup asks the database
 * for the rows whose `ssn_bidx` is one of the lookup values (candidates), decrypts each candidate
 * and keeps those whose SSN really matches: the blind index narrows the search, the comparison of
 * plaintexts decides it, so the false candidates that truncation adds are harmless.
 *
 * During a rotation (a new root key, another width) the column holds values of either index:
 * writes use the current one, lookups ask for the values of both (`blindIndexes(new, old)`), and
 * {@link reindexPatients} moves rows to the current index in batches.
 */
import { timingSafeEqual, utf8Decode, utf8Encode } from '@safeguards/core'
import {
  type BlindIndex,
  type BlindIndexSet,
  blindIndexes,
  type Envelope,
  normalizeSsn,
} from '@safeguards/envelope'
import type pg from 'pg'

/** What the functions below need: a pool, the table, the envelope and the SSN index(es). */
export interface PatientStore {
  /** A pg pool (or client) on the database holding the table. */
  db: pg.Pool | pg.PoolClient | pg.Client
  /** The table name: a plain lower-case SQL identifier (checked). */
  table: string
  /** Encrypts and decrypts the SSN column. */
  envelope: Envelope
  /** The SSN blind index, or a set of indexes during a rotation (writes use `current`). */
  ssnIndex: BlindIndex<string> | BlindIndexSet<string>
}

/** A patient to insert. */
export interface NewPatient {
  id: number
  ssn: string
}

/** The result of {@link findPatientsBySsn}. */
export interface SsnLookup {
  /** Ids of the rows whose decrypted SSN equals the one searched. */
  ids: number[]
  /** How many rows the blind index returned (matches and false candidates), all decrypted. */
  candidates: number
}

function ident(table: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(table))
    throw new RangeError('"table" expected a lower-case SQL identifier')
  return table
}

function indexSet(index: BlindIndex<string> | BlindIndexSet<string>): BlindIndexSet<string> {
  return 'indexes' in index ? index : blindIndexes(index)
}

/** The encryption context of one SSN: the ciphertext cannot be moved to another row or column. */
export function ssnContext(table: string, id: number | string): Record<string, string> {
  return { table, column: 'ssn', row: String(id) }
}

/**
 * Creates the table and the btree index on the blind-index column.
 *
 * @param withIndex - create the btree now (true) or later with {@link createSsnIndex} (bulk loads).
 */
export async function createPatientTable(
  store: Pick<PatientStore, 'db' | 'table'>,
  withIndex = true,
): Promise<void> {
  const t = ident(store.table)
  await store.db.query(
    `CREATE TABLE ${t} (id bigint PRIMARY KEY, ssn_ct bytea NOT NULL, ssn_bidx text COLLATE "C" NOT NULL)`,
  )
  if (withIndex) await createSsnIndex(store)
}

/** Creates the btree index on `ssn_bidx` (after a bulk load it is faster than indexing row by row). */
export async function createSsnIndex(store: Pick<PatientStore, 'db' | 'table'>): Promise<void> {
  const t = ident(store.table)
  await store.db.query(`CREATE INDEX IF NOT EXISTS ${t}_ssn_bidx ON ${t} USING btree (ssn_bidx)`)
}

/**
 * Inserts patients in batches: encrypts each SSN under its row context and stores the current
 * blind index beside it. Refuses (BlindIndexInputError) an SSN that is not nine digits before
 * writing anything of its batch.
 */
export async function insertPatients(
  store: PatientStore,
  patients: readonly NewPatient[],
  batch = 5000,
): Promise<void> {
  const t = ident(store.table)
  const index = indexSet(store.ssnIndex).current
  for (let at = 0; at < patients.length; at += batch) {
    const slice = patients.slice(at, at + batch)
    const bidx = slice.map((p) => index.compute(p.ssn))
    const cts = await Promise.all(
      slice.map((p) => store.envelope.encrypt(utf8Encode(normalizeSsn(p.ssn)), ssnContext(t, p.id))),
    )
    await store.db.query(
      `INSERT INTO ${t} (id, ssn_ct, ssn_bidx) SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::text[])`,
      [slice.map((p) => p.id), cts.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)), bidx],
    )
  }
}

/**
 * Finds the patients with this SSN: the rows whose blind index is among the lookup values
 * (of every index during a rotation), decrypted and compared in constant time.
 *
 * @throws {BlindIndexInputError} when `ssn` is not nine digits.
 */
export async function findPatientsBySsn(store: PatientStore, ssn: string): Promise<SsnLookup> {
  const t = ident(store.table)
  const wanted = utf8Encode(normalizeSsn(ssn))
  const values = indexSet(store.ssnIndex).lookup(ssn)
  const { rows } = await store.db.query<{ id: string; ssn_ct: Uint8Array }>(
    `SELECT id, ssn_ct FROM ${t} WHERE ssn_bidx = ANY($1::text[])`,
    [values],
  )
  const ids: number[] = []
  for (const row of rows) {
    const plain = await store.envelope.decrypt(row.ssn_ct, ssnContext(t, row.id))
    if (plain.length === wanted.length && timingSafeEqual(plain, wanted)) ids.push(Number(row.id))
  }
  return { ids: ids.sort((a, b) => a - b), candidates: rows.length }
}

/**
 * Rewrites `ssn_bidx` under the current index for rows `id > after`, `limit` rows at a time, by
 * decrypting each SSN: the migration step of a rotation (and how an index is added to a table
 * that has only ciphertexts). Idempotent; returns the last id done, or undefined when none was left.
 */
export async function reindexPatients(
  store: PatientStore,
  after = -1,
  limit = 5000,
): Promise<number | undefined> {
  const t = ident(store.table)
  const index = indexSet(store.ssnIndex).current
  const { rows } = await store.db.query<{ id: string; ssn_ct: Uint8Array }>(
    `SELECT id, ssn_ct FROM ${t} WHERE id > $1 ORDER BY id LIMIT $2`,
    [after, limit],
  )
  if (rows.length === 0) return undefined
  const bidx = await Promise.all(
    rows.map(async (row) =>
      index.compute(utf8Decode(await store.envelope.decrypt(row.ssn_ct, ssnContext(t, row.id)))),
    ),
  )
  await store.db.query(
    `UPDATE ${t} AS p SET ssn_bidx = v.bidx FROM unnest($1::bigint[], $2::text[]) AS v(id, bidx) WHERE p.id = v.id`,
    [rows.map((r) => r.id), bidx],
  )
  return Number(rows[rows.length - 1]?.id)
}
