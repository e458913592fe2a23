/**
 * The walkthrough's night (issue 16 §4): a nurse browses the charts of patients outside her care
 * team late in the evening, and a password spray hits the sign-in; then the privacy officer's
 * evidence: a patient's access report whose every row carries an inclusion proof, checked offline
 * with nothing but the checkpoint public key. The demo prints these; a test asserts them.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review; 164.308(a)(5)(ii)(C) log-in
 * monitoring; 164.312(b) audit controls.
 */
import {
  type AccessReport,
  type BundleVerdict,
  createKeyring,
  verifyInclusionBundle,
} from '@safeguards/audit-log'
import type { RunningClinic } from './clinic.js'
import { client, signIn } from './demo.js'

/** The charts the nurse opens at night: none of these patients is on her care team (p-1 only). */
export const NIGHT_READS: readonly string[] = [
  '/api/patients/p-2/demographics',
  '/api/patients/p-3/demographics',
  '/api/patients/p-3/clinical', // refused: clinical sections need the care team
  '/api/patients/p-4/demographics',
]

/**
 * The names a password spray tries, one common password each: the clinic's real usernames (found
 * on a staff page, say) and made-up ones. Twelve distinct names: the monitor's default is ten.
 */
export const SPRAYED_USERNAMES: readonly string[] = [
  'frank.front',
  'nora.nurse',
  'priya.physician',
  'bill.billing',
  'ada.auditor',
  'alan.admin',
  'admin',
  'reception',
  'jsmith',
  'mwilson',
  'test',
  'scanner',
]

/** Moves the demo clock forward to the next 23:00 UTC; returns the new time. */
export async function advanceToNight(clinic: RunningClinic): Promise<number> {
  const call = client(clinic.url)
  const now = Date.parse((await call('POST', '/_demo/clock', null, { advanceMs: 0 })).body.now as string)
  const d = new Date(now)
  let night = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 23, 0, 0)
  if (night <= now) night += 24 * 60 * 60_000
  await call('POST', '/_demo/clock', null, { advanceMs: night - now })
  return night
}

/** The nurse signs in at night and opens {@link NIGHT_READS}; the HTTP status of each. */
export async function browseAtNight(clinic: RunningClinic): Promise<{ path: string; status: number }[]> {
  const call = client(clinic.url)
  const nurse = await signIn(clinic, 'nora.nurse')
  const out: { path: string; status: number }[] = []
  for (const path of NIGHT_READS) out.push({ path, status: (await call('GET', path, nurse)).status })
  return out
}

/** One attempt per {@link SPRAYED_USERNAMES}, the same password each time; the HTTP statuses. */
export async function sprayPasswords(clinic: RunningClinic): Promise<number[]> {
  const call = client(clinic.url)
  const statuses: number[] = []
  for (const username of SPRAYED_USERNAMES)
    statuses.push((await call('POST', '/login', null, { username, password: 'Spring2026!' })).status)
  return statuses
}

/** A patient's access report, each row's proof checked offline, and a tampered copy of one proof. */
export interface CheckedReport {
  readonly report: AccessReport
  /** The verdict on each row's proof, in row order. */
  readonly verdicts: readonly BundleVerdict[]
  /** The verdict on the first row's proof with its record's outcome rewritten (must be refused). */
  readonly tampered: BundleVerdict | undefined
}

/**
 * The access report of `patient` with proofs, then the offline check: each proof, as the JSON a
 * patient or an auditor would receive, against a keyring made of the checkpoint public key only.
 */
export async function checkedAccessReport(clinic: RunningClinic, patient: string): Promise<CheckedReport> {
  const report = await clinic.review.accessReport(patient)
  const keyring = await createKeyring([{ publicJwk: clinic.review.checkpointKey }])
  const verdicts: BundleVerdict[] = []
  for (const row of report.rows)
    verdicts.push(await verifyInclusionBundle(JSON.parse(JSON.stringify(row.proof)), keyring))
  const first = report.rows[0]?.proof
  // A failure rewritten as a success, or a success as a failure: the proof must no longer hold.
  const forged = first?.record.includes('"outcome":0')
    ? first.record.replace('"outcome":0', '"outcome":4')
    : first?.record.replace(/"outcome":\d+/, '"outcome":0')
  const tampered =
    first === undefined || forged === undefined
      ? undefined
      : await verifyInclusionBundle({ ...first, record: forged }, keyring)
  return { report, verdicts, tampered }
}
