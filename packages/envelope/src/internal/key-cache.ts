/**
 * The data-key cache of one envelope instance (see `src/data-key-cache.ts` for the design and the
 * limits). Two LRU maps (JavaScript `Map`s in recency order):
 *
 * - write entries, keyed by the canonical context: a data key, its wrapped keys (as a header
 *   template) and the HKDF info, with counts of messages and plaintext bytes;
 * - read entries, keyed by suite, provider id, key reference, wrapped-key bytes and the canonical
 *   context: an unwrapped data key and the HKDF info.
 *
 * Cached data keys are used only synchronously after a lookup (the callers derive the message keys
 * before yielding), so an eviction can zeroise a key the moment it leaves the cache. A change of
 * any provider's `stateEpoch()` empties the cache at the next lookup or insertion; an insertion
 * whose key was fetched before a change (or before a `clear()`) is refused.
 */
import { assertInteger, type Clock, systemClock } from '@safeguards/core'
import {
  type DataKeyCacheOptions,
  DEFAULT_CACHE_MAX_AGE_MS,
  DEFAULT_CACHE_MAX_BYTES,
  DEFAULT_CACHE_MAX_ENTRIES,
  DEFAULT_CACHE_MAX_MESSAGES,
  MAX_CACHE_MAX_AGE_MS,
  MAX_CACHE_MAX_MESSAGES,
} from '../data-key-cache.js'
import type { EncryptedDataKey, FormatVersion } from '../format.js'
import type { KekProvider } from '../kek-provider.js'

/** Everything a header needs besides the message id, the commitment and the tag. */
export interface HeaderMaterial {
  /** The 32-byte data key. */
  readonly dek: Uint8Array
  /** The key references of the wrapped keys, in header order. */
  readonly keyRefs: readonly string[]
  /**
   * The header with a zero message id and commitment: v1 from the magic through the commitment
   * (the header tag follows); v2 the whole header (it has no tag).
   */
  readonly template: Uint8Array
  /** The HKDF info `"hge/v1" ‖ suite ‖ D` (v1), or the info's constant prefix `"hge/v2" ‖ suite ‖ D` (v2). */
  readonly info: Uint8Array
  /** The format version of the template. */
  readonly version: FormatVersion
  /** Bytes of the template from the magic through the commitment (v2: the frames' AAD). */
  readonly authLength: number
}

/** A cached data key taken for one message; `owned`: the caller zeroises it after use. */
export interface Taken {
  readonly material: HeaderMaterial
  readonly owned: boolean
}

interface WriteEntry {
  readonly material: HeaderMaterial
  readonly createdAt: number
  messages: number
  bytes: number
}

interface ReadEntry {
  readonly dek: Uint8Array
  readonly info: Uint8Array
  readonly createdAt: number
}

interface Limits {
  maxAge: number
  maxMessages: number
  maxBytes: number
  maxEntries: number
  encrypt: boolean
  decrypt: boolean
  clock: Clock
}

/** The most recent read hit: its identity (public header fields and context) and map key. */
interface LastRead {
  readonly suiteId: number
  readonly providerId: string
  readonly keyRef: string
  readonly edk: Uint8Array
  readonly canonical: Uint8Array
  readonly key: string
}

/** Equality of public bytes (wrapped keys, canonical contexts: no secret, no constant time needed). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Canonical contexts up to this size key the cache as is; longer ones by their digest. */
const MAX_INLINE_CONTEXT = 1024

function latin1(bytes: Uint8Array): string {
  if (bytes.length <= 4096) return String.fromCharCode.apply(null, bytes as unknown as number[])
  let s = ''
  for (let i = 0; i < bytes.length; i += 4096)
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[])
  return s
}

function checkLimits(o: DataKeyCacheOptions): Limits {
  if (typeof o !== 'object' || o === null) throw new TypeError('"dataKeyCache" expected an object')
  const maxAge = o.maxAge ?? DEFAULT_CACHE_MAX_AGE_MS
  assertInteger(maxAge, 'dataKeyCache.maxAge', 1, MAX_CACHE_MAX_AGE_MS)
  const maxMessages = o.maxMessages ?? DEFAULT_CACHE_MAX_MESSAGES
  assertInteger(maxMessages, 'dataKeyCache.maxMessages', 1, MAX_CACHE_MAX_MESSAGES)
  const maxBytes = o.maxBytes ?? DEFAULT_CACHE_MAX_BYTES
  assertInteger(maxBytes, 'dataKeyCache.maxBytes', 1)
  const maxEntries = o.maxEntries ?? DEFAULT_CACHE_MAX_ENTRIES
  assertInteger(maxEntries, 'dataKeyCache.maxEntries', 1, 1_000_000)
  for (const f of ['encrypt', 'decrypt'] as const)
    if (o[f] !== undefined && typeof o[f] !== 'boolean')
      throw new TypeError(`"dataKeyCache.${f}" expected a boolean`)
  const clock = o.clock ?? systemClock
  if (typeof clock?.now !== 'function') throw new TypeError('"dataKeyCache.clock" expected a Clock')
  return {
    maxAge,
    maxMessages,
    maxBytes,
    maxEntries,
    encrypt: o.encrypt ?? true,
    decrypt: o.decrypt ?? true,
    clock,
  }
}

