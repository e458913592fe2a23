import type { AuditStore, ReadOptions, StoredRecord } from '../store.js'

async function* single(records: AsyncIterable<StoredRecord>): AsyncIterable<readonly StoredRecord[]> {
  for await (const r of records) yield [r]
}

/** Records `from <= seq < to` in arrays: the store's `readBatches` when it has one, else `read`. */
export function readInBatches(
  store: AuditStore,
  from: number,
  to?: number,
  options: ReadOptions = {},
): AsyncIterable<readonly StoredRecord[]> {
  return store.readBatches?.(from, to, options) ?? single(store.read(from, to, options))
}
