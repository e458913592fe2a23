import { manualClock } from '@safeguards/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type AccessRequest, compilePolicy, type PolicyDocument, parseSmartScopes } from '../src/index.js'
import { clinic, clinicPdp, MONDAY_10AM, req, rule, who } from './helpers.js'

describe('decide: the clinic policy (minimum necessary)', () => {
  const { pdp } = clinicPdp()

  it('allows with the deciding rule and the role chain that brought it in', () => {
    const d = pdp.decide(req(who.nurse, 'read', 'Observation'))
    expect(d).toMatchObject({
      allowed: true,
      reason: 'allow',
      rules: [{ id: 'nurse-read-clinical', effect: 'allow', via: [['charge_nurse', 'nurse']] }],
      errors: [],
      obligations: [],
      emergencyAccess: null,
    })
    expect(d.policyHash).toMatch(/^[0-9a-f]{64}$/)
    expect(Object.isFrozen(d) && Object.isFrozen(d.rules) && Object.isFrozen(d.rules[0]?.via)).toBe(true)
  })

  it('lists every role chain when several held roles bring the same rule', () => {
    const d = pdp.decide(
      req({ ...who.nurse, roles: ['physician', 'charge_nurse', 'nurse'] }, 'read', 'Condition'),
    )
    expect(d.rules.map((r) => [r.id, r.via])).toEqual([
      ['nurse-read-clinical', [['charge_nurse', 'nurse'], ['nurse'], ['physician', 'nurse']]],
      ['physician-chart', [['physician']]],
    ])
  })

  it('denies by default, and says so', () => {
    expect(pdp.decide(req(who.frontDesk, 'read', 'Observation'))).toMatchObject({
      allowed: false,
      reason: 'no_matching_allow',
      rules: [],
    })
    expect(pdp.decide(req(who.nurse, 'read', 'Observation', { patient: 'p-2' })).reason).toBe(
      'no_matching_allow',
    )
    expect(pdp.decide(req(who.admin, 'read', 'Patient')).allowed).toBe(false)
    expect(pdp.decide(req(who.billing, 'read', 'Encounter')).allowed).toBe(false)
    expect(
      pdp.decide(req(who.billing, 'read', 'Encounter', {}, { context: { purposeOfUse: 'HPAYMT' } })).allowed,
    ).toBe(true)
    expect(pdp.decide(req(who.nurse, 'teleport', 'Observation')).reason).toBe('no_matching_allow')
    expect(pdp.decide(req(who.nurse, 'read', 'Spaceship')).reason).toBe('no_matching_allow')
  })

  it('any applicable deny wins over every allow', () => {
    const d = pdp.decide(req({ ...who.auditor, roles: ['auditor', 'admin'] }, 'delete', 'AuditEvent'))
    expect(d).toMatchObject({
      allowed: false,
      reason: 'explicit_deny',
      rules: [{ id: 'audit-trail-is-append-only', effect: 'deny', via: [['*']] }],
    })
    const suspended = { ...who.nurse, attributes: { suspended: true } }
    expect(pdp.decide(req(suspended, 'read', 'Observation'))).toMatchObject({
      allowed: false,
      reason: 'explicit_deny',
      rules: [{ id: 'suspended-accounts' }],
    })
  })

  it('a request for another tenant is denied unless a rule grants it explicitly', () => {
    const other = req(who.frontDesk, 'read', 'Patient', { tenant: 'clinic-b' })
    expect(pdp.decide(other)).toMatchObject({ allowed: false, reason: 'tenant_mismatch' })
    const doc: PolicyDocument = {
      ...clinic,
      rules: [
        ...clinic.rules,
        rule('referral-read', 'allow', ['front_desk'], ['read'], ['Patient'], {
          tenants: ['clinic-b'],
          subjectTenants: ['clinic-a'],
        }),
      ],
    }
    const p2 = compilePolicy(doc)
    expect(p2.decide(other)).toMatchObject({ allowed: true, rules: [{ id: 'referral-read' }] })
    // Only in the direction the rule names.
    expect(
      p2.decide({
        ...other,
        subject: { ...who.frontDesk, tenant: 'clinic-b' },
        resource: { type: 'Patient', tenant: 'clinic-a' },
      }).allowed,
    ).toBe(false)
  })

  it('role assignments are per tenant: a role limited to one tenant grants nothing in another', () => {
    const doc: PolicyDocument = {
      version: 1,
      roles: [{ id: 'locum', tenants: ['clinic-a'] }],
      rules: [{ id: 'locum-read', effect: 'allow', roles: ['locum'], actions: ['read'], resources: ['*'] }],
    }
    const p = compilePolicy(doc)
    const s = { id: 'u', tenant: 'clinic-a', roles: ['locum'] }
    expect(
      p.decide({ subject: s, action: 'read', resource: { type: 'Patient', tenant: 'clinic-a' } }).allowed,
    ).toBe(true)
    const b = { ...s, tenant: 'clinic-b' }
    expect(
      p.decide({ subject: b, action: 'read', resource: { type: 'Patient', tenant: 'clinic-b' } }).allowed,
    ).toBe(false)
  })

  it('time windows use the injected clock (front desk schedules on weekdays 07:00–19:00)', () => {
    const clock = manualClock(MONDAY_10AM)
    const p = compilePolicy(clinic, { clock })
    const r = req(who.frontDesk, 'create', 'Appointment')
    expect(p.decide(r).allowed).toBe(true)
    clock.set(Date.UTC(2026, 10, 23, 18, 59, 59, 999))
    expect(p.decide(r).allowed).toBe(true)
    clock.set(Date.UTC(2026, 10, 23, 19, 0))
    expect(p.decide(r).allowed).toBe(false)
    clock.set(Date.UTC(2026, 10, 28, 10, 0)) // Saturday
    expect(p.decide(r).allowed).toBe(false)
  })

  it('time windows that wrap midnight and have an offset', () => {
    const clock = manualClock(0)
    const doc: PolicyDocument = {
      version: 1,
      roles: [{ id: 'night' }],
      rules: [
        rule('night-shift', 'allow', ['night'], ['read'], ['*'], {
          when: { timeWindow: { from: '22:00', to: '06:00', days: ['fri'], utcOffsetMinutes: -300 } },
        }),
      ],
    }
    const p = compilePolicy(doc, { clock })
    const r: AccessRequest = {
      subject: { id: 'u', tenant: 't', roles: ['night'] },
      action: 'read',
      resource: { type: 'X', tenant: 't' },
    }
    const at = (iso: string) => {
      clock.set(Date.parse(iso), true)
      return p.decide(r).allowed
    }
    expect(at('2026-11-27T22:00:00-05:00')).toBe(true) // Friday 22:00 local
    expect(at('2026-11-28T05:59:00-05:00')).toBe(true) // Saturday early morning: Friday's shift
    expect(at('2026-11-28T06:00:00-05:00')).toBe(false)
    expect(at('2026-11-27T21:59:00-05:00')).toBe(false)
    expect(at('2026-11-28T22:00:00-05:00')).toBe(false) // Saturday night
    expect(at('2026-11-27T05:00:00-05:00')).toBe(false) // Friday early morning: Thursday's shift
  })

  it('rule obligations are attached to the decisions the rule allows', () => {
    const doc: PolicyDocument = {
      version: 1,
      roles: [{ id: 'psych' }],
      rules: [
        rule('notes', 'allow', ['psych'], ['read'], ['Note'], {
          obligations: ['audit:psychotherapy', 'watermark'],
        }),
      ],
    }
    const d = compilePolicy(doc).decide({
      subject: { id: 'u', tenant: 't', roles: ['psych'] },
      action: 'read',
      resource: { type: 'Note', tenant: 't' },
    })
    expect(d.obligations).toEqual([{ id: 'audit:psychotherapy' }, { id: 'watermark' }])
  })
})

