/**
 * The storage contract: a string key-value store with an atomic compare-and-set. Every piece of
 * state (last accepted time step, failure counters, credentials, recovery codes) is updated by
 * compare-and-set, so concurrent requests, even on many app servers sharing one Redis, cannot
 * both consume the same code or lose a failure count.
 *
 * @module
 */
import { type Clock, systemClock } from '@safeguards/core'
import { checkOptions } from './internal/options.js'

/** An atomic key-value store. Values are opaque strings; keys are chosen by this package. */
export interface MfaStore {
  /** The current value, or `null` when absent (or expired). */
  get(key: string): Promise<string | null>
  /**
   * Atomically replaces the value of `key` with `next` (or deletes it when `next` is `null`) if
   * and only if its current value is `expected` (`null` = absent). Resolves to whether it did.
   * `ttlMs` sets an expiry on the new value.
   */
  compareAndSet(key: string, expected: string | null, next: string | null, ttlMs?: number): Promise<boolean>
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Clock for expiry (default the system clock). */
  clock?: Clock
}

/**
 * An in-memory {@link MfaStore} for tests, demos and single-process apps. State is lost on restart
 * (a restart would forget used time steps within the current window and failure counts): use the
 * Redis store in production.
 *
 * HIPAA: 164.312(d) person or entity authentication (replay and throttling state).
 *
 * @throws never; its methods reject only on programming errors.
 * @example
 * ```ts
 * const verifier = createTotpVerifier({ store: createMemoryStore() })
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MfaStore {
  checkOptions(options, ['clock'] satisfies (keyof MemoryStoreOptions)[])
  const clock = options.clock ?? systemClock
  const now = (): number => clock.now()
  const map = new Map<string, { value: string; expiresAt: number }>()
  const read = (key: string): string | null => {
    const e = map.get(key)
    if (e === undefined) return null
    if (e.expiresAt <= now()) {
      map.delete(key)
      return null
    }
    return e.value
  }
  return {
    async get(key: string): Promise<string | null> {
      return read(key)
    },
    async compareAndSet(
      key: string,
      expected: string | null,
      next: string | null,
      ttlMs?: number,
    ): Promise<boolean> {
      // Synchronous between the read and the write: atomic within one event loop.
      if (read(key) !== expected) return false
      if (next === null) map.delete(key)
      else
        map.set(key, {
          value: next,
          expiresAt: ttlMs === undefined ? Number.POSITIVE_INFINITY : now() + ttlMs,
        })
      return true
    },
  }
}
