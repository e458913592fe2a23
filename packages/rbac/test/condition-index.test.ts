/**
 * Conditional rules at scale (issue 19 §4): rules guarded by an equality or membership test are
 * indexed on the attribute they test, and a decision evaluates only the rules whose guard the
 * request's attribute satisfies. The decisions must be exactly those of evaluating every rule.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type AccessRequest,
  type Condition,
  compilePolicy,
  type DecisionPoint,
  type PolicyDocument,
} from '../src/index.js'
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
    fc.boolean(),
  )
  .map(([ref, g, rest, wrap]): Condition => {
    const atom: Condition =
      g.kind === 'eq' ? { eq: [ref, g.v] } : g.kind === 'eq-rev' ? { eq: [g.v, ref] } : { in: [ref, g.v] }
    // A guard that is the whole condition (alone or the only child of `all`) settles its rule.
    return rest.length === 0 ? (wrap ? { all: [atom] } : atom) : { all: [atom, ...rest] }
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

/** A clinician reading an Observation whose `unit` is `unit` (any value: errors are tested too). */
const unitRequest = (unit: unknown): AccessRequest => ({
  subject: { id: 'n1', tenant: 't', roles: ['clinician'] },
  action: 'read',
  resource: { type: 'Observation', tenant: 't', attributes: { unit } as unknown as Record<string, never> },
})

/** A rule letting clinicians read Observations `when`. */
const unitRule = (id: string, when: Condition): PolicyDocument['rules'][number] => ({
  id,
  effect: 'allow',
  roles: ['clinician'],
  actions: ['read'],
  resources: ['Observation'],
  when,
})

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

  it('a decision does not depend on the ones before it (reused state vs a fresh decision point; property)', () => {
    fc.assert(
      fc.property(guardedPolicy, fc.array(readObservation, { minLength: 2, maxLength: 16 }), (doc, reqs) => {
        const reused = compilePolicy(doc, { resolvers })
        for (const req of reqs) {
          const fresh = compilePolicy(doc, { resolvers }).decide(req)
          expect(reused.decide(req)).toEqual(fresh)
        }
      }),
      { numRuns: 200 },
    )
  })

  it('a resolver that calls decide on the same decision point disturbs neither decision', () => {
    const doc: PolicyDocument = {
      version: 1,
      relationships: ['nested'],
      roles: [{ id: 'clinician' }],
      rules: [
        ...['u1', 'u2'].map((u) =>
          unitRule(`unit-${u}`, { all: [{ eq: [unitRef, u] }, { relation: 'nested' }] }),
        ),
        unitRule('unit-u3', { eq: [unitRef, 'u3'] }),
      ],
    }
    const inner: string[] = []
    const pdp: DecisionPoint = compilePolicy(doc, {
      resolvers: {
        nested: (r) => {
          // Decisions inside a decision: allowed by a guard, throwing while read, allowed again.
          inner.push(pdp.decide(unitRequest('u3')).reason)
          const throwing = new Proxy(unitRequest('u3'), {
            get: (t, k) => {
              if (k === 'resource') throw new Error('unreadable')
              return Reflect.get(t, k)
            },
          })
          inner.push(pdp.decide(throwing).reason)
          inner.push(pdp.decide(unitRequest('u3')).reason)
          return r.resource.attributes?.unit === 'u1'
        },
      },
    })
    const d1 = pdp.decide(unitRequest('u1'))
    expect(d1.reason).toBe('allow')
    expect(d1.rules.map((r) => r.id)).toEqual(['unit-u1'])
    expect(inner).toEqual(['allow', 'invalid_request', 'allow'])
    expect(pdp.decide(unitRequest('u2')).reason).toBe('no_matching_allow')
    expect(pdp.decide(unitRequest('u3')).reason).toBe('allow')
  })

  it('a request that throws half-way through a decision leaves later decisions intact', () => {
    let reads = 0
    const doc: PolicyDocument = {
      version: 1,
      roles: [{ id: 'clinician' }],
      rules: Array.from({ length: 3 }, (_, i) =>
        unitRule(`unit-${i}`, {
          all: [{ eq: [unitRef, `u${i}`] }, { eq: [{ ref: 'resource.attributes.level' }, 1] }],
        }),
      ),
    }
    const pdp = compilePolicy(doc)
    const base = {
      subject: { id: 'n1', tenant: 't', roles: ['clinician'] },
      action: 'read',
    }
    // The attribute object throws on its second property read: after the guard, inside a condition.
    const attributes = new Proxy({ unit: 'u1', level: 1 } as Record<string, unknown>, {
      get: (t, k) => {
        if (++reads > 1) throw new Error('unreadable')
        return Reflect.get(t, k)
      },
    })
    const throwing: AccessRequest = { ...base, resource: { type: 'Observation', tenant: 't', attributes } }
    expect(pdp.decide(throwing).reason).toBe('invalid_request')
    expect(reads).toBeGreaterThan(1)
    const ok: AccessRequest = {
      ...base,
      resource: { type: 'Observation', tenant: 't', attributes: { unit: 'u1', level: 1 } },
    }
    for (let i = 0; i < 3; i++) expect(pdp.decide(ok)).toEqual(compilePolicy(doc).decide(ok))
    expect(pdp.decide(ok).rules.map((r) => r.id)).toEqual(['unit-1'])
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
    const d = pdp.decide(unitRequest('u4321'))
    expect(d.allowed).toBe(true)
    expect(d.rules.map((r) => r.id)).toEqual(['unit-4321'])
    expect(calls).toBe(1)
    expect(pdp.decide(unitRequest('u-none')).reason).toBe('no_matching_allow')
    expect(calls).toBe(1)
    // Missing or not a literal: the guard errs, so every rule is evaluated and each reports its error.
    const missing = pdp.decide(unitRequest(undefined))
    expect(missing.reason).toBe('no_matching_allow')
    expect(missing.errors).toHaveLength(10_000)
    expect(pdp.decide(unitRequest(['u1'])).errors).toHaveLength(10_000)
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
