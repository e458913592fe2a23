import type { PolicyDocument } from '@safeguards/rbac'

/** The roles of the clinic. */
export const ROLES = [
  'front_desk',
  'nurse',
  'physician',
  'billing',
  'auditor',
  'admin',
  'privacy_officer',
] as const
export type Role = (typeof ROLES)[number]

/**
 * Minimum necessary, per role (45 CFR 164.502(b), 164.514(d)):
 * - `Demographics` (name, date of birth, phone): front desk, nurses, physicians, billing.
 * - `search` on `Patient` (finding a patient's id by phone number): front desk, nurses, physicians
 *   (billing works from claims, which carry the patient id).
 * - `Clinical` (diagnosis, notes): nurses and physicians on the patient's care team only.
 * - `Billing` (insurance member id): billing only.
 * - `AuditEvent`: auditors and admins read; nobody updates or deletes.
 * - `Key` and `Backup` operations: admins only.
 * - `shred` on `Patient` (erasing a patient's data on request, by destroying the patient's key):
 *   the privacy officer only, who reads no chart.
 * Emergency access (break-glass): nurses and physicians, clinical and demographics, read only,
 * at most 60 minutes, one patient, reviewed afterwards.
 */
export const clinicPolicy: PolicyDocument = {
  version: 1,
  relationships: ['careTeam'],
  roles: [
    { id: 'staff' },
    { id: 'front_desk', inherits: ['staff'] },
    { id: 'nurse', inherits: ['staff'] },
    { id: 'physician', inherits: ['staff'] },
    { id: 'billing', inherits: ['staff'] },
    { id: 'auditor' },
    { id: 'admin' },
    { id: 'privacy_officer' },
  ],
  labels: [{ id: 'psychotherapy', emergencyAccess: 'never' }],
  rules: [
    {
      id: 'demographics-for-care-and-operations',
      effect: 'allow',
      roles: ['front_desk', 'nurse', 'physician', 'billing'],
      actions: ['read'],
      resources: ['Demographics'],
    },
    {
      id: 'patient-search-for-desk-and-care',
      effect: 'allow',
      roles: ['front_desk', 'nurse', 'physician'],
      actions: ['search'],
      resources: ['Patient'],
    },
    {
      id: 'clinical-for-care-team',
      effect: 'allow',
      roles: ['nurse', 'physician'],
      actions: ['read'],
      resources: ['Clinical'],
      when: { relation: 'careTeam' },
    },
    {
      id: 'billing-reads-coverage',
      effect: 'allow',
      roles: ['billing'],
      actions: ['read'],
      resources: ['Billing'],
    },
    {
      id: 'audit-review',
      effect: 'allow',
      roles: ['auditor', 'admin'],
      actions: ['read', 'verify'],
      resources: ['AuditEvent'],
    },
    {
      id: 'emergency-review',
      effect: 'allow',
      roles: ['auditor', 'admin'],
      actions: ['read', 'review'],
      resources: ['EmergencyGrant'],
    },
    {
      id: 'admin-operations',
      effect: 'allow',
      roles: ['admin'],
      actions: ['rotate', 'backup'],
      resources: ['Key', 'Backup'],
    },
    {
      id: 'privacy-officer-erases-on-request',
      effect: 'allow',
      roles: ['privacy_officer'],
      actions: ['shred'],
      resources: ['Patient'],
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
    roles: ['nurse', 'physician'],
    actions: ['read'],
    resources: ['Demographics', 'Clinical'],
    reasonCodes: ['clinical-emergency'],
    maxMinutes: 60,
  },
}
