/**
 * The slice of node-postgres this package uses, and helpers to run work on one connection and to
 * turn driver errors into typed, value-free errors.
 */
import { errorCode } from '@safeguards/core/node'
import type { ClientBase, Pool, PoolClient } from 'pg'
import { AuditPgStoreError } from '../errors.js'

/** A `pg.Pool` or one connected `pg.Client`/`PoolClient`. */
export type Queryable = Pool | ClientBase

function isPool(db: Queryable): db is Pool {
  return typeof (db as Pool).totalCount === 'number' && typeof (db as Pool).connect === 'function'
}

/** Runs `fn` on one connection: checked out of a pool and released afterwards, or the given client. */
export async function withConnection<T>(db: Queryable, fn: (client: ClientBase) => Promise<T>): Promise<T> {
  if (!isPool(db)) return fn(db)
  const client: PoolClient = await db.connect()
  let broken: unknown
  try {
    return await fn(client)
  } catch (error) {
    broken = sqlState(error) === undefined ? error : undefined
    throw error
  } finally {
    // A connection that failed below the SQL level (socket error) is discarded, not reused.
    client.release(broken instanceof Error ? broken : undefined)
  }
}

/** The SQLSTATE of a server error, or undefined. */
export function sqlState(error: unknown): string | undefined {
  const code = errorCode(error)
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/** A Node system error code such as `ECONNREFUSED`, or undefined. */
function systemCode(error: unknown): string | undefined {
  const code = errorCode(error)
  return typeof code === 'string' && /^E[A-Z0-9_]{1,40}$/.test(code) ? code : undefined
}

/** Wraps a driver error in an {@link AuditPgStoreError} that names the SQLSTATE (or errno code) only. */
export function dbError(operation: string, error: unknown): AuditPgStoreError {
  if (error instanceof AuditPgStoreError) return error
  const state = sqlState(error)
  if (state !== undefined) return new AuditPgStoreError(operation, state, { cause: error })
  return new AuditPgStoreError(operation, '?????', {
    cause: error,
    detail: systemCode(error) ?? 'connection error',
  })
}

/** Runs `fn` inside BEGIN … COMMIT, rolling back on any error. */
export async function inTransaction<T>(client: ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN')
  try {
    const result = await fn()
    await client.query('COMMIT')
    return result
  } catch (error) {
    try {
      await client.query('ROLLBACK')
    } catch {
      // the connection is gone; the server rolls back on its own
    }
    throw error
  }
}
