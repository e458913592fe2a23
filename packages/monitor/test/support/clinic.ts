/**
 * A seeded generator of clinic traffic (mulberry32): staff on day and night shifts in care teams,
 * patients, sign-ins with the odd typo, chart reads, denials, emergency (BTG) accesses, staff who
 * are patients, VIPs; and planted incidents of every detector's kind with near misses at
 * threshold − 1 and at exactly the window, labelled with the findings they must produce.
 */

import { prng } from '../../../../scripts/test-support/prng.js'
import type { DetectorName, Resolvers } from '../../src/index.js'
import type { Ev } from './records.js'

export const ZONE = 'America/New_York'
const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR

const OFFSET = new Intl.DateTimeFormat('en-US', { timeZone: ZONE, timeZoneName: 'longOffset' })

/** The zone's UTC offset at instant `t`, in ms (from the "GMT-04:00" name). */
function offsetAt(t: number): number {
  const name = OFFSET.formatToParts(t).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT'
  const m = /GMT([+-])(\d\d):(\d\d)/.exec(name)
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * HOUR + Number(m[3]) * MIN) : 0
}

/** UTC instant of a wall-clock time in {@link ZONE} (independent of the package's own code). */
export function zoned(day: number, hh: number, mm: number, start: number): number {
  const base = new Date(start + day * DAY)
  const wall = Date.UTC(base.getUTCFullYear(), base.getUTCMonth(), base.getUTCDate(), hh, mm)
  return wall - offsetAt(wall - offsetAt(wall))
}

/** A finding the generator expects: this detector, citing this seq-carrying event. */
export interface Expectation {
  detector: DetectorName
  /** Index (in the generated event list) of an event the finding must cite. */
  event: number
  label: string
}

export interface Staff {
  who: string
  team: number
  night: boolean
  address: string
}

export interface Clinic {
  events: Ev[]
  expectations: Expectation[]
  /** Near misses planted (for the report). */
  nearMisses: number
  /** Events written by the planted incidents and near misses. */
  plantedEvents: number
  resolvers: Required<Pick<Resolvers, 'careRelationship' | 'staffPatient'>>
  rules: Record<string, unknown>
}

interface Builder {
  rand: () => number
  start: number
  raw: { e: Ev; tag?: Expectation[] }[]
  teamOf: Map<string, number>
  staffPatient: Map<string, string>
  expectations: { detector: DetectorName; ref: Ev; label: string }[]
  nearMisses: number
}

const pick = <T>(b: Builder, xs: readonly T[]): T => xs[Math.floor(b.rand() * xs.length)] as T
const emit = (b: Builder, e: Ev): Ev => {
  b.raw.push({ e })
  return e
}
const expect_ = (b: Builder, detector: DetectorName, ref: Ev, label: string): void => {
  b.expectations.push({ detector, ref, label })
}

export const TEAMS = 4
export const PATIENTS_PER_TEAM = 80
export const patientsOf = (team: number): string[] =>
  Array.from({ length: PATIENTS_PER_TEAM }, (_, i) => `Patient/${team}-${i}`)
export const VIP = 'Patient/0-0'

const DAY_STAFF = 9
const staffPatientOf = (team: number): string => `Patient/${team}-1`

function staffList(): Staff[] {
  const out: Staff[] = []
  for (let t = 0; t < TEAMS; t++) {
    for (let k = 0; k < DAY_STAFF; k++)
      out.push({ who: `Practitioner/d${t}-${k}`, team: t, night: false, address: `10.0.${t}.${10 + k}` })
    out.push({ who: `Practitioner/n${t}`, team: t, night: true, address: `10.0.${t}.99` })
  }
  return out
}

/** Who may read the VIP: team 0's regular staff. */
const vipAllowed = (who: string): boolean => who.startsWith('Practitioner/d0-') || who === 'Practitioner/n0'

function readable(b: Builder, s: Staff): string {
  for (;;) {
    const p = pick(b, patientsOf(s.team))
    if (p === VIP && !vipAllowed(s.who)) continue
    if (b.staffPatient.get(p) === s.who) continue
    return p
  }
}

