/**
 * Usage budgets for KEK versions. AES-GCM with random 96-bit IVs is safe for at most 2^32
 * encryptions under one key (NIST SP 800-38D §8.3); every local wrap draws a random IV, so each
 * KEK version counts its wraps. Counts are reserved in blocks through a {@link UsageStore}
 * (reserve-then-use): the persisted count is always at least the number of wraps performed, even
 * across processes and crashes (an unused reservation is simply lost, which errs on the safe
 * side).
 *
 * HIPAA: 164.312(a)(2)(iv) (keeps encryption within its proven bound) and 164.308(a)(1)(ii)(B)
 * risk management (a warning before the limit, then rotation or refusal by policy).
 *
 * @module
 */

/** The hard cap for random-IV AES-GCM: 2^32 uses per key (SP 800-38D §8.3). */
export const DEFAULT_USAGE_LIMIT: bigint = 2n ** 32n
/** The default warning threshold: 2^23 uses (collision probability about 2^-50). */
export const DEFAULT_USAGE_WARN_AT: bigint = 2n ** 23n

/** What to do when a version reaches its hard limit: refuse (`throw`) or rotate and go on (`rotate`). */
export type UsagePolicy = 'throw' | 'rotate'

/**
 * Persistent, atomic usage counters. `reserve` adds `count` to the counter of `keyRef` atomically
 * (even with other processes) and returns the counter's value before the addition. Implement it
 * on a database (`UPDATE … SET n = n + $1 RETURNING n - $1`) or Redis (`INCRBY`) to share a
 * budget across hosts.
 *
 * @example
 * ```ts
 * const store: UsageStore = {
 *   async reserve(keyRef, count) {
 *     const after = BigInt(await redis.incrBy(`sg:usage:${keyRef}`, Number(count)))
 *     return after - count
 *   },
 *   async get(keyRef) { return BigInt((await redis.get(`sg:usage:${keyRef}`)) ?? 0) },
 * }
 * ```
 */
export interface UsageStore {
  /** Atomically adds `count` and returns the value before the addition. */
  reserve(keyRef: string, count: bigint): Promise<bigint>
  /** The current value (0 for an unknown key). */
  get(keyRef: string): Promise<bigint>
}

/**
 * An in-memory {@link UsageStore} (one process; lost on exit). The default for in-memory keyrings.
 *
 * @example
 * ```ts
 * const keyring = await LocalKeyring.inMemory({ usage: { store: memoryUsageStore() } })
 * ```
 */
export function memoryUsageStore(): UsageStore {
  const counts = new Map<string, bigint>()
  return {
    reserve(keyRef, count) {
      const before = counts.get(keyRef) ?? 0n
      counts.set(keyRef, before + count)
      return Promise.resolve(before)
    },
    get(keyRef) {
      return Promise.resolve(counts.get(keyRef) ?? 0n)
    },
  }
}
