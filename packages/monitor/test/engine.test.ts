import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { prng } from '../../../scripts/test-support/prng.js'
import {
  compareFindings,
  compileRules,
  createMonitor,
  type Finding,
  findingId,
  formatResult,
  MonitorOrderError,
  type MonitorResult,
} from '../src/index.js'
import { WindowDeque } from '../src/internal/window.js'
import { type Ev, STREAM, type StoredLike, toRecords } from './support/records.js'

const T0 = Date.parse('2026-03-02T12:00:00.000Z')

async function run(records: StoredLike[], chunks: number[] = [], rules: Record<string, unknown> = {}) {
  const m = createMonitor({ stream: STREAM, rules: compileRules(rules) })
  let i = 0
  for (const size of chunks) {
    await m.feed(records.slice(i, i + size))
    i += size
  }
  await m.feed(records.slice(i))
  m.flush()
  return m.result()
}

/** Failed sign-ins: (account index, ms since the previous event) → events at non-decreasing times. */
const signIns = fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 90_000 })), {
  maxLength: 150,
})
function failures(steps: [number, number][]): Ev[] {
  let t = T0
  return steps.map(([a, dt]) => {
    t += dt
    return { t, who: `acct-${a}`, address: `10.0.0.${a % 2}`, kind: 'sign-in', outcome: 4 }
  })
}

/** The naive oracle: per key, at each event count the key's events in (t − W, t]; episodes by gap < W. */
function oracle(
  events: Ev[],
  key: (e: Ev) => string,
  value: ((e: Ev) => string) | null,
  threshold: number,
  w: number,
) {
  const out: { key: string; seqs: number[]; count: number }[] = []
  const open = new Map<string, { seqs: number[]; count: number; last: number }>()
  events.forEach((e, i) => {
    const k = key(e)
    const ep = open.get(k)
    if (ep !== undefined && e.t - ep.last >= w) {
      out.push({ key: k, seqs: ep.seqs, count: ep.count })
      open.delete(k)
    }
    const cur = open.get(k)
    if (cur !== undefined) {
      cur.count++
      if (cur.seqs.length < 100) cur.seqs.push(i)
      cur.last = e.t
      return
    }
    const inWindow = events
      .map((x, j) => ({ x, j }))
      .filter(({ x, j }) => j <= i && key(x) === k && x.t > e.t - w)
    const measure = value === null ? inWindow.length : new Set(inWindow.map(({ x }) => value(x))).size
    if (measure >= threshold)
      open.set(k, { seqs: inWindow.map(({ j }) => j).slice(0, 100), count: inWindow.length, last: e.t })
  })
  for (const [k, ep] of open) out.push({ key: k, seqs: ep.seqs, count: ep.count })
  return out.sort((a, b) => (a.seqs[0] as number) - (b.seqs[0] as number) || a.key.localeCompare(b.key))
}

const shape = (fs: readonly Finding[], d: string, key: (f: Finding) => string) =>
  fs
    .filter((f) => f.detector === d)
    .map((f) => ({ key: key(f), seqs: [...f.seqs], count: f.count }))
    .sort((a, b) => (a.seqs[0] as number) - (b.seqs[0] as number) || a.key.localeCompare(b.key))

