/**
 * Injectable clocks. Code that reads the time takes a {@link Clock} (or a `now` function) so
 * tests can pin and advance time exactly (style rule 8), for example to test an idle timeout at
 * its deadline ±1 ms.
 *
 * @module
 */
import { assertInteger } from './assert.js'

/** A clock: `now()` returns milliseconds since the Unix epoch. */
export interface Clock {
  /** Milliseconds since 1970-01-01T00:00:00Z. */
  now(): number
}

/**
 * The system clock (`Date.now`).
 *
 * @example
 * ```ts
 * const manager = createSessionManager({ store, clock: systemClock })
 * ```
 */
export const systemClock: Clock = Object.freeze({ now: (): number => Date.now() })

/** A clock that only moves when told to. */
export interface ManualClock extends Clock {
  /** Moves the clock forward by `ms` (non-negative) and returns the new time. */
  advance(ms: number): number
  /** Sets the clock to `ms`; time may not go backwards unless `allowBackwards` is true. */
  set(ms: number, allowBackwards?: boolean): number
}

/**
 * A manual clock for tests and demos.
 *
 * @param start - the initial time in ms since the epoch (default 0).
 * @throws {TypeError} when `start` is not a safe integer.
 * @throws {RangeError} when `advance` is given a negative amount, or `set` moves time backwards.
 * @example
 * ```ts
 * const clock = manualClock(Date.UTC(2026, 0, 1))
 * clock.advance(15 * 60_000) // fifteen minutes later
 * ```
 */
export function manualClock(start = 0): ManualClock {
  assertInteger(start, 'start')
  let t = start
  return {
    now: () => t,
    advance(ms: number): number {
      assertInteger(ms, 'ms', 0)
      t += ms
      return t
    },
    set(ms: number, allowBackwards = false): number {
      assertInteger(ms, 'ms')
      if (ms < t && !allowBackwards) throw new RangeError('"ms" would move the clock backwards')
      t = ms
      return t
    },
  }
}
