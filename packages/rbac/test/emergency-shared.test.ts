/**
 * Emergency access across instances (issue 19 §3) on a real PostgreSQL: a grant made on one
 * instance is honoured on another at once, revocations and reviews are atomic across instances,
 * expiry needs no message, and a grant survives SIGKILL and a restart, still awaiting review.
 */
import { randomBytes } from 'node:crypto'
import { manualClock } from '@safeguards/core'
import pg from 'pg'
import { afterAll, expect, it } from 'vitest'
import { compilePolicy, openPostgresEmergencyStore, type SharedEmergencyStore } from '../src/index.js'
import { clinic, emergencyRequest, MONDAY_10AM } from './helpers.js'
import { describeSharedStore, readP2, type SharedInstance } from './shared-store-cases.js'

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const schema = `sg_rbac_${process.pid}_${randomBytes(5).toString('hex')}`
const MIN = 60_000

interface Instance extends SharedInstance {
  listener: pg.Client
}

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 12 })
const listeners: pg.Client[] = []
const stores: SharedEmergencyStore[] = []

async function instance(): Promise<Instance> {
  const listener = new pg.Client({ connectionString: DATABASE_URL })
  await listener.connect()
  listeners.push(listener)
  const store = await openPostgresEmergencyStore({ client: pool, listener, schema, resyncIntervalMs: 1000 })
  stores.push(store)
  const clock = manualClock(MONDAY_10AM)
  const pdp = compilePolicy(clinic, { clock, emergencyStore: store, resolvers: { careTeam: () => false } })
  return { pdp, store, listener, clock }
}

afterAll(async () => {
  for (const s of stores) await s.close()
  for (const l of listeners) await l.end().catch(() => {})
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await pool.end()
})

describeSharedStore('emergency grants shared on PostgreSQL', {
  instance,
  peer: { fixture: 'grant-instance.ts', args: [DATABASE_URL, schema] },
  expectOneReviewStored: async (run) => {
    const { grant: g, reviewer } = await run()
    const { rows } = await pool.query(`SELECT version, body FROM ${schema}.emergency_grant WHERE id = $1`, [
      g.id,
    ])
    expect(rows[0].version).toBe('3') // granted, revoked, reviewed once
    expect(rows[0].body.review.reviewer).toBe(reviewer)
  },
  more: (ab) => {
    it('a corrupted row never grants; a lost listening connection fails closed', async () => {
      const { a, b } = ab()
      const g = await a.pdp.emergency.grantAsync(emergencyRequest())
      await pool.query(
        `UPDATE ${schema}.emergency_grant SET body = jsonb_set(body, '{expiresAt}', '"soon"') WHERE id = $1`,
        [g.id],
      )
      await b.store.refresh()
      expect(b.pdp.decide(readP2(g.id)).reason).toBe('no_matching_allow')
      const c = await instance()
      const h = await c.pdp.emergency.grantAsync(emergencyRequest())
      expect(c.pdp.decide(readP2(h.id)).reason).toBe('emergency_access')
      await c.listener.end()
      await expect(c.store.refresh()).rejects.toThrow()
      expect(c.pdp.decide(readP2(h.id)).reason).toBe('no_matching_allow')
    })
  },
})

it('keeps the in-process compare-and-set for the memory store (async methods work there too)', async () => {
  const clock = manualClock(MONDAY_10AM)
  const pdp = compilePolicy(clinic, { clock, resolvers: { careTeam: () => false } })
  const g = await pdp.emergency.grantAsync(emergencyRequest())
  clock.advance(31 * MIN)
  const outcomes = await Promise.allSettled(
    ['u-r1', 'u-r2', 'u-r3'].map((reviewer) =>
      pdp.emergency.reviewAsync(g.id, { reviewer, outcome: 'inappropriate', notes: 'n' }),
    ),
  )
  expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
})

it('instances starting at once on a new schema all open it (the table is created under a lock)', async () => {
  const fresh = `sg_rbac_race_${process.pid}_${randomBytes(4).toString('hex')}`
  const pools = Array.from({ length: 6 }, () => new pg.Pool({ connectionString: DATABASE_URL, max: 1 }))
  const clients = await Promise.all(
    pools.map(async () => {
      const c = new pg.Client({ connectionString: DATABASE_URL })
      await c.connect()
      return c
    }),
  )
  try {
    const opened = await Promise.allSettled(
      pools.map((p, i) =>
        openPostgresEmergencyStore({ client: p, listener: clients[i] as pg.Client, schema: fresh }),
      ),
    )
    expect(
      opened.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason)),
    ).toEqual([])
    for (const o of opened) if (o.status === 'fulfilled') await o.value.close()
  } finally {
    for (const c of clients) await c.end()
    await pools[0]?.query(`DROP SCHEMA IF EXISTS ${fresh} CASCADE`)
    for (const p of pools) await p.end()
  }
})
