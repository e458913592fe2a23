/**
 * The public types of per-subject keys ({@link createSubjectKeys}) and their defaults, and the
 * checks of their options: kept apart from the key logic in `subject-keys.ts`.
 *
 * HIPAA: 164.310(d)(2)(i) disposal; 164.312(a)(2)(iv) encryption and decryption.
 *
 * @module
 */
import {
  type Clock,
  type EventOptions,
  hasLoneSurrogate,
  type RandomSource,
  utf8Encode,
} from '@safeguards/core'
import type { AeadBackendName } from './internal/aead.js'
import type { KekProvider } from './kek-provider.js'
import type { ShredOutcome, SubjectKeyStore } from './subject-key-store.js'
/** Default {@link SubjectKeysOptions.cacheTtlMs}: 10 seconds. */
export const DEFAULT_SUBJECT_KEY_CACHE_TTL_MS = 10_000
/** Default {@link SubjectKeysOptions.maxCacheEntries}: 10,000 subject keys. */
export const DEFAULT_SUBJECT_KEY_CACHE_ENTRIES = 10_000
/** Largest subject id: 1024 bytes of UTF-8. */
export const MAX_SUBJECT_ID_BYTES = 1024

/** Options of {@link createSubjectKeys}. */
export interface SubjectKeysOptions extends EventOptions {
  /** The KEK provider that wraps subject keys (a {@link LocalKeyring}, an HSM, a KMS). */
  kek: KekProvider
  /** Where the wrapped subject keys and tombstones live (file, PostgreSQL, memory). */
  store: SubjectKeyStore
  /** The provider id written into envelopes (default `subject`; must differ from the KEK's). */
  id?: string
  /**
   * Milliseconds an unwrapped subject key is reused without reading the store (default 10 s,
   * 0..1 h; 0 reads the store on every operation). This is the longest time another instance may
   * still open a subject's messages after `shredSubject` returned here.
   */
  cacheTtlMs?: number
  /** Most cached subject keys, least recently used evicted first (default 10,000). */
  maxCacheEntries?: number
  /** AES-GCM backend for the data-key wraps (default: the fastest available). */
  backend?: AeadBackendName
  /** Clock for the cache TTL, record times and events (default the system clock). */
  clock?: Clock
  /** Randomness for subject keys, the namespace key and IVs (default the platform CSPRNG). */
  random?: RandomSource
}

/** The result of {@link SubjectKeys.shredSubject}. */
export interface ShredResult {
  /** The destroyed subject key's reference (`subject:<ref>@v1`; opaque, no subject id). */
  keyRef: string
  /** What the store did (`destroyed`, `already-shredded`, or `tombstoned` for a subject without a key). */
  outcome: ShredOutcome
}

/** Options of {@link SubjectKeys.shredSubject}. */
export interface ShredOptions {
  /** Who asked for it (a user or service id), recorded in the `key.destroyed` event. */
  actor?: string
}

/** The result of {@link SubjectKeys.rewrapSubjectKeys}. */
export interface SubjectRewrapResult {
  /** Subject keys (and the namespace key) moved to the primary KEK version. */
  rewrapped: number
  /** Keys already under the primary. */
  current: number
  /** Keys shredded or rewrapped by someone else while this ran (left as they are). */
  skipped: number
}

/** The status of a subject in the store. */
export type SubjectStatus = 'none' | 'active' | 'shredded'

/** Per-subject keys over a KEK provider and a store: see the module documentation. */
export interface SubjectKeys {
  /**
   * The provider that unwraps any subject's data keys (for decryption and `rewrap`). It cannot wrap
   * (`wrap` and `primary` throw `KeyUnavailableError` reason `no-primary`): use {@link forSubject}.
   */
  readonly provider: KekProvider
  /** A provider that wraps under `subjectId`'s key, creating it on first use (unwraps any subject). */
  forSubject(subjectId: string): KekProvider
  /** The key reference of `subjectId`'s key (`subject:<ref>@v1`), whether or not the key exists. */
  keyRefOf(subjectId: string): Promise<string>
  /** Whether `subjectId` has a key, a tombstone, or neither (reads the store). */
  status(subjectId: string): Promise<SubjectStatus>
  /**
   * Creates the keys of many subjects at once (batched when the store has `createMany`) and caches
   * them, for bulk loads. Subjects that already have a key keep it; shredded subjects are skipped
   * (their encrypts still fail).
   */
  ensureSubjects(subjectIds: readonly string[]): Promise<void>
  /** Destroys `subjectId`'s key for good and keeps a tombstone. */
  shredSubject(subjectId: string, options?: ShredOptions): Promise<ShredResult>
  /** Rewraps every subject key under the KEK's primary version, in batches. */
  rewrapSubjectKeys(options?: { batchSize?: number }): Promise<SubjectRewrapResult>
  /** Drops every cached subject key (zeroised, best effort). */
  clearCache(): void
  /** Clears the cache and closes the store (`store.close`). */
  close(): Promise<void>
}

export function assertSubjectId(subjectId: unknown): asserts subjectId is string {
  if (typeof subjectId !== 'string') throw new TypeError('"subjectId" expected a string')
  if (
    subjectId.length === 0 ||
    hasLoneSurrogate(subjectId) ||
    utf8Encode(subjectId).length > MAX_SUBJECT_ID_BYTES
  )
    throw new RangeError('"subjectId" expected 1..1024 bytes of well-formed UTF-8')
}

export function checkSubjectKeysOptions(options: SubjectKeysOptions): {
  id: string
  ttl: number
  max: number
} {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" expected an object')
  const { kek, store } = options
  if (typeof kek?.wrap !== 'function' || typeof kek.unwrap !== 'function')
    throw new TypeError('"kek" must implement KekProvider')
  if (
    typeof store?.get !== 'function' ||
    typeof store.create !== 'function' ||
    typeof store.shred !== 'function'
  )
    throw new TypeError('"store" must implement SubjectKeyStore')
  const id = options.id ?? 'subject'
  if (typeof id !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(id) || id.includes(':'))
    throw new TypeError('"id" expected 1..64 printable ASCII characters without ":"')
  if (id === kek.id) throw new TypeError('"id" must differ from the KEK provider id')
  const ttl = options.cacheTtlMs ?? DEFAULT_SUBJECT_KEY_CACHE_TTL_MS
  if (!Number.isSafeInteger(ttl) || ttl < 0 || ttl > 3_600_000)
    throw new RangeError('"cacheTtlMs" expected an integer in 0..3600000')
  const max = options.maxCacheEntries ?? DEFAULT_SUBJECT_KEY_CACHE_ENTRIES
  if (!Number.isSafeInteger(max) || max < 1 || max > 10_000_000)
    throw new RangeError('"maxCacheEntries" expected an integer in 1..10000000')
  return { id, ttl, max }
}
