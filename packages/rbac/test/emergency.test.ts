import { type ManualClock, manualClock, type SafeguardEvent } from '@safeguards/core'
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
import { clinic, emergencyRequest, MONDAY_10AM, req, who } from './helpers.js'

const T0 = MONDAY_10AM
const MIN = 60_000

function setup(): { pdp: DecisionPoint; clock: ManualClock } {
  const clock = manualClock(T0)
  // No care-team relationship: the nurse has no regular access to p-2.
  const pdp = compilePolicy(clinic, { clock, resolvers: { careTeam: () => false } })
  return { pdp, clock }
}

const request = emergencyRequest

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

describe('emergency access: limits, defaults and ordering', () => {
  it('the bounds of a request are inclusive', () => {
    const { pdp } = setup()
    const ok = (over: Partial<EmergencyGrantRequest>) =>
      expect(pdp.emergency.grant(request(over)).id).toBeTruthy()
    const bad = (over: Partial<EmergencyGrantRequest>, message: RegExp) =>
      expectCode(() => pdp.emergency.grant(request(over)), 'ERR_RBAC_EMERGENCY_REQUEST_INVALID', message)
    ok({ minutes: 1 })
    ok({ minutes: 60 })
    bad({ minutes: 61 }, /minutes must be between 1 and 60/)
    ok({ justification: ` ${'j'.repeat(20)} ` })
    bad({ justification: ` ${'j'.repeat(19)} ` }, /justification shorter than 20 characters/)
    bad({ justification: 'j'.repeat(2001) }, /malformed request at \/justification/)
    ok({ patient: 'p'.repeat(256) })
    bad({ patient: 'p'.repeat(257) }, /malformed request at \/patient/)
    bad({ patient: '' }, /malformed request at \/patient/)
    ok({ patient: 'MRN 00042 é' }) // patients are not subject ids: spaces and non-ASCII pass
    for (const c of ['\x00', '\x1f', '\x7f']) bad({ patient: `p${c}` }, /malformed request at \/patient/)
    ok({ patient: 'p\x80' })
    bad({ actions: Array(65).fill('read') }, /malformed request at \/actions/)
    bad({ resources: [] }, /malformed request at \/resources/)
    bad({ resources: ['Observation', 'Observation'] }, /resources repeat/)
    bad({ subject: { ...who.nurse, roles: ['x'.repeat(65)] } }, /malformed request at \/subject\/roles\/0/)
    bad(
      { subject: { ...who.nurse, roles: Array(1001).fill('nurse') } },
      /malformed request at \/subject\/roles/,
    )
    bad({ subject: { ...who.nurse, tenant: 'clinic a' } }, /malformed request at \/subject\/tenant/)
    bad({ reasonCode: 'clinical emergency' }, /malformed request at \/reasonCode/)
    bad({ minutes: '5' as unknown as number }, /malformed request at \/minutes/)
    expectCode(
      () => pdp.emergency.grant(null as unknown as EmergencyGrantRequest),
      'ERR_RBAC_EMERGENCY_REQUEST_INVALID',
      /malformed request at \/:/,
    )
  })

  it('the policy defaults are 60 minutes and 20 characters; its own limits replace them', () => {
    const ea = clinic.emergencyAccess as NonNullable<typeof clinic.emergencyAccess>
    const { maxMinutes: _, ...rest } = ea
    const clock = manualClock(T0)
    const byDefault = compilePolicy({ ...clinic, emergencyAccess: rest }, { clock })
    expect(byDefault.emergency.grant(request({ minutes: 60 })).expiresAt).toBe(T0 + 60 * MIN)
    expectCode(
      () => byDefault.emergency.grant(request({ minutes: 61 })),
      'ERR_RBAC_EMERGENCY_REQUEST_INVALID',
    )
    const custom = compilePolicy(
      { ...clinic, emergencyAccess: { ...rest, maxMinutes: 5, minJustificationLength: 3 } },
      { clock },
    )
    expect(custom.emergency.grant(request({ minutes: 5, justification: 'abc' })).expiresAt).toBe(T0 + 5 * MIN)
    expectCode(
      () => custom.emergency.grant(request({ minutes: 6 })),
      'ERR_RBAC_EMERGENCY_REQUEST_INVALID',
      /between 1 and 5/,
    )
    expectCode(
      () => custom.emergency.grant(request({ justification: 'ab' })),
      'ERR_RBAC_EMERGENCY_REQUEST_INVALID',
      /shorter than 3/,
    )
  })

  it('actions are stored sorted; resources default to the policy list, sorted, and keep the order given', () => {
    const { pdp } = setup()
    const g = pdp.emergency.grant(request({ actions: ['search', 'read'] }))
    expect(g.actions).toEqual(['read', 'search'])
    expect(Object.isFrozen(g.actions) && Object.isFrozen(g.resources)).toBe(true)
    expect(g.resources).toEqual([
      'Condition',
      'DocumentReference',
      'Encounter',
      'MedicationRequest',
      'Observation',
      'Patient',
    ])
    expect(pdp.emergency.grant(request({ resources: ['Observation', 'Condition'] })).resources).toEqual([
      'Observation',
      'Condition',
    ])
  })

  it('eligibility follows inheritance and role tenants', () => {
    const { pdp } = setup()
    expect(
      pdp.emergency.grant(request({ subject: { ...who.nurse, roles: ['billing', 'charge_nurse'] } })).subject,
    ).toBe('u-nurse')
    expect(pdp.emergency.grant(request({ subject: who.doc })).subject).toBe('u-doc')
    const p = compilePolicy(
      { ...clinic, roles: clinic.roles.map((r) => (r.id === 'nurse' ? { ...r, tenants: ['clinic-b'] } : r)) },
      { clock: manualClock(T0) },
    )
    const plainNurse = { id: 'u-n', tenant: 'clinic-a', roles: ['nurse'] }
    expectCode(
      () => p.emergency.grant(request({ subject: plainNurse })),
      'ERR_RBAC_EMERGENCY_REQUEST_INVALID',
      /eligible/,
    )
    expect(p.emergency.grant(request({ subject: { ...plainNurse, tenant: 'clinic-b' } })).tenant).toBe(
      'clinic-b',
    )
    expectCode(
      () => p.emergency.grant(request({ subject: { ...plainNurse, roles: [42 as unknown as string] } })),
      'ERR_RBAC_EMERGENCY_REQUEST_INVALID',
    )
  })

  it('lists are ordered by issue time, then id, and skip what is not in their state', () => {
    let n = 0
    const clock = manualClock(T0)
    // Ids from a counter that runs backwards, so id order and issue order disagree.
    const random = (len: number) => new Uint8Array(len).fill(200 - n++)
    const pdp = compilePolicy(clinic, { clock, random })
    const a = pdp.emergency.grant(request({ minutes: 10 }))
    const b = pdp.emergency.grant(request({ minutes: 10 }))
    clock.advance(MIN)
    const c = pdp.emergency.grant(request({ minutes: 20 }))
    expect(a.id > b.id).toBe(true)
    expect(pdp.emergency.active().map((g) => g.id)).toEqual([b.id, a.id, c.id])
    expect(pdp.emergency.pendingReviews()).toEqual([])
    clock.set(T0 + 10 * MIN)
    expect(pdp.emergency.active().map((g) => g.id)).toEqual([c.id])
    expect(pdp.emergency.pendingReviews().map((g) => g.id)).toEqual([b.id, a.id])
    pdp.emergency.review(b.id, { reviewer: 'u-privacy', outcome: 'inappropriate', notes: 'no reason found' })
    expect(pdp.emergency.pendingReviews().map((g) => g.id)).toEqual([a.id])
    expect(pdp.emergency.get(b.id)?.review).toEqual({
      reviewer: 'u-privacy',
      outcome: 'inappropriate',
      notes: 'no reason found',
      at: T0 + 10 * MIN,
    })
  })

  it('grants issued at the same time are listed by id', () => {
    const ids = [9, 3, 7, 1, 5, 8, 2, 6, 4, 0]
    let n = 0
    const pdp = compilePolicy(clinic, {
      clock: manualClock(T0),
      random: (len) => new Uint8Array(len).fill(ids[n++ % ids.length] as number),
    })
    const made = ids.map(() => pdp.emergency.grant(request()).id)
    expect(pdp.emergency.active().map((g) => g.id)).toEqual([...made].sort())
  })

  it('revoking a grant that is not yet valid ends it; state() reads the clock or the time given', () => {
    const { pdp, clock } = setup()
    const g = pdp.emergency.grant(request({ minutes: 10 }))
    expect(pdp.emergency.state(g)).toBe('active')
    expect(pdp.emergency.state(g, T0 - 1)).toBe('not_yet_valid')
    expect(pdp.emergency.state(g, T0)).toBe('active')
    expect(pdp.emergency.state(g, T0 + 10 * MIN - 1)).toBe('active')
    expect(pdp.emergency.state(g, T0 + 10 * MIN)).toBe('expired')
    clock.set(T0 - MIN, true)
    expect(pdp.emergency.state(g)).toBe('not_yet_valid')
    expectCode(
      () => pdp.emergency.review(g.id, { reviewer: 'u-privacy', outcome: 'appropriate', notes: '' }),
      'ERR_RBAC_EMERGENCY_STATE',
      /still active/,
    )
    const r = pdp.emergency.revoke(g.id, 'u-supervisor')
    expect(r.revoked).toEqual({ at: T0 - MIN, by: 'u-supervisor' })
    expect(pdp.emergency.get(g.id)).toBe(r)
    expect(pdp.emergency.state(r, T0 + MIN)).toBe('revoked')
  })

  it('the in-memory store keeps the latest version of each grant', () => {
    const store = createMemoryEmergencyStore()
    const pdp = compilePolicy(clinic, { clock: manualClock(T0), emergencyStore: store })
    const g = pdp.emergency.grant(request())
    expect(store.get(g.id)).toBe(g)
    const r = pdp.emergency.revoke(g.id, 'u-supervisor')
    expect(store.get(g.id)).toBe(r)
    expect([...store.list()]).toEqual([r])
    expect(store.get('nope')).toBeUndefined()
    expect(pdp.emergency.get(42 as unknown as string)).toBeUndefined()
    expectCode(() => pdp.emergency.revoke(42 as unknown as string, 'u'), 'ERR_RBAC_EMERGENCY_NOT_FOUND')
  })

  it('only well-formed grant records count', () => {
    const good = setup().pdp.emergency.grant(request())
    expect(isEmergencyGrant(good)).toBe(true)
    expect(isEmergencyGrant({ ...good, revoked: { at: 5, by: 'u' } })).toBe(true)
    for (const [k, v] of [
      ['id', 1],
      ['tenant', null],
      ['patient', 2],
      ['reasonCode', undefined],
      ['issuedAt', 1.5],
      ['issuedAt', '1'],
      ['expiresAt', 2 ** 53],
      ['actions', ['read', 1]],
      ['actions', Array(1001).fill('read')],
      ['resources', 'Observation'],
      ['revoked', undefined],
      ['revoked', 'yes'],
      ['revoked', { at: 1.5 }],
    ] as const)
      expect(isEmergencyGrant({ ...good, [k]: v }), `${k}=${String(v)}`).toBe(false)
    expect(isEmergencyGrant({ ...good, actions: Array(1000).fill('read') })).toBe(true)
    expect(isEmergencyGrant('grant')).toBe(false)
  })
})