describe('decide: bounded memory', () => {
  it('past the bucket-cache cap, decisions stay correct', () => {
    const actions = Array.from({ length: 130 }, (_, i) => `a${i}`)
    const types = Array.from({ length: 130 }, (_, i) => `T${i}`)
    const p = compilePolicy({
      version: 1,
      roles: [{ id: 'r' }, { id: 's' }, { id: 'u' }],
      rules: [
        { id: 'wide', effect: 'allow', roles: ['r', 's', 'u'], actions, resources: types },
        { id: 'no-a7', effect: 'deny', roles: ['*'], actions: ['a7'], resources: ['*'] },
      ],
    })
    const subject = { id: 'x', tenant: 't', roles: ['r', 's'] }
    for (const action of actions)
      for (const type of types) {
        const d = p.decide({ subject, action, resource: { type, tenant: 't' } })
        expect(d.allowed).toBe(action !== 'a7')
      }
    const at = (a: number, t: number) =>
      p.decide({ subject, action: `a${a}`, resource: { type: `T${t}`, tenant: 't' } })
    expect(at(129, 129).rules).toEqual([{ id: 'wide', effect: 'allow', via: [['r'], ['s']] }])
    // Buckets were built in request order: the 16,384th (a126, T3) is cached, the next is not.
    expect(at(126, 3)).toBe(at(126, 3))
    expect(at(126, 4)).not.toBe(at(126, 4))
    expect(at(126, 4)).toEqual(at(126, 4))
  })
})

