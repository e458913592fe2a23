/**
 * The PostgreSQL store's query index (`AuditStore.queryIndex`): the candidate records of a
 * patient or user query, found through `audit_entry_key` (schema version 4), read in sequence
 * order one page at a time (keyset pagination on `seq`, so a query over a user with a million
 * records holds one page in memory, never the whole answer).
 *
 * Completeness: the key rows of a record are inserted by a trigger in the transaction that
 * inserts the record, and the migration that added the table keyed every record stored before it,
 * so every committed record has its keys; the answer covers the whole snapshot (`through = size`).
 *
 * @module
 */
import type { IndexAnswer, IndexQuery, StoredRecord } from '@safeguards/audit-log'
import { assertInteger } from '@safeguards/core'
import type pg from 'pg'
import { dbError } from './db.js'
import { toBytes, toSafeInteger } from './store-checks.js'

/** What the index reader needs from the store. */
export interface KeyIndexContext {
  readonly pool: pg.Pool
  /** The quoted schema name. */
  readonly q: string
  readonly stream: string
  /** Rows per page. */
  readonly pageSize: number
  /** Throws when the store was closed. */
  readonly live: () => void
}

type KeyRow = { seq: string; body: Uint8Array }

/** The SQL of one page: driven by the patient key when given (usually the rarer), else the agent's. */
function pageSql(q: string, both: boolean): string {
  return `SELECT e.seq::text AS seq, e.body
            FROM ${q}.audit_entry_key k
            JOIN ${q}.audit_entry e ON e.stream = k.stream AND e.seq = k.seq
           WHERE k.stream = $1 AND k.kind = $2 AND k.value = $3 AND k.seq > $4 AND k.seq < $5${
             both
               ? ` AND EXISTS (SELECT 1 FROM ${q}.audit_entry_key a
                                WHERE a.stream = k.stream AND a.kind = 'a' AND a.value = $7 AND a.seq = k.seq)`
               : ''
           }
           ORDER BY k.seq LIMIT $6`
}

async function* pages(
  ctx: KeyIndexContext,
  query: IndexQuery,
  through: number,
): AsyncGenerator<StoredRecord, void, undefined> {
  const both = query.patient !== undefined && query.who !== undefined
  const [kind, value] = query.patient !== undefined ? ['p', query.patient] : ['a', query.who]
  const sql = pageSql(ctx.q, both)
  let after = query.after
  for (;;) {
    ctx.live()
    const args: unknown[] = [ctx.stream, kind, value, after, through, ctx.pageSize]
    if (both) args.push(query.who)
    let rows: KeyRow[]
    try {
      ;({ rows } = await ctx.pool.query<KeyRow>(sql, args))
    } catch (error) {
      throw dbError('reading the query index', error)
    }
    for (const row of rows) {
      const seq = toSafeInteger(row.seq, 'sequence number')
      after = seq
      yield { seq, bytes: toBytes(row.body) }
    }
    if (rows.length < ctx.pageSize) return
  }
}

/**
 * The index answer for `query`, or undefined when it names neither a patient nor a user (the
 * keys cannot narrow it, so the query reads every record).
 *
 * @throws {TypeError} / {RangeError} for a malformed index query.
 */
export function keyIndexAnswer(ctx: KeyIndexContext, query: IndexQuery): IndexAnswer | undefined {
  if (typeof query !== 'object' || query === null) throw new TypeError('"query" expected an IndexQuery')
  assertInteger(query.size, 'query.size', 0)
  if (!Number.isSafeInteger(query.after) || query.after < -1)
    throw new RangeError('"query.after" expected an integer >= -1')
  for (const key of ['patient', 'who'] as const) {
    const v = query[key]
    if (v !== undefined && typeof v !== 'string') throw new TypeError(`"query.${key}" expected a string`)
  }
  if (query.patient === undefined && query.who === undefined) return undefined
  const through = query.size
  const records: AsyncIterable<StoredRecord> = {
    [Symbol.asyncIterator]: () => pages(ctx, query, through)[Symbol.asyncIterator](),
  }
  return { through, records }
}
