/**
 * Emergency access (break-glass): one patient, a coded reason, a justification, reviewed later by
 * someone else. rbac reports each grant's issue, end and review (`access.emergency.*`, purpose of
 * use `BTG` in the audit table) to the audit sink itself; the route records only a refused request.
 * The async methods are atomic across instances when grants are shared (PostgreSQL in shared mode).
 */
import { errorCode } from '@safeguards/core/node'
import { CLINIC_SOURCE, type ClinicApp, type ClinicServices } from '../context.js'
import { type Staff, TENANT } from '../staff.js'
import { subjectOf } from './charts.js'

/** Whether `user` may `action` a resource of `type` (a denial is recorded by rbac). */
export function allowed(s: ClinicServices, user: Staff, action: string, type: string) {
  return s.pdp.decide({ subject: subjectOf(user), action, resource: { type, tenant: TENANT } })
}

/** Mounts the emergency-access routes: grant, end, pending reviews, review. */
export function mountEmergencyRoutes(app: ClinicApp, s: ClinicServices): void {
  app.post('/api/emergency-access', async (c) => {
    const user = c.get('user')
    const body = (await c.req.json().catch(() => null)) as {
      patient?: unknown
      reasonCode?: unknown
      justification?: unknown
      minutes?: unknown
    } | null
    try {
      const grant = await s.pdp.emergency.grantAsync({
        subject: subjectOf(user),
        patient: String(body?.patient ?? ''),
        actions: ['read'],
        reasonCode: String(body?.reasonCode ?? ''),
        justification: String(body?.justification ?? ''),
        minutes: typeof body?.minutes === 'number' ? body.minutes : 30,
      })
      return c.json({ id: grant.id, expiresAt: grant.expiresAt, patient: grant.patient })
    } catch (e) {
      const code = errorCode(e) ?? 'error'
      await s.events.emit({
        type: 'access.denied',
        at: s.clock.now(),
        source: CLINIC_SOURCE,
        outcome: 'failure',
        actor: user.id,
        code,
        action: 'grant',
        resourceType: 'EmergencyGrant',
        tenant: TENANT,
      })
      return c.json({ error: 'refused', code }, 403)
    }
  })

  app.post('/api/emergency-access/:id/end', async (c) => {
    const user = c.get('user')
    const grant = s.pdp.emergency.get(c.req.param('id'))
    if (!grant || grant.subject !== user.id) return c.json({ error: 'not_found' }, 404)
    try {
      await s.pdp.emergency.revokeAsync(grant.id, user.id)
    } catch (e) {
      return c.json({ error: 'conflict', code: errorCode(e) }, 409)
    }
    return c.json({ ok: true })
  })

  app.get('/api/emergency-access/pending', async (c) => {
    const d = allowed(s, c.get('user'), 'read', 'EmergencyGrant')
    if (!d.allowed) return c.json({ error: 'forbidden', reason: d.reason }, 403)
    return c.json({
      pending: s.pdp.emergency.pendingReviews().map((x) => ({
        id: x.id,
        subject: x.subject,
        patient: x.patient,
        reasonCode: x.reasonCode,
        justification: x.justification,
        issuedAt: x.issuedAt,
        ended: x.revoked?.at ?? x.expiresAt,
      })),
    })
  })

  app.post('/api/emergency-access/:id/review', async (c) => {
    const user = c.get('user')
    const d = allowed(s, user, 'review', 'EmergencyGrant')
    if (!d.allowed) return c.json({ error: 'forbidden', reason: d.reason }, 403)
    const body = (await c.req.json().catch(() => null)) as { outcome?: unknown; notes?: unknown } | null
    try {
      const r = await s.pdp.emergency.reviewAsync(c.req.param('id'), {
        reviewer: user.id,
        outcome: body?.outcome === 'inappropriate' ? 'inappropriate' : 'appropriate',
        notes: String(body?.notes ?? ''),
      })
      return c.json({ id: r.id, review: r.review })
    } catch (e) {
      return c.json({ error: 'conflict', code: errorCode(e) }, 409)
    }
  })
}
