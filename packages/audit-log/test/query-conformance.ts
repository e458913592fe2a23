/**
 * What every store's query path must satisfy, shared by the file store's and PostgreSQL's tests:
 * a seeded mix of events (patients, users, types, actions, outcomes, times), and a check that every
 * query answers exactly what a scan of the records answers (the index may only make it faster).
 */
import { expect } from 'vitest'
import type { AuditEvent, AuditLog, AuditQuery, AuditStore } from '../src/index.js'
import { queryLog } from '../src/index.js'

/** mulberry32: the same mix on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Event `i` of the seeded mix: 40 patients, 12 users, sign-ins without a patient, a few services. */
export function mixedEvent(i: number, seed = 7): AuditEvent {
  const r = prng(seed * 1_000_003 + i)
  const user = `Practitioner/${Math.floor(r() * 12)}`
  const signIn = r() < 0.15
  const outcome = ([0, 0, 0, 4, 8] as const)[Math.floor(r() * 5)] ?? 0
  if (signIn)
    return {
      type: '110114',
      subtype: ['110122'],
      action: 'E',
      outcome,
      agents: [
        { who: user, requestor: true, type: 'humanuser', network: { address: `10.0.0.${i % 7}`, type: '2' } },
      ],
      source: { observer: 'ehr-api' },
    }
  const agents: AuditEvent['agents'] = [{ who: user, requestor: true, type: 'humanuser', role: ['doctor'] }]
  if (r() < 0.2) agents.push({ who: 'Device/gateway', requestor: false, type: 'application' })
  return {
    type: 'rest',
    subtype: ['read'],
    action: (['C', 'R', 'R', 'R', 'U', 'D'] as const)[Math.floor(r() * 6)] ?? 'R',
    outcome,
    agents,
    source: { observer: 'ehr-api' },
    patient: `Patient/${Math.floor(r() * 40)}`,
    entities: [{ what: `Observation/${i}`, type: '2', role: '4' }],
  }
}

/** Appends `n` events of the mix. */
export async function appendMix(log: AuditLog, n: number, from = 0, seed = 7): Promise<void> {
  const pending: Promise<unknown>[] = []
  for (let i = from; i < from + n; i++) pending.push(log.append(mixedEvent(i, seed)))
  await Promise.all(pending)
}

/** Queries that exercise every filter, alone and together, with paging. */
export function conformanceQueries(recordedTimes: readonly string[]): AuditQuery[] {
  const mid = recordedTimes[Math.floor(recordedTimes.length / 2)] ?? '2026-01-01T00:00:00.000Z'
  const late = recordedTimes[Math.floor((recordedTimes.length * 3) / 4)] ?? mid
  return [
    {},
    { patient: 'Patient/3' },
    { patient: 'Patient/39' },
    { patient: 'Patient/404' },
    { who: 'Practitioner/5' },
    { who: 'Device/gateway' },
    { who: 'Practitioner/5', patient: 'Patient/3' },
    { patient: 'Patient/3', action: 'R', outcome: 0 },
    { type: '110114', outcome: 8 },
    { who: 'Practitioner/2', type: '110114' },
    { patient: 'Patient/7', from: mid },
    { patient: 'Patient/7', to: mid },
    { who: 'Practitioner/1', from: mid, to: late },
    { patient: 'Patient/3', after: 100 },
    { patient: 'Patient/3', limit: 3 },
    { who: 'Practitioner/5', after: 50, limit: 4 },
  ]
}

/** Rows of a query as [seq, patient] pairs (enough to compare two answers exactly). */
export async function rows(store: AuditStore, q: AuditQuery, scan: boolean): Promise<number[]> {
  const out: number[] = []
  for await (const r of await queryLog(store, q, { scan })) out.push(r.seq)
  return out
}

/** Every conformance query gives the same rows with the index as by scanning, and the scan is right. */
export async function expectQueriesMatchScan(store: AuditStore): Promise<number> {
  const all = await queryLog(store, {}, { scan: true })
  const records = []
  for await (const r of all) records.push(r)
  const times = records.map((r) => r.record.recorded)
  let checked = 0
  for (const q of conformanceQueries(times)) {
    const scanned = await rows(store, q, true)
    // The scan itself against a plain filter over the parsed records (the definition of a match).
    const expected = records
      .filter((r) => {
        const e = r.record.event
        return (
          (q.patient === undefined || e.patient === q.patient) &&
          (q.who === undefined || e.agents.some((a) => a.who === q.who)) &&
          (q.type === undefined || e.type === q.type) &&
          (q.action === undefined || e.action === q.action) &&
          (q.outcome === undefined || e.outcome === q.outcome) &&
          (q.from === undefined || r.record.recorded >= String(q.from)) &&
          (q.to === undefined || r.record.recorded < String(q.to)) &&
          r.seq > (q.after ?? -1)
        )
      })
      .map((r) => r.seq)
      .slice(0, q.limit ?? Number.POSITIVE_INFINITY)
    expect(scanned, JSON.stringify(q)).toEqual(expected)
    expect(await rows(store, q, false), JSON.stringify(q)).toEqual(scanned)
    checked++
  }
  return checked
}
