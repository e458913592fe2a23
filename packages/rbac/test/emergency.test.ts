import { type ManualClock, manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  type AccessRequest,
  compilePolicy,
  createMemoryEmergencyStore,
  type DecisionPoint,
  EmergencyAccessError,
  type EmergencyGrant,
  type EmergencyGrantRequest,
  isEmergencyGrant,
  parseSmartScopes,
} from '../src/index.js'
import { clinic, MONDAY_10AM, req, who } from './helpers.js'

const T0 = MONDAY_10AM
const MIN = 60_000

function setup(): { pdp: DecisionPoint; clock: ManualClock } {
  const clock = manualClock(T0)
  // No care-team relationship: the nurse has no regular access to p-2.
  const pdp = compilePolicy(clinic, { clock, resolvers: { careTeam: () => false } })
  return { pdp, clock }
}

const request = (over: Partial<EmergencyGrantRequest> = {}): EmergencyGrantRequest => ({
  subject: who.nurse,
  patient: 'p-2',
  actions: ['read'],
  reasonCode: 'clinical-emergency',
  justification: 'Unresponsive patient in the ED; no care-team assignment yet.',
  minutes: 30,
  ...over,
})

const access = (
  grant: string,
  over: Partial<AccessRequest['resource']> = {},
  subject = who.nurse,
): AccessRequest =>
  req(subject, 'read', 'Observation', { patient: 'p-2', ...over }, { emergencyAccess: grant })

function expectCode(fn: () => unknown, code: string, message?: RegExp): void {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(EmergencyAccessError)
    expect((e as EmergencyAccessError).code).toBe(code)
    if (message) expect((e as Error).message).toMatch(message)
    return
  }
  throw new Error('expected an EmergencyAccessError')
}

describe('emergency access: issuing a grant', () => {
  it('needs a reason code and a written justification, and is time-boxed', () => {
    const { pdp } = setup()
    const g = pdp.emergency.grant(request())
    expect(g).toMatchObject({
      subject: 'u-nurse',
      tenant: 'clinic-a',
      patient: 'p-2',
      actions: ['read'],
      reasonCode: 'clinical-emergency',
      issuedAt: T0,
      expiresAt: T0 + 30 * MIN,
      revoked: null,
      review: null,
    })
    expect(g.resources).toEqual([...(clinic.emergencyAccess?.resources ?? [])].sort())
    expect(g.id).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(Object.isFrozen(g)).toBe(true)
    expect(pdp.emergency.get(g.id)).toBe(g)
  })

  it.each([
    ['an unknown reason code', { reasonCode: 'curiosity' }, /reason code/],
    ['a short justification', { justification: 'emergency' }, /justification/],
    [
      'a whitespace-padded justification',
      { justification: `   ${'x'.repeat(19)}          ` },
      /justification/,
    ],
    ['zero minutes', { minutes: 0 }, /minutes/],
    ['more than the maximum', { minutes: 61 }, /minutes/],
    ['fractional minutes', { minutes: 1.5 }, /minutes/],
    ['an action outside the policy', { actions: ['read', 'delete'] }, /action/],
    ['no actions', { actions: [] }, /actions/],
    ['repeated actions', { actions: ['read', 'read'] }, /repeat/],
    ['a resource type outside the policy', { resources: ['Claim'] }, /resource type/],
    ['"*" as a resource type', { resources: ['*'] }, /malformed/],
    ['an ineligible role', { subject: who.billing }, /eligible/],
    ['an eligible role in the wrong tenant', { subject: { ...who.nurse, roles: ['ghost'] } }, /eligible/],
    ['a patient id with control characters', { patient: 'p-2\n' }, /patient/],
    ['an extra field', { approvedBy: 'me' } as Partial<EmergencyGrantRequest>, /malformed/],
  ])('refuses %s', (_name, over, message) => {
    const { pdp } = setup()
    expectCode(() => pdp.emergency.grant(request(over)), 'ERR_RBAC_EMERGENCY_REQUEST_INVALID', message)
    expect(pdp.emergency.active()).toEqual([])
  })

  it('is refused when the policy does not enable emergency access', () => {
    const { emergencyAccess: _, ...doc } = clinic
    const p = compilePolicy(doc)
    expect(p.emergency.enabled).toBe(false)
    expectCode(() => p.emergency.grant(request()), 'ERR_RBAC_EMERGENCY_STATE')
  })

  it('uses the injected random source; a colliding id is refused', () => {
    const clock = manualClock(T0)
    const p = compilePolicy(clinic, { clock, random: (n) => new Uint8Array(n).fill(7) })
    const g = p.emergency.grant(request())
    expect(g.id).toBe('BwcHBwcHBwcHBwcHBwcHBw')
    expectCode(() => p.emergency.grant(request()), 'ERR_RBAC_EMERGENCY_STATE', /collision/)
  })
})

