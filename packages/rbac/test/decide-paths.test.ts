import { manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  type AccessRequest,
  compilePolicy,
  createMemoryEmergencyStore,
  type DecisionPoint,
  type EmergencyGrant,
  type PolicyDocument,
  parseSmartScopes,
} from '../src/index.js'
import { MONDAY_10AM, rule } from './helpers.js'

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

/** A grant to u (nurse, tenant a) for patient p. */
const grantFor = (pdp: DecisionPoint, actions: string[], minutes: number): EmergencyGrant =>
  pdp.emergency.grant({
    subject: { id: 'u', tenant: 'a', roles: ['nurse'] },
    patient: 'p',
    actions,
    reasonCode: 'emergency',
    justification: 'Patient unresponsive, chart needed now.',
    minutes,
  })

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
    const grant = grantFor(pdp, ['read', 'delete'], 10)
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
  /** One unconditional rule per role on (read, X): deny for the roles in `deniers`, else allow. */
  const layout = (deniers: ReadonlySet<string>): PolicyDocument => ({
    version: 1,
    roles: roles.map((id) => ({ id })),
    rules: roles.map((r) => ({
      id: `rule-${r}`,
      effect: deniers.has(r) ? ('deny' as const) : ('allow' as const),
      roles: [r],
      actions: ['read'],
      resources: ['X'],
    })),
  })
  const evens = new Set(['p0', 'p2', 'p4'])
  const odds = new Set(['p1', 'p3', 'p5'])

  it.each([
    ['even roles deny', evens],
    ['odd roles deny', odds],
  ])('every ordered pair and triple, twice, in one bucket (%s)', (_name, deniers) => {
    const pdp = compilePolicy(layout(deniers))
    const sets = roles.flatMap((x) => roles.flatMap((y) => [[x, y], ...roles.map((z) => [x, y, z])]))
    for (let round = 0; round < 2; round++)
      for (const held of sets) {
        const denying = held.filter((r) => deniers.has(r))
        const deciding = denying.length > 0 ? denying : held
        const d = pdp.decide(ask(held, 'read'))
        expect(d.allowed, held.join()).toBe(denying.length === 0)
        expect(d.rules.map((r) => r.id)).toEqual([...new Set(deciding)].sort().map((r) => `rule-${r}`))
      }
  })

  it('the simple case allocates nothing: one frozen decision per role set, whatever the order or repeats', () => {
    const pdp = compilePolicy(layout(evens))
    const one = pdp.decide(ask(['p1'], 'read'))
    expect(pdp.decide(ask(['p1'], 'read'))).toBe(one)
    expect(pdp.decide(ask(['p1', 'p1'], 'read'))).toBe(one)
    const empty = ask(['p1'], 'read')
    expect(pdp.decide({ ...empty, resource: { ...empty.resource, labels: [] } })).toBe(one)
    expect(pdp.decide(ask(['p0'], 'read'))).toBe(pdp.decide(ask(['p0', 'p0'], 'read')))
    expect(pdp.decide(ask(['ghost'], 'read'))).toBe(pdp.decide(ask([], 'read')))
    for (const [a, b] of [
      ['p1', 'p3'],
      ['p0', 'p2'],
    ]) {
      const pair = pdp.decide(ask([a as string, b as string], 'read'))
      expect(pdp.decide(ask([b as string, a as string], 'read'))).toBe(pair)
      expect(pdp.decide(ask([a as string, b as string, b as string], 'read'))).toBe(pair)
      expect(pdp.decide(ask([a as string, a as string, b as string], 'read'))).toBe(pair)
      expect(pdp.decide(ask([a as string, 'ghost', b as string, 'p9'], 'read'))).toBe(pair)
    }
  })

  it('names no rule uses share one fallback bucket each, so junk requests do not grow the cache', () => {
    const pdp = compilePolicy({
      version: 1,
      roles: [{ id: 'r' }],
      rules: [
        { id: 'any-read', effect: 'allow', roles: ['r'], actions: ['read'], resources: ['*'] },
        { id: 'x-anything', effect: 'allow', roles: ['r'], actions: ['*'], resources: ['X'] },
        { id: 'all', effect: 'deny', roles: ['r'], actions: ['*'], resources: ['*'] },
        { id: 'y-only', effect: 'allow', roles: ['r'], actions: ['write'], resources: ['Y'] },
      ],
    })
    const at = (action: string, type: string) => pdp.decide(ask(['r'], action, type))
    // Known action, unknown types; unknown actions, known type; both unknown.
    expect(at('read', 'Junk1')).toBe(at('read', 'Junk2'))
    expect(at('junk1', 'X')).toBe(at('junk2', 'X'))
    expect(at('junk1', 'Junk1')).toBe(at('junk2', 'Junk2'))
    expect(at('read', 'Junk1')).not.toBe(at('junk1', 'Junk1'))
    expect(at('read', 'Junk1').rules.map((r) => r.id)).toEqual(['all'])
    expect(at('junk', 'X').rules.map((r) => r.id)).toEqual(['all'])
    expect(at('read', 'Y')).toBe(at('read', 'Y'))
  })

  it('past the pair-cache cap (1,024 per bucket), pairs are built per request and stay correct', () => {
    const many = Array.from({ length: 48 }, (_, i) => `m${String(i).padStart(2, '0')}`)
    const pdp = compilePolicy({
      version: 1,
      roles: many.map((id) => ({ id })),
      rules: many.map((r) => ({
        id: `rule-${r}`,
        effect: 'allow' as const,
        roles: [r],
        actions: ['read'],
        resources: ['X'],
      })),
    })
    const pairs = many.flatMap((x, i) => many.slice(i + 1).map((y) => [x, y]))
    expect(pairs.length).toBeGreaterThan(1025)
    const first = pairs.map((held) => pdp.decide(ask(held, 'read')))
    pairs.forEach((held, i) => {
      const again = pdp.decide(ask(held, 'read'))
      expect(again.rules.map((r) => r.id)).toEqual(held.map((r) => `rule-${r}`))
      if (i < 1024) expect(again, held.join()).toBe(first[i])
      else expect(again, held.join()).not.toBe(first[i])
    })
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
          rule('z-rel', 'allow', ['base'], ['read'], ['X'], { when: { relation: 'flaky' } }),
          rule('a-attr', 'allow', ['base'], ['read'], ['X'], { when: { eq: [{ ref: 'context.k' }, 1] } }),
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
        rule('d-err', 'deny', ['a'], ['read'], ['X'], { when: { eq: [{ ref: 'context.k' }, 1] } }),
        rule('d-clean', 'deny', ['a'], ['read'], ['X'], { when: { eq: [1, 1] } }),
        rule('d-false', 'deny', ['a'], ['read'], ['X'], { when: { eq: [1, 2] } }),
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
      rule('no-b-records', 'deny', ['r'], ['read'], ['X'], { tenants: ['b'] }),
      rule('no-c-staff', 'deny', ['r'], ['read'], ['X'], { subjectTenants: ['c'] }),
      { id: 'write-a', effect: 'allow', roles: ['r'], actions: ['write'], resources: ['X'], tenants: ['a'] },
      rule('write-cond', 'allow', ['r'], ['write'], ['Y'], { when: { eq: [1, 1] } }),
      rule('cross', 'allow', ['r'], ['copy'], ['X'], { subjectTenants: ['a'], tenants: ['b'] }),
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
    const denials = [
      ['b', 'b', 'no-b-records'],
      ['a', 'b', 'no-b-records'],
      ['c', 'c', 'no-c-staff'],
      ['c', 'a', 'no-c-staff'],
    ] as const
    for (const [subjectTenant, resourceTenant, rule] of denials)
      expect(pdp.decide(from(subjectTenant, resourceTenant))).toMatchObject({
        reason: 'explicit_deny',
        rules: [{ id: rule }],
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
    smartActions: { export: 's' },
  })
  const letters: Record<string, string> = {
    create: 'c',
    read: 'r',
    vread: 'r',
    history: 'r',
    search: 's',
    update: 'u',
    patch: 'u',
    delete: 'd',
    export: 's',
  }
  it('smartActions can remap a FHIR action too', () => {
    const remapped = compilePolicy({ ...pdp.policy, smartActions: { create: 'd' } })
    const d = (s: string) => remapped.decide({ ...ask(['r'], 'create'), scopes: parseSmartScopes(s) }).allowed
    expect([d('user/X.d'), d('user/X.c')]).toEqual([true, false])
  })

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
    ['a function carrying the request', Object.assign(() => {}, good)],
    ['a function carrying the subject', { ...good, subject: Object.assign(() => {}, good.subject) }],
    ['a function carrying the resource', { ...good, resource: Object.assign(() => {}, good.resource) }],
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

describe('decide: compile-time details that show in decisions', () => {
  it('a resolver that is not a function is refused by name', () => {
    expect(() => compilePolicy(simple, { resolvers: { careTeam: 42 as unknown as () => boolean } })).toThrow(
      new TypeError('resolver "careTeam" is not a function'),
    )
  })

  it('role chains do not depend on the order of inherits: the shortest chain, ties by role id', () => {
    for (const inherits of [
      ['zed', 'amy'],
      ['amy', 'zed'],
    ]) {
      const pdp = compilePolicy({
        version: 1,
        roles: [
          { id: 'q' },
          { id: 'zed', inherits: ['q'] },
          { id: 'amy', inherits: ['q'] },
          { id: 'top', inherits },
        ],
        rules: [{ id: 'on-q', effect: 'allow', roles: ['q'], actions: ['read'], resources: ['X'] }],
      })
      expect(pdp.decide(ask(['top'], 'read')).rules).toEqual([
        { id: 'on-q', effect: 'allow', via: [['top', 'amy', 'q']] },
      ])
    }
  })

  it('two chains are two chains even when their ids run together', () => {
    // ['a', 'b', 'x'] and ['ab', 'x'] both read "abx" without a separator.
    const pdp = compilePolicy({
      version: 1,
      roles: [
        { id: 'x' },
        { id: 'b', inherits: ['x'] },
        { id: 'a', inherits: ['b'] },
        { id: 'ab', inherits: ['x'] },
      ],
      rules: [{ id: 'on-x', effect: 'allow', roles: ['x'], actions: ['read'], resources: ['X'] }],
    })
    expect(pdp.decide(ask(['a', 'ab'], 'read')).rules[0]?.via).toEqual([
      ['a', 'b', 'x'],
      ['ab', 'x'],
    ])
  })

  it('obligations from several rules are merged and sorted on the general path too', () => {
    const pdp = compilePolicy({
      version: 1,
      roles: [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
      rules: [
        rule('r1', 'allow', ['a'], ['read'], ['X'], { obligations: ['zz', 'mm'] }),
        rule('r2', 'allow', ['b'], ['read'], ['X'], { obligations: ['aa', 'mm'] }),
        rule('r3', 'allow', ['c'], ['read'], ['X'], { when: { eq: [1, 1] } }),
      ],
    })
    const expected = [{ id: 'aa' }, { id: 'mm' }, { id: 'zz' }]
    expect(pdp.decide(ask(['a', 'b'], 'read')).obligations).toEqual(expected) // fast path
    expect(pdp.decide(ask(['a', 'b', 'c'], 'read')).obligations).toEqual(expected) // general path
    expect(pdp.decide(ask(['c'], 'read'))).toMatchObject({ allowed: true, obligations: [] })
  })

  it('the compiled policy is frozen all the way down', () => {
    const pdp = compilePolicy({
      ...simple,
      rules: [
        ...simple.rules,
        rule('cond', 'allow', ['r1'], ['x'], ['X'], { when: { in: [null, [1, null]] } }),
      ],
    })
    const last = pdp.policy.rules.at(-1) as unknown as { when: { in: [null, unknown[]] }; actions: string[] }
    expect(Object.isFrozen(pdp.policy.roles[3]?.inherits)).toBe(true)
    expect(
      Object.isFrozen(last.actions) && Object.isFrozen(last.when) && Object.isFrozen(last.when.in[1]),
    ).toBe(true)
    expect(Object.isFrozen(pdp.policy.emergencyAccess?.reasonCodes)).toBe(true)
  })

  it('an eligible role declared last is eligible', () => {
    const doc: PolicyDocument = {
      ...simple,
      roles: [...simple.roles.filter((r) => r.id !== 'nurse'), { id: 'nurse' }],
    }
    const pdp = compilePolicy(doc, { clock: manualClock(MONDAY_10AM) })
    const g = grantFor(pdp, ['read'], 5)
    expect(
      pdp.decide({ ...ask(['nurse'], 'read', 'Chart'), emergencyAccess: g.id }).emergencyAccess?.status,
    ).toBe('active')
  })

  it('without an emergency-access policy, no grant is found, even in a shared store', () => {
    const store = createMemoryEmergencyStore()
    const withEa = compilePolicy(simple, { clock: manualClock(MONDAY_10AM), emergencyStore: store })
    const g = grantFor(withEa, ['read'], 5)
    const { emergencyAccess: _, ...noEa } = simple
    const without = compilePolicy(noEa, { clock: manualClock(MONDAY_10AM), emergencyStore: store })
    expect(without.emergency.enabled).toBe(false)
    expect(without.decide({ ...ask(['r1'], 'read', 'Chart'), emergencyAccess: g.id })).toMatchObject({
      allowed: false,
      reason: 'no_matching_allow',
      emergencyAccess: { grant: g.id, status: 'not_found', used: false },
    })
  })

  it('one decision reads the clock once, for its time windows and its grant alike', () => {
    let reads = 0
    let t = MONDAY_10AM
    // Each read moves the clock a minute on: two reads in one decision would disagree.
    const clock = {
      now: () => {
        reads++
        const now = t
        t += 60_000
        return now
      },
    }
    const pdp = compilePolicy(
      {
        ...simple,
        rules: [
          ...simple.rules,
          rule('never-now', 'allow', ['nurse'], ['read'], ['Other'], {
            when: { timeWindow: { from: '03:00', to: '04:00' } },
          }),
        ],
        emergencyAccess: { ...EMERGENCY, resources: ['Chart', 'Other'] },
      },
      { clock },
    )
    const g = grantFor(pdp, ['read'], 2)
    reads = 0
    // The grant was issued at 10:00 and ends at 10:02; this decision reads 10:01 once.
    const d = pdp.decide({ ...ask(['nurse'], 'read', 'Other'), emergencyAccess: g.id })
    expect(reads).toBe(1)
    expect(d).toMatchObject({ allowed: true, reason: 'emergency_access' })
  })

  it('a label lifted by emergency access says emergency access lifts it', () => {
    const pdp = compilePolicy(
      { ...simple, labels: [{ id: 'vip', emergencyAccess: 'lifts' }] },
      { clock: manualClock(MONDAY_10AM) },
    )
    const g = grantFor(pdp, ['read'], 5)
    const r = ask(['nurse'], 'read', 'Chart')
    expect(
      pdp.decide({ ...r, resource: { ...r.resource, labels: ['vip'] }, emergencyAccess: g.id }),
    ).toMatchObject({
      allowed: true,
      reason: 'emergency_access',
      labels: [{ label: 'vip', outcome: 'lifted_by_emergency_access', emergencyAccessLifts: true }],
      obligations: [{ id: 'audit:emergency-access', grant: g.id, reasonCode: 'emergency' }],
      emergencyAccess: { status: 'active', used: true },
    })
  })
})
