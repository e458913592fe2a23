/**
 * A counting semaphore with a bounded queue: at most `max` tasks run at once and at most
 * `maxQueue` wait; beyond that `run` rejects at once with the error `onFull` builds, so memory stays
 * bounded under a flood (of logins, of hashing work, of HSM calls). FIFO. Platform-free, so it lives
 * in the root entry rather than `@safeguards/core/node`.
 *
 * @module
 */
import { assertInteger } from './assert.js'

/** A semaphore made by {@link createSemaphore}. */
export interface Semaphore {
  /** Runs `task` when a slot is free (FIFO); rejects at once when the queue is full. */
  run<T>(task: () => Promise<T>): Promise<T>
  /** Tasks running now. */
  readonly active: number
  /** Tasks waiting now. */
  readonly queued: number
}

/** Options of {@link createSemaphore}. */
export interface SemaphoreOptions {
  /** Most tasks waiting (default: unbounded). */
  maxQueue?: number
  /** Builds the error `run` rejects with when the queue is full (default a `RangeError`). */
  onFull?: (queued: number) => Error
}

/**
 * Creates a semaphore with `max` slots.
 *
 * @throws {TypeError} / {RangeError} when `max` or `maxQueue` is not a positive / non-negative integer.
 * @example
 * ```ts
 * import { createSemaphore } from '@safeguards/core'
 *
 * const hashing = createSemaphore(4, { maxQueue: 100 })
 * const digest = await hashing.run(async () => crypto.subtle.digest('SHA-256', new Uint8Array(8)))
 * ```
 */
export function createSemaphore(max: number, options?: SemaphoreOptions): Semaphore {
  assertInteger(max, 'max', 1)
  const maxQueue = options?.maxQueue ?? Number.MAX_SAFE_INTEGER
  assertInteger(maxQueue, 'maxQueue', 0)
  const onFull =
    options?.onFull ?? ((queued: number) => new RangeError(`semaphore queue full (${queued} waiting)`))
  let active = 0
  const waiting: Array<() => void> = []
  const release = (): void => {
    const next = waiting.shift()
    if (next) next()
    else active--
  }
  return {
    get active(): number {
      return active
    },
    get queued(): number {
      return waiting.length
    },
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (active < max) {
        active++
      } else {
        if (waiting.length >= maxQueue) throw onFull(waiting.length)
        // The slot is handed over by `release` without decrementing `active`.
        await new Promise<void>((resolve) => waiting.push(resolve))
      }
      try {
        return await task()
      } finally {
        release()
      }
    },
  }
}