describe('emergency access: using a grant', () => {
  it('grants exactly from issuedAt up to (not including) expiresAt, with an audit obligation', () => {
    const { pdp, clock } = setup()
    const g = pdp.emergency.grant(request({ minutes: 15 }))
    expect(pdp.decide(req(who.nurse, 'read', 'Observation', { patient: 'p-2' })).allowed).toBe(false)
    const d = pdp.decide(access(g.id))
    expect(d).toMatchObject({
      allowed: true,
      reason: 'emergency_access',
      rules: [],
      obligations: [{ id: 'audit:emergency-access', grant: g.id, reasonCode: 'clinical-emergency' }],
      emergencyAccess: { grant: g.id, status: 'active', used: true },
    })
    clock.set(g.expiresAt - 1)
    expect(pdp.decide(access(g.id)).allowed).toBe(true)
    clock.set(g.expiresAt)
    expect(pdp.decide(access(g.id))).toMatchObject({
      allowed: false,
      reason: 'no_matching_allow',
      obligations: [],
      emergencyAccess: { grant: g.id, status: 'expired', used: false },
    })
    clock.set(g.expiresAt + 1)
    expect(pdp.decide(access(g.id)).allowed).toBe(false)
    // Time going backwards (a skewed clock) never makes a grant valid before it was issued.
    clock.set(g.issuedAt - 1, true)
    expect(pdp.decide(access(g.id)).emergencyAccess?.status).toBe('not_yet_valid')
  })

  it('is limited to one patient, its actions and types, its holder and tenant', () => {
    const { pdp } = setup()
    const g = pdp.emergency.grant(request({ resources: ['Observation', 'Condition'] }))
    const outOfScope = (r: AccessRequest) => {
      const d = pdp.decide(r)
      expect(d.allowed).toBe(false)
      expect(d.emergencyAccess?.status).toBe('out_of_scope')
    }
    outOfScope(access(g.id, { patient: 'p-3' }))
    const { patient: _, ...noPatient } = access(g.id).resource
    outOfScope({ ...access(g.id), resource: noPatient })
    outOfScope({ ...access(g.id), action: 'search' })
    outOfScope(access(g.id, { type: 'MedicationRequest' }))
    outOfScope(access(g.id, {}, who.doc))
    outOfScope(access(g.id, { tenant: 'clinic-b' }))
    outOfScope(access(g.id, {}, { ...who.nurse, tenant: 'clinic-b' }))
    outOfScope(access(g.id, {}, { ...who.nurse, roles: ['billing'] })) // no longer eligible
    expect(pdp.decide(access(g.id, { type: 'Condition' })).allowed).toBe(true)
  })

  it('unknown and malformed grant ids do not grant', () => {
    const { pdp } = setup()
    pdp.emergency.grant(request())
    for (const id of ['', 'nope', '__proto__', 'constructor', 'x'.repeat(10_000)]) {
      expect(pdp.decide(access(id))).toMatchObject({
        allowed: false,
        emergencyAccess: { status: 'not_found' },
      })
    }
    expect(pdp.decide({ ...access('x'), emergencyAccess: 42 } as unknown as AccessRequest).reason).toBe(
      'invalid_request',
    )
  })

  it('corrupted grants in a store, and a failing store, never grant', () => {
    const clock = manualClock(T0)
    const good = setup().pdp.emergency.grant(request())
    const broken: Record<string, unknown>[] = [
      { ...good, id: 'g-actions', actions: 'read' },
      { ...good, id: 'g-expiry', expiresAt: '9999' },
      { ...good, id: 'g-revoked', revoked: { at: 'never' } },
      { ...good, id: 'g-patient', patient: undefined },
      { ...good, id: 'g-other' },
    ]
    const store = {
      get: (id: string) => {
        if (id === 'throws') throw new Error('database down')
        if (id === 'g-swapped') return good // a store returning the wrong record
        return broken.find((g) => g.id === id) as never
      },
      set: () => {},
      list: () => broken as never[],
    }
    const p = compilePolicy(clinic, { clock, emergencyStore: store, resolvers: { careTeam: () => false } })
    for (const id of ['g-actions', 'g-expiry', 'g-revoked', 'g-patient'])
      expect(p.decide(access(id)).emergencyAccess, id).toMatchObject({ status: 'malformed', used: false })
    expect(p.decide(access('g-other')).allowed).toBe(true)
    expect(p.decide(access('throws')).emergencyAccess?.status).toBe('not_found')
    expect(p.decide(access('g-swapped')).emergencyAccess?.status).toBe('not_found')
    expect(isEmergencyGrant(good)).toBe(true)
    expect(isEmergencyGrant(null)).toBe(false)
    // The registry skips corrupted records in its lists and refuses to act on them.
    expect(p.emergency.active().map((g) => g.id)).toEqual(['g-other'])
    expectCode(() => p.emergency.revoke('g-actions', 'u-admin'), 'ERR_RBAC_EMERGENCY_STATE', /malformed/)
  })

  it('a grant from another policy store is unknown here', () => {
    const a = setup()
    const b = setup()
    const g = a.pdp.emergency.grant(request())
    expect(b.pdp.decide(access(g.id)).emergencyAccess?.status).toBe('not_found')
  })

  it('never lifts an explicit deny or a label marked "never"; lifts "lifts" labels', () => {
    const { pdp } = setup()
    const g = pdp.emergency.grant(request())
    expect(pdp.decide(access(g.id, { labels: ['psychotherapy'] }))).toMatchObject({
      allowed: false,
      reason: 'sensitivity_label',
      labels: [{ label: 'psychotherapy', outcome: 'denied', emergencyAccessLifts: false }],
      emergencyAccess: { status: 'active', used: false },
    })
    expect(pdp.decide(access(g.id, { labels: ['sud-42cfr2', 'vip'] }))).toMatchObject({
      allowed: true,
      reason: 'emergency_access',
      labels: [{ outcome: 'lifted_by_emergency_access' }, { outcome: 'lifted_by_emergency_access' }],
    })
    const suspended = { ...who.nurse, attributes: { suspended: true } }
    expect(pdp.decide(access(g.id, {}, suspended))).toMatchObject({ allowed: false, reason: 'explicit_deny' })
  })

  it('lifts a label on top of a regular allow (and says emergency access was used)', () => {
    const clock = manualClock(T0)
    const pdp = compilePolicy(clinic, { clock, resolvers: { careTeam: () => true } })
    const g = pdp.emergency.grant(request())
    expect(pdp.decide(access(g.id))).toMatchObject({
      reason: 'allow',
      obligations: [],
      emergencyAccess: { used: false },
    })
    expect(pdp.decide(access(g.id, { labels: ['vip'] }))).toMatchObject({
      allowed: true,
      reason: 'emergency_access',
      rules: [{ id: 'nurse-read-clinical' }],
      obligations: [{ id: 'audit:emergency-access' }],
    })
  })

  it('SMART scopes still narrow emergency access', () => {
    const { pdp } = setup()
    const g = pdp.emergency.grant(request())
    const scopes = parseSmartScopes('patient/Condition.rs', { patient: 'p-2' })
    expect(pdp.decide({ ...access(g.id), scopes })).toMatchObject({
      allowed: false,
      reason: 'scope_exceeded',
      obligations: [],
    })
  })
})