describe('decide: condition errors fail closed', () => {
  const doc = (effect: 'allow' | 'deny'): PolicyDocument => ({
    version: 1,
    relationships: ['careTeam'],
    roles: [{ id: 'nurse' }],
    rules: [
      { id: 'base', effect: 'allow', roles: ['nurse'], actions: ['read'], resources: ['*'] },
      {
        id: 'guarded',
        effect,
        roles: ['nurse'],
        actions: ['read'],
        resources: ['*'],
        when: { eq: [{ ref: 'subject.attributes.unit' }, 'icu'] },
      },
      {
        id: 'related',
        effect,
        roles: ['nurse'],
        actions: ['write'],
        resources: ['*'],
        when: { relation: 'careTeam' },
      },
    ],
  })
  const r = (attributes?: Record<string, unknown>, action = 'read'): AccessRequest => ({
    subject: { id: 'u', tenant: 't', roles: ['nurse'], ...(attributes ? { attributes } : {}) },
    action,
    resource: { type: 'X', tenant: 't' },
  })

  it('an error in a deny rule denies', () => {
    const p = compilePolicy(doc('deny'))
    expect(p.decide(r({ unit: 'ward' })).allowed).toBe(true)
    expect(p.decide(r({ unit: 'icu' })).reason).toBe('explicit_deny')
    expect(p.decide(r())).toMatchObject({
      allowed: false,
      reason: 'deny_condition_error',
      rules: [{ id: 'guarded', effect: 'deny' }],
      errors: [{ rule: 'guarded', code: 'missing_attribute', detail: 'subject.attributes.unit' }],
    })
    expect(p.decide(r({ unit: ['icu'] })).errors).toEqual([
      { rule: 'guarded', code: 'type_mismatch', detail: 'subject.attributes.unit' },
    ])
  })

  it('an error in an allow rule does not grant, and is reported', () => {
    const p = compilePolicy(doc('allow'))
    const d = p.decide(r(undefined, 'write'))
    expect(d).toMatchObject({ allowed: false, reason: 'no_matching_allow' })
    expect(d.errors).toEqual([{ rule: 'related', code: 'resolver_missing', detail: 'careTeam' }])
  })

  it('resolvers that throw, return non-booleans or promises are errors', () => {
    for (const [fn, code] of [
      [
        () => {
          throw new Error('down')
        },
        'resolver_failed',
      ],
      [() => 'yes', 'resolver_failed'],
      [() => 1, 'resolver_failed'],
      [async () => true, 'resolver_failed'],
    ] as const) {
      const deny = compilePolicy(doc('deny'), { resolvers: { careTeam: fn as () => boolean } })
      expect(deny.decide(r({ unit: 'x' }, 'write'))).toMatchObject({
        allowed: false,
        reason: 'deny_condition_error',
      })
      const allow = compilePolicy(doc('allow'), { resolvers: { careTeam: fn as () => boolean } })
      expect(allow.decide(r({ unit: 'x' }, 'write')).errors[0]?.code).toBe(code)
    }
    expect(() =>
      compilePolicy(doc('allow'), { resolvers: { careTeam: 'yes' as unknown as () => boolean } }),
    ).toThrow(TypeError)
  })

  it('ordering comparisons need two numbers or two strings', () => {
    const p = compilePolicy({
      version: 1,
      roles: [{ id: 'a' }],
      rules: [
        rule('lvl', 'allow', ['a'], ['read'], ['*'], {
          when: { gte: [{ ref: 'subject.attributes.level' }, 3] },
        }),
      ],
    })
    const at = (level: unknown) =>
      p.decide({
        subject: { id: 'u', tenant: 't', roles: ['a'], attributes: { level } },
        action: 'read',
        resource: { type: 'X', tenant: 't' },
      })
    expect(at(3).allowed).toBe(true)
    expect(at(2).allowed).toBe(false)
    expect(at('3').errors[0]?.code).toBe('type_mismatch')
    expect(at(null).errors[0]?.code).toBe('type_mismatch')
  })

  it('a resolver may call decide() re-entrantly without corrupting the outer decision', () => {
    const d2: PolicyDocument = {
      version: 1,
      relationships: ['inner'],
      roles: [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
      rules: [
        rule('ra', 'allow', ['a'], ['read'], ['X'], { when: { relation: 'inner' } }),
        { id: 'rc', effect: 'allow', roles: ['c'], actions: ['read'], resources: ['X'] },
      ],
    }
    let inner: boolean | undefined
    const p = compilePolicy(d2, {
      resolvers: {
        inner: () => {
          inner = p.decide({
            subject: { id: 'v', tenant: 't', roles: ['b', 'b', 'b'] },
            action: 'read',
            resource: { type: 'X', tenant: 't' },
          }).allowed
          return true
        },
      },
    })
    const d = p.decide({
      subject: { id: 'u', tenant: 't', roles: ['a', 'c'] },
      action: 'read',
      resource: { type: 'X', tenant: 't' },
    })
    expect(inner).toBe(false)
    expect(d.rules.map((r) => r.id)).toEqual(['ra', 'rc'])
  })
})

/** Allow nurse read Observation; deny * when subject.attributes.failedLogins >= 5. */
const LOCKOUT: PolicyDocument = {
  version: 1,
  roles: [{ id: 'nurse' }],
  rules: [
    { id: 'nurse-read', effect: 'allow', roles: ['nurse'], actions: ['read'], resources: ['Observation'] },
    rule('locked-out', 'deny', ['*'], ['*'], ['*'], {
      when: { gte: [{ ref: 'subject.attributes.failedLogins' }, 5] },
    }),
  ],
}

describe('decide: NaN and other non-finite numbers are condition errors (issue 13 §1b)', () => {
  const lockout = compilePolicy(LOCKOUT)
  const read = (failedLogins: unknown): AccessRequest => ({
    subject: { id: 'u', tenant: 't', roles: ['nurse'], attributes: { failedLogins } },
    action: 'read',
    resource: { type: 'Observation', tenant: 't' },
  })

  it('a NaN counter (Number(undefined), parseInt("")) fails closed instead of switching the deny rule off', () => {
    expect(lockout.decide(read(0)).allowed).toBe(true)
    expect(lockout.decide(read(7)).reason).toBe('explicit_deny')
    expect(lockout.decide(read('7')).reason).toBe('deny_condition_error')
    for (const bad of [Number.NaN, Number(undefined), Number.parseInt('', 10), Infinity, -Infinity]) {
      expect(lockout.decide(read(bad)), String(bad)).toMatchObject({
        allowed: false,
        reason: 'deny_condition_error',
        rules: [{ id: 'locked-out', effect: 'deny' }],
        errors: [{ rule: 'locked-out', code: 'type_mismatch', detail: 'subject.attributes.failedLogins' }],
      })
    }
  })

  it('ne, not-lt, eq and in with a non-finite operand never grant', () => {
    const conds = {
      ne: { ne: [{ ref: 'subject.attributes.n' }, 3] },
      notLt: { not: { lt: [{ ref: 'subject.attributes.n' }, 3] } },
      eqRight: { eq: [3, { ref: 'subject.attributes.n' }] },
      neRight: { ne: ['x', { ref: 'subject.attributes.n' }] },
      inList: { not: { in: [3, { ref: 'subject.attributes.list' }] } },
    } as const
    for (const [name, when] of Object.entries(conds)) {
      const p = compilePolicy({
        version: 1,
        roles: [{ id: 'a' }],
        rules: [{ id: name, effect: 'allow', roles: ['a'], actions: ['read'], resources: ['*'], when }],
      })
      for (const bad of [Number.NaN, Infinity, -Infinity]) {
        const d = p.decide({
          subject: { id: 'u', tenant: 't', roles: ['a'], attributes: { n: bad, list: [1, bad] } },
          action: 'read',
          resource: { type: 'X', tenant: 't' },
        })
        expect(d, `${name} ${bad}`).toMatchObject({
          allowed: false,
          reason: 'no_matching_allow',
          errors: [{ rule: name, code: 'type_mismatch' }],
        })
      }
    }
  })

  it('arbitrary non-finite attribute values never turn a deny into an allow (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(Number.NaN, Infinity, -Infinity),
        fc.constantFrom('eq', 'ne', 'lt', 'lte', 'gt', 'gte'),
        fc.boolean(),
        fc.boolean(),
        (bad, op, negate, attributeOnLeft) => {
          const cmp = {
            [op]: attributeOnLeft
              ? [{ ref: 'subject.attributes.n' }, 5]
              : [5, { ref: 'subject.attributes.n' }],
          }
          const when = negate ? { not: cmp } : cmp
          const p = compilePolicy({
            version: 1,
            roles: [{ id: 'a' }],
            rules: [
              { id: 'base', effect: 'allow', roles: ['a'], actions: ['read'], resources: ['*'] },
              { id: 'guard', effect: 'deny', roles: ['*'], actions: ['*'], resources: ['*'], when },
            ],
          } as PolicyDocument)
          const d = p.decide({
            subject: { id: 'u', tenant: 't', roles: ['a'], attributes: { n: bad } },
            action: 'read',
            resource: { type: 'X', tenant: 't' },
          })
          expect(d.allowed).toBe(false)
          expect(d.reason).toBe('deny_condition_error')
        },
      ),
    )
  })
})