describe('windows', () => {
  it('a window deque counts what a naive scan counts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 5 }))),
        (steps) => {
          const w = 100
          const d = new WindowDeque(true)
          const seen: { t: number; v: string }[] = []
          let t = 0
          for (const [dt, v] of steps) {
            t += dt
            d.push(t, seen.length, `v${v}`, w)
            seen.push({ t, v: `v${v}` })
            const live = seen.filter((x) => x.t > t - w)
            expect(d.size).toBe(live.length)
            expect(d.measure).toBe(new Set(live.map((x) => x.v)).size)
          }
        },
      ),
    )
  })

  it('failed-sign-in bursts and password spray equal the naive oracle (thresholds 3, 3; window 5 min)', async () => {
    const rules = {
      detectors: {
        'failed-sign-in-burst': { threshold: 3, window: '5m' },
        'password-spray': { threshold: 3, window: '5m' },
      },
    }
    await fc.assert(
      fc.asyncProperty(signIns, async (steps) => {
        const events = failures(steps)
        const r = await run(toRecords(events), [], rules)
        expect(shape(r.findings, 'failed-sign-in-burst', (f) => f.who as string)).toEqual(
          oracle(events, (e) => e.who, null, 3, 300_000),
        )
        expect(shape(r.findings, 'password-spray', (f) => f.address as string)).toEqual(
          oracle(
            events,
            (e) => e.address as string,
            (e) => e.who,
            3,
            300_000,
          ),
        )
      }),
      { numRuns: 60 },
    )
  })

  it('exactly at the threshold fires, one below does not; a burst spanning exactly the window does not', async () => {
    const at = (ts: number[]) =>
      toRecords(ts.map((t) => ({ t: T0 + t, who: 'a', kind: 'sign-in', outcome: 4 }) as Ev))
    const count = async (ts: number[]) => (await run(at(ts))).findings.length
    expect(await count([0, 1, 2, 3, 4].map((i) => i * 60_000))).toBe(1)
    expect(await count([0, 1, 2, 3].map((i) => i * 60_000))).toBe(0)
    expect(await count([0, 60_000, 120_000, 180_000, 600_000])).toBe(0)
    expect(await count([0, 60_000, 120_000, 180_000, 599_999])).toBe(1)
  })
})

/** Mixed traffic of a few users, patients and addresses, seeded, at non-decreasing times. */
function traffic(seed: number, n: number): Ev[] {
  const r = prng(seed)
  const kinds = ['sign-in', 'access', 'other'] as const
  let t = T0
  return Array.from({ length: n }, (): Ev => {
    t += Math.floor(r() * 200_000)
    const who = Math.floor(r() * 4)
    const e: Ev = {
      t,
      who: `u${who}`,
      address: `a${who % 2}`,
      kind: kinds[Math.floor(r() * 3)] as Ev['kind'],
      outcome: ([0, 0, 4, 8] as const)[Math.floor(r() * 4)] as 0,
      btg: r() < 0.3,
    }
    return e.kind === 'access' ? { ...e, patient: `p${Math.floor(r() * 7)}` } : e
  })
}
const LOW = {
  detectors: {
    'failed-sign-in-burst': { threshold: 2 },
    'password-spray': { threshold: 2 },
    'bulk-access': { threshold: 3 },
    'denied-burst': { threshold: 2 },
    'emergency-access-overuse': { threshold: 2 },
  },
}

describe('determinism', () => {
  it('chunking invariance: split the stream anywhere, the output is byte-identical', async () => {
    let withFindings = 0
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 8 }),
        async (seed, chunks) => {
          const records = toRecords(traffic(seed, 300))
          const result = await run(records, [], LOW)
          if (result.findings.length > 0) withFindings++
          expect(formatResult(await run(records, chunks, LOW))).toBe(formatResult(result))
        },
      ),
      { numRuns: 60 },
    )
    expect(withFindings).toBeGreaterThan(50) // not vacuous
  })

  it('ids are stable across runs and chunkings, and pinned to stream, detector, rule, key and first seq', async () => {
    const events = failures([0, 1, 2, 3, 4].map((i) => [0, i === 0 ? 0 : 1000] as [number, number]))
    const a = (await run(toRecords(events))).findings
    const b = (await run(toRecords(events), [1, 1, 1])).findings
    expect(a.map((f) => f.id)).toEqual(b.map((f) => f.id))
    const f = a[0] as Finding
    const rule = compileRules({}).detectors['failed-sign-in-burst'].hash
    expect(f.id).toBe(findingId(STREAM, 'failed-sign-in-burst', rule, 'acct-0', 0))
    expect(f.id).toMatch(/^fnd_[a-z2-7]{32}$/)
    const retuned = (
      await run(toRecords(events), [], { detectors: { 'failed-sign-in-burst': { threshold: 4 } } })
    ).findings
    expect(retuned[0]?.id).not.toBe(f.id)
  })

  it('the same log gives byte-identical JSON, with numbers, codes and identifiers only', async () => {
    const events = traffic(42, 400)
    const one = formatResult(await run(toRecords(events), [], LOW))
    expect(formatResult(await run(toRecords(events), [], LOW))).toBe(one)
    const r = JSON.parse(one) as MonitorResult
    expect(r.findings.length).toBeGreaterThan(0)
    for (const f of r.findings)
      for (const [k, v] of Object.entries(f)) {
        const strings = Array.isArray(v)
          ? v.filter((x) => typeof x === 'string')
          : typeof v === 'string'
            ? [v]
            : []
        for (const s of strings) expect(s, k).toMatch(/^[A-Za-z0-9._:/@+-]{1,256}$/)
      }
  })
})