function shift(b: Builder, s: Staff, day: number): void {
  const roles = s.night ? ['nurse', 'night-nurse'] : ['doctor']
  const from = s.night ? zoned(day, 19, 30, b.start) : zoned(day, 8, 0, b.start)
  const to = s.night ? zoned(day + 1, 6, 50, b.start) : zoned(day, 17, 59, b.start)
  let t = from + Math.floor(b.rand() * 30 * MIN)
  const base = { who: s.who, address: s.address, roles }
  if (b.rand() < 0.05) {
    const typos = 1 + Math.floor(b.rand() * 2)
    for (let i = 0; i < typos; i++) {
      t += MIN
      emit(b, { ...base, t, kind: 'sign-in', outcome: 4 })
    }
  }
  t += MIN
  emit(b, { ...base, t, kind: 'sign-in', outcome: 0 })
  const reads = 8 + Math.floor(b.rand() * 8)
  for (let i = 0; i < reads; i++) {
    const at = t + 5 * MIN + Math.floor(b.rand() * (to - t - 5 * MIN))
    emit(b, { ...base, t: at, kind: 'access', patient: readable(b, s) })
  }
  if (b.rand() < 0.3) {
    const at = t + Math.floor(b.rand() * (to - t))
    emit(b, {
      ...base,
      t: at,
      kind: 'access',
      outcome: 4,
      patient: pick(b, patientsOf((s.team + 1) % TEAMS)),
    })
  }
  emit(b, { ...base, t: t + 2 * MIN, kind: 'other' })
}

function background(b: Builder, days: number): void {
  const staff = staffList()
  for (let day = 0; day < days; day++) {
    const working = staff.filter(() => b.rand() < 5 / 7)
    for (const s of working) shift(b, s, day)
    // One emergency access a day, by one day-shift worker, to another team's (ordinary) patient.
    const day_ = working.filter((s) => !s.night)
    if (day_.length === 0) continue
    const s = pick(b, day_)
    const p = `Patient/${(s.team + 2) % TEAMS}-${10 + Math.floor(b.rand() * 60)}`
    emit(b, { ...doctorRead(s, zoned(day, 12, 30, b.start), p), btg: true })
  }
}

let serial = 0
/** The requestor fields of a staff member. */
const by = (u: Staff): { who: string; address: string } => ({ who: u.who, address: u.address })

/** A chart read by a doctor (`u`'s requestor fields) of `patient` at `t`. */
const doctorRead = (u: { who: string; address: string }, t: number, patient: string): Ev => ({
  who: u.who,
  address: u.address,
  roles: ['doctor'],
  t,
  kind: 'access',
  patient,
})

function incidentUser(team: number): Staff {
  serial++
  return { who: `Practitioner/x${team}-${serial}`, team, night: false, address: `10.9.${team}.${serial}` }
}

type Plant = (b: Builder, day: number, variant: 'hit' | 'below' | 'edge') => void

/** `n` events from `make(i)` at `at(i)`; returns them. */
function series(b: Builder, n: number, at: (i: number) => number, make: (i: number, t: number) => Ev): Ev[] {
  return Array.from({ length: n }, (_, i) => emit(b, make(i, at(i))))
}

/** Times for a burst: `n` events within the window (hit, below) or spanning exactly `w` (edge). */
function burstTimes(
  t0: number,
  n: number,
  w: number,
  variant: 'hit' | 'below' | 'edge',
): (i: number) => number {
  if (variant === 'edge') return (i) => (i === n - 1 ? t0 + w : t0 + i * Math.floor(w / (2 * n)))
  return (i) => t0 + i * Math.floor((w * 0.9) / n)
}

/** A burst of `n` events (one fewer for `below`, spanning exactly the window for `edge`). */
function burst(
  b: Builder,
  variant: 'hit' | 'below' | 'edge',
  detector: DetectorName,
  n: number,
  t0: number,
  make: (i: number, t: number) => Ev,
): void {
  const k = variant === 'below' ? n - 1 : n
  const evs = series(b, k, burstTimes(t0, k, 10 * MIN, variant), make)
  if (variant === 'hit') expect_(b, detector, evs[k - 1] as Ev, `${detector} ${evs[0]?.who}`)
}

const failedSignIns: Plant = (b, day, variant) => {
  const u = incidentUser(1)
  burst(b, variant, 'failed-sign-in-burst', 5, zoned(day, 10, 0, b.start), (_, t) => ({
    ...by(u),
    t,
    kind: 'sign-in',
    outcome: 4,
  }))
}

