/**
 * The walkthrough's night, as the demo runs it (`src/night.ts`): a nurse reads charts outside her
 * care team at 23:00 and a password spray hits the sign-in; the monitor, with the clinic's
 * care-team resolver, flags exactly those (and nothing of the day's legitimate work); a patient's
 * access report lists every access to the chart, and each row's proof checks offline.
 */
import { createPseudonymizer } from '@safeguards/audit-log'
import { manualClock } from '@safeguards/core'
import type { Finding } from '@safeguards/monitor'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningClinic, startClinic } from '../src/clinic.js'
import { client, signIn } from '../src/demo.js'
import {
  advanceToNight,
  browseAtNight,
  checkedAccessReport,
  SPRAYED_USERNAMES,
  sprayPasswords,
} from '../src/night.js'
import { clinicResolvers } from '../src/review.js'

const clock = manualClock(Date.UTC(2026, 10, 22, 9, 0, 0))
let clinic: RunningClinic

beforeAll(async () => {
  clinic = await startClinic({ clock, demo: { advance: (ms) => clock.advance(ms) } })
})
afterAll(async () => {
  await clinic?.stop()
})

const summary = (f: Finding) => ({ detector: f.detector, key: f.who ?? f.address, count: f.count })

describe('the night at the clinic', () => {
  it('flags the nurse outside her care team at night and the spray, and nothing of the day', async () => {
    const call = client(clinic.url)
    // The day: care-team reads, the front desk and billing at work, a denied read.
    const nurse = await signIn(clinic, 'nora.nurse')
    const front = await signIn(clinic, 'frank.front')
    const billing = await signIn(clinic, 'bill.billing')
    expect((await call('GET', '/api/patients/p-1/clinical', nurse)).status).toBe(200)
    expect((await call('GET', '/api/patients/p-3/demographics', front)).status).toBe(200)
    expect((await call('GET', '/api/patients/p-4/billing', billing)).status).toBe(200)
    expect((await call('GET', '/api/patients/p-2/clinical', nurse)).status).toBe(403)
    expect((await clinic.review.run()).findings).toEqual([])

    expect(new Date(await advanceToNight(clinic)).toISOString()).toBe('2026-11-22T23:00:00.000Z')
    expect((await browseAtNight(clinic)).map((r) => r.status)).toEqual([200, 200, 403, 200])
    expect(await sprayPasswords(clinic)).toEqual(SPRAYED_USERNAMES.map(() => 401))

    const result = await clinic.review.run()
    expect(result.damaged).toBe(0)
    expect(result.unknown.total).toBe(0)
    expect(result.findings.map(summary)).toEqual([
      { detector: 'off-hours-access', key: 'u-nurse', count: 3 },
      { detector: 'no-care-relationship', key: 'u-nurse', count: 1 },
      { detector: 'no-care-relationship', key: 'u-nurse', count: 1 },
      { detector: 'no-care-relationship', key: 'u-nurse', count: 1 },
      { detector: 'password-spray', key: '127.0.0.1', count: SPRAYED_USERNAMES.length },
    ])
    // The three patients (as stored: pseudonyms), none on the nurse's care team.
    const patients = result.findings
      .filter((f) => f.detector === 'no-care-relationship')
      .flatMap((f) => f.patients)
    expect(new Set(patients).size).toBe(3)
    // The same log reviewed again gives the same findings, ids included.
    expect((await clinic.review.run()).findings).toEqual(result.findings)
  })

  it("lists every access to a patient's chart with a proof that checks offline; a forged row is refused", async () => {
    const { report, verdicts, tampered } = await checkedAccessReport(clinic, 'p-3')
    expect(report.checkpoint?.size).toBe(report.size)
    // p-3: the front desk by day; the nurse's night read, and her refused clinical read.
    expect(report.rows.map((r) => [r.who, r.outcome])).toEqual(
      expect.arrayContaining([
        ['u-front', 0],
        ['u-nurse', 0],
        ['u-nurse', 4],
      ]),
    )
    expect(
      report.rows.every((r) => r.patient === report.rows[0]?.patient && r.patient?.startsWith('ps:clinic:')),
    ).toBe(true)
    expect(verdicts).toHaveLength(report.rows.length)
    expect(verdicts.every((v) => v.valid)).toBe(true)
    expect(tampered).toEqual({ valid: false, reason: 'audit path does not lead to the signed root' })
  })
})

describe('the care-team resolver', () => {
  it('explains care-team members and the every-patient roles, for pseudonymised patients only', () => {
    const ps = createPseudonymizer(new Uint8Array(32).fill(3), { keyId: 'clinic' })
    const care = clinicResolvers(ps).careRelationship!
    expect(care('u-nurse', ps.pseudonym('p-1'))).toBe(true)
    expect(care('u-nurse', ps.pseudonym('p-2'))).toBe(false)
    expect(care('u-nurse', 'p-1')).toBe(false) // the log never holds a raw patient id
    expect(care('u-front', ps.pseudonym('p-4'))).toBe(true)
    expect(care('u-billing', ps.pseudonym('p-2'))).toBe(true)
    expect(care('u-admin', ps.pseudonym('p-1'))).toBe(false)
  })
})
