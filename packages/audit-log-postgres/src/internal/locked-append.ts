/**
 * The lock-first append of the PostgreSQL store: one transaction that takes the stream's lock row,
 * learns the head it holds the lock for, lets the writer build its batch on it, inserts and commits.
 *
 * A writer holds the lock across a round trip, so a stalled one (a paused process, a lost network)
 * must not hold it for long: the transaction sets `idle_in_transaction_session_timeout` to the
 * store's `lockTimeoutMs`, so the server ends the session of a writer that holds the lock idle for
 * longer than other writers wait for it, which rolls its append back and releases the lock.
 *
 * Round trips while the lock is held are what limit many writers on one stream (every other writer
 * waits through them), so there are two: `BEGIN` and the lock in one simple-protocol message (the
 * answer arrives once the lock is granted), then the `INSERT` and `COMMIT` in another. The simple
 * protocol takes no parameters, so the values are written into the SQL text, each from a checked
 * form that cannot leave its literal: the stream id (`[A-Za-z0-9._-]`, checked at open), integers
 * (checked safe), and bytes as hexadecimal inside `decode('…', 'hex')`.
 *
 * @module
 */
import {
  type AppendRecord,
  AuditConflictError,
  AuditCorruptionError,
  type StoreHead,
} from '@safeguards/audit-log'
import { bytesToHex, timingSafeEqual } from '@safeguards/core'
import type pg from 'pg'
import { sqlState } from './db.js'
import { checkRecords, toBytes, toSafeInteger } from './store-checks.js'

/** What the locked append needs from the store. */
export interface LockedAppendContext {
  readonly pool: pg.Pool
  /** The quoted schema name. */
  readonly q: string
  /** The stream id, checked by `assertStreamId`. */
  readonly stream: string
  readonly lockTimeoutMs: number
  /** Turns a driver error into the store's typed error. */
  readonly failure: (operation: string, error: unknown) => Error
}

/** The outcome of a locked append: the new head, and how many records other writers had added. */
export interface LockedAppendResult {
  readonly head: StoreHead
  readonly missed: number
}

type HashRow = { first: string | null; last: string | null; n: string; hashes: Uint8Array | null }

/** The rows of the last statement of a simple-protocol query. */
function lastRows<R>(result: pg.QueryResult | pg.QueryResult[]): R[] {
  const last = Array.isArray(result) ? result[result.length - 1] : result
  return (last?.rows ?? []) as R[]
}

/**
 * The head the lock was granted on and the hashes stored after `known`, checked to continue it:
 * `row` holds the hashes from seq `known.size - 1` on (from 0 for an empty head), concatenated.
 */
function heldHead(row: HashRow | undefined, known: StoreHead): StoreHead & { missed: Uint8Array[] } {
  const n = row === undefined ? 0 : toSafeInteger(row.n, 'record count')
  const from = Math.max(known.size - 1, 0)
  const all = n === 0 || row?.hashes == null ? new Uint8Array(0) : toBytes(row.hashes)
  if (
    n > 0 &&
    (toSafeInteger(row?.first ?? '', 'sequence number') !== from ||
      toSafeInteger(row?.last ?? '', 'sequence number') !== from + n - 1 ||
      all.length !== n * 32)
  )
    throw new AuditCorruptionError('the stored log has a gap', from)
  let at = 0
  if (known.size > 0) {
    if (n === 0 || !timingSafeEqual(all.subarray(0, 32), known.hash))
      throw new AuditCorruptionError("the stored log does not continue the writer's head", known.size - 1)
    at = 32
  }
  const missed: Uint8Array[] = []
  for (; at < all.length; at += 32) missed.push(all.subarray(at, at + 32))
  return { size: known.size + missed.length, hash: missed[missed.length - 1] ?? known.hash, missed }
}

function insertSql(ctx: LockedAppendContext, records: readonly AppendRecord[]): string {
  const values = records.map(
    (r) =>
      `('${ctx.stream}', ${r.seq}, decode('${bytesToHex(r.prevHash)}', 'hex'), decode('${bytesToHex(r.hash)}', 'hex'), decode('${bytesToHex(r.bytes)}', 'hex'))`,
  )
  return `INSERT INTO ${ctx.q}.audit_entry (stream, seq, prev_hash, entry_hash, body) VALUES ${values.join(', ')}; COMMIT`
}

/**
 * Takes the stream's lock, calls `build` with the hashes of the records stored after `known`, and
 * appends what it returns on that head in the same transaction.
 *
 * @throws {AuditLockTimeoutError} (through `ctx.failure`) when the lock is not granted in time.
 * @throws {AuditCorruptionError} when the stored log does not continue `known`.
 * @throws {AuditConflictError} when a writer that bypassed the lock took a slot first.
 */
export async function appendUnderLock(
  ctx: LockedAppendContext,
  known: StoreHead,
  build: (missed: readonly Uint8Array[]) => readonly AppendRecord[],
): Promise<LockedAppendResult> {
  let client: pg.PoolClient
  try {
    client = await ctx.pool.connect()
  } catch (error) {
    throw ctx.failure('connecting', error)
  }
  // A connection that failed below the SQL level is discarded, not returned to the pool. The server
  // may end it while no query is pending (the idle bound below): that error event must not go
  // unhandled (it would crash the process), it only marks the connection broken.
  let broken: Error | undefined
  const onError = (error: Error): void => {
    broken = error
  }
  client.on('error', onError)
  const run = async (sql: string, step: string): Promise<pg.QueryResult | pg.QueryResult[]> => {
    try {
      return (await client.query(sql)) as pg.QueryResult | pg.QueryResult[]
    } catch (error) {
      const state = sqlState(error)
      if (state === undefined) broken = error instanceof Error ? error : new Error(step)
      if (state === '23505') throw new AuditConflictError(known.size, known.size)
      throw ctx.failure(step, error)
    }
  }
  let open = true
  try {
    const locked = await run(
      `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${ctx.lockTimeoutMs}; SELECT first_seq::text AS first, last_seq::text AS last, n::text AS n, hashes FROM ${ctx.q}.audit_lock_entries('${ctx.stream}', ${known.size}, ${ctx.lockTimeoutMs})`,
      'locking the stream',
    )
    const head = heldHead(lastRows<HashRow>(locked)[0], known)
    const records = build(head.missed)
    checkRecords(head, records)
    await run(records.length === 0 ? 'COMMIT' : insertSql(ctx, records), 'appending records')
    open = false
    const last = records[records.length - 1]
    return {
      head: last === undefined ? head : { size: last.seq + 1, hash: last.hash },
      missed: head.missed.length,
    }
  } catch (error) {
    // The transaction failed: roll back, and do not reuse the connection (the server may have ended
    // it: a writer idle past the bound while holding the lock loses its session, and the lock).
    if (open && broken === undefined) await client.query('ROLLBACK').catch(() => undefined)
    broken ??= error instanceof Error ? error : new Error('append failed')
    throw error
  } finally {
    client.off('error', onError)
    client.release(broken)
  }
}
