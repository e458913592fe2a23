/**
 * The clinic's seeded data: staff (with their roles and care teams) and four patients (fictitious),
 * whose PHI fields are encrypted at rest by `records.ts`.
 */
import type { Role } from './policy.js'

/** The one tenant of the demo clinic. */
export const TENANT = 'clinic-a'
/** One minute, in milliseconds. */
export const MIN = 60_000

/** A staff member: id, sign-in name, role, and the patients on their care team. */
export interface Staff {
  readonly id: string
  readonly username: string
  readonly role: Role
  readonly careTeam: readonly string[]
}

/** A seeded staff account. */
export interface StaffSeed {
  readonly id: string
  readonly username: string
  readonly role: Role
  /** The password, returned to the in-process caller only (the demo and tests play the user). */
  readonly password: string
  /** The TOTP secret (base32), for the same reason. */
  readonly totpSecret: string
}

export const STAFF: readonly Staff[] = [
  { id: 'u-front', username: 'frank.front', role: 'front_desk', careTeam: [] },
  { id: 'u-nurse', username: 'nora.nurse', role: 'nurse', careTeam: ['p-1'] },
  { id: 'u-doc', username: 'priya.physician', role: 'physician', careTeam: ['p-1'] },
  { id: 'u-billing', username: 'bill.billing', role: 'billing', careTeam: [] },
  { id: 'u-auditor', username: 'ada.auditor', role: 'auditor', careTeam: [] },
  { id: 'u-admin', username: 'alan.admin', role: 'admin', careTeam: [] },
  { id: 'u-privacy', username: 'pia.privacy', role: 'privacy_officer', careTeam: [] },
]

/** The usernames of the seeded staff (the keys of `ClinicSecrets.staff`). */
export const STAFF_USERNAMES: readonly string[] = STAFF.map((s) => s.username)

/** The chart section (the policy's resource type) each PHI field belongs to. */
export const FIELD_RESOURCE: Readonly<Record<string, string>> = {
  name: 'Demographics',
  birthDate: 'Demographics',
  phone: 'Demographics',
  diagnosis: 'Clinical',
  notes: 'Clinical',
  insuranceId: 'Billing',
}

/** The seeded patients, in plaintext here only: on disk every field is an envelope. */
export const PATIENTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'p-1': {
    name: 'Jane Doe',
    birthDate: '1984-03-12',
    phone: '+1-202-555-0100',
    diagnosis: 'Type 2 diabetes mellitus (E11.9)',
    notes: 'HbA1c 7.9%; metformin 500 mg twice daily',
    insuranceId: 'MBR-4411-9920',
  },
  'p-2': {
    name: 'John Roe',
    birthDate: '1959-11-02',
    phone: '+1-202-555-0199',
    diagnosis: 'Atrial fibrillation (I48.91)',
    notes: 'Apixaban 5 mg twice daily; last INR n/a',
    insuranceId: 'MBR-7730-1184',
  },
  'p-3': {
    name: 'Mary Major',
    birthDate: '1991-07-30',
    phone: '+1-202-555-0142',
    diagnosis: 'Mild persistent asthma (J45.30)',
    notes: 'Budesonide inhaler; spirometry due',
    insuranceId: 'MBR-2208-5531',
  },
  'p-4': {
    name: 'Richard Miles',
    birthDate: '1947-01-19',
    phone: '+1-202-555-0177',
    diagnosis: 'Essential hypertension (I10)',
    notes: 'Lisinopril 10 mg daily; BP 138/86',
    insuranceId: 'MBR-6615-0407',
  },
}
