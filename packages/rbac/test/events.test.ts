import { criticalSink, isSafeguardsError, type SafeguardEvent } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { type AccessRequest, compilePolicy } from '../src/index.js'
import { clinic, clinicPdp, emergencyRequest, MONDAY_10AM, req, who } from './helpers.js'

const MIN = 60_000
const SOURCE = '@safeguards/rbac'

function withSink(emitAllowed?: boolean) {
  const events: SafeguardEvent[] = []
  const setup = clinicPdp({ events: (e) => void events.push(e), ...(emitAllowed ? { emitAllowed } : {}) })
  return { ...setup, events }
}

const grantRequest = emergencyRequest()

const nurseReads = (more: Partial<AccessRequest> = {}): AccessRequest =>
  req(who.nurse, 'read', 'Observation', { patient: 'p-2', id: 'obs-7' }, more)

describe('events: decisions', () => {
  it('emits access.denied with the reason as code, and nothing for an allow by default', () => {
    const { pdp, events } = withSink()
    expect(pdp.decide(req(who.nurse, 'read', 'Observation')).allowed).toBe(true)
    expect(events).toEqual([])
    const d = pdp.decide(nurseReads())
    expect(d.reason).toBe('no_matching_allow')
    expect(events).toEqual([
      {
        type: 'access.denied',
        at: MONDAY_10AM,
        source: SOURCE,
        outcome: 'failure',
        actor: 'u-nurse',
        subject: 'p-2',
        code: 'no_matching_allow',
        action: 'read',
        resourceType: 'Observation',
        resourceId: 'obs-7',
        tenant: 'clinic-a',
      },
    ])
  })

  it('emits access.allowed only with emitAllowed', () => {
    const { pdp, events } = withSink(true)
    pdp.decide(req(who.nurse, 'read', 'Observation'))
    expect(events).toEqual([
      {
        type: 'access.allowed',
        at: MONDAY_10AM,
        source: SOURCE,
        outcome: 'success',
        actor: 'u-nurse',
        subject: 'p-1',
        code: 'allow',
        action: 'read',
        resourceType: 'Observation',
        tenant: 'clinic-a',
      },
    ])
  })

  it.each([
    ['null', null],
    [
      'a request whose getters throw',
      {
        get subject(): never {
          throw new Error('trap')
        },
        action: 'read',
      },
    ],
  ])('reports %s as access.denied (invalid_request) with what can be read', (_name, bad) => {
    const { pdp, events } = withSink()
    expect(pdp.decide(bad as unknown as AccessRequest).reason).toBe('invalid_request')
    expect(events).toEqual([
      {
        type: 'access.denied',
        at: MONDAY_10AM,
        source: SOURCE,
        outcome: 'failure',
        code: 'invalid_request',
        action: bad === null ? '' : 'read',
        resourceType: '',
      },
    ])
  })

  it('reads nothing extra from the request when no sink listens (no event is built)', () => {
    let reads = 0
    const resource = {
      type: 'Observation',
      tenant: 'clinic-a',
      patient: 'p-2',
      get id(): string {
        reads++
        return 'obs-7'
      },
    }
    const request = { subject: who.nurse, action: 'read', resource }
    clinicPdp().pdp.decide(request)
    expect(reads).toBe(0)
    withSink().pdp.decide(request)
    expect(reads).toBe(1)
  })

  it('isolates a failing sink: the decision stands and onSinkError hears of it', () => {
    const seen: [unknown, string][] = []
    const { pdp } = clinicPdp({
      events: [
        () => {
          throw new Error('sink down')
        },
        () => Promise.reject(new Error('async sink down')),
      ],
      onSinkError: (e, ev) => seen.push([(e as Error).message, ev.type]),
    })
    expect(pdp.decide(nurseReads()).reason).toBe('no_matching_allow')
    expect(seen[0]).toEqual(['sink down', 'access.denied'])
  })

  it('refuses a critical sink at compile time (decide is synchronous)', () => {
    let caught: unknown
    try {
      compilePolicy(clinic, { events: [() => {}, criticalSink(() => {})] })
    } catch (e) {
      caught = e
    }
    expect(isSafeguardsError(caught, 'ERR_INVALID_ARGUMENT')).toBe(true)
    expect((caught as Error).message).toMatch(/critical/)
    expect(() => compilePolicy(clinic, { events: criticalSink(() => {}) })).toThrow(/critical/)
  })
})

