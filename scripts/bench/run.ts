/**
 * `pnpm bench`: runs every `packages/* /bench/*.bench.ts` (and `examples/* /bench`), side by side
 * with its peer (`anchor`: what a user would pick instead) and its limit (the fastest plain loop
 * doing the same work in the same process) in the same run, and prints a Markdown table: scenario,
 * ours, the peer's figure and ours/peer, the limit's figure and ours/limit, the target (set against
 * the limit when there is one) and whether it is met; beside a missed target, when the scenario
 * has a `floor` (the bare primitives the work needs, timed in the same rounds), "missed: floor X×,
 * ours Y×". Results also go to `.reports/bench.json`.
 * Filter with `pnpm bench <substring>`. The load average at the start and end is printed too.
 *
 * Timing method: each side runs in alternating rounds (ours, peer, limit, floor, ours, …) after a warm-up,
 * so drift in CPU frequency or background load affects all; the figure is the median round rate.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { CustomSide, OpSide, Scenario, Side } from './types.ts'

const root = resolve(import.meta.dirname, '../..')
const filter = process.argv[2]

function benchFiles(): string[] {
  const out: string[] = []
  for (const top of ['packages', 'examples']) {
    const dir = join(root, top)
    if (!existsSync(dir)) continue
    for (const pkg of readdirSync(dir).sort()) {
      const bench = join(dir, pkg, 'bench')
      if (!existsSync(bench)) continue
      for (const f of readdirSync(bench).sort()) if (f.endsWith('.bench.ts')) out.push(join(bench, f))
    }
  }
  return out
}

const isCustom = (s: Side): s is CustomSide => 'measure' in s

async function timeRound(side: OpSide, ms: number): Promise<number> {
  let ops = 0
  const start = performance.now()
  let elapsed = 0
  // Batch size grows until a batch takes ≥ 1/20 of the round, to keep timer overhead negligible.
  let batch = 1
  while (elapsed < ms) {
    const t0 = performance.now()
    for (let i = 0; i < batch; i++) {
      const r = side.op()
      if (r instanceof Promise) await r
    }
    ops += batch
    const dt = performance.now() - t0
    if (dt < ms / 20) batch *= 2
    elapsed = performance.now() - start
  }
  return (ops / elapsed) * 1000
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

const fmt = (n: number): string =>
  n >= 1e6
    ? `${(n / 1e6).toFixed(2)}M`
    : n >= 1e4
      ? `${(n / 1e3).toFixed(1)}k`
      : n >= 100
        ? n.toFixed(0)
        : n.toFixed(2)

type Role = 'ours' | 'anchor' | 'limit' | 'floor'

/**
 * Measures ours, the peer (`anchor`) and the limit. Op sides run in alternating rounds (ours,
 * anchor, limit, ours, …) after a warm-up of each (unless `warmup: false`); custom sides measure
 * themselves, in that order, `rounds` times.
 */
async function measureSides(
  sc: Scenario,
): Promise<{ values: Partial<Record<Role, number>>; extra: Record<string, string> }> {
  const extra: Record<string, string> = {}
  const budget = sc.timeMs ?? 1500
  const rounds = sc.rounds ?? 5
  const scale = (rate: number): number => (sc.unit === 'MB/s' ? (rate * (sc.bytesPerOp ?? 0)) / 1e6 : rate)
  const sides: [Role, Side][] = [['ours', sc.ours]]
  if (sc.anchor) sides.push(['anchor', sc.anchor])
  if (sc.limit) sides.push(['limit', sc.limit])
  if (sc.floor) sides.push(['floor', sc.floor])
  const values: Partial<Record<Role, number>> = {}
  if (sides.some(([, side]) => isCustom(side))) {
    const figures: number[][] = sides.map(() => [])
    const customRounds = sc.rounds ?? 1
    const opRounds = 5
    for (let round = 0; round < customRounds; round++) {
      for (const [s, [role, side]] of sides.entries()) {
        if (isCustom(side)) {
          const r = await side.measure()
          for (const [k, v] of Object.entries(r.extra ?? {})) extra[`${role} ${k}`] = v
          figures[s]!.push(r.value)
        } else {
          const rates: number[] = []
          await timeRound(side, budget / 5)
          for (let i = 0; i < opRounds; i++) rates.push(await timeRound(side, budget / opRounds))
          figures[s]!.push(scale(median(rates)))
        }
      }
    }
    for (const [s, [role]] of sides.entries()) {
      values[role] = median(figures[s]!)
      if (customRounds > 1)
        extra[`${role} rounds`] =
          `${fmt(Math.min(...figures[s]!))}–${fmt(Math.max(...figures[s]!))} ${sc.unit}`
    }
    return { values, extra }
  }
  const opSides = sides as [Role, OpSide][]
  if (sc.warmup !== false) for (const [, side] of opSides) await timeRound(side, budget / 5)
  const rates: number[][] = opSides.map(() => [])
  for (let i = 0; i < rounds; i++) {
    for (let s = 0; s < opSides.length; s++) rates[s]!.push(await timeRound(opSides[s]![1], budget / rounds))
  }
  opSides.forEach(([role], s) => {
    const scaled = rates[s]!.map(scale)
    values[role] = median(scaled)
    extra[`${role} rounds`] = `${fmt(Math.min(...scaled))}–${fmt(Math.max(...scaled))} ${sc.unit}`
  })
  return { values, extra }
}