describe('decide: a request that throws when read is denied, never thrown (issue 13 §1b)', () => {
  const { pdp } = clinicPdp()
  const good = req(who.nurse, 'read', 'Observation')
  const trap = (): never => {
    throw new Error('trap')
  }
  const hostile = (target: object): object =>
    new Proxy(target, {
      get: trap,
      has: trap,
      ownKeys: trap,
      getOwnPropertyDescriptor: trap,
      getPrototypeOf: trap,
    })
  const revoked = (target: object): object => {
    const r = Proxy.revocable(target, {})
    r.revoke()
    return r.proxy
  }
  const lockout = compilePolicy(LOCKOUT)
  const nurse = { id: 'u', tenant: 't', roles: ['nurse'] }
  const labelled = req(who.nurse, 'read', 'Observation', { labels: ['vip'] }, { consent: ['vip'] })
  const billing = req(who.billing, 'read', 'Encounter', {}, { context: { purposeOfUse: 'HPAYMT' } })
  const id = (o: object): object => o
  // Each request is allowed as a plain object; wrapped, it must be denied without a throw.
  const cases: [string, (wrap: (o: object) => object) => unknown][] = [
    ['the request', (w) => w(good)],
    ['the subject', (w) => ({ ...good, subject: w(good.subject) })],
    ['the roles array', (w) => ({ ...good, subject: { ...good.subject, roles: w(['charge_nurse']) } })],
    ['the resource', (w) => ({ ...good, resource: w(good.resource) })],
    ['the labels', (w) => ({ ...labelled, resource: { ...labelled.resource, labels: w(['vip']) } })],
    ['the consent list', (w) => ({ ...labelled, consent: w(['vip']) })],
    ['the context', (w) => ({ ...billing, context: w({ purposeOfUse: 'HPAYMT' }) })],
  ]
  for (const [what, make] of cases)
    for (const [kind, wrap] of [
      ['throwing traps', hostile],
      ['a revoked proxy', revoked],
    ] as const)
      it(`${what} as ${kind}`, () => {
        expect(pdp.decide(make(id) as AccessRequest).allowed).toBe(true)
        let d: ReturnType<typeof pdp.decide> | undefined
        expect(() => {
          d = pdp.decide(make(wrap) as AccessRequest)
        }).not.toThrow()
        expect(d?.allowed).toBe(false)
      })

  it('attributes that throw when read deny under a deny rule that reads them', () => {
    const plain = {
      subject: { ...nurse, attributes: { failedLogins: 0 } },
      action: 'read',
      resource: { type: 'Observation', tenant: 't' },
    }
    expect(lockout.decide(plain).allowed).toBe(true)
    for (const wrap of [hostile, revoked]) {
      const attributes = wrap({ failedLogins: 0 }) as Record<string, unknown>
      const d = lockout.decide({
        subject: { ...nurse, attributes },
        action: 'read',
        resource: { type: 'Observation', tenant: 't' },
      })
      expect(d.allowed).toBe(false)
    }
    const getter = {
      subject: {
        ...nurse,
        attributes: Object.defineProperty({}, 'failedLogins', { enumerable: true, get: trap }),
      },
      action: 'read',
      resource: { type: 'Observation', tenant: 't' },
    }
    expect(lockout.decide(getter).allowed).toBe(false)
  })
})

