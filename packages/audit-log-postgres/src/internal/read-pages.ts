/**
 * The PostgreSQL store's record reader: `read`/`readBatches` one page of rows at a time (keyset on
 * `seq`), each page's bodies copied into one buffer. Without an upper bound, the first page also
 * reads the head in the same snapshot, and the read stops there.
 *
 * @module
 */
import type { StoredRecord } from '@safeguards/audit-log'
import { dbError } from './db.js'
import type { KeyIndexContext } from './query-index.js'
import { toSafeInteger } from './store-checks.js'

type Row = { seq: string; body: Uint8Array }

/** The records `from <= seq < to` (`to` undefined: through the head), one array per page. */
export async function* readPages(
  ctx: KeyIndexContext,
  from: number,
  to: number | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<readonly StoredRecord[]> {
  let next = from
  // Without `to`, the first page also returns the head (same snapshot): the read stops there.
  let end = to ?? Number.MAX_SAFE_INTEGER
  let bounded = to !== undefined
  while (next < end) {
    signal?.throwIfAborted()
    ctx.live()
    let rows: (Row & { head?: string | null })[]
    try {
      ;({ rows } = await ctx.pool.query<Row & { head?: string | null }>(
        `SELECT e.seq::text AS seq, e.body${
          bounded ? '' : `, (SELECT max(x.seq) FROM ${ctx.q}.audit_entry x WHERE x.stream = $1)::text AS head`
        } FROM ${ctx.q}.audit_entry e
          WHERE e.stream = $1 AND e.seq >= $2 AND e.seq < $3 ORDER BY e.seq LIMIT $4`,
        [ctx.stream, next, end, ctx.pageSize],
      ))
    } catch (error) {
      throw dbError('reading records', error)
    }
    if (!bounded) {
      bounded = true
      const head = rows[0]?.head
      end = head === undefined || head === null ? next : toSafeInteger(head, 'head sequence number') + 1
    }
    // The page's bodies are copied out of the driver's Buffers into one plain buffer (one
    // allocation per page, not per record); each record is a view of its own bytes in it.
    let bytes = 0
    for (const row of rows) bytes += row.body.length
    const arena = new Uint8Array(bytes)
    const page: StoredRecord[] = []
    let at = 0
    for (const row of rows) {
      const seq = toSafeInteger(row.seq, 'sequence number')
      if (seq >= end) break
      arena.set(row.body, at)
      page.push({ seq, bytes: arena.subarray(at, at + row.body.length) })
      at += row.body.length
      next = seq + 1
    }
    signal?.throwIfAborted()
    if (page.length > 0) yield page
    if (rows.length < ctx.pageSize || page.length < rows.length) return
  }
}
