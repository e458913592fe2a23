/**
 * PostgreSQL store under load: 8 processes appending concurrently to ONE stream through the audit
 * log (each append acknowledged after COMMIT), against the anchor of the same 8 processes doing raw
 * single-row INSERTs of the same event bytes through the same node-postgres client. After our run
 * the stream is checked: no fork, no gap, and `verifyLog` passes.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { CustomSide, Scenario } from '../../../scripts/bench/types.ts'
import { migrate } from '../src/index.js'
import { CONCURRENCY, checkStream, DATABASE_URL, fleet } from './fleet.js'

const PROCESSES = 8
const MS = 5000
const schema = `sg_alp_bench_${process.pid}_${randomBytes(4).toString('hex')}`
let admin: pg.Pool | undefined
let run = 0

function oursSide(processes: number): CustomSide {
  return {
    name: `@safeguards/audit-log-postgres, ${processes} process(es) × ${CONCURRENCY} in flight, one stream`,
    async measure() {
      const stream = `bench-${++run}`
      const rate = await fleet('ours', schema, stream, processes, MS)
      return { value: rate, extra: await checkStream(admin!, schema, stream) }
    },
  }
}

function anchorSide(processes: number): CustomSide {
  return {
    name: `node-postgres raw single-row INSERT (autocommit), ${processes} process(es) × ${CONCURRENCY} in flight`,
    async measure() {
      return { value: await fleet('anchor', schema, 'anchor', processes, MS) }
    },
  }
}

async function setup(): Promise<void> {
  admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 })
  await migrate(admin, { schema })
  await admin.query(
    `CREATE TABLE IF NOT EXISTS "${schema}".anchor_insert (id bigserial PRIMARY KEY, body bytea NOT NULL)`,
  )
}

async function teardown(): Promise<void> {
  await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  await admin?.end()
  admin = undefined
}

const scenarios: Scenario[] = [
  {
    name: 'PostgreSQL: 8 processes appending to one stream (durable)',
    unit: 'events/s',
    ours: oursSide(PROCESSES),
    anchor: anchorSide(PROCESSES),
    target: { value: 5000, text: '≥ 5,000 events/s, zero forks' },
    setup,
    teardown,
  },
  {
    // Context for the row above: the same work without contention between writers.
    name: 'PostgreSQL: 1 process appending (durable, no contention)',
    unit: 'events/s',
    ours: oursSide(1),
    anchor: anchorSide(1),
    setup,
    teardown,
  },
]

export default scenarios
