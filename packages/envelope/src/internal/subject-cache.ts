/**
 * The subject-key cache of `createSubjectKeys`: unwrapped subject keys for at most `ttlMs` (0: no
 * caching), least recently used evicted beyond `maxEntries`, zeroised (best effort) when dropped;
 * and the references known to be shredded (tombstones are permanent, so that set has no TTL).
 * A dropped key is zeroised on the next macrotask (see `#drop`).
 */
import type { Clock } from '@safeguards/core'
import { type Aead, type AeadKey, destroyKey } from './aead.js'

interface Entry {
  readonly raw: Uint8Array
  readonly key: AeadKey
  readonly expiresAt: number
}

/** Most remembered tombstones (a forgotten one costs one store read). */
const MAX_SHREDDED = 100_000

/** See the module documentation. */
export class SubjectKeyCache {
  readonly #entries = new Map<string, Entry>()
  readonly #shredded = new Set<string>()
  readonly #ttl: number
  readonly #max: number
  readonly #clock: Clock
  readonly #aead: Aead
  /** Dropped entries waiting for zeroisation. */
  readonly #dropped: Entry[] = []

  /** @param ttlMs - 0 disables caching; @param maxEntries - LRU bound. */
  constructor(ttlMs: number, maxEntries: number, clock: Clock, aead: Aead) {
    this.#ttl = ttlMs
    this.#max = maxEntries
    this.#clock = clock
    this.#aead = aead
  }

  /** True when keys are cached at all. */
  get enabled(): boolean {
    return this.#ttl > 0
  }

  /** The cached key of `ref`, if fresh. */
  get(ref: string): AeadKey | undefined {
    const e = this.#entries.get(ref)
    if (e === undefined) return undefined
    if (this.#clock.now() >= e.expiresAt) {
      this.#drop(ref, e)
      return undefined
    }
    this.#entries.delete(ref)
    this.#entries.set(ref, e)
    return e.key
  }

  /** Caches `raw` (taking ownership) and returns its imported key. Only when {@link enabled}. */
  put(ref: string, raw: Uint8Array): AeadKey {
    const key = this.#aead.importKey(raw)
    const old = this.#entries.get(ref)
    if (old !== undefined) this.#drop(ref, old)
    this.#entries.set(ref, { raw, key, expiresAt: this.#clock.now() + this.#ttl })
    while (this.#entries.size > this.#max) {
      const first = this.#entries.entries().next().value
      if (first === undefined) break
      this.#drop(first[0], first[1])
    }
    return key
  }

  /** True when `ref` is known to be shredded. */
  isShredded(ref: string): boolean {
    return this.#shredded.has(ref)
  }

  /** Records that `ref` is shredded and drops its key. */
  markShredded(ref: string): void {
    this.evict(ref)
    if (this.#shredded.size >= MAX_SHREDDED) {
      const first = this.#shredded.values().next().value
      if (first !== undefined) this.#shredded.delete(first)
    }
    this.#shredded.add(ref)
  }

  /** Drops `ref`'s key. */
  evict(ref: string): void {
    const e = this.#entries.get(ref)
    if (e !== undefined) this.#drop(ref, e)
  }

  /** Drops every key (tombstones stay remembered). */
  clear(): void {
    for (const [ref, e] of [...this.#entries]) this.#drop(ref, e)
  }

  #drop(ref: string, e: Entry): void {
    this.#entries.delete(ref)
    // Zeroised on the next macrotask, not now: a caller that got this key from a shared load
    // (resolved before the eviction, continuing in a microtask) still uses it synchronously.
    this.#dropped.push(e)
    if (this.#dropped.length === 1)
      setTimeout(() => {
        for (const d of this.#dropped.splice(0)) {
          d.raw.fill(0)
          destroyKey(d.key)
        }
      }, 0)
  }
}
