/**
 * The monitor: a push engine. `feed(records)` takes records in seq order (any chunking),
 * `flush()` closes the episodes still open at the end of the reviewed range. Decisions depend only
 * on the seq-ordered prefix, so a batch run over a range and a follower feeding the same records
 * as they arrive give the same findings; the wall clock is used only for resolver timeouts.
 *
 * Time: the stream time is the greatest event time seen so far; windows are measured in stream
 * time, so a record that arrives out of order counts at the stream time (records more than two
 * minutes behind are counted as `late`). State is bounded by the windows: keys idle for a
 * window are forgotten (every 4,096 seqs), so memory is flat in the log's length (the
 * dormant-account detector keeps one timestamp per account).
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review; 164.308(a)(5)(ii)(C) log-in
 * monitoring; 164.308(a)(6)(ii) identifying suspected security incidents.
 *
 * @module
 */
import type { DetectorName } from './detectors.js'
import { MonitorOrderError } from './errors.js'
import { compareFindings, type Finding } from './finding.js'
import { type AccessQuestions, decide, pending, settle, settled, type Verdicts } from './internal/access.js'
import { DetectorEpisodes } from './internal/episodes.js'
import { Resolver } from './internal/resolve.js'
import { type NormalEvent, normalizeStored, type RecordProblem } from './normalize.js'
import { defaultRules, type RuleSet } from './rules.js'
import { inRange, type LocalClock, localTimeIn, type Shift, shiftsCover } from './schedule.js'

/**
 * The app's explanations. Each may answer synchronously or with a promise; a resolver that throws,
 * rejects or exceeds `resolverTimeoutMs` makes its detector report `unknown` for that event.
 * Asynchronous answers are cached per arguments (up to 65,536): serve them from a stable snapshot.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review (explain first, then flag).
 *
 * @example
 * ```ts
 * const resolvers: Resolvers = {
 *   careRelationship: (who, patient) => careTeams.has(`${who} ${patient}`),
 *   staffPatient: (patient) => staffByPatientId.get(patient),
 * }
 * ```
 */
export interface Resolvers {
  /** Whether `who` has a care relationship with `patient` (no-care-relationship, coworker). */
  careRelationship?: (who: string, patient: string) => boolean | Promise<boolean>
  /** The staff member (`who`) this patient is, or `undefined` (self-or-coworker). */
  staffPatient?: (patient: string) => string | undefined | Promise<string | undefined>
  /** The user's shifts (off-hours); `undefined` falls back to the rules' schedules. */
  schedule?: (
    who: string,
    roles: readonly string[],
  ) => readonly Shift[] | undefined | Promise<readonly Shift[] | undefined>
  /** The allow list of a restricted patient, `undefined` when not restricted (restricted-patient). */
  restricted?: (patient: string) => readonly string[] | undefined | Promise<readonly string[] | undefined>
}

/** Options of {@link createMonitor}. */
export interface MonitorOptions {
  /** The stream reviewed (part of every finding id; records naming another stream are problems). */
  stream: string
  /** Default: {@link defaultRules}. */
  rules?: RuleSet
  resolvers?: Resolvers
  /** How long an asynchronous resolver may take (default 5,000 ms). */
  resolverTimeoutMs?: number
  /** Called with each finding when its episode closes. */
  onFinding?: (finding: Finding) => void
  /**
   * Called when an episode opens, with the finding as it stands then (its id is final; `to`,
   * `count` and `seqs` may still grow). For alerts that should not wait for the window to pass.
   */
  onOpen?: (finding: Finding) => void
  /**
   * Keep every finding for `result()` (default true). A long follow sets false: findings then only
   * go to `onFinding` and `feed`'s answer, and memory stays flat however many there are.
   */
  keepFindings?: boolean
  /** Review only events at or after this time (ms since the epoch); earlier ones are skipped. */
  since?: number
}

/** An event a detector could not decide because a resolver failed. */
export interface UnknownEvent {
  readonly detector: DetectorName
  readonly seq: number
  /** The resolver threw or rejected (`error`), or did not answer in time (`timeout`). */
  readonly reason: 'error' | 'timeout'
}

