/**
 * `follow-writer.ts <logDir> <rate> <seconds>`: appends clinic events to a file log at `rate`
 * events a second (durable appends, the log's default), each event's `occurred` set to the wall
 * clock when it is handed to `append`, so a follower can measure its lag. Prints the records
 * written and the rate achieved as JSON.
 */
import { type AuditEvent, openAuditLog, openFileStore } from '@safeguards/audit-log'

const [dir, rateText, secondsText] = process.argv.slice(2) as [string, string, string]
const rate = Number(rateText)
const seconds = Number(secondsText)
const TICK_MS = 10

function event(i: number): AuditEvent {
  const u = i % 300
  return {
    type: 'rest',
    subtype: ['read'],
    action: 'R',
    outcome: 0,
    occurred: new Date().toISOString(),
    patient: `Patient/${(i * 7919) % 20_000}`,
    agents: [
      { who: `Practitioner/${u}`, requestor: true, network: { address: `10.2.0.${u % 200}`, type: '2' } },
    ],
    source: { observer: 'ehr-api' },
  }
}

const log = await openAuditLog({ store: await openFileStore({ dir, stream: 'follow-bench' }) })
const start = performance.now()
const pending: Promise<unknown>[] = []
let n = 0
while (performance.now() - start < seconds * 1000) {
  const due = Math.floor(((performance.now() - start) / 1000) * rate)
  while (n < due) pending.push(log.append(event(n++)))
  if (pending.length > 2048) await Promise.all(pending.splice(0))
  await new Promise((r) => setTimeout(r, TICK_MS))
}
await Promise.all(pending)
await log.close()
process.stdout.write(`${JSON.stringify({ records: n, rate: n / ((performance.now() - start) / 1000) })}\n`)
process.exit(0)