type TimerHandle = { unref?: () => void }

/** The data-key cache of one envelope. */
export class DataKeyCache {
  readonly #limits: Limits
  readonly #providers: readonly KekProvider[]
  readonly #epochs: number[]
  readonly #write = new Map<string, WriteEntry>()
  readonly #read = new Map<string, ReadEntry>()
  readonly #pending = new Map<string, Promise<unknown>>()
  /** The last read hit, matched byte for byte before any key string is built (bulk reads). */
  #last: LastRead | undefined
  #generation = 0
  #closed = false
  #timer: unknown

  constructor(options: DataKeyCacheOptions, providers: readonly KekProvider[]) {
    this.#limits = checkLimits(options)
    this.#providers = providers
    this.#epochs = providers.map((p) => p.stateEpoch?.() ?? 0)
  }

  /** True when encryption may use the cache. */
  get encrypt(): boolean {
    return this.#limits.encrypt && !this.#closed
  }

  /** True when decryption may use the cache. */
  get decrypt(): boolean {
    return this.#limits.decrypt && !this.#closed
  }

  /**
   * The cache key of a canonical context: its bytes as a string, or for long contexts `d` and the
   * digest D (`digest` computes it). The two forms cannot meet: a canonical context of at most
   * 1024 bytes has fewer than 256 pairs, so its first byte (the count's high byte) is 0, not `d`.
   */
  contextKey(canonical: Uint8Array, digest: (c: Uint8Array) => Uint8Array): string {
    return canonical.length <= MAX_INLINE_CONTEXT ? latin1(canonical) : `d${latin1(digest(canonical))}`
  }

  /** The read-cache key of one wrapped key under a context key. */
  readKey(suiteId: number, e: EncryptedDataKey, contextKey: string): string {
    return `${suiteId}\u0000${e.providerId}\u0000${e.keyRef.length}\u0000${e.keyRef}${e.edk.length}\u0000${latin1(e.edk)}${contextKey}`
  }

  /**
   * A token that changes whenever the cache is emptied (by a key state change or `clear()`); an
   * insertion presents the token it read before fetching its key, and is refused if it changed.
   */
  generation(): number {
    this.#sync()
    return this.#generation
  }

