/**
 * `AuditStore.checkIndex` for the PostgreSQL store (`verifyLog` with `deep: true`): the key table
 * (`audit_entry_key`) against the records, with the keys recomputed here in TypeScript from the
 * stored bytes, independently of the SQL that the trigger and the migration use. A key row missing
 * (a record a patient's access report would not list) or one too many (a record listed under
 * someone else) is an error: the store answers queries from this table.
 *
 * Both sides are read in `seq` order, one range of records at a time, so memory stays bounded by a
 * range, whatever the log's length.
 *
 * @module
 */
import type { IndexProblem, ReadOptions, StoredRecord } from '@safeguards/audit-log'
import { utf8Decode } from '@safeguards/core'
import { dbError } from './db.js'
import type { KeyIndexContext } from './query-index.js'
import { toSafeInteger } from './store-checks.js'

/** Problems reported at most (the first ones; verify names the first bad record anyway). */
const MAX_PROBLEMS = 100

/** The keys the trigger gives a record: `p` + its patient, `a` + each agent's `who` (a set). */
export function recordKeys(bytes: Uint8Array): string[] | undefined {
  let event: { patient?: unknown; agents?: unknown } | undefined
  try {
    event = (JSON.parse(utf8Decode(bytes)) as { event?: typeof event }).event
  } catch {
    return undefined // not JSON: verify reports it as MALFORMED
  }
  if (typeof event !== 'object' || event === null) return []
  const keys = new Set<string>()
  if (typeof event.patient === 'string') keys.add(`p\u0000${event.patient}`)
  if (Array.isArray(event.agents))
    for (const a of event.agents as { who?: unknown }[])
      if (typeof a === 'object' && a !== null && typeof a.who === 'string') keys.add(`a\u0000${a.who}`)
  return [...keys].sort()
}

async function storedKeys(ctx: KeyIndexContext, from: number, to: number): Promise<Map<number, string[]>> {
  let rows: { seq: string; kind: string; value: string }[]
  try {
    ;({ rows } = await ctx.pool.query(
      `SELECT seq::text AS seq, kind::text AS kind, value FROM ${ctx.q}.audit_entry_key
        WHERE stream = $1 AND seq >= $2 AND seq < $3 ORDER BY seq, kind, value`,
      [ctx.stream, from, to],
    ))
  } catch (error) {
    throw dbError('reading the query index', error)
  }
  const bySeq = new Map<number, string[]>()
  for (const r of rows) {
    const seq = toSafeInteger(r.seq, 'sequence number')
    const list = bySeq.get(seq) ?? []
    list.push(`${r.kind}\u0000${r.value}`)
    bySeq.set(seq, list)
  }
  for (const list of bySeq.values()) list.sort()
  return bySeq
}

function compareRange(
  records: readonly StoredRecord[],
  stored: Map<number, string[]>,
  problems: IndexProblem[],
): void {
  for (const r of records) {
    const want = recordKeys(r.bytes)
    const have = stored.get(r.seq) ?? []
    stored.delete(r.seq)
    if (want === undefined || problems.length >= MAX_PROBLEMS) continue
    if (want.length !== have.length || want.some((k, i) => k !== have[i]))
      problems.push({
        seq: r.seq,
        severity: 'error',
        message: `the key table has ${have.length} key(s) for this record, its bytes give ${want.length} (or others)`,
      })
  }
  // key rows for seqs with no record in the range (a record deleted under its keys, or keys forged)
  for (const seq of stored.keys())
    if (problems.length < MAX_PROBLEMS)
      problems.push({
        seq,
        severity: 'error',
        message: 'the key table has keys for a record that is not stored',
      })
}

/**
 * Compares the key table with the records below `size`, a range of `ctx.pageSize` records at a
 * time. Returns the disagreements (at most 100), in seq order.
 *
 * @throws {AuditStoreError} when the database fails.
 */
export async function checkKeyIndex(
  ctx: KeyIndexContext,
  readBatches: (from: number, to: number, options?: ReadOptions) => AsyncIterable<readonly StoredRecord[]>,
  size: number,
  options?: ReadOptions,
): Promise<IndexProblem[]> {
  const problems: IndexProblem[] = []
  let from = 0
  for await (const page of readBatches(0, size, options)) {
    if (page.length === 0) continue
    const to = (page[page.length - 1] as StoredRecord).seq + 1
    ctx.live()
    compareRange(page, await storedKeys(ctx, from, to), problems)
    from = to
  }
  if (from < size && problems.length < MAX_PROBLEMS)
    compareRange([], await storedKeys(ctx, from, size), problems)
  return problems.sort((a, b) => a.seq - b.seq)
}