/**
 * What a review found and how much it covered.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review (coverage and findings, codes and seqs only).
 *
 * @example
 * ```ts
 * const r: MonitorResult = monitor.result()
 * console.log(r.records, r.findings.length, r.unknown.total)
 * ```
 */
export interface MonitorResult {
  readonly stream: string
  /** The rule set's hash. */
  readonly rules: string
  /** Records fed (damaged ones included). */
  readonly records: number
  /** First and last seq fed (`null` when nothing was fed). */
  readonly firstSeq: number | null
  readonly lastSeq: number | null
  /** Records more than two minutes behind the stream time. */
  readonly late: number
  /** Closed findings, in output order (none kept with `keepFindings: false`). */
  readonly findings: readonly Finding[]
  /** Damaged records: the first 1,000. */
  readonly problems: readonly RecordProblem[]
  /** How many records were damaged in all. */
  readonly damaged: number
  /** Events left undecided by failing resolvers: counts per detector and the first 1,000. */
  readonly unknown: {
    readonly total: number
    readonly byDetector: Readonly<Partial<Record<DetectorName, number>>>
    readonly events: readonly UnknownEvent[]
  }
}

/**
 * A running monitor.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review.
 *
 * @example
 * ```ts
 * const m = createMonitor({ stream: store.stream })
 * for await (const batch of store.readBatches!(0)) await m.feed(batch)
 * m.flush()
 * console.log(m.result().findings)
 * ```
 */
export interface Monitor {
  /**
   * Reviews records, in increasing seq order (any chunking). Resolves with the findings whose
   * episodes closed meanwhile. Await each call before the next: with asynchronous resolvers, two
   * feeds running at once would interleave.
   *
   * @throws {MonitorOrderError} when a seq is not greater than the last one fed.
   */
  feed(records: Iterable<{ readonly seq: number; readonly bytes: Uint8Array }>): Promise<Finding[]>
  /** Closes every open episode (the end of the range) and returns their findings. */
  flush(): Finding[]
  /** Everything found so far. */
  result(): MonitorResult
  /** How many keys the detectors hold (state size; bounded by the windows). */
  stateSize(): number
}

const LATENESS_MS = 120_000
/** The detectors decided per access from the resolvers (and the rules' lists and schedules). */
const RESOLVED: readonly DetectorName[] = [
  'off-hours-access',
  'no-care-relationship',
  'restricted-patient',
  'self-or-coworker',
]
const SWEEP_EVERY = 4096
const MAX_UNKNOWN_LISTED = 1000
const MAX_PROBLEMS_LISTED = 1000

type Episodes = Partial<Record<DetectorName, DetectorEpisodes>>

class MonitorEngine implements Monitor {
  private readonly rules: RuleSet
  private readonly det: Episodes = {}
  private readonly found: Finding[] = []
  private closed: Finding[] = []
  private readonly problems: RecordProblem[] = []
  private readonly lastSeen = new Map<string, number>()
  private readonly unknownBy: Partial<Record<DetectorName, number>> = {}
  private readonly unknownEvents: UnknownEvent[] = []
  private readonly localTime: LocalClock
  private readonly care: Resolver<boolean> | undefined
  private readonly staff: Resolver<string | undefined> | undefined
  private readonly schedule: Resolver<readonly Shift[] | undefined> | undefined
  private readonly restricted: Resolver<readonly string[] | undefined> | undefined
  private readonly resolverChecks: boolean
  /** The rules' restricted patients (a Map: no property lookup by an arbitrary string per access). */
  private readonly restrictedList: Map<string, readonly string[]>
  private now = Number.NEGATIVE_INFINITY
  private records = 0
  private late = 0
  private damaged = 0
  private unknownTotal = 0
  private firstSeq: number | null = null
  private lastSeq: number | null = null
  private nextSweep = SWEEP_EVERY

  private readonly options: MonitorOptions