describe('events: emergency access', () => {
  it('emits the grant lifecycle: granted, used (by decide itself), revoked, reviewed', () => {
    const { pdp, events, clock } = withSink()
    const g = pdp.emergency.grant(grantRequest)
    const base = { source: SOURCE, outcome: 'success', subject: 'p-2', grantId: g.id }
    expect(events.splice(0)).toEqual([
      {
        ...base,
        type: 'access.emergency.granted',
        at: MONDAY_10AM,
        actor: 'u-nurse',
        code: 'clinical-emergency',
        expiresAt: MONDAY_10AM + 30 * MIN,
      },
    ])
    clock.advance(MIN)
    const d = pdp.decide(nurseReads({ emergencyAccess: g.id }))
    expect(d.obligations[0]).toEqual({
      id: 'audit:emergency-access',
      grant: g.id,
      reasonCode: 'clinical-emergency',
    })
    expect(events.splice(0)).toEqual([
      {
        ...base,
        type: 'access.emergency.used',
        at: MONDAY_10AM + MIN,
        actor: 'u-nurse',
        code: 'emergency_access',
        action: 'read',
        resourceType: 'Observation',
        resourceId: 'obs-7',
        tenant: 'clinic-a',
      },
    ])
    clock.advance(MIN)
    pdp.emergency.revoke(g.id, 'u-supervisor')
    expect(events.splice(0)).toEqual([
      { ...base, type: 'access.emergency.revoked', at: MONDAY_10AM + 2 * MIN, actor: 'u-supervisor' },
    ])
    clock.advance(MIN)
    pdp.emergency.review(g.id, { reviewer: 'u-privacy', outcome: 'inappropriate', notes: 'no ED note' })
    expect(events.splice(0)).toEqual([
      {
        ...base,
        type: 'access.emergency.reviewed',
        at: MONDAY_10AM + 3 * MIN,
        actor: 'u-privacy',
        code: 'inappropriate',
      },
    ])
  })

  it('emits used then allowed (with the grant) when emitAllowed; a label lifted by a grant counts as a use', () => {
    const { pdp, events } = withSink(true)
    const g = pdp.emergency.grant(grantRequest)
    events.length = 0
    pdp.decide(req(who.doc, 'read', 'Observation', { labels: ['vip'] }, { emergencyAccess: 'nope' }))
    expect(events.map((e) => [e.type, e.code])).toEqual([['access.denied', 'sensitivity_label']])
    events.length = 0
    pdp.decide(nurseReads({ emergencyAccess: g.id }))
    expect(events.map((e) => [e.type, e.code, 'grantId' in e ? e.grantId : undefined])).toEqual([
      ['access.emergency.used', 'emergency_access', g.id],
      ['access.allowed', 'emergency_access', g.id],
    ])
  })

  it('emits no used event when the grant was not needed or not usable', () => {
    const { pdp, events, clock } = withSink()
    const g = pdp.emergency.grant(grantRequest)
    events.length = 0
    // Regular access to p-1 (care team): the grant is for p-2 and is not used.
    pdp.decide(req(who.nurse, 'read', 'Observation', {}, { emergencyAccess: g.id }))
    clock.advance(31 * MIN)
    pdp.decide(nurseReads({ emergencyAccess: g.id }))
    expect(events.map((e) => [e.type, e.code])).toEqual([['access.denied', 'no_matching_allow']])
  })
})
