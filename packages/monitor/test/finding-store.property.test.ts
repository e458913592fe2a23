import { readFileSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import { type ManualClock, manualClock } from '@safeguards/core'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  type Finding,
  type FindingStatus,
  type FindingStore,
  MonitorFindingUnknownError,
  MonitorSelfReviewError,
  openFindingStore,
} from '../src/index.js'
import { replay } from '../src/internal/transitions.js'
import { fileStores, pgAvailable, postgresStores } from './support/finding-stores.js'
import { finding } from './support/findings.js'

const T0 = Date.parse('2026-12-01T08:00:00.000Z')
const subjects = ['Practitioner/1', 'Practitioner/2']
const reviewers = ['Practitioner/1', 'Practitioner/po']

type Op =
  | { op: 'admit'; ns: number[] }
  | { op: 'ack'; n: number; by: number }
  | { op: 'suppress'; n: number; by: number; forMs: number }
  | { op: 'wait'; ms: number }

// Weighted towards admit and suppress, so expiring suppressions (which must alert again) are common.
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('admit' as const), ns: fc.array(fc.nat(2), { maxLength: 3 }) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('ack' as const), n: fc.nat(2), by: fc.nat(1) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('suppress' as const),
      n: fc.nat(2),
      by: fc.nat(1),
      forMs: fc.integer({ min: 1, max: 3000 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.nat(6000) }) },
)

/** The rules, as a plain model: what admit should return, and what the states should be. */
function model() {
  const state = new Map<number, { state: string; until: number }>()
  return {
    admit(ns: number[], now: number): number[] {
      const out: number[] = []
      for (const n of new Set(ns)) {
        const s = state.get(n)
        if (s === undefined || (s.state === 'suppressed' && s.until <= now)) {
          state.set(n, { state: 'new', until: 0 })
          out.push(n)
        }
      }
      return out
    },
    review(n: number, by: string, next: { state: string; until: number }): 'ok' | 'unknown' | 'self' {
      if (!state.has(n)) return 'unknown'
      if (subjects[n % 2] === by) return 'self'
      state.set(n, next)
      return 'ok'
    },
    state,
  }
}

/** Runs `ops` on `store` and on the model: every answer and the final states must agree. */
async function runAgainstModel(store: FindingStore, clock: ManualClock, ops: readonly Op[]): Promise<void> {
  const m = model()
  const f = (n: number): Finding => finding(n, subjects[n % 2])
  for (const o of ops) {
    if (o.op === 'wait') clock.advance(o.ms)
    else if (o.op === 'admit') {
      const got = (await store.admit(o.ns.map(f))).map((x) => x.id)
      expect(got).toEqual(m.admit(o.ns, clock.now()).map((n) => f(n).id))
    } else {
      const by = reviewers[o.by] as string
      const call =
        o.op === 'ack'
          ? store.acknowledge(f(o.n).id, { disposition: 'appropriate', by })
          : store.suppress(f(o.n).id, { until: clock.now() + o.forMs, by })
      const next =
        o.op === 'ack'
          ? { state: 'acknowledged', until: 0 }
          : { state: 'suppressed', until: clock.now() + o.forMs }
      const want = m.review(o.n, by, next)
      const got = await call.then(
        () => 'ok',
        (e: unknown) => {
          if (e instanceof MonitorSelfReviewError) return 'self'
          if (e instanceof MonitorFindingUnknownError) return 'unknown'
          throw e
        },
      )
      expect(got).toBe(want)
    }
  }
  const list = await store.list()
  expect(new Map(list.map((s) => [s.id, s.state]))).toEqual(
    new Map([...m.state].map(([n, s]) => [f(n).id, s.state])),
  )
}

const files = fileStores('sg-findings-prop-')
afterAll(() => files.cleanup())

describe('the file finding store against a model', () => {
  it('admit, ack and suppress agree with the rules; any cut of the file replays to a prefix of the transitions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 4, maxLength: 20 }), async (ops) => {
        const clock = manualClock(T0)
        const store = await files.open(clock)
        const dir = files.dirs.at(-1) as string
        await runAgainstModel(store, clock, ops)
        // Every byte cut replays without throwing, to the state of the complete lines before it.
        const path = join(dir, 'findings.jsonl')
        const bytes = new Uint8Array(readFileSync(path))
        const lineEnds = [0, ...Array.from(bytes).flatMap((b, i) => (b === 0x0a ? [i + 1] : []))]
        for (const cut of [...new Set([0, bytes.length, ...lineEnds.map((e) => e + 3)])].filter(
          (c) => c <= bytes.length,
        )) {
          const r = replay(bytes.subarray(0, cut))
          const complete = lineEnds.filter((e) => e <= cut).at(-1) ?? 0
          expect(r.end).toBe(complete)
          expect(r.torn).toBe(cut - complete)
          expect(r.state).toEqual(replay(bytes.subarray(0, complete)).state)
        }
        // A cut file reopens, and the next write cuts the torn tail off.
        if (lineEnds.length > 2) {
          truncateSync(path, (lineEnds.at(-2) as number) + 2)
          const again = await openFindingStore({ dir, clock })
          const before: FindingStatus[] = await again.list()
          expect(again.tornTail()?.bytes).toBe(2)
          await again.admit([finding(9)])
          expect(again.tornTail()).toBeUndefined()
          expect((await again.list()).length).toBe(before.length + 1)
        }
      }),
      { numRuns: 80 },
    )
  }, 25_000)
})

describe.skipIf(!pgAvailable)('the PostgreSQL finding store against the same model', () => {
  const stores = postgresStores(2)
  afterAll(() => stores.end())

  it('admit, ack and suppress agree with the rules', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 4, maxLength: 20 }), async (ops) => {
        const clock = manualClock(T0)
        try {
          await runAgainstModel(await stores.open(clock), clock, ops)
        } finally {
          await stores.cleanup()
        }
      }),
      { numRuns: 80 },
    )
  }, 25_000)
})
