/**
 * The walkthrough's erasure step (`shred.ts`): a patient asks to be forgotten; the privacy officer
 * asks, confirms, and the patient's key is destroyed. The chart then answers 410 (on every
 * instance), the other patients still read, the phone lookup finds nobody, and the audit log, not
 * rewritten, still verifies with the patient's records under their pseudonym.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RunningClinic } from './clinic.js'
import { client, signIn } from './demo.js'
import { PATIENTS } from './staff.js'

/** The patient who asks to be erased in the walkthrough. */
export const ERASED_PATIENT = 'p-4'

/** Runs the step against `clinic` (and, in shared mode, shows the result on `other`). */
export async function shredWalkthrough(
  clinic: RunningClinic,
  other: RunningClinic | undefined,
  step: (title: string, hipaa: string) => void,
  say: (s: string) => void,
): Promise<void> {
  const id = ERASED_PATIENT
  step(
    `Erasure on request: ${id} asks to be forgotten; the privacy officer destroys the patient's key, the audit trail stays`,
    '164.310(d)(2)(i) disposal; 164.312(a)(1) access control; 164.312(b) audit controls',
  )
  const call = client(clinic.url)
  const admin = await signIn(clinic, 'alan.admin')
  say(
    `the admin asks to shred ${id}: HTTP ${(await call('POST', `/api/patients/${id}/shred`, admin)).status}`,
  )
  const officer = await signIn(clinic, 'pia.privacy')
  const ask = await call('POST', `/api/patients/${id}/shred`, officer)
  say(`the privacy officer asks: HTTP ${ask.status}, a single-use confirmation token (${ask.body.warning})`)
  const done = await call('POST', `/api/patients/${id}/shred/confirm`, officer, { confirm: ask.body.confirm })
  say(
    `confirmed: HTTP ${done.status}, subject key ${done.body.keyRef} ${done.body.outcome} (recorded as key.destroyed)`,
  )
  const desk = await signIn(clinic, 'frank.front')
  const gone = await call('GET', `/api/patients/${id}/demographics`, desk)
  say(`front desk reads ${id}: HTTP ${gone.status} ${gone.body.error} ${gone.body.code}`)
  if (other) {
    const onB = await client(other.url)('GET', `/api/patients/${id}/demographics`, desk)
    say(`the same read on instance B: HTTP ${onB.status} ${onB.body.code} (the tombstone is in PostgreSQL)`)
  }
  say(`another patient, p-1: HTTP ${(await call('GET', '/api/patients/p-1/demographics', desk)).status}`)
  const phone = PATIENTS[id]!.phone!
  const found = await call('GET', `/api/patients?phone=${encodeURIComponent(phone)}`, desk)
  const rec = JSON.parse(readFileSync(join(clinic.paths.records, `${id}.json`), 'utf8')) as Record<
    string,
    unknown
  >
  say(
    `front desk searches ${id}'s phone: patients ${JSON.stringify(found.body.patients)}; the record keeps its ${Object.keys(rec.fields as object).length} encrypted fields, phone_bidx ${rec.phone_bidx === undefined ? 'removed' : 'STILL THERE'}`,
  )
  const auditor = await signIn(clinic, 'ada.auditor')
  const v = await call('GET', '/api/audit/verify', auditor)
  const report = await clinic.review.accessReport(id)
  const shred = report.rows.find((r) => r.action === 'D')
  say(
    `the audit log is not rewritten: verify ok=${v.body.ok}, ${v.body.records} records; ${id}'s access report still has ${report.rows.length} rows under the pseudonym ${shred?.patient ?? '?'}, the shred among them (seq ${shred?.seq}, by ${shred?.who})`,
  )
}