describe('emergency access: revocation and review', () => {
  it('revoke ends a grant at once; revoking twice or after expiry is an error', () => {
    const { pdp, clock } = setup()
    const g = pdp.emergency.grant(request())
    clock.advance(5 * MIN)
    const r = pdp.emergency.revoke(g.id, 'u-supervisor')
    expect(r.revoked).toEqual({ at: T0 + 5 * MIN, by: 'u-supervisor' })
    expect(pdp.decide(access(g.id)).emergencyAccess?.status).toBe('revoked')
    expectCode(() => pdp.emergency.revoke(g.id, 'u-supervisor'), 'ERR_RBAC_EMERGENCY_STATE')
    expectCode(() => pdp.emergency.revoke('nope', 'u'), 'ERR_RBAC_EMERGENCY_NOT_FOUND')
    const g2 = pdp.emergency.grant(request())
    clock.set(g2.expiresAt)
    expectCode(() => pdp.emergency.revoke(g2.id, 'u'), 'ERR_RBAC_EMERGENCY_STATE', /expired/)
    expectCode(() => pdp.emergency.revoke(g2.id, ''), 'ERR_RBAC_EMERGENCY_REQUEST_INVALID')
  })

  it('ended grants wait on the pending-review list until someone else reviews them', () => {
    const { pdp, clock } = setup()
    const a = pdp.emergency.grant(request({ minutes: 10 }))
    clock.advance(MIN)
    const b = pdp.emergency.grant(request({ minutes: 60, patient: 'p-3' }))
    expect(pdp.emergency.active().map((g) => g.id)).toEqual([a.id, b.id])
    expect(pdp.emergency.pendingReviews()).toEqual([])
    expectCode(
      () => pdp.emergency.review(a.id, { reviewer: 'u-privacy', outcome: 'appropriate', notes: '' }),
      'ERR_RBAC_EMERGENCY_STATE',
      /still active/,
    )
    clock.set(a.expiresAt - 1)
    expect(pdp.emergency.pendingReviews()).toEqual([])
    clock.set(a.expiresAt)
    expect(pdp.emergency.pendingReviews().map((g) => g.id)).toEqual([a.id])
    pdp.emergency.revoke(b.id, 'u-nurse')
    expect(pdp.emergency.pendingReviews().map((g) => g.id)).toEqual([a.id, b.id])
    expect(pdp.emergency.active()).toEqual([])

    expectCode(
      () => pdp.emergency.review(a.id, { reviewer: 'u-nurse', outcome: 'appropriate', notes: 'fine' }),
      'ERR_RBAC_EMERGENCY_STATE',
      /holder/,
    )
    expectCode(
      () => pdp.emergency.review(a.id, { reviewer: 'u-privacy', outcome: 'ok' as 'appropriate', notes: '' }),
      'ERR_RBAC_EMERGENCY_REQUEST_INVALID',
    )
    const reviewed = pdp.emergency.review(a.id, {
      reviewer: 'u-privacy',
      outcome: 'appropriate',
      notes: 'ED chart confirms.',
    })
    expect(reviewed.review).toEqual({
      reviewer: 'u-privacy',
      outcome: 'appropriate',
      notes: 'ED chart confirms.',
      at: a.expiresAt,
    })
    expect(pdp.emergency.pendingReviews().map((g) => g.id)).toEqual([b.id])
    expectCode(
      () => pdp.emergency.review(a.id, { reviewer: 'u-privacy', outcome: 'appropriate', notes: '' }),
      'ERR_RBAC_EMERGENCY_STATE',
      /already reviewed/,
    )
    expectCode(
      () => pdp.emergency.review('nope', { reviewer: 'u-privacy', outcome: 'appropriate', notes: '' }),
      'ERR_RBAC_EMERGENCY_NOT_FOUND',
    )
  })

  it('a shared store keeps grants and reviews across recompiles', () => {
    const store = createMemoryEmergencyStore()
    const clock = manualClock(T0)
    const p1 = compilePolicy(clinic, { clock, emergencyStore: store })
    const g = p1.emergency.grant(request())
    const p2 = compilePolicy({ ...clinic, description: 'v2' }, { clock, emergencyStore: store })
    expect(p2.decide(access(g.id)).allowed).toBe(true)
    clock.set(g.expiresAt)
    expect(p2.emergency.pendingReviews().map((x) => x.id)).toEqual([g.id])
  })
})

