/**
 * Bench helper: a fleet of worker processes (`worker.ts`) appending to one stream, released
 * together; the summed rate, and an integrity check of the stream afterwards.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { verifyLog } from '@safeguards/audit-log'
import type pg from 'pg'
import { openPostgresStore } from '../src/index.js'

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const CONCURRENCY = 64 // appends in flight per process
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))
const worker = fileURLToPath(new URL('./worker.ts', import.meta.url))

/** What a worker runs: the log as shipped, earlier protocols of it (see worker.ts), or raw INSERTs. */
export type WorkerMode = 'ours' | 'optimistic' | 'anchor'

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
export async function fleet(
  mode: WorkerMode,
  schema: string,
  stream: string,
  processes: number,
  ms: number,
): Promise<number> {
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
        String(ms),
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
  // The workers stop starting appends at `ms`; the last ones finish shortly after. Rate over the full span.
  return (counts.reduce((a, b) => a + b, 0) / elapsed) * 1000
}

/** No fork, no gap, `verifyLog` passes; the counts as bench notes. Throws otherwise. */
export async function checkStream(
  admin: pg.Pool,
  schema: string,
  stream: string,
): Promise<Record<string, string>> {
  const { rows } = await admin.query(
    `SELECT count(*)::int AS n, count(DISTINCT prev_hash)::int AS prevs, coalesce(max(seq), -1)::int AS max
       FROM "${schema}".audit_entry WHERE stream = $1`,
    [stream],
  )
  const { n, prevs, max } = rows[0] as { n: number; prevs: number; max: number }
  const forks = n - prevs
  const gaps = max + 1 - n
  const store = await openPostgresStore({ pool: admin, schema, stream, readOnly: true })
  const report = await verifyLog(store)
  await store.close()
  if (forks !== 0 || gaps !== 0 || !report.ok) {
    throw new Error(`integrity check failed: forks ${forks}, gaps ${gaps}, verify ok ${report.ok}`)
  }
  return { records: String(n), forks: String(forks), gaps: String(gaps), verify: 'ok' }
}
