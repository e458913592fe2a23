import { describe, expect, it } from 'vitest'
import {
  compileRules,
  createMonitor,
  DETECTOR_NAMES,
  type Finding,
  formatResult,
  type Resolvers,
} from '../src/index.js'
import { type Clinic, generateClinic } from './support/clinic.js'
import { STREAM, toRecords } from './support/records.js'

async function review(
  clinic: Clinic,
  chunk = 997,
  resolvers: Resolvers = clinic.resolvers,
): Promise<{ findings: readonly Finding[]; json: string }> {
  const m = createMonitor({ stream: STREAM, rules: compileRules(clinic.rules), resolvers })
  const records = toRecords(clinic.events)
  for (let i = 0; i < records.length; i += chunk) await m.feed(records.slice(i, i + chunk))
  m.flush()
  const r = m.result()
  return { findings: r.findings, json: formatResult(r) }
}

/** Per detector: planted incidents found, missed, and findings matching no planted incident. */
function score(clinic: Clinic, findings: readonly Finding[]) {
  const rows = Object.fromEntries(DETECTOR_NAMES.map((d) => [d, { planted: 0, found: 0, false: 0 }]))
  const matched = new Set<Finding>()
  const missed: string[] = []
  for (const x of clinic.expectations) {
    const row = rows[x.detector] as { planted: number; found: number }
    row.planted++
    const f = findings.find((f) => f.detector === x.detector && f.seqs.includes(x.event))
    if (f === undefined) missed.push(`${x.detector}: ${x.label}`)
    else {
      row.found++
      matched.add(f)
    }
  }
  const falses = findings.filter((f) => !matched.has(f))
  for (const f of falses) (rows[f.detector] as { false: number }).false++
  return { rows, missed, falses }
}

describe('a seeded clinic with planted incidents', () => {
  it.each([16, 2026])(
    'seed %i: finds every planted incident and nothing else, on the default settings',
    async (seed) => {
      const clinic = generateClinic(seed)
      const { findings } = await review(clinic)
      const { rows, missed, falses } = score(clinic, findings)
      console.log(
        `clinic: ${clinic.events.length} events, ${clinic.expectations.length} planted incidents and ${clinic.nearMisses} near misses in ${clinic.plantedEvents} events (${((100 * clinic.plantedEvents) / clinic.events.length).toFixed(1)}%)\n` +
          Object.entries(rows)
            .map(([d, r]) => `  ${d}: planted ${r.planted}, found ${r.found}, false ${r.false}`)
            .join('\n'),
      )
      expect(missed).toEqual([])
      expect(
        falses.map((f) => `${f.detector} ${f.who ?? f.address} ${f.seqs.slice(0, 3).join(',')}`),
      ).toEqual([])
      for (const d of DETECTOR_NAMES) expect(rows[d]?.planted, d).toBeGreaterThanOrEqual(2)
    },
  )
})

describe('batch and follow agree', () => {
  it('one feed, chunks of 1 and of 4,096, and asynchronous resolvers give byte-identical output', async () => {
    const clinic = generateClinic(7)
    const batch = await review(clinic, Number.MAX_SAFE_INTEGER)
    expect(batch.findings.length).toBeGreaterThanOrEqual(clinic.expectations.length)
    expect((await review(clinic, 1)).json).toBe(batch.json)
    const { careRelationship, staffPatient } = clinic.resolvers
    const slow: Resolvers = {
      careRelationship: async (w, p) => careRelationship(w, p),
      staffPatient: async (p) => staffPatient(p),
    }
    expect((await review(clinic, 4096, slow)).json).toBe(batch.json)
  })
})

describe('the near misses are near', () => {
  const clinic = generateClinic(16)
  const loosened = (change: (d: { threshold: number; windowMs: number }) => Record<string, unknown>) => {
    const rules = compileRules(clinic.rules)
    const detectors: Record<string, unknown> = {}
    for (const d of Object.values(rules.detectors)) if (d.kind !== 'event') detectors[d.name] = change(d)
    return { ...clinic, rules: { ...clinic.rules, detectors } }
  }
  const count = (fs: readonly Finding[], d: string) => fs.filter((f) => f.detector === d).length

  const WINDOWED = [
    'failed-sign-in-burst',
    'password-spray',
    'bulk-access',
    'denied-burst',
    'emergency-access-overuse',
  ]
  it.each([
    [
      'one below the threshold fires once the threshold is one lower',
      (d: { threshold: number }) => ({ threshold: d.threshold - 1 }),
    ],
    [
      'a burst spanning exactly the window fires once the window is a second longer',
      (d: { windowMs: number }) => ({ window: d.windowMs / 1000 + 1 }),
    ],
  ] as const)('%s', async (_, change) => {
    const base = (await review(clinic)).findings
    const loose = (
      await review(
        loosened(change as (d: { threshold: number; windowMs: number }) => Record<string, unknown>),
      )
    ).findings
    for (const d of WINDOWED) expect(count(loose, d), d).toBeGreaterThan(count(base, d))
  })
})
