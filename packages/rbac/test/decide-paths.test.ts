import { manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { type AccessRequest, compilePolicy, type PolicyDocument, parseSmartScopes } from '../src/index.js'
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

describe('decide: cached decisions never leak between roles, pairs or effects', () => {
  const roles = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5']
  const deniers = new Set(['p0', 'p2', 'p4'])
  const doc: PolicyDocument = {
    version: 1,
    roles: roles.map((id) => ({ id })),
    rules: roles.map((r) => ({
      id: `rule-${r}`,
      effect: deniers.has(r) ? ('deny' as const) : ('allow' as const),
      roles: [r],
      actions: ['read'],
      resources: ['X'],
    })),
  }

  it('every ordered pair, twice, in one bucket', () => {
    const pdp = compilePolicy(doc)
    for (let round = 0; round < 2; round++)
      for (const x of roles)
        for (const y of roles) {
          const held = [x, y]
          const denying = held.filter((r) => deniers.has(r))
          const deciding = denying.length > 0 ? denying : held
          const d = pdp.decide(ask(held, 'read'))
          expect(d.allowed, held.join()).toBe(denying.length === 0)
          expect(d.rules.map((r) => r.id)).toEqual([...new Set(deciding)].sort().map((r) => `rule-${r}`))
        }
  })

  it('the simple case allocates nothing: the same frozen decision every time, labels [] included', () => {
    const pdp = compilePolicy(doc)
    const one = pdp.decide(ask(['p1'], 'read'))
    expect(pdp.decide(ask(['p1'], 'read'))).toBe(one)
    const empty = ask(['p1'], 'read')
    expect(pdp.decide({ ...empty, resource: { ...empty.resource, labels: [] } })).toBe(one)
    expect(pdp.decide(ask(['p0'], 'read'))).toBe(pdp.decide(ask(['p0', 'p0'], 'read')))
    expect(pdp.decide(ask(['ghost'], 'read'))).toBe(pdp.decide(ask([], 'read')))
  })
})

describe('decide: rules reached through several roles are evaluated once', () => {
  it('one resolver call and one error per rule, errors sorted by rule id', () => {
    let calls = 0
    const pdp = compilePolicy(
      {
        version: 1,
        relationships: ['flaky'],
        roles: [{ id: 'base' }, { id: 'x', inherits: ['base'] }, { id: 'y', inherits: ['base'] }],
        rules: [
          {
            id: 'z-rel',
            effect: 'allow',
            roles: ['base'],
            actions: ['read'],
            resources: ['X'],
            when: { relation: 'flaky' },
          },
          {
            id: 'a-attr',
            effect: 'allow',
            roles: ['base'],
            actions: ['read'],
            resources: ['X'],
            when: { eq: [{ ref: 'context.k' }, 1] },
          },
        ],
      },
      {
        resolvers: {
          flaky: () => {
            calls++
            throw new Error('down')
          },
        },
      },
    )
    const d = pdp.decide(ask(['x', 'y', 'base'], 'read'))
    expect(calls).toBe(1)
    expect(d.errors).toEqual([
      { rule: 'a-attr', code: 'missing_attribute', detail: 'context.k' },
      { rule: 'z-rel', code: 'resolver_failed', detail: 'flaky' },
    ])
    expect(Object.isFrozen(d.errors) && Object.isFrozen(d.errors[0])).toBe(true)
  })

  it('a clean deny is explicit_deny even beside a deny whose condition failed; both are listed', () => {
    const pdp = compilePolicy({
      version: 1,
      roles: [{ id: 'a' }],
      rules: [
        { id: 'allow', effect: 'allow', roles: ['a'], actions: ['read'], resources: ['X'] },
        {
          id: 'd-err',
          effect: 'deny',
          roles: ['a'],
          actions: ['read'],
          resources: ['X'],
          when: { eq: [{ ref: 'context.k' }, 1] },
        },
        {
          id: 'd-clean',
          effect: 'deny',
          roles: ['a'],
          actions: ['read'],
          resources: ['X'],
          when: { eq: [1, 1] },
        },
        {
          id: 'd-false',
          effect: 'deny',
          roles: ['a'],
          actions: ['read'],
          resources: ['X'],
          when: { eq: [1, 2] },
        },
      ],
    })
    const d = pdp.decide(ask(['a'], 'read'))
    expect(d).toMatchObject({ allowed: false, reason: 'explicit_deny', obligations: [] })
    expect(d.rules.map((r) => r.id)).toEqual(['d-clean', 'd-err'])
    expect(d.errors.map((e) => e.rule)).toEqual(['d-err'])
  })
})

describe('decide: tenant filters on rules', () => {
  const pdp = compilePolicy({
    version: 1,
    tenants: ['a', 'b', 'c'],
    roles: [{ id: 'r' }],
    rules: [
      { id: 'read-all', effect: 'allow', roles: ['r'], actions: ['read'], resources: ['X'] },
      {
        id: 'no-b-records',
        effect: 'deny',
        roles: ['r'],
        actions: ['read'],
        resources: ['X'],
        tenants: ['b'],
      },
      {
        id: 'no-c-staff',
        effect: 'deny',
        roles: ['r'],
        actions: ['read'],
        resources: ['X'],
        subjectTenants: ['c'],
      },
      { id: 'write-a', effect: 'allow', roles: ['r'], actions: ['write'], resources: ['X'], tenants: ['a'] },
      {
        id: 'write-cond',
        effect: 'allow',
        roles: ['r'],
        actions: ['write'],
        resources: ['Y'],
        when: { eq: [1, 1] },
      },
      {
        id: 'cross',
        effect: 'allow',
        roles: ['r'],
        actions: ['copy'],
        resources: ['X'],
        subjectTenants: ['a'],
        tenants: ['b'],
      },
    ],
  })
  const from = (
    subjectTenant: string,
    resourceTenant: string,
    action = 'read',
    type = 'X',
  ): AccessRequest => ({
    subject: { id: 'u', tenant: subjectTenant, roles: ['r'] },
    action,
    resource: { type, tenant: resourceTenant },
  })

  it('a deny rule with tenants denies only resources there; with subjectTenants, only subjects from there', () => {
    expect(pdp.decide(from('a', 'a')).reason).toBe('allow')
    expect(pdp.decide(from('b', 'b'))).toMatchObject({
      reason: 'explicit_deny',
      rules: [{ id: 'no-b-records' }],
    })
    expect(pdp.decide(from('a', 'b'))).toMatchObject({
      reason: 'explicit_deny',
      rules: [{ id: 'no-b-records' }],
    })
    expect(pdp.decide(from('c', 'c'))).toMatchObject({
      reason: 'explicit_deny',
      rules: [{ id: 'no-c-staff' }],
    })
    expect(pdp.decide(from('c', 'a'))).toMatchObject({
      reason: 'explicit_deny',
      rules: [{ id: 'no-c-staff' }],
    })
  })

  it('an allow rule with tenants grants only there, and only to the same tenant; conditions do not change that', () => {
    expect(pdp.decide(from('a', 'a', 'write')).reason).toBe('allow')
    expect(pdp.decide(from('b', 'b', 'write')).reason).toBe('no_matching_allow')
    expect(pdp.decide(from('b', 'a', 'write')).reason).toBe('tenant_mismatch')
    expect(pdp.decide(from('b', 'b', 'write', 'Y')).reason).toBe('allow')
    expect(pdp.decide(from('a', 'b', 'write', 'Y')).reason).toBe('tenant_mismatch')
  })

  it('a cross-tenant grant works in the direction it names only', () => {
    expect(pdp.decide(from('a', 'b', 'copy'))).toMatchObject({ allowed: true, rules: [{ id: 'cross' }] })
    expect(pdp.decide(from('b', 'b', 'copy')).allowed).toBe(false)
    expect(pdp.decide(from('a', 'a', 'copy')).allowed).toBe(false)
    expect(pdp.decide(from('c', 'b', 'copy')).allowed).toBe(false)
  })
})

describe('decide: each action needs its own SMART permission letter', () => {
  const actions = [
    'create',
    'read',
    'vread',
    'history',
    'search',
    'update',
    'patch',
    'delete',
    'export',
    'print',
  ]
  const pdp = compilePolicy({
    version: 1,
    roles: [{ id: 'r' }],
    rules: [{ id: 'all', effect: 'allow', roles: ['r'], actions, resources: ['X'] }],
    smartActions: { export: 's', create: 'd' },
  })
  const letters: Record<string, string> = {
    create: 'd', // remapped by smartActions
    read: 'r',
    vread: 'r',
    history: 'r',
    search: 's',
    update: 'u',
    patch: 'u',
    delete: 'd',
    export: 's',
  }
  it.each(['c', 'r', 'u', 'd', 's'])('user/X.%s permits exactly the actions mapped to it', (letter) => {
    const scopes = parseSmartScopes(`user/X.${letter}`)
    for (const action of actions) {
      const d = pdp.decide({ ...ask(['r'], action), scopes })
      expect(d.allowed, action).toBe(letters[action] === letter)
      if (!d.allowed) expect(d.reason).toBe('scope_exceeded')
    }
  })
})

describe('decide: request shape checks, at their limits', () => {
  const pdp = compilePolicy(simple)
  const good = ask(['nurse'], 'read', 'Chart')
  const reason = (r: unknown) => pdp.decide(r as AccessRequest).reason

  it('1,000 roles, labels or consents pass; 1,001 do not', () => {
    const roles = [...Array(999).fill('ghost'), 'nurse']
    expect(reason({ ...good, subject: { ...good.subject, roles } })).toBe('allow')
    expect(reason({ ...good, subject: { ...good.subject, roles: [...roles, 'r1'] } })).toBe('invalid_request')
    const consent = Array(1000).fill('vip')
    expect(reason({ ...good, consent })).toBe('allow')
    expect(reason({ ...good, consent: [...consent, 'vip'] })).toBe('invalid_request')
    const labels = Array(1000).fill('vip')
    expect(reason({ ...good, resource: { ...good.resource, labels } })).toBe('sensitivity_label')
    expect(reason({ ...good, resource: { ...good.resource, labels: [...labels, 'vip'] } })).toBe(
      'invalid_request',
    )
  })

  it.each([
    ['a numeric subject id', { ...good, subject: { ...good.subject, id: 7 } }],
    ['a numeric subject tenant', { ...good, subject: { ...good.subject, tenant: 7 } }],
    ['a null subject', { ...good, subject: null }],
    ['a null resource', { ...good, resource: null }],
    ['a resource without a type', { ...good, resource: { tenant: 'a' } }],
    ['an empty resource tenant', { ...good, resource: { ...good.resource, tenant: '' } }],
    ['a numeric resource tenant', { ...good, resource: { ...good.resource, tenant: 1 } }],
    ['consent with a number', { ...good, consent: ['vip', 1] }],
    ['scopes that are a string', { ...good, scopes: 'user/*.cruds' }],
  ])('%s is invalid', (_name, r) => {
    expect(reason(r)).toBe('invalid_request')
  })

  it('what may be absent or empty', () => {
    expect(reason({ ...good, consent: [] })).toBe('allow')
    expect(reason({ ...good, resource: { type: 'Chart', tenant: 'a' } })).toBe('allow')
    expect(reason({ ...good, subject: { ...good.subject, roles: [] } })).toBe('no_matching_allow')
    expect(reason({ ...good, action: '' })).toBe('no_matching_allow')
    expect(reason({ ...good, resource: { ...good.resource, type: '' } })).toBe('no_matching_allow')
  })
})
