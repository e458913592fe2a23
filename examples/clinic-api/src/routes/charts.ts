/**
 * Reading one section of a chart (minimum necessary: only that section's fields). The decision
 * comes from the policy (whose denials and grant uses rbac reports to the audit sink itself); the
 * access is recorded by the route, after the attempt, with its real outcome, through the critical
 * audit sink: no field leaves without its record, and a record that cannot be written fails the
 * request closed (503, no data).
 */
import { isSafeguardsError, type SafeguardEvent } from '@safeguards/core'
import { guard } from '@safeguards/hono'
import type { Decision } from '@safeguards/rbac'
import { CLINIC_SOURCE, type ClinicApp, type ClinicEnv, type ClinicServices } from '../context.js'
import { type Staff, TENANT } from '../staff.js'

/** The policy subject of a staff member. */
export const subjectOf = (u: Staff) => ({ id: u.id, tenant: TENANT, roles: [u.role] })

const SECTIONS: Readonly<Record<string, string>> = {
  demographics: 'Demographics',
  clinical: 'Clinical',
  billing: 'Billing',
}

/** The obligation rbac attaches to a decision that relied on an emergency grant. */
const EMERGENCY_OBLIGATION = 'audit:emergency-access'

/**
 * The access record of one chart read. A decision carrying `audit:emergency-access` is recorded as
 * `access.emergency.used` (purpose of use `BTG` in the audit table) through the critical sink: the
 * obligation is met before any data leaves, or the read fails. Any other read is `record.accessed`.
 */
export function accessRecord(
  decision: Decision,
  fields: {
    at: number
    actor: string
    patient: string
    resourceType: string
    outcome: 'success' | 'failure'
    code: string
  },
): SafeguardEvent {
  const common = {
    at: fields.at,
    source: CLINIC_SOURCE,
    outcome: fields.outcome,
    actor: fields.actor,
    subject: fields.patient,
    code: fields.code,
    action: 'read',
    resourceType: fields.resourceType,
    tenant: TENANT,
  }
  const emergency = decision.obligations.find((o) => o.id === EMERGENCY_OBLIGATION)
  if (emergency?.grant !== undefined)
    return { ...common, type: 'access.emergency.used', grantId: emergency.grant }
  return { ...common, type: 'record.accessed' }
}

/** Mounts `GET /api/patients/:id/:section`. */
export function mountChartRoutes(app: ClinicApp, s: ClinicServices): void {
  // The guard (`@safeguards/hono`) decides from the policy, with the emergency grant of the
  // `x-emergency-access` header, and answers 403 with the reason; the route records the access.
  const chartGuard = guard<ClinicEnv>(s.pdp, (c) => ({
    subject: subjectOf(c.var.user),
    action: 'read',
    resource: {
      type: SECTIONS[c.req.param('section') ?? '']!,
      tenant: TENANT,
      patient: c.req.param('id') ?? '',
    },
  }))
  app.get('/api/patients/:id/:section{demographics|clinical|billing}', chartGuard, async (c) => {
    const user = c.get('user')
    const id = c.req.param('id')
    const section = c.req.param('section')
    const type = SECTIONS[section]!
    const { decision } = c.var.access
    const record = s.records.load(id)
    // Decrypt first, then record what really happened, then answer: a read that failed is
    // recorded as a failure (FHIR AuditEvent.outcome 8, serious failure).
    let fields: Record<string, string> | undefined
    let failure: string | undefined = record ? undefined : 'not_found'
    if (record)
      try {
        fields = await s.records.section(record, type)
      } catch (e) {
        failure = isSafeguardsError(e) ? e.code : 'read_failed'
      }
    await s.events.emit(
      accessRecord(decision, {
        at: s.clock.now(),
        actor: user.id,
        patient: id,
        resourceType: type,
        outcome: failure === undefined ? 'success' : 'failure',
        code: failure ?? decision.reason,
      }),
    )
    if (!record) return c.json({ error: 'not_found' }, 404)
    // The patient was erased on request (its key destroyed): gone for good, not a server fault.
    if (failure === 'ERR_SUBJECT_SHREDDED') return c.json({ error: 'gone', code: failure }, 410)
    if (fields === undefined) return c.json({ error: 'read_failed', code: failure }, 500)
    return c.json({
      patient: id,
      section,
      fields,
      decision: {
        reason: decision.reason,
        rules: decision.rules.map((r) => r.id),
        obligations: decision.obligations.map((o) => o.id),
      },
    })
  })
}
