/**
 * Conditional rules at scale (issue 19 §4): rules guarded by an equality or membership test are
 * indexed on the attribute they test, and a decision evaluates only the rules whose guard the
 * request's attribute satisfies. The decisions must be exactly those of evaluating every rule.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type AccessRequest, type Condition, compilePolicy, type PolicyDocument } from '../src/index.js'
import { condition, request, resolvers } from './arbitraries.js'
import { refDecide, summary } from './reference.js'

const unitRef = { ref: 'resource.attributes.unit' }
const levelRef = { ref: 'subject.attributes.level' }
const literal = fc.oneof(fc.constantFrom('a', 'b', 'x'), fc.integer({ min: 0, max: 3 }), fc.constant(null))

/** A guard (eq either way round, or in), alone or first in an `all` with more conditions. */
const guarded: fc.Arbitrary<Condition> = fc
  .tuple(
    fc.constantFrom(unitRef, levelRef),
    fc.oneof(
      literal.map((v) => ({ kind: 'eq' as const, v })),
      literal.map((v) => ({ kind: 'eq-rev' as const, v })),
      fc.array(literal, { maxLength: 3 }).map((v) => ({ kind: 'in' as const, v })),
    ),
    fc.array(condition, { maxLength: 2 }),
  )
  .map(([ref, g, rest]): Condition => {
    const atom: Condition =
      g.kind === 'eq' ? { eq: [ref, g.v] } : g.kind === 'eq-rev' ? { eq: [g.v, ref] } : { in: [ref, g.v] }
    return rest.length === 0 ? atom : { all: [atom, ...rest] }
  })

const guardedPolicy: fc.Arbitrary<PolicyDocument> = fc
  .array(
    fc.record(
      {
        effect: fc.constantFrom('allow' as const, 'allow' as const, 'deny' as const),
        roles: fc.constantFrom(['r0'], ['r1'], ['r0', 'r1'], ['*']),
        when: fc.oneof({ weight: 4, arbitrary: guarded }, { weight: 1, arbitrary: condition }),
        tenants: fc.constantFrom(['t1'], ['t2'], ['t1', 't2']),
      },
      { requiredKeys: ['effect', 'roles', 'when'] },
    ),
    { minLength: 1, maxLength: 40 },
  )
  .map(
    (rules): PolicyDocument => ({
      version: 1,
      relationships: ['careTeam', 'unregistered'],
      roles: [{ id: 'r0' }, { id: 'r1', inherits: ['r0'] }],
      rules: rules.map((r, i) => ({ id: `rule${i}`, actions: ['read'], resources: ['Observation'], ...r })),
    }),
  )

const readObservation = request.map(
  (r): AccessRequest => ({
    ...r,
    action: 'read',
    subject: { ...r.subject, roles: ['r0', 'r1', 'ghost'].slice(0, 1 + (r.subject.roles.length % 3)) },
    resource: { ...r.resource, type: 'Observation', labels: [] },
  }),
)

/** The same policy with every condition wrapped in a one-child `any`: equal meaning, no guard. */
const unguarded = (doc: PolicyDocument): PolicyDocument => ({
  ...doc,
  rules: doc.rules.map((r) => (r.when === undefined ? r : { ...r, when: { any: [r.when] } })),
})

