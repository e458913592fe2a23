/**
 * Emergency access as the decision point sees it: who is eligible (the closure of the policy's
 * emergency roles), the configuration the grant registry enforces, and the status of the grant a
 * request invokes (active only within its subject, tenant, patient, actions and types).
 *
 * HIPAA: 164.312(a)(2)(ii) emergency access procedure.
 */
import type { AccessRequest, EmergencyGrantStatus } from '../decision.js'
import {
  type EmergencyAccess,
  type EmergencyConfig,
  type EmergencyGrant,
  isEmergencyGrant,
} from '../emergency-access.js'
import type { PolicyDocument } from '../policy.js'
import type { CompiledRoles } from './roles.js'

/** The emergency configuration of a policy, or undefined when it has no `emergencyAccess`. */
export function compileEmergencyConfig(
  doc: PolicyDocument,
  roles: CompiledRoles,
): EmergencyConfig | undefined {
  const ea = doc.emergencyAccess
  if (!ea) return undefined
  const eligibleRoles = new Uint8Array(roles.count)
  for (const name of ea.roles)
    for (const r of roles.holders[roles.index.get(name) as number] as number[]) eligibleRoles[r] = 1
  const isEligible = (subject: { tenant: string; roles: readonly string[] }): boolean => {
    for (const name of subject.roles)
      if (eligibleRoles[roles.usable(name, subject.tenant) as number] === 1) return true
    return false
  }
  return {
    actions: new Set(ea.actions),
    resources: new Set(ea.resources),
    reasonCodes: new Set(ea.reasonCodes),
    maxMinutes: ea.maxMinutes ?? 60,
    minJustificationLength: ea.minJustificationLength ?? 20,
    approvers: ea.approvers ?? 0,
    reviewWithinMs: (ea.reviewWithinHours ?? 24) * 3_600_000,
    isEligible,
  }
}

/** The grant a request invoked: usable (`grant`, only when active and in scope) and as reported. */
export interface InvokedGrant {
  readonly grant: EmergencyGrant | undefined
  readonly use: { readonly grant: string; readonly status: EmergencyGrantStatus }
}

/** Looks up the grant a request invokes (`req.emergencyAccess`, a string) and its status at `now`. */
export type GrantLookup = (req: AccessRequest, now: number) => InvokedGrant

/** The grant lookup of a compiled policy. A failing store fails closed (`not_found`). */
export function createGrantLookup(
  config: EmergencyConfig | undefined,
  emergency: EmergencyAccess,
): GrantLookup {
  const statusOf = (
    grant: EmergencyGrant | undefined,
    req: AccessRequest,
    now: number,
  ): EmergencyGrantStatus => {
    if (grant === undefined || config === undefined) return 'not_found'
    if (!isEmergencyGrant(grant)) return 'malformed'
    const state = emergency.state(grant, now)
    if (state !== 'active') return state
    const s = req.subject
    const res = req.resource
    const inScope =
      grant.subject === s.id && // exact: a match grants (internal/subject-id.ts)
      grant.tenant === s.tenant &&
      res.tenant === s.tenant &&
      grant.patient === res.patient && // a string (isEmergencyGrant), so the resource names one
      grant.actions.includes(req.action) &&
      config.actions.has(req.action) &&
      grant.resources.includes(res.type) &&
      config.resources.has(res.type) &&
      config.isEligible(s)
    return inScope ? 'active' : 'out_of_scope'
  }
  return (req, now) => {
    const id = req.emergencyAccess as string
    let grant: EmergencyGrant | undefined
    try {
      grant = emergency.get(id)
    } catch {
      // A failing store fails closed: `grant` stays undefined (not_found).
    }
    if (grant !== undefined && grant.id !== id) grant = undefined
    const status = statusOf(grant, req, now)
    return { grant: status === 'active' ? grant : undefined, use: { grant: id, status } }
  }
}
