/**
 * Two clinic instances side by side on the real PostgreSQL and Redis: a logout on one is honoured
 * by the other, and both append to one audit chain that stays valid. A schema and a key prefix of
 * our own, removed afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex, manualClock, randomBytes } from '@safeguards/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningClinic, type SharedStateOptions, STAFF_USERNAMES, startClinic } from '../src/clinic.js'
import { client, signIn } from '../src/demo.js'
import { generateClinicSecrets } from '../src/secrets.js'
import { removeSharedState } from '../src/shared-state.js'
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
