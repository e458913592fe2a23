/**
 * Conditional rules at scale (issue 19 §4): latency of one decision as a policy grows to 10, 1,000
 * and 10,000 conditional rules, every rule allowing `read Observation` when the resource's `unit`
 * attribute equals its own value (a multi-tenant or multi-unit policy), beside CASL on the same
 * rules (`{ action, subject, conditions: { unit } }`), and beside a trivial baseline measured in
 * the same run: a flat decision (the same number of rules without conditions, one per resource
 * type), so a reader can see what the machine's noise costs.
 *
 * Method: the engines are cross-checked first; each side is warmed up, then measured in
 * alternating rounds (ours, CASL, flat, ours, …) in one process. Each sample is timed with
 * `performance.now()` (Node's monotonic high-resolution clock, a double: no allocation per sample)
 * either around one call ("per call": includes the ~30–60 ns timer cost) or around a batch of 10
 * calls divided by 10 ("per 10": the timer cost amortised, one slow call in ten shows as a tenth).
 * 200,000 decisions per mode for ours and the flat baseline; CASL, whose cost grows linearly, gets
 * fewer samples at the larger sizes (the count is printed). Run:
 * `npx tsx --conditions=@safeguards/source packages/rbac/bench/conditional.ts`.
 */
import { loadavg } from 'node:os'
import { createMongoAbility, subject } from '@casl/ability'
import { prng } from '../../../scripts/test-support/prng.ts'
import { type AccessRequest, compilePolicy, type PolicyDocument } from '../src/index.js'

const SIZES = [10, 1_000, 10_000]
const SAMPLES = 200_000
const ROUNDS = 10
const WARMUP = 20_000
const TARGET_US = 5
const MASK = 4095

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')

type Op = (i: number) => unknown

/** Sample arrays of one side: per call and per batch of 10 (µs per decision). */
interface Side {
  readonly op: Op
  readonly single: Float64Array
  readonly batch: Float64Array
  n1: number
  n10: number
}

const side = (op: Op, samples: number): Side => ({
  op,
  single: new Float64Array(samples),
  batch: new Float64Array(Math.ceil(samples / 10)),
  n1: 0,
  n10: 0,
})

let sink = 0
/** One round: `count` per-call samples, then `count` decisions in batches of 10. */
function round(s: Side, count: number): void {
  const op = s.op
  let k = s.n1
  for (let i = 0; i < count; i++) {
    const t0 = performance.now()
    if (op(k + i)) sink++
    s.single[k + i] = (performance.now() - t0) * 1000
  }
  s.n1 = k + count
  k = s.n10
  for (let b = 0; b < count / 10; b++) {
    const base = (k + b) * 10
    const t0 = performance.now()
    for (let j = 0; j < 10; j++) if (op(base + j)) sink++
    s.batch[k + b] = (performance.now() - t0) * 100
  }
  s.n10 = k + count / 10
}

function pct(xs: Float64Array, n: number, p: number): number {
  const s = xs.slice(0, n).sort()
  return s[Math.min(n - 1, Math.floor(p * n))] as number
}

const f = (us: number): string => (us < 10 ? us.toFixed(2) : us < 100 ? us.toFixed(1) : us.toFixed(0))

function policies(n: number): { conditional: PolicyDocument; flat: PolicyDocument } {
  const rule = (i: number) => ({
    id: `unit-${i}`,
    effect: 'allow' as const,
    roles: ['clinician'],
    actions: ['read'],
  })
  return {
    conditional: {
      version: 1,
      roles: [{ id: 'clinician' }],
      rules: Array.from({ length: n }, (_, i) => ({
        ...rule(i),
        resources: ['Observation'],
        when: { eq: [{ ref: 'resource.attributes.unit' }, `u${i}`] },
      })),
    },
    flat: {
      version: 1,
      roles: [{ id: 'clinician' }],
      rules: Array.from({ length: n }, (_, i) => ({ ...rule(i), resources: [`T${i}`] })),
    },
  }
}

