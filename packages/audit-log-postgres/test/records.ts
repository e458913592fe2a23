/**
 * Builds chained records the way the log does (encodeRecord from @safeguards/audit-log, leaf hash
 * SHA-256(0x00 || bytes)), so store tests can drive the AuditStore interface directly.
 */
import { createHash } from 'node:crypto'
import { type AppendRecord, type AuditEvent, encodeRecord, type StoreHead } from '@safeguards/audit-log'

export const event: AuditEvent = {
  type: 'rest',
  action: 'R',
  outcome: 0,
  agents: [{ who: 'user-1742', requestor: true }],
  source: { observer: 'clinic-api' },
  patient: 'patient-99812',
}

export function leafHash(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(Uint8Array.of(0)).update(bytes).digest())
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** `n` records continuing `head` on `stream` (events from `eventOf` when given, `recorded` at that time). */
export function buildRecords(
  stream: string,
  head: StoreHead,
  n: number,
  tag = 'w0',
  eventOf?: (seq: number) => AuditEvent,
  recorded = '2026-11-22T12:00:00.000Z',
): AppendRecord[] {
  const out: AppendRecord[] = []
  let prev = head.hash
  for (let i = 0; i < n; i++) {
    const seq = head.size + i
    const bytes = encodeRecord({
      v: 1,
      stream,
      seq,
      prev: hex(prev),
      recorded,
      event: eventOf?.(seq) ?? { ...event, requestId: `${tag}-${seq}` },
    })
    const hash = leafHash(bytes)
    out.push({ seq, bytes, hash, prevHash: prev })
    prev = hash
  }
  return out
}

export function headAfter(records: readonly AppendRecord[], before: StoreHead): StoreHead {
  const last = records[records.length - 1]
  return last ? { size: last.seq + 1, hash: last.hash } : before
}
