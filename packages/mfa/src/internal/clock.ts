import { type Clock, systemClock } from '@safeguards/core'

/** Accepts a core `Clock` or a bare `() => ms` function (as `Date.now`). */
export function toClock(now: Clock | (() => number) | undefined): Clock {
  if (now === undefined) return systemClock
  if (typeof now === 'function') return { now }
  if (typeof now === 'object' && now !== null && typeof now.now === 'function') return now
  throw new TypeError('"now" expected a Clock or a function returning milliseconds')
}