const spray: Plant = (b, day, variant) => {
  serial++
  const address = `203.0.113.${serial}`
  burst(b, variant, 'password-spray', 10, zoned(day, 3, 0, b.start), (i, t) => ({
    who: `acct-${serial}-${i}`,
    address,
    t,
    kind: 'sign-in',
    outcome: 8,
  }))
}

const denied: Plant = (b, day, variant) => {
  const u = incidentUser(3)
  burst(b, variant, 'denied-burst', 10, zoned(day, 15, 0, b.start), (i, t) => ({
    ...by(u),
    t,
    kind: 'access',
    outcome: 8,
    patient: `Patient/0-${20 + i}`,
  }))
}

const bulk: Plant = (b, day, variant) => {
  const u = incidentUser(2)
  const patients = patientsOf(2).slice(5)
  const n = variant === 'below' ? 70 : 50
  const distinct = variant === 'below' ? 49 : 50
  const t0 = zoned(day, 10, 0, b.start)
  const at = variant === 'edge' ? burstTimes(t0, n, HOUR, 'edge') : (i: number) => t0 + i * 50_000
  const evs = series(b, n, at, (i, t) => ({
    ...by(u),
    roles: ['doctor'],
    t,
    kind: 'access',
    patient: patients[i % distinct] as string,
  }))
  if (variant === 'hit') expect_(b, 'bulk-access', evs[n - 1] as Ev, `bulk ${u.who}`)
}

const offHours: Plant = (b, day, variant) => {
  const u = incidentUser(3)
  const ps = patientsOf(3)
  const base = { ...by(u), roles: ['doctor'], kind: 'access' as const }
  if (variant === 'hit') {
    const t0 = zoned(day, 23, 10, b.start)
    const evs = series(
      b,
      3,
      (i) => t0 + i * 15 * MIN,
      (i, t) => ({ ...base, t, patient: ps[30 + i] as string }),
    )
    expect_(b, 'off-hours-access', evs[0] as Ev, `night ${u.who}`)
  } else if (variant === 'below')
    emit(b, { ...base, t: zoned(day, 21, 59, b.start), patient: ps[31] as string })
  else emit(b, { ...base, t: zoned(day, 6, 0, b.start), patient: ps[32] as string })
}

const emergency: Plant = (b, day, variant) => {
  const u = incidentUser(0)
  const base = { ...by(u), roles: ['doctor'], kind: 'access' as const, btg: true }
  const t0 = zoned(day, 9, 0, b.start)
  const ps = ['Patient/1-40', 'Patient/2-41', 'Patient/3-42']
  const steps =
    variant === 'edge'
      ? [0, 12 * HOUR, 24 * HOUR]
      : variant === 'below'
        ? [0, HOUR, 2 * HOUR, 3 * HOUR]
        : [0, 2 * HOUR, 5 * HOUR]
  const evs = series(
    b,
    steps.length,
    (i) => t0 + (steps[i] as number),
    (i, t) => ({ ...base, t, patient: ps[variant === 'below' ? i % 2 : i] as string }),
  )
  if (variant === 'hit') expect_(b, 'emergency-access-overuse', evs[2] as Ev, `btg ${u.who}`)
}

const dormant: Plant = (b, day, variant) => {
  const u = incidentUser(1)
  const t0 = zoned(day, 9, 0, b.start)
  const gap = variant === 'below' ? 90 * DAY - MIN : variant === 'edge' ? 90 * DAY : 92 * DAY
  const base = { ...by(u), kind: 'sign-in' as const, outcome: 0 as const }
  emit(b, { ...base, t: t0 })
  const back = emit(b, { ...base, t: t0 + gap })
  // At exactly 90 days the window holds no event: dormant (the issue: exactly at the threshold fires).
  if (variant !== 'below') expect_(b, 'dormant-account', back, `dormant ${u.who} ${variant}`)
}

const noCare: Plant = (b, day, variant) => {
  const u = incidentUser(1)
  const base = { ...by(u), roles: ['doctor'], kind: 'access' as const }
  const t0 = zoned(day, 11, 0, b.start)
  if (variant === 'hit') {
    const evs = series(
      b,
      2,
      (i) => t0 + i * 20 * MIN,
      (_, t) => ({ ...base, t, patient: 'Patient/2-50' }),
    )
    expect_(b, 'no-care-relationship', evs[0] as Ev, `no-care ${u.who}`)
  } else if (variant === 'below') emit(b, { ...base, t: t0, patient: 'Patient/2-51', btg: true })
  else emit(b, { ...base, t: t0, patient: 'Patient/1-51' })
}

