import { describe, expect, it } from 'vitest'
import { compileRules, createMonitor, type MonitorResult, type Resolvers, shiftsCover } from '../src/index.js'
import { type Ev, STREAM, toRecords } from './support/records.js'

const NOON = Date.parse('2026-03-02T12:00:00.000Z')
const access = (t: number, who: string, patient: string, extra: Partial<Ev> = {}): Ev => ({
  t,
  who,
  patient,
  kind: 'access',
  ...extra,
})

async function review(
  events: Ev[],
  resolvers: Resolvers,
  rules: Record<string, unknown> = {},
  timeoutMs = 5000,
) {
  const m = createMonitor({
    stream: STREAM,
    rules: compileRules(rules),
    resolvers,
    resolverTimeoutMs: timeoutMs,
  })
  await m.feed(toRecords(events))
  m.flush()
  return m.result()
}
const detectors = (r: MonitorResult) => r.findings.map((f) => `${f.detector} ${f.who} ${f.seqs.join(',')}`)

describe('resolvers', () => {
  const events = [
    access(NOON, 'dr-a', 'p-own-team'),
    access(NOON + 1000, 'dr-a', 'p-other-team'),
    access(NOON + 2000, 'dr-a', 'p-other-team-2', { btg: true }),
    access(NOON + 3000, 'dr-a', 'p-staff-b'),
    access(NOON + 4000, 'dr-b', 'p-staff-b'),
  ]
  const care = (who: string, patient: string) =>
    patient === 'p-own-team' || (who === 'dr-b' && patient === 'p-staff-b')
  const staff = (patient: string) => (patient === 'p-staff-b' ? 'dr-b' : undefined)

  it('explain first: care relationships clear accesses; emergencies are not no-care findings; self and coworker', async () => {
    const r = await review(events, { careRelationship: care, staffPatient: staff })
    expect(detectors(r)).toEqual([
      'no-care-relationship dr-a 1',
      'no-care-relationship dr-a 3',
      'self-or-coworker dr-a 3',
      'self-or-coworker dr-b 4',
    ])
    expect(r.unknown.total).toBe(0)
  })

  it('asynchronous resolvers give the same findings as synchronous ones', async () => {
    const sync = await review(events, { careRelationship: care, staffPatient: staff })
    const slow = await review(events, {
      careRelationship: async (w, p) => care(w, p),
      staffPatient: async (p) => staff(p),
    })
    expect(slow).toEqual(sync)
  })

  it('a resolver that throws or times out makes its detector report unknown, never a silent skip', async () => {
    const thrown = await review(events, {
      careRelationship: () => {
        throw new Error('directory down')
      },
      staffPatient: staff,
    })
    expect(thrown.findings.filter((f) => f.detector === 'no-care-relationship')).toEqual([])
    expect(thrown.unknown.byDetector['no-care-relationship']).toBe(4) // the four non-emergency accesses
    expect(thrown.unknown.byDetector['self-or-coworker']).toBe(1) // dr-a on a coworker: care unknown
    expect(detectors(thrown)).toEqual(['self-or-coworker dr-b 4']) // self needs no care answer
    expect(thrown.unknown.events[0]).toEqual({ detector: 'no-care-relationship', seq: 0, reason: 'error' })

    const hung = await review(events, { careRelationship: () => new Promise<boolean>(() => {}) }, {}, 20)
    expect(hung.unknown.total).toBe(4)
    expect(hung.unknown.events.map((u) => u.reason)).toEqual(['timeout', 'timeout', 'timeout', 'timeout'])
    const rejected = await review(events, { careRelationship: () => Promise.reject(new Error('x')) })
    expect(rejected.unknown.events.map((u) => u.reason)).toEqual(['error', 'error', 'error', 'error'])
  })

  it('restricted patients: the rules list and the resolver, with their allow lists', async () => {
    const evs = [
      access(NOON, 'dr-a', 'vip-1'),
      access(NOON + 1000, 'dr-b', 'vip-1'),
      access(NOON + 2000, 'dr-a', 'vip-2'),
    ]
    const r = await review(
      evs,
      { restricted: (p) => (p === 'vip-2' ? [] : undefined) },
      { restricted: { 'vip-1': ['dr-b'] } },
    )
    expect(detectors(r)).toEqual(['restricted-patient dr-a 0', 'restricted-patient dr-a 2'])
  })
})

describe('off-hours', () => {
  const at = (iso: string, who = 'dr-a', roles?: string[]) =>
    access(Date.parse(iso), who, 'p1', roles ? { roles } : {})

  it('in the site time zone, across the repeated hour of a daylight saving change', async () => {
    const rules = { timeZone: 'America/New_York' }
    const evs = [
      at('2026-11-01T05:30:00.000Z', 'u1'), // 01:30 EDT (first pass)
      at('2026-11-01T06:30:00.000Z', 'u2'), // 01:30 EST (second pass)
      at('2026-11-01T10:59:00.000Z', 'u3'), // 05:59 EST: night
      at('2026-11-01T11:00:00.000Z', 'u4'), // 06:00 EST: day
      at('2026-11-02T02:59:00.000Z', 'u5'), // 21:59 EST: day
      at('2026-11-02T03:00:00.000Z', 'u6'), // 22:00 EST: night
    ]
    const r = await review(evs, {}, rules)
    expect(r.findings.map((f) => f.who)).toEqual(['u1', 'u2', 'u3', 'u6'])
    const utc = await review(evs, {})
    expect(utc.findings.map((f) => f.who)).toEqual(['u1', 'u5', 'u6']) // the same instants in UTC (the default)
  })

  it('schedules by role and by user, or from a resolver, cover night work; accesses within an hour are one episode', async () => {
    const rules = {
      schedules: {
        roles: { 'night-nurse': [{ from: '19:00', to: '07:30' }] },
        users: { 'dr-x': [{ from: '23:00', to: '01:00', days: [1] }] },
      },
    }
    const evs = [
      at('2026-03-03T02:00:00.000Z', 'n1', ['nurse', 'night-nurse']), // Tue 02:00, night shift
      at('2026-03-02T23:30:00.000Z', 'dr-x'), // Mon 23:30: covered
      at('2026-03-03T00:30:00.000Z', 'dr-x'), // Tue 00:30: the Monday shift, covered
      at('2026-03-03T23:30:00.000Z', 'dr-x'), // Tue 23:30: not covered
      at('2026-03-04T00:10:00.000Z', 'dr-x'), // same episode
      at('2026-03-04T01:30:00.000Z', 'dr-y'),
    ]
    const r = await review(evs, {}, rules)
    expect(r.findings.map((f) => [f.who, f.count, f.seqs])).toEqual([
      ['dr-x', 2, [3, 4]],
      ['dr-y', 1, [5]],
    ])
    const resolved = await review(
      evs,
      { schedule: (who) => (who === 'dr-y' ? [{ from: 0, to: 1440 }] : undefined) },
      rules,
    )
    expect(resolved.findings.map((f) => f.who)).toEqual(['dr-x'])
    expect(shiftsCover([{ from: 1140, to: 450, days: [1] }], 120, 2)).toBe(true)
    expect(shiftsCover([{ from: 1140, to: 450, days: [1] }], 120, 1)).toBe(false)
  })
})
