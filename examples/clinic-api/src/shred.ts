/**
 * Erasing a patient on request (crypto-shredding): the privacy officer asks, gets a confirmation
 * token, and confirms; the clinic then destroys the patient's subject key (`subject-keys.ts`), so
 * every copy of the patient's fields (records, backups) is unreadable for good, and nobody else's.
 *
 * - `POST /api/patients/:id/shred` (`shred` on `Patient`: the privacy officer only) answers 202
 *   with a single-use confirmation token, valid 5 minutes, bound to the officer and the patient
 *   (kept hashed in the sign-in challenge store's kind of store: Redis when shared).
 * - `POST /api/patients/:id/shred/confirm` `{confirm}` (the same officer, the same patient) destroys
 *   the key. `@safeguards/envelope` records `key.destroyed` through the critical audit sink (the
 *   patient as the sink's keyed pseudonym, the officer as actor, the opaque key reference); then
 *   the record loses its blind index (`phone_bidx`) and is marked `shredded`, and the patient's
 *   lab-result recipient key is deleted (nothing more is sealed to them).
 *
 * After it: the chart routes answer 410 Gone with `ERR_SUBJECT_SHREDDED` (on every instance: the
 * shared store is read on every operation), a lookup by the patient's phone finds nothing, the
 * other patients are untouched. The audit log is not rewritten: the patient's earlier records stay,
 * under the same pseudonym, and the chain still verifies.
 *
 * HIPAA: 164.310(d)(2)(i) disposal; 164.526 / 164.530 (a documented, authorised decision);
 * 164.312(b) the shred is recorded; 164.312(a)(1) access control (two steps, one role).
 */
import { bytesToHex, isSafeguardsError, randomBytes } from '@safeguards/core'
import type { SubjectKeys } from '@safeguards/envelope'
import type { ChallengeStore } from './challenges.js'
import type { ClinicApp, ClinicServices } from './context.js'
import type { LabResults } from './lab-results.js'
import type { PatientSearch } from './patient-search.js'
import { subjectOf } from './routes/charts.js'
import { MIN, type Staff, TENANT } from './staff.js'

/** How long a confirmation token is valid. */
export const SHRED_CONFIRM_TTL_MS = 5 * MIN

/** What the shred routes need besides the services. */
export interface ShredDeps {
  readonly subjects: SubjectKeys
  readonly search: PatientSearch
  /** The lab-result mailbox: the patient's recipient key is deleted with the shred. */
  readonly labResults: Pick<LabResults, 'forget'>
  /** Pending confirmations: token → `<officer id> <patient id>`, single use. */
  readonly confirmations: ChallengeStore
}

/** Mounts `POST /api/patients/:id/shred` and `POST /api/patients/:id/shred/confirm`. */
export function mountShredRoutes(app: ClinicApp, s: ClinicServices, d: ShredDeps): void {
  const decide = (user: Staff, patient: string) =>
    s.pdp.decide({
      subject: subjectOf(user),
      action: 'shred',
      resource: { type: 'Patient', tenant: TENANT, patient },
    })

  /** What follows the destroyed key: the record marked, its blind index and lab-result key gone. */
  const afterShred = async (patient: string): Promise<void> => {
    await s.records.markShredded(patient)
    d.search.forget(patient)
    await d.labResults.forget(patient)
  }

  app.post('/api/patients/:id/shred', async (c) => {
    const user = c.get('user')
    const patient = c.req.param('id')
    const decision = decide(user, patient)
    if (!decision.allowed) return c.json({ error: 'forbidden', reason: decision.reason }, 403)
    const record = s.records.load(patient)
    if (record === null) return c.json({ error: 'not_found' }, 404)
    if (record.shredded) return c.json({ error: 'gone', code: 'ERR_SUBJECT_SHREDDED' }, 410)
    const confirm = bytesToHex(randomBytes(32))
    await d.confirmations.put(confirm, `${user.id} ${patient}`, SHRED_CONFIRM_TTL_MS)
    return c.json(
      {
        patient,
        confirm,
        expiresAt: s.clock.now() + SHRED_CONFIRM_TTL_MS,
        warning: "irreversible: every copy of this patient's fields becomes unreadable",
      },
      202,
    )
  })

  app.post('/api/patients/:id/shred/confirm', async (c) => {
    const user = c.get('user')
    const patient = c.req.param('id')
    const decision = decide(user, patient)
    if (!decision.allowed) return c.json({ error: 'forbidden', reason: decision.reason }, 403)
    const body = (await c.req.json().catch(() => null)) as { confirm?: unknown } | null
    const token = typeof body?.confirm === 'string' ? body.confirm : ''
    // Single use: a token taken here is gone even when it names someone else.
    const pending = token === '' ? null : await d.confirmations.take(token)
    if (pending !== `${user.id} ${patient}`) return c.json({ error: 'invalid_confirmation' }, 409)
    if (s.records.load(patient) === null) return c.json({ error: 'not_found' }, 404)
    let result: Awaited<ReturnType<SubjectKeys['shredSubject']>>
    try {
      // Durable first (the tombstone), then recorded: `key.destroyed` through the critical sink.
      result = await d.subjects.shredSubject(patient, { actor: user.id })
    } catch (e) {
      // The shred stands even when its record could not be written (503, as for any access).
      if (isSafeguardsError(e, 'ERR_EVENT_SINK')) await afterShred(patient)
      throw e
    }
    await afterShred(patient)
    return c.json({ patient, keyRef: result.keyRef, outcome: result.outcome })
  })
}
