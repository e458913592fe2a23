/**
 * Standalone runner for the latency scenario (see `latencyScenario` in rbac.bench.ts):
 * `npx tsx --conditions=@safeguards/source packages/rbac/bench/latency.ts`.
 */
import type { CustomSide } from '../../../scripts/bench/types.ts'
import { latencyScenario } from './rbac.bench.ts'

await latencyScenario.setup?.()
for (const side of [latencyScenario.ours, latencyScenario.anchor] as CustomSide[]) {
  const r = await side.measure()
  const extra = Object.entries(r.extra ?? {})
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')
  console.log(`${side.name}: p99 ${r.value.toFixed(2)} µs (${extra})`)
}
