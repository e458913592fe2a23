/** fast-check generators of random (valid) policies and requests over a small vocabulary. */
import fc from 'fast-check'
import type { AccessRequest, Condition, Operand, PolicyDocument } from '../src/index.js'

export const ACTIONS = ['read', 'write', 'delete'] as const
export const TYPES = ['Patient', 'Observation', 'Claim'] as const
export const TENANTS = ['t1', 't2'] as const
export const LABELS = [
  { id: 'psy', emergencyAccess: 'never' as const },
  { id: 'sud', emergencyAccess: 'lifts' as const },
  { id: 'vip', emergencyAccess: 'lifts' as const, consent: 'never' as const },
]

const subsetOrStar = <T extends string>(xs: readonly T[]) =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(['*']) },
    { weight: 4, arbitrary: fc.subarray([...xs], { minLength: 1 }) },
  )

const ref = (path: string): Operand => ({ ref: path })
const literal = fc.oneof(
  fc.constantFrom('a', 'b', 'x'),
  fc.integer({ min: 0, max: 3 }),
  fc.boolean(),
  fc.constant(null),
)
const attrRef = fc.constantFrom(
  'subject.attributes.unit',
  'subject.attributes.level',
  'resource.attributes.unit',
  'resource.attributes.level',
  'context.purpose',
  'context.level',
  'subject.id',
  'resource.patient',
)

const leaf: fc.Arbitrary<Condition> = fc.oneof(
  fc.tuple(attrRef, literal).map(([p, v]): Condition => ({ eq: [ref(p), v] })),
  fc.tuple(attrRef, attrRef).map(([p, q]): Condition => ({ eq: [ref(p), ref(q)] })),
  fc.tuple(attrRef, literal).map(([p, v]): Condition => ({ ne: [ref(p), v] })),
  fc.tuple(attrRef, fc.integer({ min: 0, max: 3 })).map(([p, v]): Condition => ({ lt: [ref(p), v] })),
  fc.tuple(attrRef, fc.integer({ min: 0, max: 3 })).map(([p, v]): Condition => ({ gte: [ref(p), v] })),
  fc.tuple(attrRef, fc.array(literal, { maxLength: 3 })).map(([p, v]): Condition => ({ in: [ref(p), v] })),
  fc.tuple(literal, attrRef).map(([v, p]): Condition => ({ in: [v, ref(p)] })),
  attrRef.map((p): Condition => ({ exists: p })),
  fc.constantFrom<Condition>({ relation: 'careTeam' }, { relation: 'unregistered' }),
)

export const condition: fc.Arbitrary<Condition> = fc.letrec<{ c: Condition }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('c'), { minLength: 1, maxLength: 3 }).map((xs): Condition => ({ all: xs })),
    fc.array(tie('c'), { minLength: 1, maxLength: 3 }).map((xs): Condition => ({ any: xs })),
    tie('c').map((x): Condition => ({ not: x })),
  ),
})).c

export const policy: fc.Arbitrary<PolicyDocument> = fc
  .integer({ min: 1, max: 6 })
  .chain((nRoles) => {
    const ids = Array.from({ length: nRoles }, (_, i) => `r${i}`)
    const roles = fc.tuple(
      ...ids.map((id, i) =>
        fc.record(
          {
            id: fc.constant(id),
            inherits: fc.subarray(ids.slice(0, i)),
            tenants: fc.subarray([...TENANTS], { minLength: 1 }),
          },
          { requiredKeys: ['id', 'inherits'] },
        ),
      ),
    )
    const rule = fc.record(
      {
        effect: fc.constantFrom('allow' as const, 'allow' as const, 'deny' as const),
        roles: subsetOrStar(ids),
        actions: subsetOrStar(ACTIONS),
        resources: subsetOrStar(TYPES),
        tenants: fc.subarray([...TENANTS], { minLength: 1 }),
        subjectTenants: fc.subarray([...TENANTS], { minLength: 1 }),
        when: condition,
      },
      { requiredKeys: ['effect', 'roles', 'actions', 'resources'] },
    )
    return fc.record({
      roles,
      rules: fc.array(rule, { maxLength: 12 }),
    })
  })
  .map(
    ({ roles, rules }): PolicyDocument => ({
      version: 1,
      relationships: ['careTeam', 'unregistered'],
      roles: [...roles],
      labels: LABELS,
      rules: rules.map((r, i) => ({ id: `rule${i}`, ...r })),
    }),
  )

/** Request values: literals, lists (one holding NaN), NaN and ±Infinity (condition errors). */
const value = fc.oneof(
  { weight: 6, arbitrary: literal },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(['a'], [1, Number.NaN]) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity) },
)
const attrs = fc.dictionary(fc.constantFrom('unit', 'level'), value, { maxKeys: 2 })

export const request: fc.Arbitrary<AccessRequest> = fc
  .record(
    {
      subject: fc.record(
        {
          id: fc.constantFrom('u1', 'u2', 'u3'),
          tenant: fc.constantFrom(...TENANTS),
          roles: fc.array(fc.constantFrom('r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'ghost'), { maxLength: 4 }),
          attributes: attrs,
        },
        { requiredKeys: ['id', 'tenant', 'roles'] },
      ),
      action: fc.constantFrom(...ACTIONS, 'export'),
      resource: fc.record(
        {
          type: fc.constantFrom(...TYPES, 'Device'),
          tenant: fc.constantFrom(...TENANTS),
          patient: fc.constantFrom('p1', 'p2'),
          labels: fc.subarray(['psy', 'sud', 'vip', 'unknown-label'], { maxLength: 2 }),
          attributes: attrs,
        },
        { requiredKeys: ['type', 'tenant'] },
      ),
      context: fc.dictionary(fc.constantFrom('purpose', 'level'), value, { maxKeys: 2 }),
      consent: fc.subarray(['psy', 'sud', 'vip']),
    },
    { requiredKeys: ['subject', 'action', 'resource'] },
  )
  .map((r) => r as AccessRequest)

/** Resolvers used by both engines: deterministic, and one that throws. */
export const resolvers = {
  careTeam: (r: AccessRequest): boolean => {
    if (r.subject.id === 'u3') throw new Error('care-team service unavailable')
    return r.subject.id === 'u1' && r.resource.patient === 'p1'
  },
}
