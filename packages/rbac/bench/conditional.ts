/**
 * Conditional rules at scale (issue 19 §4): p99 latency of one decision as a policy grows to
 * 10, 1,000 and 10,000 conditional rules, every rule allowing `read Observation` when the
 * resource's `unit` attribute equals its own value (a multi-tenant or multi-unit policy), beside
 * CASL on the same rules (`{ action, subject, conditions: { unit } }`), measured in alternating
 * rounds in one process. Run:
 * `npx tsx --conditions=@safeguards/source packages/rbac/bench/conditional.ts`.
 */
import { loadavg } from 'node:os'
import { createMongoAbility, subject } from '@casl/ability'
import { prng } from '../../../scripts/test-support/prng.ts'
import { type AccessRequest, compilePolicy, type PolicyDocument } from '../src/index.js'

const SIZES = [10, 1_000, 10_000]
const SAMPLES = 20_000
const ROUNDS = 3

function p99(op: (i: number) => unknown): number {
  for (let w = 0; w < 2_000; w++) op(w)
  const t = new Float64Array(SAMPLES)
  for (let s = 0; s < SAMPLES; s++) {
    const t0 = performance.now()
    op(s)
    t[s] = performance.now() - t0
  }
  t.sort()
  return (t[Math.floor(0.99 * SAMPLES)] as number) * 1000
}

console.log(
  `load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
)
console.log('| rules | ours p99 µs | CASL p99 µs | CASL / ours |')
console.log('| ---: | ---: | ---: | ---: |')
for (const n of SIZES) {
  const doc: PolicyDocument = {
    version: 1,
    roles: [{ id: 'clinician' }],
    rules: Array.from({ length: n }, (_, i) => ({
      id: `unit-${i}`,
      effect: 'allow' as const,
      roles: ['clinician'],
      actions: ['read'],
      resources: ['Observation'],
      when: { eq: [{ ref: 'resource.attributes.unit' }, `u${i}`] },
    })),
  }
  const pdp = compilePolicy(doc)
  const ability = createMongoAbility(
    Array.from({ length: n }, (_, i) => ({
      action: 'read',
      subject: 'Observation',
      conditions: { unit: `u${i}` },
    })),
  )
  const random = prng(n)
  // 90% of requests name a unit some rule allows, 10% one none does.
  const units = Array.from({ length: 4096 }, () => {
    const k = Math.floor(random() * n * 1.1)
    return k < n ? `u${k}` : `none-${k}`
  })
  const requests: AccessRequest[] = units.map((unit) => ({
    subject: { id: 'n1', tenant: 't', roles: ['clinician'] },
    action: 'read',
    resource: { type: 'Observation', tenant: 't', attributes: { unit } },
  }))
  const objects = units.map((unit) => subject('Observation', { unit }))
  for (let i = 0; i < 4096; i++) {
    if (pdp.decide(requests[i] as AccessRequest).allowed !== ability.can('read', objects[i] as never))
      throw new Error(`engines disagree at ${n} rules, request ${i}`)
  }
  const ours: number[] = []
  const casl: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    ours.push(p99((i) => pdp.decide(requests[i & 4095] as AccessRequest)))
    casl.push(p99((i) => ability.can('read', objects[i & 4095] as never)))
  }
  const o = Math.min(...ours)
  const c = Math.min(...casl)
  console.log(`| ${n.toLocaleString('en')} | ${o.toFixed(2)} | ${c.toFixed(2)} | ${(c / o).toFixed(1)}× |`)
}
