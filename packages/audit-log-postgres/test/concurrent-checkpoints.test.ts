/**
 * Two writer processes on one PostgreSQL stream and one anchor directory, both checkpointing often
 * (every few records, on a short timer, on demand and on close), while this process verifies the
 * live log over and over. Every verification, during the run and after it, must be clean: one
 * chain, contiguous, no fork, one checkpoint chain with non-decreasing sizes, every anchored
 * checkpoint equal to the stored one at its index.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { directoryAnchor, type Finding, readCheckpointUnverified, verifyLog } from '@safeguards/audit-log'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkpointKeys } from '../../audit-log/test/helpers.js'
import { openPostgresStore } from '../src/index.js'
import { walkChain } from './chain.js'
import { fixture, runChild } from './child.js'
import { DATABASE_URL, freshSchema, pgAvailable, type TestDb } from './pg-harness.js'

const childScript = fixture('checkpoint-writer.ts')

describe.skipIf(!pgAvailable)('two writer processes checkpointing to one stream and one anchor', () => {
  let db: TestDb
  let anchorDir: string
  beforeAll(async () => {
    db = await freshSchema()
    anchorDir = mkdtempSync(join(tmpdir(), 'sg-alp-anchor-'))
  })
  afterAll(async () => {
    await db?.drop()
    if (anchorDir !== undefined) rmSync(anchorDir, { recursive: true, force: true })
  })

  it('every verification of the live log, and the final one, is clean', async () => {
    const stream = 'two-writers'
    const perProcess = 240
    const { key, keyring } = await checkpointKeys()
    const run = (tag: string) =>
      runChild<{ appended: number; seqs: number[] }>(
        `writer ${tag}`,
        childScript,
        [DATABASE_URL, db.schema, stream, anchorDir, tag, String(perProcess)],
        { SG_TEST_CHECKPOINT_JWK: JSON.stringify(key.privateJwk) },
      )
    // Open the stream first so the verifier's read-only store finds it.
    await (await openPostgresStore({ pool: db.admin, schema: db.schema, stream })).close()
    const reader = await openPostgresStore({
      connectionString: DATABASE_URL,
      schema: db.schema,
      stream,
      readOnly: true,
      maxConnections: 1,
    })
    const anchor = directoryAnchor(anchorDir)
    const live: Finding[] = []
    let verifications = 0
    let done = false
    const writers = Promise.all([run('a'), run('b')]).finally(() => {
      done = true
    })
    try {
      // Bounded: the writers end by themselves; the loop ends with them.
      while (!done) {
        const report = await verifyLog(reader, { keyring, anchor })
        verifications++
        live.push(...report.findings.filter((f) => f.severity === 'error'))
      }
      const results = await writers
      expect(live).toEqual([])
      expect(verifications).toBeGreaterThan(0)

      const total = 2 * perProcess
      expect(new Set(results.flatMap((r) => r.seqs)).size).toBe(total)
      expect((await walkChain(reader)).size).toBe(total)
      const { rows } = await db.admin.query(
        `SELECT count(*)::int AS n, count(DISTINCT prev_hash)::int AS prevs, min(seq)::int AS min, max(seq)::int AS max
           FROM "${db.schema}".audit_entry WHERE stream = $1`,
        [stream],
      )
      expect(rows[0]).toEqual({ n: total, prevs: total, min: 0, max: total - 1 })

      const stored = await reader.readCheckpoints()
      const bodies = stored.map((c) => readCheckpointUnverified(c.jws).body)
      expect(bodies.map((b) => b.index)).toEqual(bodies.map((_, i) => i))
      for (let i = 1; i < bodies.length; i++) {
        expect(bodies[i]!.size).toBeGreaterThanOrEqual(bodies[i - 1]!.size)
        expect(bodies[i]!.timestamp >= bodies[i - 1]!.timestamp).toBe(true)
      }
      expect(bodies.at(-1)!.size).toBe(total)
      const anchored = await anchor.list(stream)
      expect(anchored.length).toBe(stored.length)
      for (const a of anchored) expect(a.jws).toBe(stored[a.index]!.jws)

      const report = await verifyLog(reader, { keyring, anchor })
      expect(report.findings).toEqual([])
      expect(report).toMatchObject({
        ok: true,
        records: total,
        anchoredThrough: total - 1,
        checkpoints: { total: 2 * stored.length, verified: 2 * stored.length },
      })
    } finally {
      await writers.catch(() => undefined)
      await reader.close()
    }
  }, 120_000)
})
