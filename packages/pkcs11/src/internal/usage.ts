/**
 * The usage budget of the HSM's KEK versions, on the envelope's `UsageStore` interface.
 *
 * Every wrap is one AES-GCM encryption under the version with a random 96-bit IV, so SP 800-38D
 * §8.3 caps each version at 2^32 wraps. The token keeps no such counter, so the count lives in a
 * `UsageStore` (the envelope's interface: memory by default, a database or Redis to share one
 * budget across hosts), reserved in blocks (reserve-then-use): the stored count is always at least
 * the number of wraps performed, across processes and crashes.
 *
 * @module
 */
import { assertInteger } from '@safeguards/core'
import {
  DEFAULT_USAGE_LIMIT,
  DEFAULT_USAGE_WARN_AT,
  type KeyringUsageOptions,
  memoryUsageStore,
  type UsagePolicy,
  type UsageStore,
} from '@safeguards/envelope'

/** Validated usage settings. */
export interface UsageSettings {
  limit: bigint
  warnAt: bigint
  policy: UsagePolicy
  store: UsageStore
  block: bigint
}

/** Validates `usage` options (defaults: 2^32, warn at 2^23, `throw`, in-memory store, blocks of 1024). */
export function usageSettings(u: KeyringUsageOptions | undefined): UsageSettings {
  const o = u ?? {}
  const limit = o.limit ?? DEFAULT_USAGE_LIMIT
  const warnAt = o.warnAt ?? DEFAULT_USAGE_WARN_AT
  if (typeof limit !== 'bigint' || limit < 1n || limit > DEFAULT_USAGE_LIMIT) {
    throw new RangeError('"usage.limit" expected a bigint in [1, 2^32]')
  }
  if (typeof warnAt !== 'bigint' || warnAt < 1n)
    throw new RangeError('"usage.warnAt" expected a positive bigint')
  const policy = o.policy ?? 'throw'
  if (policy !== 'throw' && policy !== 'rotate')
    throw new TypeError('"usage.policy" expected throw or rotate')
  const block = o.reserveBlock ?? 1024
  assertInteger(block, 'usage.reserveBlock', 1, 2 ** 20)
  return { limit, warnAt, policy, store: o.store ?? memoryUsageStore(), block: BigInt(block) }
}

/**
 * Reserves wraps per key reference in blocks; calls `onWarn` once per key when a block crosses
 * `warnAt`, and awaits what it returns (a critical event sink).
 */
export class UsageBudget {
  readonly #s: UsageSettings
  readonly #blocks = new Map<string, { next: bigint; end: bigint }>()
  readonly #warned = new Set<string>()

  constructor(settings: UsageSettings) {
    this.#s = settings
  }

  get settings(): UsageSettings {
    return this.#s
  }

  /** Reserves one wrap; false when the version reached its hard limit. */
  async reserve(keyRef: string, onWarn: (reserved: bigint) => Promise<void> | undefined): Promise<boolean> {
    const b = this.#blocks.get(keyRef)
    if (b !== undefined && b.next < b.end) {
      b.next++
      return true
    }
    const before = await this.#s.store.reserve(keyRef, this.#s.block)
    if (before >= this.#s.limit) return false
    let end = before + this.#s.block // bigint: Math.min does not apply
    if (end > this.#s.limit) end = this.#s.limit
    this.#blocks.set(keyRef, { next: before + 1n, end })
    if (end >= this.#s.warnAt && !this.#warned.has(keyRef)) {
      this.#warned.add(keyRef)
      // Isolated sinks never throw here; a critical one that fails fails this wrap.
      await onWarn(end)
    }
    return true
  }

  /** Wraps counted (reserved) for `keyRef` so far, across every process sharing the store. */
  used(keyRef: string): Promise<bigint> {
    return this.#s.store.get(keyRef)
  }
}