describe('conditional rules indexed on the attribute they test', () => {
  it('decides exactly as the naive reference on guard-heavy policies (property)', () => {
    fc.assert(
      fc.property(guardedPolicy, fc.array(readObservation, { minLength: 1, maxLength: 12 }), (doc, reqs) => {
        const pdp = compilePolicy(doc, { resolvers })
        for (const req of reqs) expect(summary(pdp.decide(req))).toEqual(refDecide(doc, req, resolvers))
      }),
      { numRuns: 400 },
    )
  })

  it('gives the same full decision (obligations, errors, rules) as the unindexed twin (property)', () => {
    fc.assert(
      fc.property(guardedPolicy, fc.array(readObservation, { minLength: 1, maxLength: 12 }), (doc, reqs) => {
        const a = compilePolicy(doc, { resolvers })
        const b = compilePolicy(unguarded(doc), { resolvers })
        for (const req of reqs) {
          const { policyHash: _a, ...da } = a.decide(req)
          const { policyHash: _b, ...db } = b.decide(req)
          expect(da).toEqual(db)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('evaluates only the matching rule among 10,000 on one attribute', () => {
    let calls = 0
    const doc: PolicyDocument = {
      version: 1,
      relationships: ['counted'],
      roles: [{ id: 'clinician' }],
      rules: Array.from({ length: 10_000 }, (_, i) => ({
        id: `unit-${i}`,
        effect: 'allow' as const,
        roles: ['clinician'],
        actions: ['read'],
        resources: ['Observation'],
        when: { all: [{ eq: [unitRef, `u${i}`] }, { relation: 'counted' }] } as Condition,
      })),
    }
    const pdp = compilePolicy(doc, {
      resolvers: {
        counted: () => {
          calls++
          return true
        },
      },
    })
    const req = (unit: unknown): AccessRequest => ({
      subject: { id: 'n1', tenant: 't', roles: ['clinician'] },
      action: 'read',
      resource: {
        type: 'Observation',
        tenant: 't',
        attributes: { unit } as unknown as Record<string, never>,
      },
    })
    const d = pdp.decide(req('u4321'))
    expect(d.allowed).toBe(true)
    expect(d.rules.map((r) => r.id)).toEqual(['unit-4321'])
    expect(calls).toBe(1)
    expect(pdp.decide(req('u-none')).reason).toBe('no_matching_allow')
    expect(calls).toBe(1)
    // Missing or not a literal: the guard errs, so every rule is evaluated and each reports its error.
    const missing = pdp.decide(req(undefined))
    expect(missing.reason).toBe('no_matching_allow')
    expect(missing.errors).toHaveLength(10_000)
    expect(pdp.decide(req(['u1'])).errors).toHaveLength(10_000)
    // …and Kleene `all` goes on past an erring child, so every rule's resolver runs, as before.
    expect(calls).toBe(1 + 2 * 10_000)
  })

  it('a deny guarded on the same attribute still wins, and its condition error still blocks', () => {
    const doc: PolicyDocument = {
      version: 1,
      roles: [{ id: 'clinician' }],
      rules: [
        ...Array.from({ length: 100 }, (_, i) => ({
          id: `allow-${i}`,
          effect: 'allow' as const,
          roles: ['clinician'],
          actions: ['read'],
          resources: ['Observation'],
          when: { eq: [unitRef, `u${i}`] } as Condition,
        })),
        {
          id: 'deny-locked',
          effect: 'deny' as const,
          roles: ['*'],
          actions: ['read'],
          resources: ['Observation'],
          when: {
            all: [{ in: [unitRef, ['u7', 'u8']] }, { eq: [{ ref: 'resource.attributes.locked' }, true] }],
          },
        },
      ],
    }
    const pdp = compilePolicy(doc)
    const req = (attributes: Record<string, unknown>): AccessRequest => ({
      subject: { id: 'n1', tenant: 't', roles: ['clinician'] },
      action: 'read',
      resource: {
        type: 'Observation',
        tenant: 't',
        attributes: attributes as unknown as Record<string, never>,
      },
    })
    expect(pdp.decide(req({ unit: 'u7', locked: true })).reason).toBe('explicit_deny')
    expect(pdp.decide(req({ unit: 'u7' })).reason).toBe('deny_condition_error')
    expect(pdp.decide(req({ unit: 'u9' })).reason).toBe('allow')
    expect(pdp.decide(req({ unit: 'u8', locked: false })).rules.map((r) => r.id)).toEqual(['allow-8'])
  })
})