  constructor(options: MonitorOptions) {
    if (typeof options.stream !== 'string') throw new TypeError('"stream" expected a string')
    const ms = options.resolverTimeoutMs ?? 5000
    if (!(ms > 0 && ms <= 2_147_483_647))
      throw new RangeError('"resolverTimeoutMs" expected 1 ms to 2^31 - 1 ms')
    this.options = options
    this.rules = options.rules ?? defaultRules()
    const keep = options.keepFindings ?? true
    const emit = (f: Finding): void => {
      if (keep) this.found.push(f)
      this.closed.push(f)
      options.onFinding?.(f)
    }
    for (const rule of Object.values(this.rules.detectors))
      if (rule.enabled) this.det[rule.name] = new DetectorEpisodes(rule, options.stream, emit, options.onOpen)
    this.localTime = localTimeIn(this.rules.timeZone)
    this.restrictedList = new Map(Object.entries(this.rules.restricted))
    const r = options.resolvers ?? {}
    const wrap = <T>(f: ((...a: never[]) => T | Promise<T>) | undefined): Resolver<T> | undefined =>
      f === undefined ? undefined : new Resolver<T>(ms, f as (...a: string[]) => T | Promise<T>)
    this.care = wrap(r.careRelationship)
    this.staff = wrap(r.staffPatient)
    this.restricted = wrap(r.restricted)
    const sched = r.schedule
    this.schedule =
      sched === undefined
        ? undefined
        : new Resolver(ms, (who: string, roles: string) => sched(who, roles === '' ? [] : roles.split('\n')))
    const d = this.det
    this.resolverChecks =
      d['off-hours-access'] !== undefined ||
      d['restricted-patient'] !== undefined ||
      (d['no-care-relationship'] !== undefined && this.care !== undefined) ||
      (d['self-or-coworker'] !== undefined && this.staff !== undefined)
  }

  async feed(records: Iterable<{ readonly seq: number; readonly bytes: Uint8Array }>): Promise<Finding[]> {
    for (const rec of records) {
      if (this.lastSeq !== null && rec.seq <= this.lastSeq) throw new MonitorOrderError(rec.seq, this.lastSeq)
      this.lastSeq = rec.seq
      this.firstSeq ??= rec.seq
      this.records++
      const n = normalizeStored(rec, this.options.stream, this.rules.vocabulary)
      if (!n.ok) {
        this.damaged++
        if (this.problems.length < MAX_PROBLEMS_LISTED) this.problems.push(n.problem)
      } else {
        const p = this.step(n.event)
        if (p !== undefined) await p
      }
      if (rec.seq >= this.nextSweep) {
        this.nextSweep = rec.seq - (rec.seq % SWEEP_EVERY) + SWEEP_EVERY
        for (const e of Object.values(this.det)) e.sweep(this.now)
      }
    }
    const out = this.closed
    this.closed = []
    return out
  }

  flush(): Finding[] {
    for (const e of Object.values(this.det)) e.flush()
    const out = this.closed
    this.closed = []
    return out
  }

  result(): MonitorResult {
    return {
      stream: this.options.stream,
      rules: this.rules.hash,
      records: this.records,
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
      late: this.late,
      findings: [...this.found].sort(compareFindings),
      problems: [...this.problems],
      damaged: this.damaged,
      unknown: {
        total: this.unknownTotal,
        byDetector: { ...this.unknownBy },
        events: [...this.unknownEvents],
      },
    }
  }

  stateSize(): number {
    let n = this.lastSeen.size
    for (const e of Object.values(this.det)) n += e.size
    return n
  }

  private signal(
    name: DetectorName,
    t: number,
    seq: number,
    key: string,
    value: string,
    who: string | undefined,
    address?: string,
    patient?: string,
  ): void {
    this.det[name]?.signal(t, seq, key, value, who, address, patient)
  }

  private step(ev: NormalEvent): undefined | Promise<void> {
    if (this.options.since !== undefined && ev.t < this.options.since) return undefined
    if (ev.t > this.now) this.now = ev.t
    else if (ev.t < this.now - LATENESS_MS) this.late++
    const t = this.now
    const who = ev.who
    if (who === undefined) return undefined
    if (ev.kind === 'sign-in') this.signIn(ev, t, who)
    this.lastSeen.set(who, t)
    if (ev.kind !== 'access' || ev.patient === undefined) return undefined
    const patient = ev.patient
    if (ev.failed) {
      this.signal('denied-burst', t, ev.seq, who, patient, who, undefined, patient)
      return undefined
    }
    if (ev.outcome !== 0) return undefined
    this.signal('bulk-access', t, ev.seq, who, patient, who)
    if (ev.btg) this.signal('emergency-access-overuse', t, ev.seq, who, patient, who)
    return this.resolverChecks ? this.access(ev, t, who, patient) : undefined
  }

