/**
 * Two clinic instances side by side on the real PostgreSQL and Redis: a logout on one is honoured
 * by the other, and both append to one audit chain that stays valid. A schema and a key prefix of
 * our own, removed afterwards.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from '@redis/client'
import { bytesToHex, manualClock, randomBytes } from '@safeguards/core'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningClinic, type SharedStateOptions, STAFF_USERNAMES, startClinic } from '../src/clinic.js'
import { client, signIn } from '../src/demo.js'
import { generateClinicSecrets } from '../src/secrets.js'
import { removeSharedState } from '../src/shared-state.js'
import { expectNightInDemo } from './night-output.js'
import { databaseUrl, missingServices, redisUrl } from './services.js'

const id = bytesToHex(randomBytes(4))
const schema = `sg_clinic_${id}`
const prefix = `sg-clinic-${id}:`
const missing = await missingServices('clinic-api shared-state tests')

const clock = manualClock(Date.UTC(2026, 10, 22, 9, 0, 0))
const sharedDir = mkdtempSync(join(tmpdir(), 'sg-clinic-shared-'))
let a: RunningClinic
let b: RunningClinic

describe.skipIf(missing !== null)('two instances on PostgreSQL and Redis', () => {
  beforeAll(async () => {
    const shared: SharedStateOptions = {
      databaseUrl,
      redisUrl,
      schema,
      stream: `clinic-${id}`,
      redisPrefix: prefix,
    }
    const secrets = await generateClinicSecrets(STAFF_USERNAMES)
    const demo = { advance: (ms: number) => clock.advance(ms) }
    a = await startClinic({ clock, demo, shared, secrets, sharedDir })
    b = await startClinic({ clock, demo, shared, secrets, sharedDir })
  })
  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    await removeSharedState({ databaseUrl, redisUrl, schema, redisPrefix: prefix })
    rmSync(sharedDir, { recursive: true, force: true })
  })

  it('a session from one instance works on the other, and a logout on one holds on both', async () => {
    const token = await signIn(a, 'nora.nurse')
    const onB = await client(b.url)('GET', '/api/patients/p-1/clinical', token)
    expect(onB.status).toBe(200)
    expect((await client(b.url)('POST', '/api/logout', token)).status).toBe(200)
    expect((await client(a.url)('GET', '/api/patients/p-1/clinical', token)).status).toBe(401)
    expect((await client(b.url)('GET', '/api/patients/p-1/clinical', token)).status).toBe(401)
  })

  it('an emergency grant made on one instance opens the chart on the other, and is reviewed once', async () => {
    const nurse = await signIn(a, 'nora.nurse')
    const grant = await client(a.url)('POST', '/api/emergency-access', nurse, {
      patient: 'p-2',
      reasonCode: 'clinical-emergency',
      justification: 'Patient collapsed in the waiting room; not yet assigned to a care team.',
      minutes: 30,
    })
    expect(grant.status).toBe(200)
    const grantId = grant.body.id as string
    let onB = await client(b.url)('GET', '/api/patients/p-2/clinical', nurse, undefined, {
      'x-emergency-access': grantId,
    })
    for (let i = 0; onB.status !== 200 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20)) // the notification from A, usually already there
      onB = await client(b.url)('GET', '/api/patients/p-2/clinical', nurse, undefined, {
        'x-emergency-access': grantId,
      })
    }
    expect(onB.status).toBe(200)
    expect((await client(b.url)('POST', `/api/emergency-access/${grantId}/end`, nurse)).status).toBe(200)
    const auditor = await signIn(b, 'ada.auditor')
    const review = { outcome: 'appropriate', notes: 'ED record confirms the collapse.' }
    const [ra, rb] = await Promise.all([
      client(a.url)('POST', `/api/emergency-access/${grantId}/review`, auditor, review),
      client(b.url)('POST', `/api/emergency-access/${grantId}/review`, auditor, review),
    ])
    expect([ra.status, rb.status].sort()).toEqual([200, 409]) // one review, whichever instance
  })

  it('both instances append to one audit chain that verifies', async () => {
    const front = await signIn(b, 'frank.front')
    expect((await client(a.url)('GET', '/api/patients/p-1/clinical', front)).status).toBe(403)
    const auditor = await signIn(a, 'ada.auditor')
    const va = await client(a.url)('GET', '/api/audit/verify', auditor)
    expect(va.body.ok).toBe(true)
    expect(va.body.findings).toEqual([])
    const vb = await client(b.url)('GET', '/api/audit/verify', auditor)
    expect(vb.body.ok).toBe(true)
    expect(vb.body.records as number).toBeGreaterThanOrEqual(va.body.records as number)
    expect(va.body.records as number).toBeGreaterThan(10)
  })
})

describe.skipIf(missing !== null)('the walkthrough with DATABASE_URL and REDIS_URL', () => {
  it('runs two instances on PostgreSQL and Redis, exits 0, and removes its schema and keys', async () => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--conditions=@safeguards/source', 'src/demo.ts'],
      {
        cwd: join(import.meta.dirname, '..'),
        encoding: 'utf8',
        timeout: 110_000,
        env: { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl },
      },
    )
    expect(out).toContain('mode: shared')
    expect(out).toMatch(/TOTP code on B \(HTTP 200\): one sign-in across instances/)
    expect(out).toContain('the same token on A after the logout on B: HTTP 401')
    expect(out).toMatch(/verify the live log \(one PostgreSQL stream, written by both instances\): ok=true/)
    expect(out).toContain('the same chain verified through B: ok=true')
    expect(out).toContain('verify the copy: ok=false')
    expectNightInDemo(out) // the monitor's findings, the proofs checked offline
    // The shred on A holds on B at once (the tombstone is in PostgreSQL, read on every operation).
    expect(out).toContain('front desk reads p-4: HTTP 410 gone ERR_SUBJECT_SHREDDED')
    expect(out).toContain('the same read on instance B: HTTP 410 ERR_SUBJECT_SHREDDED')
    expect(out).toMatch(/the audit log is not rewritten: verify ok=true/)
    expect(out).toContain('walkthrough complete.')
    const demoSchema = /schema (clinic_demo_[0-9a-f]+)/.exec(out)?.[1]
    const demoPrefix = /prefix (clinic-demo-[0-9a-f]+:)/.exec(out)?.[1]
    expect(demoSchema).toBeDefined()
    const c = new pg.Client({ connectionString: databaseUrl })
    await c.connect()
    try {
      const { rowCount } = await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [demoSchema])
      expect(rowCount).toBe(0)
    } finally {
      await c.end()
    }
    const r = await createClient({ url: redisUrl }).connect()
    try {
      const left: string[] = []
      for await (const keys of r.scanIterator({ MATCH: `${demoPrefix}*`, COUNT: 100 })) left.push(...keys)
      expect(left).toEqual([])
    } finally {
      await r.close()
    }
  }, 120_000)
})
