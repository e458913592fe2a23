/** Copies of the policy inputs for the evidence report (see `evidence.ts`). */
import { EvidenceError } from '../errors.js'
import type { EvidenceReport, MfaInput, PasswordPolicyInput, SessionPolicyInput } from '../evidence.js'
import type { EvidenceArea } from '../evidence-judge.js'
import type { TransitCheckInput } from '../evidence-transit.js'

/** The areas in the order `failures` lists them. */
export const AREAS: readonly EvidenceArea[] = [
  'audit-log',
  'backups',
  'keys',
  'session',
  'password',
  'mfa',
  'activity-review',
  'transit',
]

export function copySession(s: SessionPolicyInput): NonNullable<EvidenceReport['sessionPolicy']> {
  return {
    defaults: { ...s.defaults },
    roles: Object.fromEntries(Object.entries(s.roles).map(([r, t]) => [r, { ...t }])),
    maxSessionsPerUser: s.maxSessionsPerUser,
    onSessionLimit: s.onSessionLimit,
    declared: s.declared === true,
  }
}

export function copyPassword(p: PasswordPolicyInput): NonNullable<EvidenceReport['passwordPolicy']> {
  return { ...p, declared: p.declared !== false }
}

export function copyMfa(m: MfaInput): NonNullable<EvidenceReport['mfa']> {
  const e = m.enrollment
  if (
    e !== undefined &&
    !(
      Number.isSafeInteger(e.users) &&
      Number.isSafeInteger(e.enrolled) &&
      e.enrolled >= 0 &&
      e.enrolled <= e.users
    )
  )
    throw new EvidenceError('ERR_EVIDENCE_INPUT', 'mfa.enrollment expects integers 0 <= enrolled <= users')
  return {
    requiredRoles: m.requiredRoles === '*' ? '*' : [...m.requiredRoles],
    declared: m.declared !== false,
    enrollment: e === undefined ? null : { users: e.users, enrolled: e.enrolled },
  }
}

export function copyTransit(t: TransitCheckInput): TransitCheckInput {
  return {
    endpoint: t.endpoint,
    verdict: t.verdict,
    ...(t.acceptedProtocols === undefined ? {} : { acceptedProtocols: [...t.acceptedProtocols] }),
    reasons: [...t.reasons],
  }
}