  private signIn(ev: NormalEvent, t: number, who: string): void {
    if (ev.failed) {
      this.signal('failed-sign-in-burst', t, ev.seq, who, '', who)
      if (ev.address !== undefined)
        this.signal('password-spray', t, ev.seq, ev.address, who, undefined, ev.address)
    } else if (ev.outcome === 0) {
      const dormant = this.rules.detectors['dormant-account']
      const prev = this.lastSeen.get(who)
      if (prev !== undefined && t - prev >= dormant.windowMs)
        this.signal('dormant-account', t, ev.seq, who, '', who)
    }
  }

  private questions(ev: NormalEvent, who: string, patient: string): AccessQuestions {
    const d = this.det
    const q: AccessQuestions = {}
    if (d['off-hours-access'] !== undefined) {
      if (inRange(this.localTime.minute(ev.t), this.rules.night.from, this.rules.night.to)) {
        const roles = ev.roles ?? []
        q.shifts = this.schedule?.ask(who, roles.join('\n')) ?? { v: undefined }
      }
    }
    if (d['restricted-patient'] !== undefined) {
      const listed = this.restrictedList.get(patient)
      if (listed !== undefined) q.allow = { v: listed }
      else if (this.restricted !== undefined) q.allow = this.restricted.ask(patient)
    }
    const coworker = d['self-or-coworker'] !== undefined && this.staff !== undefined
    if (coworker && this.staff !== undefined) q.staff = this.staff.ask(patient)
    if (this.care !== undefined && ((d['no-care-relationship'] !== undefined && !ev.btg) || coworker))
      q.care = this.care.ask(who, patient)
    return q
  }

  private access(ev: NormalEvent, t: number, who: string, patient: string): undefined | Promise<void> {
    const q = this.questions(ev, who, patient)
    if (!pending(q)) {
      this.apply(ev, t, who, patient, decide(ev, who, settled(q), this.covered, this.care !== undefined))
      return undefined
    }
    return settle(q).then((s) =>
      this.apply(ev, t, who, patient, decide(ev, who, s, this.covered, this.care !== undefined)),
    )
  }

  /** Whether given shifts (or, when none, the rules' shifts for the user and roles) cover the event. */
  private readonly covered = (
    ev: NormalEvent,
    who: string,
    shifts: readonly Shift[] | undefined,
  ): boolean => {
    const s = this.rules.schedules
    const all = shifts ?? [...(s.users[who] ?? []), ...(ev.roles ?? []).flatMap((r) => s.roles[r] ?? [])]
    if (all.length === 0) return false
    return shiftsCover(all, this.localTime.minute(ev.t), this.localTime.day(ev.t))
  }

  private apply(ev: NormalEvent, t: number, who: string, patient: string, verdicts: Verdicts): void {
    for (const name of RESOLVED) {
      const v = verdicts[name]
      if (v === true) {
        const key = name === 'off-hours-access' ? who : JSON.stringify([who, patient])
        this.signal(name, t, ev.seq, key, patient, who, undefined, patient)
      } else if (v === 'error' || v === 'timeout') {
        this.unknownTotal++
        this.unknownBy[name] = (this.unknownBy[name] ?? 0) + 1
        if (this.unknownEvents.length < MAX_UNKNOWN_LISTED)
          this.unknownEvents.push({ detector: name, seq: ev.seq, reason: v })
      }
    }
  }
}

/**
 * Creates a monitor. Feed it records in seq order, then `flush()` at the end of the range.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review; 164.308(a)(5)(ii)(C) log-in
 * monitoring; 164.308(a)(6)(ii) identifying suspected security incidents.
 *
 * @throws {TypeError} when `stream` is not a string.
 * @throws {RangeError} when `resolverTimeoutMs` is not between 1 ms and 2^31 − 1 ms.
 * @example
 * ```ts
 * const monitor = createMonitor({ stream: 'ehr-prod', rules: parseRules(text) })
 * await monitor.feed(records)
 * monitor.flush()
 * const { findings } = monitor.result()
 * ```
 */
export function createMonitor(options: MonitorOptions): Monitor {
  return new MonitorEngine(options)
}
