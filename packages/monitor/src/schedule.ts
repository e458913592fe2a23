/**
 * Work schedules and the site's local time, for the off-hours detector. A shift is a clock range
 * in the site's IANA time zone on some days of the week; a shift whose `from` is after its `to`
 * runs past midnight (its `days` are the days it starts). Local time comes from
 * `Intl.DateTimeFormat` for the instant itself, so the skipped and the repeated hour of a daylight
 * saving change are handled (01:30 happens twice in the autumn, never in the spring).
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review (when access is expected).
 *
 * @module
 */
import { MonitorRulesError } from './errors.js'

/**
 * One shift: minutes after local midnight, `from` inclusive, `to` exclusive; `days` 0 (Sunday)
 * to 6, every day when absent. `from === to` is a 24-hour shift.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review.
 *
 * @example
 * ```ts
 * const night: Shift = { from: 19 * 60, to: 7 * 60, days: [1, 2, 3] } // Mon–Wed nights
 * ```
 */
export interface Shift {
  readonly from: number
  readonly to: number
  readonly days?: readonly number[]
}

/** `"HH:MM"` (00:00 to 24:00) to minutes after midnight. */
export function parseClock(v: unknown, path: string): number {
  const m = typeof v === 'string' ? /^([01]\d|2[0-4]):([0-5]\d)$/.exec(v) : null
  const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : Number.NaN
  if (!(minutes <= 1440)) throw new MonitorRulesError('a clock time is "HH:MM"', path)
  return minutes
}

/** Validates a JSON list of `{ from: "HH:MM", to: "HH:MM", days?: [0..6] }`. */
export function validateShifts(v: unknown, path: string): readonly Shift[] {
  if (!Array.isArray(v)) throw new MonitorRulesError('expected an array of shifts', path)
  return v.map((s, i): Shift => {
    const p = `${path}/${i}`
    if (typeof s !== 'object' || s === null || Array.isArray(s))
      throw new MonitorRulesError('a shift is an object', p)
    const o = s as Record<string, unknown>
    for (const k of Object.keys(o).sort())
      if (!['from', 'to', 'days'].includes(k))
        throw new MonitorRulesError(`unknown member "${k}"`, `${p}/${k}`)
    const shift = { from: parseClock(o.from, `${p}/from`), to: parseClock(o.to, `${p}/to`) }
    if (o.days === undefined) return shift
    if (!Array.isArray(o.days) || !o.days.every((d) => Number.isInteger(d) && d >= 0 && d <= 6))
      throw new MonitorRulesError('days are integers 0 (Sunday) to 6', `${p}/days`)
    return { ...shift, days: [...new Set(o.days as number[])].sort() }
  })
}

const onDay = (s: Shift, day: number): boolean => s.days === undefined || s.days.includes(day)

/**
 * Whether any of `shifts` covers local minute `minute` of weekday `day`.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review.
 *
 * @throws never.
 * @example
 * ```ts
 * shiftsCover([{ from: 1140, to: 450 }], 120, 3) // true: 02:00 on a night shift
 * ```
 */
export function shiftsCover(shifts: readonly Shift[], minute: number, day: number): boolean {
  for (const s of shifts) {
    if (s.from === s.to) {
      if (onDay(s, day)) return true
    } else if (s.from < s.to) {
      if (minute >= s.from && minute < s.to && onDay(s, day)) return true
    } else if ((minute >= s.from && onDay(s, day)) || (minute < s.to && onDay(s, (day + 6) % 7))) return true
  }
  return false
}

/** Whether `minute` falls in the range `from`–`to` (wrapping past midnight when from > to). */
export function inRange(minute: number, from: number, to: number): boolean {
  return from <= to ? minute >= from && minute < to : minute >= from || minute < to
}

/** Local wall-clock time of instants in one zone: minutes after midnight, and the weekday (0 Sunday). */
export interface LocalClock {
  minute(t: number): number
  day(t: number): number
}

const BUCKET_MS = 900_000 // UTC offsets change on quarter hours only

/**
 * A converter from instants to local time in one IANA zone. The zone offset is computed once per
 * quarter hour of UTC and cached (bounded), so a million events cost a few thousand `Intl` calls.
 */
export function localTimeIn(timeZone: string): LocalClock {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  })
  const offsets = new Map<number, number>()
  let lastBucket = Number.NaN
  let lastOffset = 0
  const local = (t: number): number => {
    const bucket = Math.floor(t / BUCKET_MS)
    if (bucket === lastBucket) return t + lastOffset
    let off = offsets.get(bucket)
    if (off === undefined) {
      const at = bucket * BUCKET_MS
      const p: Record<string, number> = {}
      for (const part of fmt.formatToParts(at)) p[part.type] = Number(part.value)
      off = Date.UTC(p.year as number, (p.month as number) - 1, p.day, p.hour, p.minute) - at
      if (offsets.size >= 4096) offsets.clear()
      offsets.set(bucket, off)
    }
    lastBucket = bucket
    lastOffset = off
    return t + off
  }
  return {
    minute: (t) => {
      const m = Math.floor(local(t) / 60_000) % 1440
      return m < 0 ? m + 1440 : m
    },
    day: (t) => new Date(local(t)).getUTCDay(),
  }
}