/** Measures one size; returns the table rows' figures. */
function measure(n: number): Record<'ours' | 'casl' | 'flat', [number, number, number, number, number]> {
  const { conditional, flat } = policies(n)
  const pdp = compilePolicy(conditional)
  const flatPdp = compilePolicy(flat)
  const ability = createMongoAbility(
    Array.from({ length: n }, (_, i) => ({
      action: 'read',
      subject: 'Observation',
      conditions: { unit: `u${i}` },
    })),
  )
  const random = prng(n)
  // 90% of requests name a unit some rule allows, 10% one none does.
  const units = Array.from({ length: MASK + 1 }, () => {
    const k = Math.floor(random() * n * 1.1)
    return k < n ? `u${k}` : `none-${k}`
  })
  const requests: AccessRequest[] = units.map((unit) => ({
    subject: { id: 'n1', tenant: 't', roles: ['clinician'] },
    action: 'read',
    resource: { type: 'Observation', tenant: 't', attributes: { unit } },
  }))
  const flatRequests: AccessRequest[] = units.map(() => ({
    subject: { id: 'n1', tenant: 't', roles: ['clinician'] },
    action: 'read',
    resource: { type: `T${Math.floor(random() * n * 1.1)}`, tenant: 't' },
  }))
  const objects = units.map((unit) => subject('Observation', { unit }))
  for (let i = 0; i <= MASK; i++) {
    if (pdp.decide(requests[i] as AccessRequest).allowed !== ability.can('read', objects[i] as never))
      throw new Error(`engines disagree at ${n} rules, request ${i}`)
  }
  const caslSamples = Math.max(2_000, Math.min(SAMPLES, Math.floor((SAMPLES * 100) / n)))
  const sides = {
    ours: side((i) => pdp.decide(requests[i & MASK] as AccessRequest).allowed, SAMPLES),
    casl: side((i) => ability.can('read', objects[i & MASK] as never), caslSamples),
    flat: side((i) => flatPdp.decide(flatRequests[i & MASK] as AccessRequest).allowed, SAMPLES),
  }
  for (const s of Object.values(sides)) {
    const w = s === sides.casl ? Math.min(WARMUP, caslSamples) : WARMUP
    for (let i = 0; i < w; i++) if (s.op(i)) sink++
  }
  for (let r = 0; r < ROUNDS; r++) {
    round(sides.ours, SAMPLES / ROUNDS)
    round(sides.casl, caslSamples / ROUNDS)
    round(sides.flat, SAMPLES / ROUNDS)
  }
  const fig = (s: Side): [number, number, number, number, number] => [
    pct(s.single, s.n1, 0.5),
    pct(s.single, s.n1, 0.99),
    pct(s.batch, s.n10, 0.5),
    pct(s.batch, s.n10, 0.99),
    s.n1,
  ]
  return { ours: fig(sides.ours), casl: fig(sides.casl), flat: fig(sides.flat) }
}

console.log(`load at start ${load()}`)
console.log('µs per decision; p50/p99 per call (timer included) and per batch of 10; n = decisions per mode')
console.log(
  '| rules | ours p50 / p99 | per 10: p50 / p99 | CASL p50 / p99 (n) | per 10: p50 / p99 | CASL / ours p99 | flat baseline p50 / p99 | per 10: p50 / p99 |',
)
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
let last = Number.NaN
for (const n of SIZES) {
  const { ours, casl, flat } = measure(n)
  last = ours[1]
  console.log(
    `| ${n.toLocaleString('en')} | ${f(ours[0])} / ${f(ours[1])} | ${f(ours[2])} / ${f(ours[3])} | ` +
      `${f(casl[0])} / ${f(casl[1])} (${casl[4].toLocaleString('en')}) | ${f(casl[2])} / ${f(casl[3])} | ` +
      `${(casl[1] / ours[1]).toFixed(1)}× | ${f(flat[0])} / ${f(flat[1])} | ${f(flat[2])} / ${f(flat[3])} |`,
  )
}
console.log(
  `target: p99 ≤ ${TARGET_US} µs per call at 10,000 conditional rules: ${f(last)} µs, ${last <= TARGET_US ? 'met' : 'NOT met'}`,
)
console.log(`load at end ${load()} (sink ${sink > 0 ? 'ok' : 'empty'})`)
