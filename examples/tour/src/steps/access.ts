import { manualClock } from '@safeguards/core'
import { compilePolicy, type PolicyDocument } from '@safeguards/rbac'
import type { TourStep } from '../step.js'

/** A small clinic policy: minimum necessary per role, an append-only audit trail, emergency access. */
const policy: PolicyDocument = {
  version: 1,
  relationships: ['careTeam'],
  roles: [{ id: 'staff' }, { id: 'front_desk', inherits: ['staff'] }, { id: 'nurse', inherits: ['staff'] }],
  labels: [
    { id: 'psychotherapy', emergencyAccess: 'never' },
    { id: 'sud-42cfr2', emergencyAccess: 'lifts' },
  ],
  rules: [
    {
      id: 'front-desk-demographics',
      effect: 'allow',
      roles: ['front_desk'],
      actions: ['read'],
      resources: ['Patient', 'Appointment'],
    },
    {
      id: 'nurse-read-clinical',
      effect: 'allow',
      roles: ['nurse'],
      actions: ['read'],
      resources: ['Patient', 'Observation'],
      when: { relation: 'careTeam' },
    },
    {
      id: 'audit-trail-is-append-only',
      effect: 'deny',
      roles: ['*'],
      actions: ['update', 'delete'],
      resources: ['AuditEvent'],
    },
  ],
  emergencyAccess: {
    roles: ['nurse'],
    actions: ['read'],
    resources: ['Patient', 'Observation'],
    reasonCodes: ['clinical-emergency'],
    maxMinutes: 60,
  },
}

export const accessStep: TourStep = {
  package: '@safeguards/rbac',
  title: 'access decisions with reasons, sensitivity labels and emergency access (break-glass)',
  hipaa: [
    '164.312(a)(1) access control',
    '164.312(a)(2)(ii) emergency access procedure',
    '164.308(a)(4) access authorization',
    '164.502(b) minimum necessary',
  ],
  async run(say) {
    const clock = manualClock(Date.UTC(2026, 10, 23, 10, 0))
    const careTeam = new Set(['u-17:p-1'])
    const pdp = compilePolicy(policy, {
      clock,
      resolvers: { careTeam: (r) => careTeam.has(`${r.subject.id}:${r.resource.patient}`) },
    })
    const nurse = { id: 'u-17', tenant: 'clinic-a', roles: ['nurse'] }
    const obs = (patient: string, labels: string[] = []) => ({
      type: 'Observation',
      tenant: 'clinic-a',
      patient,
      labels,
    })

    const ok = pdp.decide({ subject: nurse, action: 'read', resource: obs('p-1') })
    say(
      `nurse reads a care-team patient's vitals: allowed=${ok.allowed} by ${ok.rules.map((r) => `${r.id} via ${r.via.map((c) => c.join(' → ')).join(', ')}`).join('; ')}`,
    )

    const frontDesk = { id: 'u-3', tenant: 'clinic-a', roles: ['front_desk'] }
    const no = pdp.decide({ subject: frontDesk, action: 'read', resource: obs('p-1') })
    say(`front desk reads vitals: allowed=${no.allowed}, reason ${no.reason} (minimum necessary)`)
    const wipe = pdp.decide({
      subject: nurse,
      action: 'delete',
      resource: { type: 'AuditEvent', tenant: 'clinic-a' },
    })
    say(
      `anyone deletes the audit trail: allowed=${wipe.allowed}, reason ${wipe.reason} by ${wipe.rules[0]?.id}`,
    )
    const other = pdp.decide({ subject: nurse, action: 'read', resource: obs('p-2') })
    say(`nurse reads a patient outside the care team: allowed=${other.allowed}, reason ${other.reason}`)

    const grant = pdp.emergency.grant({
      subject: nurse,
      patient: 'p-2',
      actions: ['read'],
      reasonCode: 'clinical-emergency',
      justification: 'Patient collapsed in the waiting room; no care-team assignment yet.',
      minutes: 30,
    })
    const bg = pdp.decide({
      subject: nurse,
      action: 'read',
      resource: obs('p-2', ['sud-42cfr2']),
      emergencyAccess: grant.id,
    })
    say(
      `emergency access (30 min, one patient): allowed=${bg.allowed}, reason ${bg.reason}, obligations ${bg.obligations.map((o) => o.id).join(', ')}`,
    )
    const psy = pdp.decide({
      subject: nurse,
      action: 'read',
      resource: obs('p-2', ['psychotherapy']),
      emergencyAccess: grant.id,
    })
    say(`psychotherapy notes even with emergency access: allowed=${psy.allowed}, reason ${psy.reason}`)
    clock.set(grant.expiresAt)
    const late = pdp.decide({
      subject: nurse,
      action: 'read',
      resource: obs('p-2'),
      emergencyAccess: grant.id,
    })
    say(
      `at expiry: allowed=${late.allowed}, grant ${late.emergencyAccess?.status}; awaiting review: ${pdp.emergency.pendingReviews().length}`,
    )
    pdp.emergency.review(grant.id, {
      reviewer: 'u-privacy-officer',
      outcome: 'appropriate',
      notes: 'ED triage note confirms.',
    })
    say(`after the privacy officer's review: awaiting review: ${pdp.emergency.pendingReviews().length}`)
  },
}
