/**
 * Erasure on request (`src/shred.ts`): only the privacy officer may shred, in two steps (a
 * single-use confirmation bound to the officer and the patient); after it the patient's fields
 * answer 410 `ERR_SUBJECT_SHREDDED` (not 500), the other patients still read, the phone lookup
 * no longer finds the patient, and the audit log, not rewritten, still verifies with the patient's
 * earlier records present under their pseudonym and the shred recorded as `key.destroyed`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { STAFF_USERNAMES, startClinic } from '../src/clinic.js'
import { client, signIn } from '../src/demo.js'
import { generateClinicSecrets } from '../src/secrets.js'
import { PATIENTS } from '../src/staff.js'
import { failableClinic } from './audit-helpers.js'

const clock = manualClock(Date.UTC(2026, 11, 7, 9, 0, 0))
const t = failableClinic(clock)
const PATIENT = 'p-3'
const PHONE = PATIENTS[PATIENT]!.phone!

describe('shredding a patient on request', () => {
  it('only the privacy officer may ask or confirm; others get 403 and nothing is destroyed', async () => {
    for (const who of ['alan.admin', 'ada.auditor', 'nora.nurse', 'frank.front']) {
      const token = await signIn(t.clinic, who)
      const r = await t.call('POST', `/api/patients/${PATIENT}/shred`, token)
      expect(r.status, who).toBe(403)
      const c = await t.call('POST', `/api/patients/${PATIENT}/shred/confirm`, token, { confirm: 'x' })
      expect(c.status, who).toBe(403)
    }
    const desk = await signIn(t.clinic, 'frank.front')
    expect((await t.call('GET', `/api/patients/${PATIENT}/demographics`, desk)).status).toBe(200)
  })

  it('a confirmation is single use and bound to the officer and the patient', async () => {
    const officer = await signIn(t.clinic, 'pia.privacy')
    const ask = await t.call('POST', `/api/patients/${PATIENT}/shred`, officer)
    expect(ask.status).toBe(202)
    expect(ask.body.confirm).toMatch(/^[0-9a-f]{64}$/)
    // Another patient with this patient's token: refused, and the token is spent.
    const wrong = await t.call('POST', '/api/patients/p-4/shred/confirm', officer, {
      confirm: ask.body.confirm,
    })
    expect(wrong.status).toBe(409)
    const spent = await t.call('POST', `/api/patients/${PATIENT}/shred/confirm`, officer, {
      confirm: ask.body.confirm,
    })
    expect(spent.status).toBe(409)
    expect((await t.call('POST', `/api/patients/${PATIENT}/shred/confirm`, officer, {})).status).toBe(409)
    expect((await t.call('POST', '/api/patients/p-99/shred', officer)).status).toBe(404)
    const desk = await signIn(t.clinic, 'frank.front')
    expect((await t.call('GET', `/api/patients/${PATIENT}/demographics`, desk)).status).toBe(200)
  })

  it('after the confirmation the patient is gone (410), the others read, the phone finds nobody', async () => {
    const desk = await signIn(t.clinic, 'frank.front')
    const before = await t.call('GET', `/api/patients?phone=${encodeURIComponent(PHONE)}`, desk)
    expect(before.body.patients).toEqual([PATIENT])
    const officer = await signIn(t.clinic, 'pia.privacy')
    const ask = await t.call('POST', `/api/patients/${PATIENT}/shred`, officer)
    const done = await t.call('POST', `/api/patients/${PATIENT}/shred/confirm`, officer, {
      confirm: ask.body.confirm,
    })
    expect(done.status).toBe(200)
    expect(done.body).toMatchObject({ patient: PATIENT, outcome: 'destroyed' })
    expect(done.body.keyRef).toMatch(/^subject:/)
    expect(String(done.body.keyRef)).not.toContain(PATIENT)

    const gone = await t.call('GET', `/api/patients/${PATIENT}/demographics`, desk)
    expect(gone.status).toBe(410)
    expect(gone.body).toEqual({ error: 'gone', code: 'ERR_SUBJECT_SHREDDED' })
    const nurse = await signIn(t.clinic, 'nora.nurse')
    for (const id of Object.keys(PATIENTS).filter((p) => p !== PATIENT)) {
      const r = await t.call('GET', `/api/patients/${id}/demographics`, desk)
      expect(r.status, id).toBe(200)
      expect((r.body.fields as { name: string }).name).toBe(PATIENTS[id]!.name)
    }
    expect((await t.call('GET', '/api/patients/p-1/clinical', nurse)).status).toBe(200)
    // The blind-index row is gone: the phone finds nobody, and the record keeps no phone_bidx.
    const after = await t.call('GET', `/api/patients?phone=${encodeURIComponent(PHONE)}`, desk)
    expect(after.status).toBe(200)
    expect(after.body.patients).toEqual([])
    const rec = JSON.parse(readFileSync(join(t.clinic.paths.records, `${PATIENT}.json`), 'utf8'))
    expect(rec.phone_bidx).toBeUndefined()
    expect(rec.shredded).toBe(true)
    const p1 = await t.call('GET', `/api/patients?phone=${encodeURIComponent(PATIENTS['p-1']!.phone!)}`, desk)
    expect(p1.body.patients).toEqual(['p-1'])
    // A second request: already gone.
    expect((await t.call('POST', `/api/patients/${PATIENT}/shred`, officer)).status).toBe(410)
  })

  it('the audit log still verifies: the patient’s records stay under their pseudonym, the shred is recorded', async () => {
    const records = t.records()
    const destroyed = records.filter((r) => r.details?.event === 'key.destroyed')
    expect(destroyed).toHaveLength(1)
    const [shred] = destroyed
    expect(shred).toMatchObject({ action: 'D', outcome: 0, outcomeCode: 'destroyed' })
    expect(shred!.agents[0]?.who).toBe('u-privacy')
    const ps = shred!.patient!
    expect(ps).not.toBe(PATIENT)
    expect(ps).toMatch(/^ps:/)
    // The patient's earlier records are still there, under the same pseudonym; no record names the id.
    const earlier = records.filter((r) => r.patient === ps && r.details?.event === 'record.accessed')
    expect(earlier.length).toBeGreaterThan(2)
    expect(JSON.stringify(records)).not.toContain(`"${PATIENT}"`)
    const auditor = await signIn(t.clinic, 'ada.auditor')
    const v = await t.call('GET', '/api/audit/verify', auditor)
    expect(v.body).toMatchObject({ ok: true })
    const report = await t.clinic.review.accessReport(PATIENT)
    // The patient's access report still lists every row about them (reads, refusals, the shred).
    const seqs = report.rows.map((r) => r.seq)
    expect(seqs).toEqual(expect.arrayContaining([...earlier, shred!].map((r) => records.indexOf(r))))
    // The refused read after the shred is recorded too, with its code.
    expect(earlier.at(-1)).toMatchObject({ outcome: 8, outcomeCode: 'ERR_SUBJECT_SHREDDED' })
  })
})

describe('after a restart', () => {
  it('the key stays destroyed: the fields answer 410 and the phone finds nobody', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sg-clinic-shred-'))
    const secrets = await generateClinicSecrets(STAFF_USERNAMES)
    const c2 = manualClock(Date.UTC(2026, 11, 7, 9, 0, 0))
    const start = () =>
      startClinic({ clock: c2, demo: { advance: (ms) => c2.advance(ms) }, dataDir, secrets })
    try {
      const first = await start()
      try {
        const officer = await signIn(first, 'pia.privacy')
        const call = client(first.url)
        const ask = await call('POST', `/api/patients/${PATIENT}/shred`, officer)
        const done = await call('POST', `/api/patients/${PATIENT}/shred/confirm`, officer, {
          confirm: ask.body.confirm,
        })
        expect(done.status).toBe(200)
      } finally {
        await first.stop()
      }
      const again = await start()
      try {
        const call = client(again.url)
        const desk = await signIn(again, 'frank.front')
        const r = await call('GET', `/api/patients/${PATIENT}/demographics`, desk)
        expect(r).toMatchObject({ status: 410, body: { code: 'ERR_SUBJECT_SHREDDED' } })
        expect((await call('GET', '/api/patients/p-4/demographics', desk)).status).toBe(200)
        const found = await call('GET', `/api/patients?phone=${encodeURIComponent(PHONE)}`, desk)
        expect(found.body.patients).toEqual([])
        const v = await call('GET', '/api/audit/verify', await signIn(again, 'ada.auditor'))
        expect(v.body.ok).toBe(true)
      } finally {
        await again.stop()
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
