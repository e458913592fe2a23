import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compilePolicy, whoCan } from '../src/index.js'
import { policy, request, resolvers } from './arbitraries.js'
import { clinicPdp, emergencyRequest } from './helpers.js'

const obs = (patient: string) => ({
  action: 'read',
  resource: { type: 'Observation', tenant: 'clinic-a', patient },
})

describe('whoCan: who could take an action on a resource', () => {
  it('lists the clinic roles that may read a chart, through inheritance, with the relationship they need', () => {
    const { pdp } = clinicPdp()
    const who = whoCan(pdp, obs('p-1'))
    expect(who.allows.map((p) => [p.role, p.rule, p.via.join('>'), p.relationships.join()])).toEqual([
      ['charge_nurse', 'nurse-read-clinical', 'charge_nurse>nurse', 'careTeam'],
      ['nurse', 'nurse-read-clinical', 'nurse', 'careTeam'],
      ['physician', 'nurse-read-clinical', 'physician>nurse', 'careTeam'],
      ['physician', 'physician-chart', 'physician', 'careTeam'],
    ])
    expect(who.allows.every((p) => p.conditional)).toBe(true)
    expect(who.denies.map((p) => [p.role, p.rule])).toEqual([['*', 'suspended-accounts']])
    expect(who.grants).toEqual([])
    expect(who.policyHash).toBe(pdp.policyHash)
    expect(
      whoCan(pdp, { action: 'read', resource: { type: 'Claim', tenant: 'clinic-a' } }).allows.map(
        (p) => p.role,
      ),
    ).toEqual(['billing'])
    expect(whoCan(pdp, { action: 'export', resource: { type: 'Nothing', tenant: 'x' } }).allows).toEqual([])
  })

  it('lists the emergency grants active now for that patient only', async () => {
    const { pdp, clock } = clinicPdp({ resolvers: { careTeam: () => false } })
    const g = await pdp.emergency.grantAsync(emergencyRequest())
    expect(whoCan(pdp, obs('p-2')).grants).toEqual([
      { grant: g.id, subject: 'u-nurse', expiresAt: g.expiresAt },
    ])
    expect(whoCan(pdp, obs('p-1')).grants).toEqual([])
    expect(
      whoCan(pdp, { action: 'create', resource: { type: 'Observation', tenant: 'clinic-a', patient: 'p-2' } })
        .grants,
    ).toEqual([])
    clock.set(g.expiresAt)
    expect(whoCan(pdp, obs('p-2')).grants).toEqual([])
  })

  it('every rule that allows a request is on the list for a role the subject holds (property)', () => {
    fc.assert(
      fc.property(policy, fc.array(request, { minLength: 1, maxLength: 10 }), (doc, reqs) => {
        const pdp = compilePolicy(doc, { resolvers })
        for (const req of reqs) {
          const d = pdp.decide(req)
          if (d.reason !== 'allow') continue
          const paths = whoCan(pdp, { action: req.action, resource: req.resource }).allows
          for (const r of d.rules) {
            const held = paths.filter(
              (p) => p.rule === r.id && (p.role === '*' || req.subject.roles.includes(p.role)),
            )
            expect(held.length).toBeGreaterThan(0)
          }
        }
      }),
      { numRuns: 300 },
    )
  })
})