describe('decide: sensitivity labels are deny overlays', () => {
  const { pdp } = clinicPdp()
  it('a labelled resource is denied even when a rule allows, with the label named', () => {
    expect(pdp.decide(req(who.nurse, 'read', 'Observation', { labels: ['vip'] }))).toMatchObject({
      allowed: false,
      reason: 'sensitivity_label',
      labels: [{ label: 'vip', outcome: 'denied', emergencyAccessLifts: true }],
    })
  })
  it('consent lifts a label unless the label says consent never lifts it; unknown labels always deny', () => {
    const ok = pdp.decide(
      req(
        who.nurse,
        'read',
        'Observation',
        { labels: ['sud-42cfr2', 'vip'] },
        { consent: ['sud-42cfr2', 'vip'] },
      ),
    )
    expect(ok).toMatchObject({
      allowed: true,
      labels: [{ outcome: 'lifted_by_consent' }, { outcome: 'lifted_by_consent' }],
    })
    const unknown = pdp.decide(
      req(who.nurse, 'read', 'Observation', { labels: ['celebrity'] }, { consent: ['celebrity'] }),
    )
    expect(unknown).toMatchObject({
      allowed: false,
      labels: [{ label: 'celebrity', outcome: 'denied', emergencyAccessLifts: false }],
    })
    const never = compilePolicy(
      { ...clinic, labels: [{ id: 'vip', emergencyAccess: 'lifts', consent: 'never' }] },
      { resolvers: { careTeam: () => true } },
    )
    expect(
      never.decide(req(who.nurse, 'read', 'Observation', { labels: ['vip'] }, { consent: ['vip'] })).allowed,
    ).toBe(false)
  })
  it('consent alone never grants: a rule must still allow', () => {
    expect(
      pdp.decide(req(who.frontDesk, 'read', 'Observation', { labels: ['vip'] }, { consent: ['vip'] })).reason,
    ).toBe('no_matching_allow')
  })
})