describe('emergency access: the registry at its edges', () => {
  it('says whether it is enabled, and why a grant is refused when it is not', () => {
    expect(setup().pdp.emergency.enabled).toBe(true)
    const { emergencyAccess: _, ...doc } = clinic
    const off = compilePolicy(doc)
    expectCode(
      () => off.emergency.grant(request()),
      'ERR_RBAC_EMERGENCY_STATE',
      /^emergency access is not enabled/,
    )
  })

  it('a refused request names the first bad field and the kind of problem', () => {
    const { pdp } = setup()
    expectCode(
      () => pdp.emergency.grant(request({ subject: { ...who.nurse, roles: ['x'.repeat(65)] } })),
      'ERR_RBAC_EMERGENCY_REQUEST_INVALID',
      /^malformed request at \/subject\/roles\/0: too_big$/,
    )
    expectCode(
      () => pdp.emergency.grant(request({ subject: { ...who.nurse, id: ' u' } })),
      'ERR_RBAC_EMERGENCY_REQUEST_INVALID',
      /^malformed request at \/subject\/id: custom$/,
    )
  })

  it('unknown ids are not found, and only strings reach the store', () => {
    const asked: unknown[] = []
    const inner = createMemoryEmergencyStore()
    const store = {
      get: (id: string) => {
        asked.push(id)
        return inner.get(id)
      },
      set: inner.set,
      list: inner.list,
    }
    const pdp = compilePolicy(clinic, { clock: manualClock(T0), emergencyStore: store })
    expectCode(
      () => pdp.emergency.revoke('nope', 'u-admin'),
      'ERR_RBAC_EMERGENCY_NOT_FOUND',
      /^no such grant$/,
    )
    expectCode(
      () => pdp.emergency.review('nope', { reviewer: 'u-privacy', outcome: 'appropriate', notes: '' }),
      'ERR_RBAC_EMERGENCY_NOT_FOUND',
    )
    for (const id of [7, null, { id: 'x' }] as unknown as string[]) {
      expect(pdp.emergency.get(id)).toBeUndefined()
      expectCode(() => pdp.emergency.revoke(id, 'u-admin'), 'ERR_RBAC_EMERGENCY_NOT_FOUND')
    }
    expect(asked.every((id) => typeof id === 'string')).toBe(true)
    expect(asked).toEqual(['nope', 'nope'])
  })

  it('a function carrying the fields of a grant is not a grant', () => {
    const good = setup().pdp.emergency.grant(request())
    const fn = Object.assign(() => true, good)
    expect(isEmergencyGrant(fn)).toBe(false)
    expect(isEmergencyGrant(Object.assign(Object.create(null), good))).toBe(true)
  })
})

