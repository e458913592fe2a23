import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openPostgresStore, type PostgresAuditStore } from '../src/index.js'
import { walkChain } from './chain.js'
import { DATABASE_URL, freshSchema, pgAvailable, type TestDb } from './pg-harness.js'
import { runWriter, type WriterResult } from './writer.js'

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))
const childScript = fileURLToPath(new URL('./fixtures/writer-process.ts', import.meta.url))

function expectedIds(tag: string, total: number, maxBatch: number): string[] {
  // mirror runWriter's batching: record i of a batch starting at `appended` is `${tag}-${appended}-${seq}`
  // (seq differs per run), so compare on the `${tag}-${appended}` prefix plus the batch offset.
  const ids: string[] = []
  let appended = 0
  while (appended < total) {
    const n = Math.min(total - appended, 1 + ((appended * 7 + tag.length) % maxBatch))
    for (let i = 0; i < n; i++) ids.push(`${tag}-${appended}#${i}`)
    appended += n
  }
  return ids
}

/** requestId `${tag}-${appended}-${seq}` → `${tag}-${appended}#${offset in batch}` */
function normalise(requestIds: string[]): string[] {
  const out: string[] = []
  let batchKey = ''
  let offset = 0
  for (const id of requestIds) {
    const key = id.slice(0, id.lastIndexOf('-'))
    offset = key === batchKey ? offset + 1 : 0
    batchKey = key
    out.push(`${key}#${offset}`)
  }
  return out
}

describe.skipIf(!pgAvailable)('many writers on one stream that starts empty', () => {
  let db: TestDb
  beforeAll(async () => {
    db = await freshSchema()
  })
  afterAll(async () => {
    await db?.drop()
  })

  it('50 connections appending concurrently: all present, contiguous, no fork', async () => {
    const writers = 50
    const perWriter = 20
    const stores: PostgresAuditStore[] = await Promise.all(
      Array.from({ length: writers }, () =>
        openPostgresStore({
          connectionString: DATABASE_URL,
          schema: db.schema,
          stream: 'fifty',
          maxConnections: 1,
        }),
      ),
    )
    try {
      expect((await stores[0]!.head()).size).toBe(0)
      const results = await Promise.all(stores.map((s, i) => runWriter(s, `w${i}`, perWriter)))
      expect(results.reduce((a, r) => a + r.appended, 0)).toBe(writers * perWriter)
      const { size, requestIds } = await walkChain(stores[0]!)
      expect(size).toBe(writers * perWriter)
      const want = Array.from({ length: writers }, (_, i) => expectedIds(`w${i}`, perWriter, 3)).flat()
      expect(normalise(requestIds).sort()).toEqual(want.sort())
      const { rows } = await db.admin.query(
        `SELECT count(*)::int AS n, count(DISTINCT prev_hash)::int AS prevs, max(seq)::int AS max
           FROM "${db.schema}".audit_entry WHERE stream = 'fifty'`,
      )
      expect(rows[0]).toEqual({
        n: writers * perWriter,
        prevs: writers * perWriter,
        max: writers * perWriter - 1,
      })
    } finally {
      await Promise.all(stores.map((s) => s.close()))
    }
  })

  it('several processes appending concurrently', async () => {
    const processes = 4
    const perProcess = 60
    const run = (i: number): Promise<WriterResult> =>
      new Promise((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            '--conditions=@safeguards/source',
            '--import',
            'tsx',
            childScript,
            DATABASE_URL,
            db.schema,
            'procs',
            `p${i}`,
            String(perProcess),
          ],
          { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
        )
        let out = ''
        let err = ''
        child.stdout.on('data', (c) => (out += c))
        child.stderr.on('data', (c) => (err += c))
        child.on('error', reject)
        child.on('exit', (code) =>
          code === 0
            ? resolve(JSON.parse(out) as WriterResult)
            : reject(new Error(`child ${i} exited ${code}: ${err}`)),
        )
      })
    const results = await Promise.all(Array.from({ length: processes }, (_, i) => run(i)))
    expect(results.reduce((a, r) => a + r.appended, 0)).toBe(processes * perProcess)
    const store = await openPostgresStore({ pool: db.admin, schema: db.schema, stream: 'procs' })
    const { size, requestIds } = await walkChain(store)
    expect(size).toBe(processes * perProcess)
    const want = Array.from({ length: processes }, (_, i) => expectedIds(`p${i}`, perProcess, 4)).flat()
    expect(normalise(requestIds).sort()).toEqual(want.sort())
    await store.close()
  }, 90_000)
})
