/**
 * The records the clinic's accesses leave in the audit log, written through `auditSink` (no hand
 * mapping): a chart read is a `rest` read with the real outcome; a read relying on an emergency
 * grant meets its `audit:emergency-access` obligation with a `BTG` record, written before the data
 * leaves; and when the audit log cannot be written, the read fails closed (503, no data).
 */
import { manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { signIn } from '../src/demo.js'
import { failableClinic } from './audit-helpers.js'
import { nurseEmergencyRequest } from './requests.js'

const clock = manualClock(Date.UTC(2026, 10, 22, 9, 0, 0))
const t = failableClinic(clock)

describe('access records', () => {
  it('records a chart read as a FHIR rest read by the clinic, the patient pseudonymised', async () => {
    const nurse = await signIn(t.clinic, 'nora.nurse')
    expect((await t.call('GET', '/api/patients/p-1/clinical', nurse)).status).toBe(200)
    const read = t.records().at(-1)!
    expect(read).toMatchObject({
      type: 'rest',
      subtype: ['read'],
      action: 'R',
      outcome: 0,
      outcomeCode: 'allow',
      agents: [{ who: 'u-nurse', requestor: true }],
      source: { observer: 'clinic-api' },
      entities: [{ what: 'Clinical', type: '2', role: '4' }],
      details: { event: 'record.accessed', emitter: 'clinic-api', tenant: 'clinic-a' },
    })
    expect(read.patient).toMatch(/^ps:clinic:/)
    expect(read.agents[0]!.purposeOfUse).toBeUndefined()
  })

  it('an emergency read writes a BTG record before the data leaves, and fails closed without it', async () => {
    const nurse = await signIn(t.clinic, 'nora.nurse')
    const grant = await t.call('POST', '/api/emergency-access', nurse, nurseEmergencyRequest)
    expect(grant.status).toBe(200)
    const headers = { 'x-emergency-access': grant.body.id as string }
    const ok = await t.call('GET', '/api/patients/p-2/clinical', nurse, undefined, headers)
    expect(ok.status).toBe(200)
    const used = t.records().filter((r) => r.details?.event === 'access.emergency.used')
    // rbac's record of the decision (isolated) and the clinic's record of the access (critical).
    expect(used.map((r) => r.details?.emitter).sort()).toEqual(['@safeguards/rbac', 'clinic-api'])
    expect(used.find((r) => r.details?.emitter === 'clinic-api')).toMatchObject({
      type: 'rest',
      subtype: ['read'],
      outcome: 0,
      outcomeCode: 'emergency_access',
      agents: [{ who: 'u-nurse', requestor: true, purposeOfUse: ['BTG'] }],
      details: { grantId: grant.body.id },
    })

    const before = t.records().length
    t.failing = true
    try {
      const refused = await t.call('GET', '/api/patients/p-2/clinical', nurse, undefined, headers)
      expect(refused.status).toBe(503)
      expect(refused.body).toEqual({ error: 'audit_unavailable' })
      expect(JSON.stringify(refused.body)).not.toContain('I48.91')
    } finally {
      t.failing = false
    }
    expect(t.records().length).toBe(before)
  })

  it("records a failed sign-in with the caller's address, for a known account and for a made-up name", async () => {
    const before = t.records().length
    const wrong = await t.call('POST', '/login', null, { username: 'nora.nurse', password: 'wrong' })
    const unknown = await t.call('POST', '/login', null, {
      username: 'no.such.user',
      password: 'Winter2026!',
    })
    const empty = await t.call('POST', '/login', null, { password: 'x' })
    expect([wrong.status, unknown.status, empty.status]).toEqual([401, 401, 401])
    const failed = t.records().slice(before)
    expect(failed).toHaveLength(3)
    const signIn = { type: '110114', subtype: ['110122'], action: 'E', outcome: 4 }
    const network = { address: '127.0.0.1', type: '2' } // the TCP peer: the test calls over loopback
    expect(failed[0]).toMatchObject({
      ...signIn,
      outcomeCode: 'mismatch',
      agents: [{ who: 'u-nurse', requestor: true, network }],
    })
    // An unknown name is recorded as a keyed pseudonym of itself, never as typed (it may be a password).
    expect(failed[1]).toMatchObject({ ...signIn, outcomeCode: 'unknown-account', agents: [{ network }] })
    const who = failed.slice(1).map((r) => r.agents[0]!.who)
    for (const w of who) expect(w).toMatch(/^ps:login:[A-Za-z0-9_-]+$/)
    expect(new Set(who).size).toBe(2) // distinct names stay distinct accounts
    expect(JSON.stringify(failed)).not.toMatch(/no\.such\.user|Winter2026/)
    // The same name gives the same pseudonym (a spray over the same names is counted per name).
    await t.call('POST', '/login', null, { username: 'no.such.user', password: 'other' })
    expect(t.records().at(-1)!.agents[0]!.who).toBe(who[0])
  })
})
