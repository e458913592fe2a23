/**
 * `pnpm bench`: runs every `packages/* /bench/*.bench.ts` (and `examples/* /bench`), side by side
 * with its anchor in the same process and run, and prints a Markdown table: scenario, ours, the
 * anchor's figure, their ratio, the target and whether it is met. Results also go to
 * `.reports/bench.json`. Filter with `pnpm bench <substring>`.
 *
 * Timing method: each side runs in alternating rounds (ours, anchor, ours, anchor…) after a warm-up,
 * so drift in CPU frequency or background load affects both; the figure is the median round rate.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
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

async function measurePair(
  sc: Scenario,
): Promise<{ ours: number; anchor?: number; extra: Record<string, string> }> {
  const extra: Record<string, string> = {}
  const budget = sc.timeMs ?? 1500
  const rounds = 5
  const scale = (rate: number): number => (sc.unit === 'MB/s' ? (rate * (sc.bytesPerOp ?? 0)) / 1e6 : rate)
  const sides = [sc.ours, ...(sc.anchor ? [sc.anchor] : [])]
  const custom = sides.filter(isCustom)
  if (custom.length > 0) {
    const results: number[] = []
    for (const side of sides) {
      if (isCustom(side)) {
        const r = await side.measure()
        for (const [k, v] of Object.entries(r.extra ?? {}))
          extra[`${side === sc.ours ? 'ours' : 'anchor'} ${k}`] = v
        results.push(r.value)
      } else {
        const rates: number[] = []
        await timeRound(side, budget / 5)
        for (let i = 0; i < rounds; i++) rates.push(await timeRound(side, budget / rounds))
        results.push(scale(median(rates)))
      }
    }
    return { ours: results[0] as number, ...(results[1] === undefined ? {} : { anchor: results[1] }), extra }
  }
  const opSides = sides as OpSide[]
  for (const side of opSides) await timeRound(side, budget / 5) // warm-up
  const rates: number[][] = opSides.map(() => [])
  for (let i = 0; i < rounds; i++) {
    for (let s = 0; s < opSides.length; s++) rates[s]!.push(await timeRound(opSides[s]!, budget / rounds))
  }
  const [ours, anchor] = rates.map((r) => scale(median(r)))
  return { ours: ours as number, ...(anchor === undefined ? {} : { anchor }), extra }
}

const fmt = (n: number): string =>
  n >= 1e6
    ? `${(n / 1e6).toFixed(2)}M`
    : n >= 1e4
      ? `${(n / 1e3).toFixed(1)}k`
      : n >= 100
        ? n.toFixed(0)
        : n.toFixed(2)

interface Row {
  file: string
  scenario: string
  unit: string
  ours: number
  oursName: string
  anchor?: number
  anchorName?: string
  ratio?: number
  target: string
  met: boolean | null
  extra: Record<string, string>
}

const rows: Row[] = []
for (const file of benchFiles()) {
  const mod = (await import(pathToFileURL(file).href)) as { default: Scenario[] }
  for (const sc of mod.default) {
    const rel = file.slice(root.length + 1)
    if (filter && !`${rel} ${sc.name}`.includes(filter)) continue
    process.stderr.write(`bench: ${rel} · ${sc.name}\n`)
    await sc.setup?.()
    try {
      const { ours, anchor, extra } = await measurePair(sc)
      const ratio = anchor === undefined ? undefined : sc.lowerIsBetter ? anchor / ours : ours / anchor
      let met: boolean | null = null
      if (sc.target?.ratio !== undefined && ratio !== undefined) met = ratio >= sc.target.ratio
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
        ...(anchor === undefined ? {} : { anchor, anchorName: sc.anchor?.name as string }),
        ...(ratio === undefined ? {} : { ratio }),
        target: sc.target?.text ?? '',
        met,
        extra,
      })
    } finally {
      await sc.teardown?.()
    }
  }
}

const lines = [
  '| scenario | ours | anchor | anchor figure | ratio | target | met | notes |',
  '|---|---:|---|---:|---:|---|:-:|---|',
  ...rows.map((r) =>
    [
      '',
      r.scenario,
      `${fmt(r.ours)} ${r.unit}`,
      r.anchorName ?? '—',
      r.anchor === undefined ? '—' : `${fmt(r.anchor)} ${r.unit}`,
      r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`,
      r.target || '—',
      r.met === null ? '—' : r.met ? '✅' : '❌',
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
mkdirSync(join(root, '.reports'), { recursive: true })
writeFileSync(join(root, '.reports/bench.json'), `${JSON.stringify(rows, null, 2)}\n`)
