/**
 * Picks argon2id costs for a time target on this host: memory fixed (default OWASP's 19456 KiB),
 * passes raised until one hash takes at least the target, never below the OWASP floor.
 *
 * @module
 */
import { assertInteger, type Clock, utf8Encode } from '@safeguards/core'
import { DEFAULT_ARGON2ID_COSTS } from './hasher.js'
import { argon2Raw } from './internal/argon2.js'

/** Options of {@link calibrate}. */
export interface CalibrateOptions {
  /** Target time per hash in ms (default 250; OWASP suggests staying under one second). */
  targetMs?: number
  /** Memory in KiB (default 19456, at least 19456). */
  memoryCost?: number
  /** Lanes (default 1). */
  parallelism?: number
  /** Highest pass count to try (default 20). */
  maxTimeCost?: number
  /** The clock that times each hash, in ms (default a monotonic one, `performance.now`). */
  clock?: Clock
}

// Durations, not instants: a monotonic clock, which NTP adjustments cannot move.
const monotonic: Clock = { now: (): number => performance.now() }

/** Costs chosen by {@link calibrate}. */
export interface CalibrateResult {
  memoryCost: number
  timeCost: number
  parallelism: number
  /** Measured time of one hash at these costs, in ms (median of three). */
  ms: number
}

/**
 * Measures argon2id on this host and returns the smallest pass count (at least 2) whose hash time
 * reaches `targetMs`, or `maxTimeCost` if none does. Feed the result to `createPasswordHasher`.
 * Run it at deploy time on production hardware, not per request.
 *
 * HIPAA: 164.308(a)(5)(ii)(D) password management (costs sized to the hardware that runs them).
 *
 * @throws {TypeError} / {RangeError} on options of the wrong type or range.
 * @example
 * ```ts
 * const costs = await calibrate({ targetMs: 300 })
 * const hasher = createPasswordHasher(costs)
 * ```
 */
export async function calibrate(options: CalibrateOptions = {}): Promise<CalibrateResult> {
  const targetMs = options.targetMs ?? 250
  const memoryCost = options.memoryCost ?? DEFAULT_ARGON2ID_COSTS.memoryCost
  const parallelism = options.parallelism ?? 1
  const maxTimeCost = options.maxTimeCost ?? 20
  const clock = options.clock ?? monotonic
  if (typeof clock?.now !== 'function') throw new TypeError('"clock" expected a Clock')
  assertInteger(targetMs, 'targetMs', 1, 60_000)
  assertInteger(memoryCost, 'memoryCost', DEFAULT_ARGON2ID_COSTS.memoryCost, 4 * 1024 * 1024)
  assertInteger(parallelism, 'parallelism', 1, 64)
  assertInteger(maxTimeCost, 'maxTimeCost', 2, 1000)
  const password = utf8Encode('calibration password')
  const salt = new Uint8Array(16)
  const measure = async (timeCost: number): Promise<number> => {
    const times: number[] = []
    for (let i = 0; i < 3; i++) {
      const t0 = clock.now()
      await argon2Raw({
        type: 'argon2id',
        version: 19,
        password,
        salt,
        memoryCost,
        timeCost,
        parallelism,
        hashLength: 32,
      })
      times.push(clock.now() - t0)
    }
    return times.sort((a, b) => a - b)[1] as number
  }
  let timeCost = DEFAULT_ARGON2ID_COSTS.timeCost
  let ms = await measure(timeCost)
  while (ms < targetMs && timeCost < maxTimeCost) {
    // Time grows linearly with passes: jump close to the target, then step.
    const estimate = Math.ceil((timeCost * targetMs) / Math.max(ms, 0.001))
    timeCost = Math.min(maxTimeCost, Math.max(timeCost + 1, estimate))
    ms = await measure(timeCost)
  }
  return { memoryCost, timeCost, parallelism, ms }
}
