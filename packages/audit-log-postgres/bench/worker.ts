/**
 * One bench process: `worker.ts <ours|optimistic|anchor> <databaseUrl> <schema> <stream> <concurrency> <ms>`.
 * Connects (one connection), prints `ready`, waits for a line on stdin, then appends for `ms`
 * milliseconds with `concurrency` appends in flight and prints `{ "count": n }`.
 *
 * - ours: `openAuditLog` on `openPostgresStore` (durable: each append resolves after COMMIT).
 * - optimistic: the same, on the store without its `appendEvents` (the log builds each batch on the
 *   head it knows and, refused, catches up and rebuilds: how writers shared a stream before).
 * - anchor: raw single-row `INSERT INTO anchor_insert (body) VALUES ($1)` in autocommit through the
 *   same node-postgres client, the same event bytes, the same concurrency.
 */
import { createInterface } from 'node:readline'
import { openAuditLog } from '@safeguards/audit-log'
import pg from 'pg'
import { openPostgresStore } from '../src/index.js'

const [mode, url, schema, stream, concurrencyText, msText] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
]
const concurrency = Number(concurrencyText)
const ms = Number(msText)

const event = {
  type: 'rest',
  subtype: ['read'],
  action: 'R' as const,
  outcome: 0 as const,
  agents: [
    {
      who: 'Practitioner/1742',
      requestor: true,
      role: ['doctor'],
      network: { address: '10.1.2.3', type: '2' as const },
    },
  ],
  source: { observer: 'ehr-api', site: 'clinic-7' },
  patient: 'Patient/99812',
  entities: [{ what: 'Observation/5521', type: '2', role: '4' }],
  requestId: 'req-00000000',
}

let appendOne: (i: number) => Promise<unknown>
let close: () => Promise<void>
if (mode === 'ours' || mode === 'optimistic') {
  const pgStore = await openPostgresStore({
    connectionString: url,
    schema,
    stream,
    maxConnections: 1,
  })
  // The store's methods are bound own properties: a copy without appendEvents is a plain AuditStore
  // (the log then builds each batch on the head it knows and, refused, catches up and rebuilds).
  const { appendEvents: _, ...optimistic } = pgStore
  const store = mode === 'ours' ? pgStore : optimistic
  const log = await openAuditLog({ store })
  appendOne = (i) => log.append({ ...event, requestId: `req-${process.pid}-${i}` })
  close = () => log.close()
} else {
  const client = new pg.Client({ connectionString: url, options: '-c synchronous_commit=on' })
  await client.connect()
  const encoder = new TextEncoder()
  const sql = `INSERT INTO "${schema}".anchor_insert (body) VALUES ($1)`
  appendOne = (i) =>
    client.query(sql, [encoder.encode(JSON.stringify({ ...event, requestId: `req-${process.pid}-${i}` }))])
  close = () => client.end()
}

process.stdout.write('ready\n')
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()))
const deadline = performance.now() + ms
let count = 0
let n = 0
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      await appendOne(n++)
      count++
    }
  }),
)
await close()
process.stdout.write(`${JSON.stringify({ count })}\n`)
process.exit(0)