describe('dual control, review deadlines and the grant notice (issue 19 §3)', () => {
  const dual = (over: Partial<NonNullable<typeof clinic.emergencyAccess>> = {}) => ({
    ...clinic,
    emergencyAccess: { ...(clinic.emergencyAccess as NonNullable<typeof clinic.emergencyAccess>), ...over },
  })

  it('with approvers: 1 a grant opens nothing until another user approves it', () => {
    const clock = manualClock(T0)
    const pdp = compilePolicy(dual({ approvers: 1 }), { clock, resolvers: { careTeam: () => false } })
    const g = pdp.emergency.grant(request())
    expect(g.approvalsRequired).toBe(1)
    expect(pdp.emergency.state(g)).toBe('pending_approval')
    const before = pdp.decide(access(g.id))
    expect(before.allowed).toBe(false)
    expect(before.emergencyAccess?.status).toBe('pending_approval')
    expectCode(() => pdp.emergency.approve(g.id, 'u-nurse'), 'ERR_RBAC_EMERGENCY_STATE', /holder/)
    expectCode(() => pdp.emergency.approve(g.id, 'U-NURSE'), 'ERR_RBAC_EMERGENCY_STATE', /holder/)
    const approved = pdp.emergency.approve(g.id, 'u-charge')
    expect(approved.approvals?.map((a) => a.by)).toEqual(['u-charge'])
    expect(pdp.decide(access(g.id)).reason).toBe('emergency_access')
    expectCode(() => pdp.emergency.approve(g.id, 'u-other'), 'ERR_RBAC_EMERGENCY_STATE', /no approval/)
  })

  it('with approvers: 2 the same approver counts once; an ended grant cannot be approved', async () => {
    const clock = manualClock(T0)
    const pdp = compilePolicy(dual({ approvers: 2 }), { clock, resolvers: { careTeam: () => false } })
    const g = await pdp.emergency.grantAsync(request())
    await pdp.emergency.approveAsync(g.id, 'u-a1')
    await expect(pdp.emergency.approveAsync(g.id, 'u-a1')).rejects.toMatchObject({
      code: 'ERR_RBAC_EMERGENCY_STATE',
    })
    expect(pdp.decide(access(g.id)).allowed).toBe(false)
    await pdp.emergency.approveAsync(g.id, 'u-a2')
    expect(pdp.decide(access(g.id)).allowed).toBe(true)
    const h = await pdp.emergency.grantAsync(request())
    clock.advance(31 * MIN)
    expectCode(() => pdp.emergency.approve(h.id, 'u-a1'), 'ERR_RBAC_EMERGENCY_STATE', /expired/)
    expect(pdp.emergency.pendingReviews().map((x) => x.id)).toContain(h.id)
  })

  it('reports a grant not reviewed within reviewWithinHours once, as access.emergency.review-overdue', () => {
    const clock = manualClock(T0)
    const events: SafeguardEvent[] = []
    const pdp = compilePolicy(dual({ reviewWithinHours: 2 }), {
      clock,
      resolvers: { careTeam: () => false },
      events: (e) => {
        events.push(e)
      },
    })
    const g = pdp.emergency.grant(request())
    pdp.emergency.revoke(g.id, 'u-nurse')
    clock.advance(2 * 60 * MIN - 1)
    expect(pdp.emergency.overdueReviews()).toEqual([])
    clock.advance(1)
    expect(pdp.emergency.overdueReviews().map((x) => x.id)).toEqual([g.id])
    expect(pdp.emergency.overdueReviews().map((x) => x.id)).toEqual([g.id])
    const overdue = events.filter((e) => e.type === 'access.emergency.review-overdue')
    expect(overdue).toEqual([
      expect.objectContaining({ grantId: g.id, outcome: 'failure', reviewDueAt: T0 + 2 * 60 * MIN }),
    ])
    pdp.emergency.review(g.id, { reviewer: 'u-priv', outcome: 'appropriate', notes: 'Late but checked.' })
    expect(pdp.emergency.overdueReviews()).toEqual([])
  })

  it('notifies on grant with codes and ids only, and a failing hook never fails the grant', async () => {
    const notices: unknown[] = []
    const errors: unknown[] = []
    const pdp = compilePolicy(clinic, {
      clock: manualClock(T0),
      resolvers: { careTeam: () => false },
      onEmergencyGrant: (n) => {
        notices.push(n)
      },
    })
    const g = await pdp.emergency.grantAsync(request())
    expect(notices).toEqual([
      {
        grantId: g.id,
        subject: 'u-nurse',
        tenant: 'clinic-a',
        reasonCode: 'clinical-emergency',
        issuedAt: T0,
        expiresAt: g.expiresAt,
        approvalsRequired: 0,
      },
    ])
    expect(JSON.stringify(notices)).not.toContain('p-2')
    expect(JSON.stringify(notices)).not.toContain('Unresponsive')
    const failing = compilePolicy(clinic, {
      clock: manualClock(T0),
      resolvers: { careTeam: () => false },
      onEmergencyGrant: async () => {
        throw new Error('pager down')
      },
      onSinkError: (e) => {
        errors.push(e)
      },
    })
    expect(failing.emergency.grant(request()).id).toBeTruthy()
    await new Promise((r) => setTimeout(r, 0))
    expect(errors).toHaveLength(1)
  })
})
