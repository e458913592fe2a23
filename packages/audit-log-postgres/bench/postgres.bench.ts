/**
 * PostgreSQL store under load: 8 processes appending concurrently to ONE stream through the audit
 * log (each append acknowledged after COMMIT), against the anchor of the same 8 processes doing raw
 * single-row INSERTs of the same event bytes through the same node-postgres client. After our run
 * the stream is checked: no fork, no gap, and `verifyLog` passes.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { verifyLog } from '@safeguards/audit-log'
import pg from 'pg'
import type { CustomSide, Scenario } from '../../../scripts/bench/types.ts'
import { migrate, openPostgresStore } from '../src/index.js'

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const PROCESSES = 8
const CONCURRENCY = 64 // appends in flight per process
const MS = 5000
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))
const worker = fileURLToPath(new URL('./worker.ts', import.meta.url))
const schema = `sg_alp_bench_${process.pid}_${randomBytes(4).toString('hex')}`
let admin: pg.Pool | undefined
let run = 0

function lines(child: ChildProcessWithoutNullStreams, onLine: (line: string) => void): void {
  let buf = ''
  child.stdout.on('data', (c: Buffer) => {
    buf += c.toString()
    let i = buf.indexOf('\n')
    while (i >= 0) {
      onLine(buf.slice(0, i))
      buf = buf.slice(i + 1)
      i = buf.indexOf('\n')
    }
  })
}

/** Starts the workers, waits until all are connected, releases them together, sums their counts. */
async function fleet(mode: 'ours' | 'anchor', stream: string, processes: number): Promise<number> {
  const children: ChildProcessWithoutNullStreams[] = []
  const ready: Promise<void>[] = []
  const done: Promise<number>[] = []
  for (let i = 0; i < processes; i++) {
    const child = spawn(
      process.execPath,
      [
        '--conditions=@safeguards/source',
        '--import',
        'tsx',
        worker,
        mode,
        DATABASE_URL,
        schema,
        stream,
        String(CONCURRENCY),
        String(MS),
      ],
      { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] },
    )
    children.push(child)
    let err = ''
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString()
    })
    let onReady: () => void = () => {}
    let onCount: (n: number) => void = () => {}
    ready.push(new Promise((r) => (onReady = r)))
    done.push(
      new Promise((resolve, reject) => {
        onCount = resolve
        child.on('exit', (code) =>
          code === 0 ? undefined : reject(new Error(`worker exited ${code}: ${err}`)),
        )
      }),
    )
    lines(child, (line) =>
      line === 'ready' ? onReady() : onCount((JSON.parse(line) as { count: number }).count),
    )
  }
  await Promise.all(ready)
  const t0 = performance.now()
  for (const c of children) c.stdin.write('go\n')
  const counts = await Promise.all(done)
  const elapsed = performance.now() - t0
  // The workers stop starting appends at MS; the last ones finish shortly after. Rate over the full span.
  return (counts.reduce((a, b) => a + b, 0) / elapsed) * 1000
}

function oursSide(processes: number): CustomSide {
  return {
    name: `@safeguards/audit-log-postgres, ${processes} process(es) × ${CONCURRENCY} in flight, one stream`,
    async measure() {
      const stream = `bench-${++run}`
      const rate = await fleet('ours', stream, processes)
      const { rows } = await admin!.query(
        `SELECT count(*)::int AS n, count(DISTINCT prev_hash)::int AS prevs, coalesce(max(seq), -1)::int AS max
           FROM "${schema}".audit_entry WHERE stream = $1`,
        [stream],
      )
      const { n, prevs, max } = rows[0] as { n: number; prevs: number; max: number }
      const forks = n - prevs
      const gaps = max + 1 - n
      const store = await openPostgresStore({ pool: admin!, schema, stream, readOnly: true })
      const report = await verifyLog(store)
      await store.close()
      if (forks !== 0 || gaps !== 0 || !report.ok) {
        throw new Error(`integrity check failed: forks ${forks}, gaps ${gaps}, verify ok ${report.ok}`)
      }
      return {
        value: rate,
        extra: { records: String(n), forks: String(forks), gaps: String(gaps), verify: 'ok' },
      }
    },
  }
}

function anchorSide(processes: number): CustomSide {
  return {
    name: `node-postgres raw single-row INSERT (autocommit), ${processes} process(es) × ${CONCURRENCY} in flight`,
    async measure() {
      return { value: await fleet('anchor', 'anchor', processes) }
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
