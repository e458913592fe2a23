/**
 * One patient's records on a 1,000,000-record PostgreSQL log (issue 16 §1): the query through the
 * key table against a full scan of the same log (`scan: true`, which reads and parses every
 * record), side by side in one run. The log is built first with large batches of chained records
 * (about 20 records per patient, 2,000 users, 15% sign-ins without a patient); both sides return
 * the same rows, which is checked.
 */
import { createHash, randomBytes } from 'node:crypto'
import { type AppendRecord, type AuditEvent, encodeRecord, queryLog, ZERO_HASH } from '@safeguards/audit-log'
import pg from 'pg'
import type { CustomSide, Scenario } from '../../../scripts/bench/types.ts'
import { migrate, openPostgresStore, type PostgresAuditStore } from '../src/index.js'
import { DATABASE_URL } from './fleet.js'

const RECORDS = Number(process.env.SG_BENCH_RECORDS ?? 1_000_000)
const PATIENTS = Math.max(1, Math.floor(RECORDS / 20 / 0.85))
const CHUNK = 20_000
const schema = `sg_alp_qbench_${process.pid}_${randomBytes(4).toString('hex')}`
let admin: pg.Pool | undefined
let store: PostgresAuditStore | undefined
let round = 0
const answers = new Map<string, number[]>()

/** xorshift32: the same log on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 4294967296
  }
}

function eventAt(r: () => number, i: number): AuditEvent {
  const who = `Practitioner/${Math.floor(r() * 2000)}`
  if (r() < 0.15)
    return {
      type: '110114',
      subtype: ['110122'],
      action: 'E',
      outcome: 0,
      agents: [{ who, requestor: true, network: { address: `10.0.${i % 250}.${i % 7}`, type: '2' } }],
      source: { observer: 'ehr-api' },
    }
  return {
    type: 'rest',
    subtype: ['read'],
    action: 'R',
    outcome: 0,
    agents: [{ who, requestor: true, role: ['doctor'] }],
    source: { observer: 'ehr-api', site: 'clinic-7' },
    patient: `Patient/${Math.floor(r() * PATIENTS)}`,
    entities: [{ what: `Observation/${i}`, type: '2', role: '4' }],
  }
}

async function build(s: PostgresAuditStore): Promise<void> {
  const r = rng(16)
  let head = { size: 0, hash: ZERO_HASH }
  const start = Date.parse('2026-01-01T00:00:00.000Z')
  while (head.size < RECORDS) {
    const out: AppendRecord[] = []
    let prev = head.hash
    for (let seq = head.size; seq < Math.min(RECORDS, head.size + CHUNK); seq++) {
      const bytes = encodeRecord({
        v: 1,
        stream: s.stream,
        seq,
        prev: Buffer.from(prev).toString('hex'),
        recorded: new Date(start + seq * 1000).toISOString(),
        event: eventAt(r, seq),
      })
      const hash = new Uint8Array(createHash('sha256').update(Uint8Array.of(0)).update(bytes).digest())
      out.push({ seq, bytes, hash, prevHash: prev })
      prev = hash
    }
    head = await s.append(head, out)
  }
}

async function setup(): Promise<void> {
  if (admin !== undefined) return
  admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 })
  await migrate(admin, { schema })
  store = await openPostgresStore({ pool: admin, schema, stream: 'million' })
  const t0 = performance.now()
  await build(store)
  await admin.query(`ANALYZE "${schema}".audit_entry, "${schema}".audit_entry_key`)
  const s = ((performance.now() - t0) / 1000).toFixed(0)
  console.error(`query bench: built ${RECORDS} records (with their keys) in ${s} s`)
}

async function teardown(): Promise<void> {
  if (admin === undefined) return
  await store?.close()
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  await admin.end()
  admin = undefined
}

/** Times one patient's query; both sides must find the same rows for the same patient. */
function side(scan: boolean): CustomSide {
  return {
    name: scan ? 'full scan (`scan: true`, every record read and parsed)' : 'query through the key table',
    async measure() {
      const patient = `Patient/${(Math.floor(round++ / 2) * 7919) % PATIENTS}`
      const t0 = performance.now()
      const result = await queryLog(store!, { patient }, { scan })
      const seqs: number[] = []
      for await (const row of result) seqs.push(row.seq)
      const ms = performance.now() - t0
      const other = answers.get(patient)
      if (other !== undefined && other.join() !== seqs.join()) throw new Error('index and scan disagree')
      answers.set(patient, seqs)
      return { value: ms, extra: { rows: String(seqs.length), size: String(result.size) } }
    },
  }
}

const scenarios: Scenario[] = [
  {
    name: `PostgreSQL query: one patient (~20 records) on a ${RECORDS.toLocaleString('en-US')}-record log`,
    unit: 'ms',
    lowerIsBetter: true,
    rounds: 3,
    ours: side(false),
    anchor: side(true),
    target: { value: 200, text: '≤ 200 ms' },
    setup,
    teardown,
  },
]

export default scenarios
