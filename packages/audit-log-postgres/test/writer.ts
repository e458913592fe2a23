/**
 * A writer that drives the AuditStore interface the way the log does: read the head, build records
 * on it, append conditionally, and on a conflict catch up and rebuild. Used in-process (many
 * connections) and from child processes.
 */
import { AuditConflictError, type StoreHead } from '@safeguards/audit-log'
import type { PostgresAuditStore } from '../src/index.js'
import { buildRecords } from './records.js'

export interface WriterResult {
  appended: number
  conflicts: number
}

/** Appends `total` records tagged `tag-<n>` in batches of 1..maxBatch, retrying on conflicts. */
export async function runWriter(
  store: PostgresAuditStore,
  tag: string,
  total: number,
  maxBatch = 3,
): Promise<WriterResult> {
  let appended = 0
  let conflicts = 0
  let head: StoreHead = await store.head()
  while (appended < total) {
    const n = Math.min(total - appended, 1 + ((appended * 7 + tag.length) % maxBatch))
    const records = buildRecords(store.stream, head, n, `${tag}-${appended}`)
    try {
      head = await store.append(head, records)
      appended += n
    } catch (error) {
      if (!(error instanceof AuditConflictError)) throw error
      conflicts++
      head = await store.head()
    }
  }
  return { appended, conflicts }
}
