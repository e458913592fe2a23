/**
 * An independent check of a stored stream, written from the record format alone: every record is
 * canonical JSON whose seq is its position and whose prev is the previous record's leaf hash.
 * Returns the requestIds so tests can check that every acknowledged record is present once.
 */
import { canonicalize } from '@safeguards/core'
import type { PostgresAuditStore } from '../src/index.js'
import { leafHash } from './records.js'

export async function walkChain(store: PostgresAuditStore): Promise<{ size: number; requestIds: string[] }> {
  let prev = Buffer.alloc(32).toString('hex')
  let expectSeq = 0
  const requestIds: string[] = []
  for await (const r of store.read(0)) {
    const text = Buffer.from(r.bytes).toString('utf8')
    const rec = JSON.parse(text)
    if (canonicalize(rec) !== text) throw new Error(`record ${r.seq} is not canonical`)
    if (r.seq !== expectSeq || rec.seq !== expectSeq) throw new Error(`gap or reorder at ${expectSeq}`)
    if (rec.prev !== prev) throw new Error(`chain break at ${r.seq}`)
    prev = Buffer.from(leafHash(r.bytes)).toString('hex')
    requestIds.push(rec.event.requestId)
    expectSeq++
  }
  return { size: expectSeq, requestIds }
}
