/**
 * The PostgreSQL store's checks and conversions: arguments checked before a statement is sent,
 * the schema version checked at open, and rows converted back (bytes copied out of the driver's
 * buffers, integers checked safe).
 *
 * @module
 */
import {
  type AppendRecord,
  AuditCorruptionError,
  type StoredCheckpoint,
  type StoreHead,
} from '@safeguards/audit-log'
import { assertBytes, assertInteger, timingSafeEqual, utf8Decode } from '@safeguards/core'
import type pg from 'pg'
import { AuditPgMigrationError } from '../errors.js'
import { SCHEMA_VERSION } from '../migrations.js'
import { sqlState } from './db.js'

export const toBytes = (value: Uint8Array): Uint8Array => new Uint8Array(value) // copy out of the driver's Buffer

/** Default of {@link PostgresStoreOptions.lockTimeoutMs}; also the SQL default of the append functions. */
export const DEFAULT_LOCK_TIMEOUT_MS = 5000

/** SQLSTATE 55P03 lock_not_available: `lock_timeout` expired while waiting for a lock. */
export const LOCK_NOT_AVAILABLE = '55P03'

export function toSafeInteger(value: string | number, what: string): number {
  const n = typeof value === 'number' ? value : Number(value)
  if (!Number.isSafeInteger(n) || n < 0) throw new AuditCorruptionError(`${what} is not a safe integer`)
  return n
}

export function checkHead(head: unknown, name: string): asserts head is StoreHead {
  if (typeof head !== 'object' || head === null) throw new TypeError(`"${name}" expected a StoreHead`)
  const h = head as StoreHead
  assertInteger(h.size, `${name}.size`, 0)
  assertBytes(h.hash, `${name}.hash`, 32)
}

export function checkRecords(expected: StoreHead, records: readonly AppendRecord[]): void {
  if (!Array.isArray(records)) throw new TypeError('"records" expected an array')
  let prev = expected.hash
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as AppendRecord
    if (typeof r !== 'object' || r === null) throw new TypeError(`"records[${i}]" expected an AppendRecord`)
    assertInteger(r.seq, `records[${i}].seq`, expected.size + i, expected.size + i)
    assertBytes(r.bytes, `records[${i}].bytes`)
    assertBytes(r.hash, `records[${i}].hash`, 32)
    assertBytes(r.prevHash, `records[${i}].prevHash`, 32)
    if (!timingSafeEqual(r.prevHash, prev)) {
      throw new RangeError(`"records[${i}].prevHash" does not continue the chain`)
    }
    prev = r.hash
  }
}

export async function checkSchema(pool: pg.Pool, schema: string, q: string): Promise<void> {
  let version: number
  try {
    const { rows } = await pool.query<{ v: number | null }>(
      `SELECT max(version) AS v FROM ${q}.audit_schema_migrations`,
    )
    version = rows[0]?.v ?? 0
  } catch (error) {
    const state = sqlState(error)
    if (state === '42P01' || state === '3F000') {
      throw new AuditPgMigrationError(`schema ${schema} is not migrated: run migrate() first`, {
        cause: error,
      })
    }
    throw error
  }
  if (version < SCHEMA_VERSION) {
    throw new AuditPgMigrationError(
      `schema ${schema} is at version ${version}, this package needs ${SCHEMA_VERSION}: run migrate()`,
    )
  }
  if (version > SCHEMA_VERSION) {
    throw new AuditPgMigrationError(
      `schema ${schema} is at version ${version}, newer than this package (${SCHEMA_VERSION})`,
    )
  }
}

export type CheckpointRow = { idx: string; size: string; body: Uint8Array }

export function toCheckpoint(row: CheckpointRow): StoredCheckpoint {
  const size = toSafeInteger(row.size, 'checkpoint size')
  let jws: string
  try {
    jws = utf8Decode(toBytes(row.body))
  } catch {
    throw new AuditCorruptionError(`checkpoint ${row.idx} is not UTF-8`)
  }
  return { size, jws }
}
