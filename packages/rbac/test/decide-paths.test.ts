import { manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { type AccessRequest, compilePolicy, type PolicyDocument } from '../src/index.js'
import { MONDAY_10AM } from './helpers.js'

// The decision point has a fast path (unconditional hits of at most two roles, precomputed) and a
// general path. These pin what must not depend on which one a request takes.

const EMERGENCY = {
  roles: ['nurse'],
  actions: ['read', 'delete'],
  resources: ['Chart'],
  reasonCodes: ['emergency'],
}
const simple: PolicyDocument = {
  version: 1,
  tenants: ['a', 'b'],
  roles: [{ id: 'r1' }, { id: 'r2' }, { id: 'r3' }, { id: 'r4', inherits: ['r1'] }, { id: 'nurse' }],
  rules: [
    { id: 'd1', effect: 'deny', roles: ['r1'], actions: ['read'], resources: ['X'] },
    { id: 'd2', effect: 'deny', roles: ['r2'], actions: ['read'], resources: ['X'] },
    { id: 'd3', effect: 'deny', roles: ['r3'], actions: ['read'], resources: ['X'] },
    { id: 'a1', effect: 'allow', roles: ['r1'], actions: ['write'], resources: ['X'], obligations: ['o1'] },
    { id: 'a2', effect: 'allow', roles: ['r2'], actions: ['write'], resources: ['X'], obligations: ['o2'] },
    { id: 'a3', effect: 'allow', roles: ['r3'], actions: ['write'], resources: ['X'] },
    { id: 'nurse-read', effect: 'allow', roles: ['nurse'], actions: ['read'], resources: ['Chart'] },
    { id: 'nurse-no-delete', effect: 'deny', roles: ['nurse'], actions: ['delete'], resources: ['Chart'] },
  ],
  emergencyAccess: EMERGENCY,
}

const ask = (roles: string[], action: string, type = 'X', tenant = 'a'): AccessRequest => ({
  subject: { id: 'u', tenant, roles },
  action,
  resource: { type, tenant, patient: 'p' },
})

describe('decide: every holding role is in decision.rules, however many', () => {
  const pdp = compilePolicy(simple)
  const orders = [
    ['r1', 'r2', 'r3'],
    ['r3', 'r1', 'r2'],
    ['r2', 'r3', 'r1', 'r2'],
  ]

  it('three denying roles: each one deny rule', () => {
    for (const roles of orders) {
      expect(pdp.decide(ask(roles, 'read')), roles.join()).toMatchObject({
        allowed: false,
        reason: 'explicit_deny',
        rules: [
          { id: 'd1', effect: 'deny', via: [['r1']] },
          { id: 'd2', effect: 'deny', via: [['r2']] },
          { id: 'd3', effect: 'deny', via: [['r3']] },
        ],
        obligations: [],
      })
    }
  })

  it('three allowing roles: each allow rule and its obligations', () => {
    for (const roles of orders) {
      const d = pdp.decide(ask(roles, 'write'))
      expect(d, roles.join()).toMatchObject({ allowed: true, reason: 'allow', errors: [], labels: [] })
      expect(d.rules.map((r) => r.id)).toEqual(['a1', 'a2', 'a3'])
      expect(d.obligations).toEqual([{ id: 'o1' }, { id: 'o2' }])
    }
  })

  it('one and two roles, and the same role twice or through inheritance', () => {
    expect(pdp.decide(ask(['r2'], 'read')).rules.map((r) => r.id)).toEqual(['d2'])
    expect(pdp.decide(ask(['r2', 'r2'], 'read')).rules.map((r) => r.id)).toEqual(['d2'])
    expect(pdp.decide(ask(['r3', 'r2'], 'read')).rules.map((r) => r.id)).toEqual(['d2', 'd3'])
    expect(pdp.decide(ask(['r2', 'r3', 'r3'], 'write')).rules.map((r) => r.id)).toEqual(['a2', 'a3'])
    expect(pdp.decide(ask(['r4', 'r1'], 'read')).rules).toEqual([
      { id: 'd1', effect: 'deny', via: [['r1'], ['r4', 'r1']] },
    ])
    // A pair is cached: the same frozen decision whichever order the roles come in.
    const first = pdp.decide(ask(['r1', 'r3'], 'write'))
    expect(pdp.decide(ask(['r3', 'r1'], 'write'))).toBe(first)
    expect(Object.isFrozen(first)).toBe(true)
  })

  it('roles held in another tenant, unknown roles and non-strings grant and deny nothing', () => {
    const p = compilePolicy({
      ...simple,
      roles: [...simple.roles.slice(0, 4), { id: 'nurse', tenants: ['b'] }],
    })
    expect(p.decide(ask(['nurse'], 'read', 'Chart', 'a')).reason).toBe('no_matching_allow')
    expect(p.decide(ask(['nurse'], 'read', 'Chart', 'b')).reason).toBe('allow')
    expect(p.decide(ask(['nurse', 'r1', 'r2'], 'delete', 'Chart', 'a')).reason).toBe('no_matching_allow')
    expect(p.decide(ask(['nurse'], 'delete', 'Chart', 'b')).reason).toBe('explicit_deny')
    const odd = ask(['ghost', 'r2'], 'read')
    expect(
      p.decide({ ...odd, subject: { ...odd.subject, roles: [42, 'r2'] as unknown as string[] } }).rules,
    ).toEqual([{ id: 'd2', effect: 'deny', via: [['r2']] }])
    expect(p.decide(odd).rules.map((r) => r.id)).toEqual(['d2'])
  })
})

describe('decide: an emergency request keeps its emergency record on every path', () => {
  const setup = () => {
    const clock = manualClock(MONDAY_10AM)
    const pdp = compilePolicy(simple, { clock })
    const grant = pdp.emergency.grant({
      subject: { id: 'u', tenant: 'a', roles: ['nurse'] },
      patient: 'p',
      actions: ['read', 'delete'],
      reasonCode: 'emergency',
      justification: 'Patient unresponsive, chart needed now.',
      minutes: 10,
    })
    return { pdp, clock, grant }
  }

  it('with a regular allow the grant is reported, active and unused', () => {
    const { pdp, grant } = setup()
    const d = pdp.decide({ ...ask(['nurse'], 'read', 'Chart'), emergencyAccess: grant.id })
    expect(d).toMatchObject({
      allowed: true,
      reason: 'allow',
      rules: [{ id: 'nurse-read' }],
      obligations: [],
      emergencyAccess: { grant: grant.id, status: 'active', used: false },
    })
    expect(pdp.decide(ask(['nurse'], 'read', 'Chart')).emergencyAccess).toBeNull()
  })

  it('with a deny, an unknown grant or no rule at all the grant is still reported', () => {
    const { pdp, grant } = setup()
    expect(pdp.decide({ ...ask(['nurse'], 'delete', 'Chart'), emergencyAccess: grant.id })).toMatchObject({
      allowed: false,
      reason: 'explicit_deny',
      emergencyAccess: { grant: grant.id, status: 'active', used: false },
    })
    expect(pdp.decide({ ...ask(['nurse'], 'read', 'Chart'), emergencyAccess: 'nope' })).toMatchObject({
      allowed: true,
      reason: 'allow',
      emergencyAccess: { grant: 'nope', status: 'not_found', used: false },
    })
    expect(pdp.decide({ ...ask(['r1'], 'read', 'Chart'), emergencyAccess: grant.id })).toMatchObject({
      allowed: false,
      emergencyAccess: { grant: grant.id, status: 'out_of_scope', used: false },
    })
  })

  it('a grant from one tenant is out of scope in another, even for the same id, role and patient', () => {
    const { pdp, grant } = setup()
    const inB: AccessRequest = { ...ask(['nurse', 'r1'], 'read', 'Other', 'b'), emergencyAccess: grant.id }
    const p = compilePolicy(
      { ...simple, emergencyAccess: { ...EMERGENCY, resources: ['Chart', 'Other'] } },
      {
        clock: manualClock(MONDAY_10AM),
        emergencyStore: {
          get: () => ({ ...grant, resources: ['Chart', 'Other'] }),
          set: () => {},
          list: () => [],
        },
      },
    )
    expect(p.decide(inB)).toMatchObject({
      allowed: false,
      reason: 'no_matching_allow',
      emergencyAccess: { grant: grant.id, status: 'out_of_scope', used: false },
    })
    // The same grant in its own tenant grants.
    expect(
      p.decide({
        ...inB,
        subject: { ...inB.subject, tenant: 'a' },
        resource: { ...inB.resource, tenant: 'a' },
      }),
    ).toMatchObject({
      allowed: true,
      reason: 'emergency_access',
    })
    expect(pdp.decide(inB).emergencyAccess?.status).toBe('out_of_scope')
  })
})