  /** Takes one message's use of the write entry for `key`, or undefined (miss, expired, exhausted). */
  takeWrite(key: string, length: number): Taken | undefined {
    if (length >= this.#limits.maxBytes) return undefined // never cached; leaves the entry alone
    this.#sync()
    const e = this.#write.get(key)
    if (e === undefined) return undefined
    if (this.#expired(e.createdAt) || e.bytes + length > this.#limits.maxBytes) {
      this.#dropWrite(key, e)
      return undefined
    }
    e.messages++
    e.bytes += length
    this.#write.delete(key)
    if (e.messages >= this.#limits.maxMessages) return { material: e.material, owned: true }
    this.#write.set(key, e) // most recently used
    return { material: e.material, owned: false }
  }

  /**
   * Caches a freshly wrapped data key that has just encrypted one message of `length` bytes.
   * Returns false (the caller keeps and zeroises the key) when the key was fetched before the
   * cache was emptied, the message alone exceeds a limit, or the cache is closed.
   */
  putWrite(key: string, material: HeaderMaterial, length: number, generation: number): boolean {
    if (!this.encrypt || this.generation() !== generation) return false
    const l = this.#limits
    if (l.maxMessages <= 1 || length >= l.maxBytes || this.#write.has(key)) return false
    this.#write.set(key, { material, createdAt: l.clock.now(), messages: 1, bytes: length })
    this.#trim(this.#write, (e) => e.material.dek)
    this.#schedule()
    return true
  }

  /** An in-flight fill of the write entry for `key`, for callers to wait on instead of wrapping too. */
  pendingWrite(key: string): Promise<unknown> | undefined {
    return this.#pending.get(key)
  }

  /** Registers an in-flight fill until it settles. */
  trackWrite(key: string, fill: Promise<unknown>): void {
    this.#pending.set(key, fill)
    const done = (): void => {
      if (this.#pending.get(key) === fill) this.#pending.delete(key)
    }
    fill.then(done, done)
  }

  /** The cached data key and HKDF info for a read key, or undefined. */
  getRead(key: string): ReadEntry | undefined {
    this.#sync()
    const e = this.#read.get(key)
    if (e === undefined) return undefined
    this.#read.delete(key)
    if (this.#expired(e.createdAt)) {
      e.dek.fill(0)
      return undefined
    }
    this.#read.set(key, e) // most recently used
    return e
  }

  /**
   * The read entry of the last hit when `edk` under `canonical` is the same wrapped key and context
   * (compared byte for byte, without building a key string): consecutive decryptions under one
   * cached data key, the common case of a bulk read. Same checks as {@link DataKeyCache.getRead}.
   */
  getLastRead(suiteId: number, e: EncryptedDataKey, canonical: Uint8Array): ReadEntry | undefined {
    const l = this.#last
    if (
      l === undefined ||
      l.suiteId !== suiteId ||
      l.providerId !== e.providerId ||
      l.keyRef !== e.keyRef ||
      !sameBytes(l.edk, e.edk) ||
      !sameBytes(l.canonical, canonical)
    )
      return undefined
    return this.getRead(l.key)
  }

  /** Remembers a read hit for {@link DataKeyCache.getLastRead} (copies of the public bytes). */
  noteRead(suiteId: number, e: EncryptedDataKey, canonical: Uint8Array, key: string): void {
    this.#last = {
      suiteId,
      providerId: e.providerId,
      keyRef: e.keyRef,
      edk: e.edk.slice(),
      canonical: canonical.slice(),
      key,
    }
  }

  /** Caches an unwrapped data key; false (the caller zeroises it) as for {@link DataKeyCache.putWrite}. */
  putRead(key: string, dek: Uint8Array, info: Uint8Array, generation: number): boolean {
    if (!this.decrypt || this.generation() !== generation || this.#read.has(key)) return false
    this.#read.set(key, { dek, info, createdAt: this.#limits.clock.now() })
    this.#trim(this.#read, (e) => e.dek)
    this.#schedule()
    return true
  }

  /** Drops and zeroises every cached data key; fills in flight are not cached. */
  clear(): void {
    this.#generation++
    for (const e of this.#write.values()) e.material.dek.fill(0)
    for (const e of this.#read.values()) e.dek.fill(0)
    this.#write.clear()
    this.#read.clear()
    this.#last = undefined
    if (this.#timer !== undefined) clearTimeout(this.#timer as ReturnType<typeof setTimeout>)
    this.#timer = undefined
  }

  /** Clears the cache and stops caching for good. */
  close(): void {
    this.#closed = true
    this.clear()
  }

  /** Empties the cache if any provider's key state changed since the last look. */
  #sync(): void {
    let changed = false
    for (let i = 0; i < this.#providers.length; i++) {
      const epoch = this.#providers[i]?.stateEpoch?.() ?? 0
      if (epoch !== this.#epochs[i]) {
        this.#epochs[i] = epoch
        changed = true
      }
    }
    if (changed) this.clear()
  }

  #expired(createdAt: number): boolean {
    const age = this.#limits.clock.now() - createdAt
    return age >= this.#limits.maxAge || age < 0
  }

  #dropWrite(key: string, e: WriteEntry): void {
    this.#write.delete(key)
    e.material.dek.fill(0)
  }

  /** Evicts least recently used entries beyond `maxEntries`. */
  #trim<E>(map: Map<string, E>, dek: (e: E) => Uint8Array): void {
    for (const [k, e] of map) {
      if (map.size <= this.#limits.maxEntries) break
      map.delete(k)
      dek(e).fill(0)
    }
  }

  /** Drops expired entries now; returns the time until the next expiry (or undefined if empty). */
  sweep(): number | undefined {
    this.#sync()
    let next: number | undefined
    const now = this.#limits.clock.now()
    const visit = <E extends { createdAt: number }>(map: Map<string, E>, dek: (e: E) => Uint8Array) => {
      for (const [k, e] of map) {
        if (this.#expired(e.createdAt)) {
          map.delete(k)
          dek(e).fill(0)
        } else {
          const left = e.createdAt + this.#limits.maxAge - now
          next = next === undefined ? left : Math.min(next, left)
        }
      }
    }
    visit(this.#write, (e) => e.material.dek)
    visit(this.#read, (e) => e.dek)
    return next
  }

  /**
   * Keeps a timer (unref'd: it never holds the process open) that zeroises expired keys even when
   * the envelope sits idle, so a key stays in memory for about `maxAge`, not until the next call.
   */
  #schedule(delay: number = this.#limits.maxAge): void {
    if (this.#timer !== undefined || this.#closed) return
    const t = setTimeout(() => {
      this.#timer = undefined
      const next = this.sweep()
      if (next !== undefined) this.#schedule(Math.max(1, next))
    }, delay) as unknown as TimerHandle
    t.unref?.()
    this.#timer = t
  }
}

/** Creates the cache of an envelope instance, or undefined when not configured. */
export function createDataKeyCache(
  options: DataKeyCacheOptions | undefined,
  providers: readonly KekProvider[],
): DataKeyCache | undefined {
  return options === undefined ? undefined : new DataKeyCache(options, providers)
}