describe('emergency access: subject ids (issue 13 §1b)', () => {
  const u1 = { id: 'u1', tenant: 'clinic-a', roles: ['nurse'] }
  const ended = (): { pdp: DecisionPoint; clock: ManualClock; id: string } => {
    const { pdp, clock } = setup()
    const g = pdp.emergency.grant(request({ subject: u1, minutes: 10 }))
    clock.set(g.expiresAt)
    return { pdp, clock, id: g.id }
  }
  const review = (reviewer: string) => ({ reviewer, outcome: 'appropriate' as const, notes: 'checked' })

  it('the holder cannot review under another spelling: case, padding, zero-width, fullwidth', () => {
    const { pdp, id } = ended()
    expectCode(() => pdp.emergency.review(id, review('U1')), 'ERR_RBAC_EMERGENCY_STATE', /holder/)
    for (const spelling of [
      ' u1',
      'u1 ',
      '\tu1',
      'u1\u200b',
      '\u200bu1',
      'u\u200d1',
      '\uff551',
      'u\uff11',
      'u1\u00ad',
    ])
      expectCode(
        () => pdp.emergency.review(id, review(spelling)),
        'ERR_RBAC_EMERGENCY_REQUEST_INVALID',
        /malformed/,
      )
    expect(pdp.emergency.pendingReviews().map((g) => g.id)).toEqual([id])
    expect(pdp.emergency.review(id, review('u-privacy')).review?.reviewer).toBe('u-privacy')
  })

  it('requesters and revokers follow the same grammar', () => {
    const { pdp } = setup()
    for (const id of [' u1', 'u1\u200b', '\uff551', 'u 1', 'x'.repeat(256), 'é', '']) {
      expectCode(
        () => pdp.emergency.grant(request({ subject: { ...u1, id } })),
        'ERR_RBAC_EMERGENCY_REQUEST_INVALID',
        /subject\/id/,
      )
    }
    const g = pdp.emergency.grant(request({ subject: u1 }))
    for (const by of [' u-admin', 'u-admin\u200b', '\uff55-admin'])
      expectCode(() => pdp.emergency.revoke(g.id, by), 'ERR_RBAC_EMERGENCY_REQUEST_INVALID', /user id/)
    expect(pdp.emergency.active().map((x) => x.id)).toEqual([g.id])
    for (const id of [
      'Practitioner/123',
      'jane.doe+ed@example.org',
      'auth0|5f7c8ec7c33c6c004bbafe82',
      'x'.repeat(255),
    ])
      expect(pdp.emergency.grant(request({ subject: { ...u1, id } })).subject).toBe(id)
  })

  it('a grant is used only by its holder, spelled exactly', () => {
    const { pdp } = setup()
    const g = pdp.emergency.grant(request({ subject: u1 }))
    expect(pdp.decide(access(g.id, {}, u1)).reason).toBe('emergency_access')
    for (const id of ['U1', ' u1', 'u1\u200b', '\uff551']) {
      expect(pdp.decide(access(g.id, {}, { ...u1, id })), id).toMatchObject({
        allowed: false,
        emergencyAccess: { status: 'out_of_scope', used: false },
      })
    }
  })

  it('a stored grant whose holder id breaks the grammar is malformed', () => {
    const good = setup().pdp.emergency.grant(request({ subject: u1 }))
    expect(isEmergencyGrant(good)).toBe(true)
    for (const subject of ['u1\u200b', ' u1', '', '\uff551'])
      expect(isEmergencyGrant({ ...good, subject })).toBe(false)
  })

  it('a reviewed grant never grants again when the clock is wound back into its window', () => {
    const { pdp, clock, id } = ended()
    const g = pdp.emergency.get(id) as EmergencyGrant
    pdp.emergency.review(id, review('u-privacy'))
    clock.set(g.issuedAt + MIN, true)
    expect(pdp.decide(access(id, {}, u1))).toMatchObject({
      allowed: false,
      emergencyAccess: { status: 'expired', used: false },
    })
    expect(pdp.emergency.active()).toEqual([])
    expect(pdp.emergency.pendingReviews()).toEqual([])
  })

  it('a revoked grant never grants again when the clock is wound back before the revocation', () => {
    const { pdp, clock } = setup()
    const g = pdp.emergency.grant(request({ subject: u1 }))
    clock.advance(5 * MIN)
    pdp.emergency.revoke(g.id, 'u-supervisor')
    clock.set(g.issuedAt + MIN, true)
    expect(pdp.decide(access(g.id, {}, u1))).toMatchObject({
      allowed: false,
      emergencyAccess: { status: 'revoked', used: false },
    })
    expect(pdp.emergency.state(pdp.emergency.get(g.id) as EmergencyGrant)).toBe('revoked')
    expect(pdp.emergency.active()).toEqual([])
  })
})
