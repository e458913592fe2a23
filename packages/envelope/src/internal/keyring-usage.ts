/**
 * The local keyring's usage budget per version: wraps are reserved from the `UsageStore` in
 * blocks (reserve-then-use, so the stored count is always at least the wraps performed, across
 * processes and crashes), one store round trip per version at a time; the common wrap takes a use
 * from its block synchronously.
 */
import { assertInteger } from '@safeguards/core'
import { fileUsageStore } from '../file-usage-store.js'
import {
  DEFAULT_USAGE_LIMIT,
  DEFAULT_USAGE_WARN_AT,
  memoryUsageStore,
  type UsagePolicy,
  type UsageStore,
} from '../usage-budget.js'

/** Usage budget settings of a keyring. */
export interface KeyringUsageOptions {
  /** Hard cap per version (default 2^32). */
  limit?: bigint
  /** Warning threshold per version (default 2^23): a `key.budget.warning` event. */
  warnAt?: bigint
  /** At the hard cap: `throw` (default) or `rotate` (add and promote a version, then go on). */
  policy?: UsagePolicy
  /** Where counts persist (default: `<path>.usage` for file keyrings, memory for in-memory ones). */
  store?: UsageStore
  /** Wraps reserved per store round trip (default 1024; lower wastes less on restarts). */
  reserveBlock?: number
}

/** Validated usage settings. */
export interface UsageSettings {
  store: UsageStore
  limit: bigint
  warnAt: bigint
  policy: UsagePolicy
  block: bigint
}

/** Validates the `usage` options of a keyring at `path` (undefined: in memory). */
export function keyringUsageSettings(
  u: KeyringUsageOptions | undefined,
  path: string | undefined,
): UsageSettings {
  u ??= {}
  const store = u.store ?? (path === undefined ? memoryUsageStore() : fileUsageStore(`${path}.usage`))
  const limit = u.limit ?? DEFAULT_USAGE_LIMIT
  const warnAt = u.warnAt ?? DEFAULT_USAGE_WARN_AT
  const policy = u.policy ?? 'throw'
  if (typeof limit !== 'bigint' || limit < 1n)
    throw new RangeError('"usage.limit" expected a positive bigint')
  if (typeof warnAt !== 'bigint' || warnAt < 0n) throw new RangeError('"usage.warnAt" expected a bigint')
  if (policy !== 'throw' && policy !== 'rotate')
    throw new TypeError('"usage.policy" expected throw or rotate')
  const block = u.reserveBlock ?? 1024
  assertInteger(block, 'usage.reserveBlock', 1, 2 ** 20)
  return { store, limit, warnAt, policy, block: BigInt(block) }
}

/** Per-version blocks of reserved wraps. */
export class UsageBlocks {
  /** The validated settings. */
  readonly settings: UsageSettings
  readonly #keyRef: (version: number) => string
  readonly #onWarn: (keyRef: string, reserved: bigint) => Promise<void> | undefined
  readonly #blocks = new Map<number, { next: bigint; end: bigint }>()
  readonly #pending = new Map<number, Promise<boolean>>()
  readonly #warned = new Set<number>()

  /**
   * @param settings - the budget; @param keyRef - names a version in the store;
   * @param onWarn - called once per version when a reserved block reaches `warnAt` (awaited).
   */
  constructor(
    settings: UsageSettings,
    keyRef: (version: number) => string,
    onWarn: (keyRef: string, reserved: bigint) => Promise<void> | undefined,
  ) {
    this.settings = settings
    this.#keyRef = keyRef
    this.#onWarn = onWarn
  }

  /** Takes one use of `version` from its reserved block, if the block has one left (no await). */
  take(version: number): boolean {
    const b = this.#blocks.get(version)
    if (b === undefined || b.next >= b.end) return false
    b.next++
    return true
  }

  /** Reserves one use of `version`; false when the hard limit is reached. */
  async reserve(version: number): Promise<boolean> {
    for (;;) {
      if (this.take(version)) return true
      // One store round trip per version at a time: concurrent callers wait for it and share the block.
      let pending = this.#pending.get(version)
      if (pending === undefined) {
        pending = this.#fetch(version).finally(() => this.#pending.delete(version))
        this.#pending.set(version, pending)
      }
      if (!(await pending)) return false
    }
  }

  async #fetch(version: number): Promise<boolean> {
    const { store, block, limit, warnAt } = this.settings
    const keyRef = this.#keyRef(version)
    const before = await store.reserve(keyRef, block)
    if (before >= limit) return false
    let end = before + block // bigint: Math.min does not apply
    if (end > limit) end = limit
    this.#blocks.set(version, { next: before, end })
    if (end >= warnAt && !this.#warned.has(version)) {
      this.#warned.add(version)
      await this.#onWarn(keyRef, end)
    }
    return true
  }

  /** Wraps counted for `version` so far, across every process sharing the store. */
  used(version: number): Promise<bigint> {
    return this.settings.store.get(this.#keyRef(version))
  }
}