interface Row {
  file: string
  scenario: string
  unit: string
  ours: number
  oursName: string
  /** The peer's figure and ours/peer. */
  anchor?: number
  anchorName?: string
  ratio?: number
  /** The limit's figure and ours/limit (what the target is set against when present). */
  limit?: number
  limitName?: string
  limitRatio?: number
  /** The floor's figure and floor/anchor (floor/limit with a limit): the best the primitives allow. */
  floor?: number
  floorName?: string
  floorRatio?: number
  target: string
  met: boolean | null
  extra: Record<string, string>
  /** `os.loadavg()` (1, 5, 15 min) when the scenario started: other work on the machine. */
  loadAverage: string
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')
const loadAtStart = load()
const rows: Row[] = []
for (const file of benchFiles()) {
  const mod = (await import(pathToFileURL(file).href)) as { default: Scenario[] }
  for (const sc of mod.default) {
    const rel = file.slice(root.length + 1)
    if (filter && !`${rel} ${sc.name}`.includes(filter)) continue
    const loadAverage = load()
    process.stderr.write(`bench: ${rel} · ${sc.name} (load average ${loadAverage})\n`)
    await sc.setup?.()
    try {
      const { values, extra } = await measureSides(sc)
      const ours = values.ours as number
      const { anchor, limit, floor } = values
      const versus = (other: number | undefined): number | undefined =>
        other === undefined ? undefined : sc.lowerIsBetter ? other / ours : ours / other
      const ratio = versus(anchor)
      const limitRatio = versus(limit)
      // the floor's ratio against what the target is set against (the limit, else the anchor)
      const base = sc.limit ? limit : anchor
      const floorRatio =
        floor === undefined || base === undefined ? undefined : sc.lowerIsBetter ? base / floor : floor / base
      const targeted = sc.limit ? limitRatio : ratio
      let met: boolean | null = null
      if (sc.target?.ratio !== undefined && targeted !== undefined) met = targeted >= sc.target.ratio
      if (sc.target?.value !== undefined) {
        const ok = sc.lowerIsBetter ? ours <= sc.target.value : ours >= sc.target.value
        met = (met ?? true) && ok
      }
      rows.push({
        file: rel,
        scenario: sc.name,
        unit: sc.unit,
        ours,
        oursName: sc.ours.name,
        ...(anchor === undefined || ratio === undefined
          ? {}
          : { anchor, anchorName: sc.anchor?.name as string, ratio }),
        ...(limit === undefined || limitRatio === undefined
          ? {}
          : { limit, limitName: sc.limit?.name as string, limitRatio }),
        ...(floor === undefined || floorRatio === undefined
          ? {}
          : { floor, floorName: sc.floor?.name as string, floorRatio }),
        target: sc.target?.text ?? '',
        met,
        extra,
        loadAverage,
      })
    } finally {
      await sc.teardown?.()
    }
  }
}

const figure = (v: number | undefined, unit: string): string => (v === undefined ? '—' : `${fmt(v)} ${unit}`)
const times = (v: number | undefined): string => (v === undefined ? '—' : `${v.toFixed(2)}×`)
/** ✅, or ❌ and, when the scenario has a floor, "missed: floor X×, ours Y×" (same run, same base). */
const metCell = (r: Row): string => {
  if (r.met === null) return '—'
  if (r.met) return '✅'
  if (r.floorRatio === undefined) return '❌'
  return `❌ missed: floor ${times(r.floorRatio)}, ours ${times(r.limitRatio ?? r.ratio)}`
}
const lines = [
  '| scenario | ours | peer | peer figure | vs peer | limit | limit figure | vs limit | target | met | notes |',
  '|---|---:|---|---:|---:|---|---:|---:|---|:-:|---|',
  ...rows.map((r) =>
    [
      '',
      r.scenario,
      `${fmt(r.ours)} ${r.unit}`,
      r.anchorName ?? '—',
      figure(r.anchor, r.unit),
      times(r.ratio),
      r.limitName ?? '—',
      figure(r.limit, r.unit),
      times(r.limitRatio),
      r.target || '—',
      metCell(r),
      Object.entries(r.extra)
        .map(([k, v]) => `${k}: ${v}`)
        .join('; '),
      '',
    ]
      .join(' | ')
      .trim(),
  ),
]
console.log(lines.join('\n'))
console.log(`\nload average (1, 5, 15 min): ${loadAtStart} at the start, ${load()} at the end`)
mkdirSync(join(root, '.reports'), { recursive: true })
writeFileSync(join(root, '.reports/bench.json'), `${JSON.stringify(rows, null, 2)}\n`)