const restricted: Plant = (b, day, variant) => {
  const u = incidentUser(0)
  const t0 = zoned(day, 14, 0, b.start)
  if (variant === 'hit') {
    const e = emit(b, doctorRead(u, t0, VIP))
    expect_(b, 'restricted-patient', e, `vip ${u.who}`)
  } else emit(b, doctorRead({ who: 'Practitioner/d0-3', address: '10.0.0.13' }, t0, VIP))
}

const selfOrCoworker: Plant = (b, day, variant) => {
  const t0 = zoned(day, 16, 0, b.start)
  if (variant === 'hit') {
    const u = incidentUser(1)
    const own = `Patient/1-s${serial}` // the user's own record, cared for by the user's own team
    b.staffPatient.set(own, u.who)
    const e = emit(b, doctorRead(u, t0, own))
    expect_(b, 'self-or-coworker', e, `self ${u.who}`)
  } else if (variant === 'below') {
    // A coworker's record read by someone outside the coworker's care team: two findings.
    const u = incidentUser(2)
    const e = emit(b, doctorRead(u, t0, staffPatientOf(1)))
    expect_(b, 'self-or-coworker', e, `coworker ${u.who}`)
    expect_(b, 'no-care-relationship', e, `coworker ${u.who}`)
  } else {
    // Near miss: a coworker's record read by the coworker's care team (explained).
    const u = incidentUser(1)
    emit(b, doctorRead(u, t0, staffPatientOf(1)))
  }
}

const PLANTS: readonly [DetectorName, Plant][] = [
  ['failed-sign-in-burst', failedSignIns],
  ['password-spray', spray],
  ['bulk-access', bulk],
  ['denied-burst', denied],
  ['off-hours-access', offHours],
  ['emergency-access-overuse', emergency],
  ['dormant-account', dormant],
  ['no-care-relationship', noCare],
  ['restricted-patient', restricted],
  ['self-or-coworker', selfOrCoworker],
]

/** The clinic over `days` days (≥ 100) from 2026-09-01 (it crosses the end of daylight saving time). */
export function generateClinic(seed: number, days = 100): Clinic {
  serial = 0
  const b: Builder = {
    rand: prng(seed),
    start: Date.UTC(2026, 8, 1),
    raw: [],
    teamOf: new Map(),
    staffPatient: new Map(),
    expectations: [],
    nearMisses: 0,
  }
  for (let t = 0; t < TEAMS; t++) b.staffPatient.set(staffPatientOf(t), `Practitioner/d${t}-0`)
  background(b, days)
  const before = b.raw.length
  PLANTS.forEach(([name, plant], k) => {
    for (let round = 0; round < 3; round++) {
      const variant = (['hit', 'below', 'edge'] as const)[round] as 'hit' | 'below' | 'edge'
      // Dormant incidents need 90 days after them; the others spread over the period.
      const day = name === 'dormant-account' ? 1 + round : 5 + ((k * 9 + round * 29) % (days - 10))
      plant(b, day, variant)
      if (variant !== 'hit') b.nearMisses++
      if (name !== 'dormant-account' && round === 0) plant(b, 5 + ((day + 40) % (days - 10)), 'hit')
    }
  })
  const plantedEvents = b.raw.length - before
  b.raw.sort((x, y) => x.e.t - y.e.t)
  const events = b.raw.map((r) => r.e)
  const index = new Map(events.map((e, i) => [e, i]))
  const teamOfWho = (who: string): number | undefined => {
    const m = /^Practitioner\/[a-z](\d)/.exec(who)
    return m ? Number(m[1]) : undefined
  }
  return {
    events,
    expectations: b.expectations.map((x) => ({
      detector: x.detector,
      event: index.get(x.ref) as number,
      label: x.label,
    })),
    nearMisses: b.nearMisses,
    plantedEvents,
    resolvers: {
      careRelationship: (who, patient) => teamOfWho(who) === Number(/^Patient\/(\d)/.exec(patient)?.[1]),
      staffPatient: (patient) => b.staffPatient.get(patient),
    },
    rules: {
      version: 1,
      timeZone: ZONE,
      schedules: { roles: { 'night-nurse': [{ from: '19:00', to: '07:30' }] } },
      restricted: {
        [VIP]: staffList()
          .filter((s) => vipAllowed(s.who))
          .map((s) => s.who),
      },
    },
  }
}