describe('decide: malformed requests are denied, never thrown', () => {
  const { pdp } = clinicPdp()
  const good = req(who.nurse, 'read', 'Observation')
  it.each([
    ['null', null],
    ['a string', 'read'],
    ['no subject', { ...good, subject: undefined }],
    ['roles not an array', { ...good, subject: { ...who.nurse, roles: 'nurse' } }],
    ['empty subject id', { ...good, subject: { ...who.nurse, id: '' } }],
    ['empty tenant', { ...good, subject: { ...who.nurse, tenant: '' } }],
    ['numeric action', { ...good, action: 1 }],
    ['no resource tenant', { ...good, resource: { type: 'Observation' } }],
    ['labels with a number', { ...good, resource: { ...good.resource, labels: [1] } }],
    ['labels as a string', { ...good, resource: { ...good.resource, labels: 'vip' } }],
    ['consent not an array', { ...good, consent: 'vip' }],
    ['emergency grant not a string', { ...good, emergencyAccess: { id: 'x' } }],
    ['more than 1000 roles', { ...good, subject: { ...who.nurse, roles: Array(1001).fill('nurse') } }],
    [
      'a sparse roles array of length 2^32-1',
      { ...good, subject: { ...who.nurse, roles: Object.assign([], { length: 2 ** 32 - 1 }) } },
    ],
    ['more than 1000 labels', { ...good, resource: { ...good.resource, labels: Array(1001).fill('vip') } }],
    ['hand-made scopes', { ...good, scopes: Object.freeze({ scopes: [{ permissions: 31 }], ignored: [] }) }],
  ])('%s', (_name, r) => {
    expect(pdp.decide(r as AccessRequest)).toMatchObject({ allowed: false, reason: 'invalid_request' })
  })

  it('arbitrary values never throw and never allow (property)', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        expect(pdp.decide(v as AccessRequest).allowed).toBe(false)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('decide: prototype-pollution payloads stay inert', () => {
  const doc: PolicyDocument = {
    version: 1,
    roles: [{ id: 'user' }],
    rules: [
      rule('admin-only', 'allow', ['user'], ['read'], ['*'], {
        when: { eq: [{ ref: 'subject.attributes.isAdmin' }, true] },
      }),
    ],
  }
  const p = compilePolicy(doc)

  it('roles named like Object.prototype members grant nothing', () => {
    const roles = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '*']
    const d = p.decide({
      subject: { id: 'u', tenant: 't', roles },
      action: 'read',
      resource: { type: 'X', tenant: 't' },
    })
    expect(d.allowed).toBe(false)
  })

  it('inherited attributes are never read, even when Object.prototype is polluted', () => {
    const parsed = JSON.parse(
      '{"subject":{"id":"u","tenant":"t","roles":["user"],"attributes":{"__proto__":{"isAdmin":true}}},"action":"read","resource":{"type":"X","tenant":"t"}}',
    )
    expect(p.decide(parsed)).toMatchObject({ allowed: false, errors: [{ code: 'missing_attribute' }] })
    const proto = Object.prototype as Record<string, unknown>
    proto.isAdmin = true
    try {
      const r = {
        subject: { id: 'u', tenant: 't', roles: ['user'], attributes: {} },
        action: 'read',
        resource: { type: 'X', tenant: 't' },
      }
      expect(p.decide(r).allowed).toBe(false)
    } finally {
      delete proto.isAdmin
    }
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
  })

  it('actions and types named like prototype members hit no bucket', () => {
    for (const name of ['__proto__', 'constructor', 'hasOwnProperty', 'toString']) {
      expect(
        p.decide({
          subject: { id: 'u', tenant: 't', roles: ['user'], attributes: { isAdmin: true } },
          action: name,
          resource: { type: name, tenant: 't' },
        }).allowed,
      ).toBe(false)
    }
  })

  it('decide does not mutate the request and the compiled policy is frozen', () => {
    const r = {
      subject: { id: 'u', tenant: 't', roles: ['user'], attributes: { isAdmin: true } },
      action: 'read',
      resource: { type: 'X', tenant: 't' },
    }
    const before = JSON.stringify(r)
    expect(p.decide(r).allowed).toBe(true)
    expect(JSON.stringify(r)).toBe(before)
    expect(Object.isFrozen(p.policy) && Object.isFrozen(p.policy.rules[0])).toBe(true)
    expect(Object.isFrozen(p)).toBe(true)
  })

  it('compiling copies the document: later edits to the input change nothing', () => {
    const input = structuredClone(doc) as unknown as { rules: { actions: string[] }[] }
    const q = compilePolicy(input)
    input.rules[0]!.actions.push('delete')
    expect(
      q.decide({
        subject: { id: 'u', tenant: 't', roles: ['user'], attributes: { isAdmin: true } },
        action: 'delete',
        resource: { type: 'X', tenant: 't' },
      }).allowed,
    ).toBe(false)
    expect(q.policyHash).toBe(p.policyHash)
  })
})

describe('decide: SMART scopes narrow, never widen', () => {
  const { pdp } = clinicPdp()
  const scopes = (s: string, patient?: string) => parseSmartScopes(s, patient ? { patient } : {})
  it('allows only what both the policy and the scopes allow', () => {
    const r = req(who.nurse, 'read', 'Observation')
    expect(pdp.decide({ ...r, scopes: scopes('patient/Observation.rs', 'p-1') }).allowed).toBe(true)
    expect(pdp.decide({ ...r, scopes: scopes('patient/Observation.rs', 'p-2') }).reason).toBe(
      'scope_exceeded',
    )
    expect(pdp.decide({ ...r, scopes: scopes('patient/Observation.rs') }).reason).toBe('scope_exceeded')
    expect(pdp.decide({ ...r, scopes: scopes('user/Observation.c') }).reason).toBe('scope_exceeded')
    expect(pdp.decide({ ...r, scopes: scopes('user/*.read') }).allowed).toBe(true)
    expect(pdp.decide({ ...r, scopes: scopes('openid fhirUser') }).reason).toBe('scope_exceeded')
    // Scopes never widen: the front desk cannot read observations whatever the token says.
    expect(
      pdp.decide({ ...req(who.frontDesk, 'read', 'Observation'), scopes: scopes('user/*.cruds') }).allowed,
    ).toBe(false)
  })

  it('query parameters must match the resource attributes', () => {
    const s = scopes(
      'user/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs',
    )
    const vit = { category: 'http://terminology.hl7.org/CodeSystem/observation-category|vital-signs' }
    expect(
      pdp.decide({ ...req(who.nurse, 'read', 'Observation', { attributes: vit }), scopes: s }).allowed,
    ).toBe(true)
    expect(
      pdp.decide({
        ...req(who.nurse, 'read', 'Observation', { attributes: { category: 'x|laboratory' } }),
        scopes: s,
      }).allowed,
    ).toBe(false)
    expect(pdp.decide({ ...req(who.nurse, 'read', 'Observation'), scopes: s }).allowed).toBe(false)
  })

  it('actions without a SMART letter are never permitted by scopes; smartActions maps them', () => {
    const doc: PolicyDocument = {
      version: 1,
      roles: [{ id: 'a' }],
      rules: [{ id: 'r', effect: 'allow', roles: ['a'], actions: ['export', 'print'], resources: ['*'] }],
      smartActions: { export: 'r' },
    }
    const p = compilePolicy(doc)
    const r = (action: string): AccessRequest => ({
      subject: { id: 'u', tenant: 't', roles: ['a'] },
      action,
      resource: { type: 'Patient', tenant: 't' },
      scopes: scopes('user/*.cruds'),
    })
    expect(p.decide(r('export')).allowed).toBe(true)
    expect(p.decide(r('print')).reason).toBe('scope_exceeded')
  })

  it('with scopes, allowed implies allowed without them (property)', () => {
    const all = [
      'patient/Observation.rs',
      'user/Observation.r',
      'user/*.s',
      'user/Condition.cruds',
      'patient/*.read',
      'system/*.write',
    ]
    fc.assert(
      fc.property(
        fc.subarray(all),
        fc.constantFrom(...Object.values(who)),
        fc.constantFrom('read', 'search', 'create', 'update', 'delete'),
        fc.constantFrom('Observation', 'Condition', 'Patient', 'Claim'),
        fc.constantFrom('p-1', 'p-2'),
        (ss, subject, action, type, patient) => {
          const r = req(subject, action, type, { patient })
          const with_ = pdp.decide({ ...r, scopes: scopes(ss.join(' '), 'p-1') })
          if (with_.allowed) expect(pdp.decide(r).allowed).toBe(true)
        },
      ),
      { numRuns: 500 },
    )
  })
})
