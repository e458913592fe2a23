/**
 * The benchmark's realistic policy: 20 roles in three levels (4 base, 8 mid inheriting base roles,
 * 8 senior inheriting mid roles), 200 permissions (40 FHIR resource types × 5 actions), each granted
 * to one or two roles, 10,000 users holding one or two roles, and random requests. The same data is
 * expressed as an `@safeguards/rbac` policy, a Casbin RBAC model + policy, and CASL rules.
 */

import { prng } from '../../../scripts/test-support/prng.js'
import type { AccessRequest, PolicyDocument } from '../src/index.js'

export const TYPES = [
  'Patient',
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'Location',
  'Encounter',
  'EpisodeOfCare',
  'Appointment',
  'Schedule',
  'Slot',
  'Observation',
  'Condition',
  'Procedure',
  'AllergyIntolerance',
  'Immunization',
  'MedicationRequest',
  'MedicationAdministration',
  'MedicationDispense',
  'MedicationStatement',
  'Medication',
  'DiagnosticReport',
  'ImagingStudy',
  'Specimen',
  'ServiceRequest',
  'CarePlan',
  'CareTeam',
  'Goal',
  'DocumentReference',
  'Composition',
  'Consent',
  'Coverage',
  'Claim',
  'ClaimResponse',
  'ExplanationOfBenefit',
  'Invoice',
  'Account',
  'AuditEvent',
  'Provenance',
  'Communication',
  'Task',
] as const
export const ACTIONS = ['read', 'search', 'create', 'update', 'delete'] as const

/** mulberry32: a small seeded PRNG so every run uses the same policy and requests. */
export { prng }

export interface BenchData {
  policy: PolicyDocument
  /** Role → parents. */
  inherits: Map<string, string[]>
  /** [role, type, action] grants. */
  grants: [string, string, string][]
  users: { id: string; tenant: string; roles: string[] }[]
  requests: AccessRequest[]
}

export function benchData(requestCount = 1 << 16): BenchData {
  const rand = prng(20261122)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T
  const base = ['staff', 'clinical', 'administrative', 'financial']
  const mid = [
    'front_desk',
    'nurse',
    'pharmacist',
    'lab_tech',
    'radiology_tech',
    'billing',
    'coder',
    'scheduler',
  ]
  const senior = [
    'charge_nurse',
    'physician',
    'chief_pharmacist',
    'lab_supervisor',
    'radiologist',
    'billing_manager',
    'practice_manager',
    'compliance_officer',
  ]
  const inherits = new Map<string, string[]>()
  for (const r of base) inherits.set(r, [])
  mid.forEach((r, i) => {
    inherits.set(r, [base[i % base.length] as string, ...(i % 3 === 0 ? ['staff'] : [])])
  })
  senior.forEach((r, i) => {
    inherits.set(r, [mid[i] as string])
  })
  for (const [r, ps] of inherits) inherits.set(r, [...new Set(ps.filter((p) => p !== r))])
  const roles = [...base, ...mid, ...senior]
  const grants: [string, string, string][] = []
  for (const type of TYPES)
    for (const action of ACTIONS) {
      const holders = new Set([pick(roles)])
      if (rand() < 0.5) holders.add(pick(roles))
      for (const role of holders) grants.push([role, type, action])
    }
  const policy: PolicyDocument = {
    version: 1,
    actions: [...ACTIONS],
    resourceTypes: [...TYPES],
    roles: roles.map((id) => ({ id, inherits: inherits.get(id) ?? [] })),
    rules: grants.map(([role, type, action], i) => ({
      id: `p${i}`,
      effect: 'allow' as const,
      roles: [role],
      actions: [action],
      resources: [type],
    })),
  }
  const users = Array.from({ length: 10_000 }, (_, i) => {
    const held = new Set([pick(roles)])
    if (rand() < 0.4) held.add(pick(roles))
    return Object.freeze({ id: `u${i}`, tenant: 't1', roles: Object.freeze([...held]) as string[] })
  })
  const requests: AccessRequest[] = Array.from({ length: requestCount }, () =>
    Object.freeze({
      subject: pick(users),
      action: pick(ACTIONS),
      resource: Object.freeze({ type: pick(TYPES), tenant: 't1' }),
    }),
  )
  return { policy, inherits, grants, users, requests }
}
