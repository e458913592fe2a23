import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { type ManualClock, manualClock } from '@safeguards/core'
import {
  type AccessRequest,
  type CompileOptions,
  compilePolicy,
  type DecisionPoint,
  type Effect,
  type EmergencyGrantRequest,
  type PolicyDocument,
  type RuleDefinition,
} from '../src/index.js'

export const clinic: PolicyDocument = JSON.parse(
  readFileSync(resolve(import.meta.dirname, 'fixtures/clinic.policy.json'), 'utf8'),
)

/** Monday 2026-11-23 10:00 UTC. */
export const MONDAY_10AM: number = Date.UTC(2026, 10, 23, 10, 0)

export function clinicPdp(options: CompileOptions = {}): {
  pdp: DecisionPoint
  clock: ManualClock
  careTeam: Set<string>
} {
  const clock = manualClock(MONDAY_10AM)
  const careTeam = new Set(['u-nurse:p-1', 'u-doc:p-1'])
  const pdp = compilePolicy(clinic, {
    clock,
    resolvers: { careTeam: (r) => careTeam.has(`${r.subject.id}:${r.resource.patient}`) },
    ...options,
  })
  return { pdp, clock, careTeam }
}

export const who = {
  nurse: { id: 'u-nurse', tenant: 'clinic-a', roles: ['charge_nurse'] },
  doc: { id: 'u-doc', tenant: 'clinic-a', roles: ['physician'] },
  frontDesk: { id: 'u-fd', tenant: 'clinic-a', roles: ['front_desk'] },
  billing: { id: 'u-bill', tenant: 'clinic-a', roles: ['billing'] },
  auditor: { id: 'u-aud', tenant: 'clinic-a', roles: ['auditor'] },
  admin: { id: 'u-adm', tenant: 'clinic-a', roles: ['admin'] },
}

export function req(
  subject: AccessRequest['subject'],
  action: string,
  type: string,
  extra: Partial<AccessRequest['resource']> = {},
  more: Partial<Omit<AccessRequest, 'subject' | 'action' | 'resource'>> = {},
): AccessRequest {
  return { subject, action, resource: { type, tenant: 'clinic-a', patient: 'p-1', ...extra }, ...more }
}

/** The nurse's emergency-access request for p-2 (no care-team relationship), with overrides. */
export const emergencyRequest = (over: Partial<EmergencyGrantRequest> = {}): EmergencyGrantRequest => ({
  subject: who.nurse,
  patient: 'p-2',
  actions: ['read'],
  reasonCode: 'clinical-emergency',
  justification: 'Unresponsive patient in the ED; no care-team assignment yet.',
  minutes: 30,
  ...over,
})

/** A rule, positionally: id, effect, roles, actions, resources, then any other fields. */
export const rule = (
  id: string,
  effect: Effect,
  roles: readonly string[],
  actions: readonly string[],
  resources: readonly string[],
  more: Partial<RuleDefinition> = {},
): RuleDefinition => ({ id, effect, roles, actions, resources, ...more })