describe('input', () => {
  it('a damaged record is a problem at its seq; the review goes on', async () => {
    const enc = new TextEncoder()
    const good = toRecords(failures([0, 1, 2, 3, 4].map(() => [0, 1000] as [number, number])))
    const records = [
      ...good.slice(0, 2),
      { seq: 2, bytes: enc.encode('{"event":') },
      { seq: 3, bytes: new Uint8Array([0xff, 0xfe]) },
      { seq: 4, bytes: good[2]?.bytes as Uint8Array }, // names seq 2
      {
        seq: 5,
        bytes: enc.encode('{"event":{},"seq":5,"stream":"other","recorded":"2026-03-02T12:00:00.000Z"}'),
      },
      { seq: 6, bytes: enc.encode('{"event":{},"seq":6,"stream":"clinic-test"}') },
      ...toRecords(failures([0, 1, 2].map(() => [0, 1000] as [number, number])), 7),
    ]
    const r = await run(records)
    expect(r.problems.map((p) => [p.seq, p.code])).toEqual([
      [2, 'MALFORMED'],
      [3, 'MALFORMED'],
      [4, 'MALFORMED'],
      [5, 'STREAM_MISMATCH'],
      [6, 'MALFORMED'],
    ])
    expect(r.findings.map((f) => f.seqs)).toEqual([[0, 1, 7, 8, 9]])
    expect(r.records).toBe(10)
    expect(r.damaged).toBe(5)
  })

  it('keepFindings: false hands every finding to onFinding and feed, and keeps none', async () => {
    const records = toRecords(traffic(3, 400))
    const kept = (await run(records, [], LOW)).findings
    const seen: Finding[] = []
    const returned: Finding[] = []
    const m = createMonitor({
      stream: STREAM,
      rules: compileRules(LOW),
      keepFindings: false,
      onFinding: (f) => seen.push(f),
    })
    for (let i = 0; i < records.length; i += 50) returned.push(...(await m.feed(records.slice(i, i + 50))))
    returned.push(...m.flush())
    expect(kept.length).toBeGreaterThan(0)
    expect(m.result().findings).toEqual([])
    expect([...seen].sort(compareFindings)).toEqual(kept)
    expect(returned).toEqual(seen)
  })

  it('refuses misuse: a stream that is not a string, a resolver timeout out of range', () => {
    expect(() => createMonitor({ stream: 1 as unknown as string })).toThrow(TypeError)
    for (const ms of [0, -1, Number.NaN, 2 ** 31])
      expect(() => createMonitor({ stream: STREAM, resolverTimeoutMs: ms })).toThrow(RangeError)
  })

  it('refuses records fed out of seq order', async () => {
    const m = createMonitor({ stream: STREAM })
    const records = toRecords(failures([[0, 0]]))
    await m.feed(records)
    await expect(m.feed(records)).rejects.toBeInstanceOf(MonitorOrderError)
  })

  it('state stays flat in the log length (bounded by the windows), beside one last-seen time per account', async () => {
    const m = createMonitor({ stream: STREAM })
    const sizes: number[] = []
    for (let block = 0; block < 20; block++) {
      const events: Ev[] = Array.from({ length: 2000 }, (_, i) => {
        const n = block * 2000 + i
        return { t: T0 + n * 10_000, who: `u${n}`, kind: 'access', patient: `p${n}`, address: `a${n}` }
      })
      await m.feed(toRecords(events, block * 2000))
      sizes.push(m.stateSize() - (block + 1) * 2000) // minus the accounts' last-seen times
    }
    // 60-minute windows at one event every 10 s hold 360 keys per detector, plus what arrived since
    // the last sweep (every 4,096 seqs): flat, whether 10,000 or 40,000 records were fed.
    expect(Math.max(...sizes.slice(10))).toBeLessThanOrEqual(Math.max(...sizes.slice(0, 10)))
    expect(Math.max(...sizes)).toBeLessThan(2 * (4096 + 360) + 1)
  })
})
