import { type AuditLog, openAuditLog, verifyLog } from '@safeguards/audit-log'
import { describe, expect, it } from 'vitest'
import type { PostgresAuditStore } from '../src/index.js'
import { walkChain } from './chain.js'
import { fixture, runChild } from './child.js'
import { DATABASE_URL, openTestStore, pgAvailable, type TestDb, useFreshSchema } from './pg-harness.js'
import { event } from './records.js'
import { runWriter } from './writer.js'

const childScript = fixture('writer-process.ts')

async function noFork(db: TestDb, stream: string, n: number): Promise<void> {
  const { rows } = await db.admin.query(
    `SELECT count(*)::int AS n, count(DISTINCT prev_hash)::int AS prevs, min(seq)::int AS min, max(seq)::int AS max
       FROM "${db.schema}".audit_entry WHERE stream = $1`,
    [stream],
  )
  expect(rows[0]).toEqual({ n, prevs: n, min: 0, max: n - 1 })
}

describe.skipIf(!pgAvailable)('many writers on one stream that starts empty', () => {
  const db = useFreshSchema()

  it('50 connections, each its own audit log, appending concurrently: all present, contiguous, no fork, verify passes', async () => {
    const writers = 50
    const perWriter = 12
    const stores: PostgresAuditStore[] = await Promise.all(
      Array.from({ length: writers }, () => openTestStore(db, { stream: 'fifty', maxConnections: 1 })),
    )
    try {
      expect((await stores[0]!.head()).size).toBe(0)
      const logs: AuditLog[] = await Promise.all(
        stores.map((store) => openAuditLog({ store, closeStore: false })),
      )
      const acks = await Promise.all(
        logs.map((log, w) =>
          Promise.all(
            Array.from({ length: perWriter }, (_, i) => log.append({ ...event, requestId: `w${w}-${i}` })),
          ),
        ),
      )
      await Promise.all(logs.map((log) => log.close()))
      const seqs = acks.flat().map((a) => a.seq)
      expect(new Set(seqs).size).toBe(writers * perWriter)
      const { size, requestIds } = await walkChain(stores[0]!)
      expect(size).toBe(writers * perWriter)
      const want = Array.from({ length: writers }, (_, w) =>
        Array.from({ length: perWriter }, (_, i) => `w${w}-${i}`),
      )
      expect([...requestIds].sort()).toEqual(want.flat().sort())
      // each acknowledged seq holds the event that was acknowledged with it
      const byReq = new Map(requestIds.map((id, seq) => [id, seq]))
      for (const [w, list] of acks.entries()) {
        for (const [i, a] of list.entries()) expect(byReq.get(`w${w}-${i}`)).toBe(a.seq)
      }
      await noFork(db, 'fifty', writers * perWriter)
      const report = await verifyLog(stores[0]!)
      expect(report.ok).toBe(true)
      expect(report.records).toBe(writers * perWriter)
      expect(report.findings.filter((f) => f.severity === 'error')).toEqual([])
    } finally {
      await Promise.all(stores.map((s) => s.close()))
    }
  })

  it('50 connections driving the store interface directly (conditional appends, catch-up on conflict)', async () => {
    const stores: PostgresAuditStore[] = await Promise.all(
      Array.from({ length: 50 }, () => openTestStore(db, { stream: 'raw', maxConnections: 1 })),
    )
    try {
      const results = await Promise.all(stores.map((s, i) => runWriter(s, `r${i}`, 4)))
      expect(results.reduce((a, r) => a + r.appended, 0)).toBe(200)
      expect((await walkChain(stores[0]!)).size).toBe(200)
      await noFork(db, 'raw', 200)
    } finally {
      await Promise.all(stores.map((s) => s.close()))
    }
  })

  it('several processes appending concurrently through the audit log', async () => {
    const processes = 4
    const perProcess = 150
    const run = (i: number) =>
      runChild<{ appended: number; seqs: number[] }>(`child ${i}`, childScript, [
        DATABASE_URL,
        db.schema,
        'procs',
        `p${i}`,
        String(perProcess),
      ])
    const results = await Promise.all(Array.from({ length: processes }, (_, i) => run(i)))
    const seqs = results.flatMap((r) => r.seqs)
    expect(new Set(seqs).size).toBe(processes * perProcess)
    const store = await openTestStore(db, { pool: db.admin, stream: 'procs' })
    const { size, requestIds } = await walkChain(store)
    expect(size).toBe(processes * perProcess)
    const want = Array.from({ length: processes }, (_, p) =>
      Array.from({ length: perProcess }, (_, i) => `p${p}-${i}`),
    )
    expect([...requestIds].sort()).toEqual(want.flat().sort())
    await noFork(db, 'procs', processes * perProcess)
    expect((await verifyLog(store)).ok).toBe(true)
    await store.close()
  }, 90_000)
})
