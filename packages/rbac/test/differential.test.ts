import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compilePolicy } from '../src/index.js'
import { policy, request, resolvers } from './arbitraries.js'
import { refDecide, summary } from './reference.js'

/** Fisher–Yates with a fast-check-provided seed list, so shrinking works. */
function shuffle<T>(xs: readonly T[], keys: readonly number[]): T[] {
  const out = [...xs]
  for (let i = out.length - 1; i > 0; i--) {
    const j = (keys[i % Math.max(1, keys.length)] ?? 0) % (i + 1)
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

describe('compiled engine vs the naive reference evaluator', () => {
  it('agrees on random policies and requests (allowed, reason, deciding rules, errors, labels)', () => {
    fc.assert(
      fc.property(policy, fc.array(request, { minLength: 1, maxLength: 20 }), (doc, reqs) => {
        const pdp = compilePolicy(doc, { resolvers })
        for (const req of reqs) {
          // Twice: the second call exercises the cached decisions.
          expect(summary(pdp.decide(req))).toEqual(refDecide(doc, req, resolvers))
          expect(summary(pdp.decide(req))).toEqual(refDecide(doc, req, resolvers))
        }
      }),
      { numRuns: 400 },
    )
  })

  it('never allows what the reference denies, even with the fast path only (no conditions, no labels)', () => {
    fc.assert(
      fc.property(policy, fc.array(request, { minLength: 1, maxLength: 30 }), (doc, reqs) => {
        const plain = {
          ...doc,
          rules: doc.rules.map(({ when: _w, tenants: _t, subjectTenants: _s, ...r }) => r),
        }
        const pdp = compilePolicy(plain)
        for (const req of reqs) {
          const r = { ...req, resource: { ...req.resource, labels: [] } }
          expect(summary(pdp.decide(r))).toEqual(refDecide(plain, r))
        }
      }),
      { numRuns: 300 },
    )
  })

  it('does not depend on the order of rules, roles, inherits, list entries or subject roles', () => {
    fc.assert(
      fc.property(
        policy,
        request,
        fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 16 }),
        (doc, req, keys) => {
          const shuffled = {
            ...doc,
            roles: shuffle(doc.roles, keys).map((r) => ({ ...r, inherits: shuffle(r.inherits ?? [], keys) })),
            rules: shuffle(doc.rules, keys).map((r) => ({
              ...r,
              roles: shuffle(r.roles, keys),
              actions: shuffle(r.actions, keys),
              resources: shuffle(r.resources, keys),
            })),
          }
          const a = compilePolicy(doc, { resolvers }).decide(req)
          const reversed = { ...req, subject: { ...req.subject, roles: [...req.subject.roles].reverse() } }
          const b = compilePolicy(shuffled, { resolvers }).decide(reversed)
          const { policyHash: _a, ...da } = a
          const { policyHash: _b, ...db } = b
          expect(db).toEqual(da)
        },
      ),
      { numRuns: 300 },
    )
  })
})
