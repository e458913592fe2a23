/**
 * Episodes of one detector: per key, a sliding window (count and distinct detectors) and the open
 * episode. An episode opens at the record that meets the threshold, cites the window's records,
 * and extends with every qualifying record less than `W` after the previous one; it closes (and
 * becomes a finding) once stream time reaches its last record + `W`.
 */
import type { Finding } from '../finding.js'
import { findingId, MAX_CITED } from '../finding.js'
import type { DetectorRule } from '../rules.js'
import { WindowDeque } from './window.js'

interface Episode {
  readonly firstSeq: number
  readonly fromT: number
  lastT: number
  count: number
  readonly seqs: number[]
  readonly patients: string[]
  readonly seen: Set<string>
}

interface KeyState {
  readonly win: WindowDeque | undefined
  lastT: number
  episode: Episode | undefined
  readonly who: string | undefined
  readonly address: string | undefined
}

const iso = (t: number): string => new Date(t).toISOString()

function cite(e: Episode, seq: number, patient: string | undefined): void {
  e.count++
  if (e.seqs.length < MAX_CITED) e.seqs.push(seq)
  if (patient !== undefined && patient !== '' && !e.seen.has(patient) && e.patients.length < MAX_CITED) {
    e.seen.add(patient)
    e.patients.push(patient)
  }
}

/** The episodes of one detector. */
export class DetectorEpisodes {
  private readonly keys = new Map<string, KeyState>()
  private readonly rule: DetectorRule
  private readonly stream: string
  private readonly emit: (f: Finding) => void
  private readonly announce: ((f: Finding) => void) | undefined

  constructor(
    rule: DetectorRule,
    stream: string,
    emit: (f: Finding) => void,
    announce?: (f: Finding) => void,
  ) {
    this.rule = rule
    this.stream = stream
    this.emit = emit
    this.announce = announce
  }

  /** Number of keys held (the state size). */
  get size(): number {
    return this.keys.size
  }

  /**
   * A qualifying event at stream time `t` (non-decreasing across calls), grouped by `key` (account,
   * address, user, or user and patient); `value` is what a distinct detector counts.
   */
  signal(
    t: number,
    seq: number,
    key: string,
    value: string,
    who: string | undefined,
    address: string | undefined,
    patient: string | undefined,
  ): void {
    const w = this.rule.windowMs
    let st = this.keys.get(key)
    if (st === undefined) {
      const win = this.rule.kind === 'event' ? undefined : new WindowDeque(this.rule.kind === 'distinct')
      st = { win, lastT: t, episode: undefined, who, address }
      this.keys.set(key, st)
    }
    if (st.episode !== undefined && t - st.episode.lastT >= w) this.close(key, st)
    st.lastT = t
    st.win?.push(t, seq, value, w)
    if (st.episode !== undefined) {
      st.episode.lastT = t
      cite(st.episode, seq, patient)
    } else if ((st.win === undefined ? 1 : st.win.measure) >= this.rule.threshold) {
      st.episode = this.open(st, t, seq, patient)
      this.announce?.(this.finding(key, st, st.episode))
    }
  }

  private open(st: KeyState, t: number, seq: number, patient: string | undefined): Episode {
    const cited = st.win?.entries()
    const e: Episode = {
      firstSeq: cited?.seqs[0] ?? seq,
      fromT: cited?.ts[0] ?? t,
      lastT: t,
      count: 0,
      seqs: [],
      patients: [],
      seen: new Set(),
    }
    if (cited === undefined) cite(e, seq, patient)
    else {
      const patients = this.rule.name === 'password-spray' ? undefined : cited.vals
      for (let i = 0; i < cited.seqs.length; i++) cite(e, cited.seqs[i] as number, patients?.[i])
    }
    return e
  }

  private close(key: string, st: KeyState): void {
    const e = st.episode as Episode
    st.episode = undefined
    this.emit(this.finding(key, st, e))
  }

  private finding(key: string, st: KeyState, e: Episode): Finding {
    const { name, hash, severity } = this.rule
    return {
      id: findingId(this.stream, name, hash, key, e.firstSeq),
      detector: name,
      severity,
      ...(st.who !== undefined ? { who: st.who } : {}),
      ...(st.address !== undefined ? { address: st.address } : {}),
      ...(e.patients.length > 0 ? { patients: [...e.patients] } : {}),
      from: iso(e.fromT),
      to: iso(e.lastT),
      count: e.count,
      seqs: [...e.seqs],
    }
  }

  /** Closes the episodes, and forgets the keys, that nothing at or after stream time `t` can extend. */
  sweep(t: number): void {
    const w = this.rule.windowMs
    for (const [key, st] of this.keys) {
      if (t - st.lastT < w) continue
      if (st.episode !== undefined) this.close(key, st)
      this.keys.delete(key)
    }
  }

  /** Closes every open episode (end of the reviewed range) and forgets every key. */
  flush(): void {
    for (const [key, st] of this.keys) if (st.episode !== undefined) this.close(key, st)
    this.keys.clear()
  }
}
