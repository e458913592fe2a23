/**
 * The state of one {@link createSubjectKeys} instance and the key access every operation shares:
 * store calls with their error mapping, the namespace key, subject references, and fetching a
 * subject key from the cache or the store (creating it on first encrypt). The public operations
 * live in `subject-keys.ts` and `subject-key-batch.ts`; each takes this state.
 *
 * HIPAA: 164.310(d)(2)(i) disposal (a tombstone always wins); 164.312(a)(2)(iv) encryption.
 */
import { type Clock, isSafeguardsError, type RandomSource } from '@safeguards/core'
import {
  KekProviderError,
  KeyUnavailableError,
  SubjectKeyStoreError,
  SubjectShreddedError,
} from '../errors.js'
import type { KekProvider, KeyDescription } from '../kek-provider.js'
import type { SubjectKeyRecord, SubjectKeyStore, WrappedSubjectKey } from '../subject-key-store.js'
import { assertSubjectId } from '../subject-keys-types.js'
import { type Aead, type AeadKey, destroyKey } from './aead.js'
import type { SubjectKeyCache } from './subject-cache.js'
import {
  NAMESPACE_REF,
  parseSubjectKeyRef,
  subjectKeyAad,
  subjectKeyRef,
  subjectRefOf,
  unwrapUnderSubject,
} from './subject-crypto.js'

/** What one subject-keys instance holds. */
export interface SubjectKeysState {
  /** The provider id written into envelopes. */
  readonly id: string
  readonly kek: KekProvider
  readonly store: SubjectKeyStore
  readonly clock: Clock
  readonly random: RandomSource
  readonly aead: Aead
  readonly cache: SubjectKeyCache
  /** Fetches in flight, by `c`/`o` (create or open) + reference: concurrent fetches share one. */
  readonly loading: Map<string, Promise<AeadKey>>
  /** The KEK's state epoch when the cache was last checked against it. */
  kekEpoch: number | undefined
  /** Counts shreds made or seen here: with the KEK's epoch, the providers' `stateEpoch`. */
  shredEpoch: number
  /** The unwrapped namespace key, once read (reset on failure and on close). */
  namespaceKey: Promise<Uint8Array> | undefined
}

/** The providers' `stateEpoch`: the KEK's epoch plus the shreds made or seen here. */
export function stateEpoch(s: SubjectKeysState): number {
  return (s.kek.stateEpoch?.() ?? 0) + s.shredEpoch
}

/** Records that `ref` is shredded (bumping the state epoch the first time). */
export function markShredded(s: SubjectKeysState, ref: string): void {
  if (!s.cache.isShredded(ref)) s.shredEpoch++
  s.cache.markShredded(ref)
}

/** Drops cached keys when the KEK provider reports a key state change. */
function checkKekEpoch(s: SubjectKeysState): void {
  if (s.kek.stateEpoch === undefined) return
  const now = s.kek.stateEpoch()
  if (now !== s.kekEpoch) {
    s.kekEpoch = now
    s.cache.clear()
  }
}

/** Runs a store call; a failure that is not an SDK or argument error becomes `SubjectKeyStoreError`. */
export async function storeCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (e) {
    if (isSafeguardsError(e) || e instanceof TypeError || e instanceof RangeError) throw e
    throw new SubjectKeyStoreError(`subject-key store: ${what} failed`, { cause: e })
  }
}

/** Wraps a new subject (or namespace) key under the KEK's primary, bound to `ref`. */
export async function wrapNew(s: SubjectKeysState, ref: string, key: Uint8Array): Promise<WrappedSubjectKey> {
  const w = await s.kek.wrap(key, subjectKeyAad(ref))
  return { providerId: s.kek.id, keyRef: w.keyRef, edk: w.edk }
}

/** Unwraps a stored record's key, or throws the error its state calls for. */
async function openStoredKey(
  s: SubjectKeysState,
  rec: SubjectKeyRecord | undefined,
  keyRef: string,
): Promise<Uint8Array> {
  if (rec === undefined) throw new KeyUnavailableError(keyRef, 'unknown')
  if (rec.state === 'shredded') {
    markShredded(s, rec.ref)
    throw new SubjectShreddedError(keyRef)
  }
  const w = rec.wrapped
  if (rec.state !== 'active' || w === undefined)
    throw new SubjectKeyStoreError(`subject-key store: record ${keyRef} is malformed`)
  if (w.providerId !== s.kek.id) throw new KeyUnavailableError(w.keyRef, 'no-provider')
  const raw = await s.kek.unwrap(w.edk, w.keyRef, subjectKeyAad(rec.ref))
  if (!(raw instanceof Uint8Array) || raw.length !== 32)
    throw new KekProviderError(s.kek.id, 'unwrap returned a key that is not 32 bytes')
  return raw
}

/** The namespace key (read once, created on first use; a failed read is retried next time). */
export function getNamespaceKey(s: SubjectKeysState): Promise<Uint8Array> {
  if (s.namespaceKey !== undefined) return s.namespaceKey
  const p = (async () => {
    let rec = await storeCall('get', () => s.store.get(NAMESPACE_REF))
    if (rec === undefined) {
      const fresh = s.random(32)
      const wrapped = await wrapNew(s, NAMESPACE_REF, fresh)
      rec = await storeCall('create', () => s.store.create(NAMESPACE_REF, wrapped, s.clock.now()))
      fresh.fill(0)
    }
    if (rec.state !== 'active')
      throw new SubjectKeyStoreError('subject-key store: the namespace key is missing')
    return openStoredKey(s, rec, `${s.id}:${NAMESPACE_REF}`)
  })()
  s.namespaceKey = p
  p.catch(() => {
    s.namespaceKey = undefined
  })
  return p
}

/** The opaque reference of a subject id (keyed hash under the namespace key). */
export async function refOf(s: SubjectKeysState, subjectId: string): Promise<string> {
  assertSubjectId(subjectId)
  return subjectRefOf(await getNamespaceKey(s), subjectId)
}

/** Reads `ref`'s record and unwraps its subject key (creating the key when `create` and there is none). */
async function fetchKey(s: SubjectKeysState, ref: string, create: boolean): Promise<Uint8Array> {
  let rec = await storeCall('get', () => s.store.get(ref))
  if (rec === undefined && create) {
    const fresh = s.random(32)
    try {
      const wrapped = await wrapNew(s, ref, fresh)
      rec = await storeCall('create', () => s.store.create(ref, wrapped, s.clock.now()))
    } finally {
      fresh.fill(0)
    }
  }
  return openStoredKey(s, rec, subjectKeyRef(s.id, ref))
}

/** Fetches `ref`'s key into the cache, sharing one store read among concurrent callers. */
function loadCached(s: SubjectKeysState, ref: string, create: boolean): Promise<AeadKey> {
  const slot = `${create ? 'c' : 'o'}${ref}`
  let p = s.loading.get(slot)
  if (p === undefined) {
    p = fetchKey(s, ref, create)
      .then((raw) => {
        if (s.cache.isShredded(ref)) {
          raw.fill(0)
          throw new SubjectShreddedError(subjectKeyRef(s.id, ref))
        }
        return s.cache.put(ref, raw)
      })
      .finally(() => s.loading.delete(slot))
    s.loading.set(slot, p)
  }
  return p
}

/**
 * Runs `use` with `ref`'s subject key: from the cache, or fetched from the store (and cached when
 * the TTL is not 0; concurrent fetches of one reference then share one store read).
 */
export async function withKey<T>(
  s: SubjectKeysState,
  ref: string,
  create: boolean,
  use: (key: AeadKey) => T | Promise<T>,
): Promise<T> {
  checkKekEpoch(s)
  if (s.cache.isShredded(ref)) throw new SubjectShreddedError(subjectKeyRef(s.id, ref))
  const hit = s.cache.get(ref)
  if (hit !== undefined) return use(hit)
  if (s.cache.enabled) return use(await loadCached(s, ref, create))
  const raw = await fetchKey(s, ref, create)
  const key = s.aead.importKey(raw, true)
  try {
    return await use(key)
  } finally {
    raw.fill(0)
    destroyKey(key)
  }
}

/** The providers' `unwrap`: a data key wrapped under the subject key its `keyRef` names. */
export function unwrapDataKey(
  s: SubjectKeysState,
  edk: Uint8Array,
  keyRef: string,
  aad: Uint8Array,
): Promise<Uint8Array> {
  const ref = parseSubjectKeyRef(s.id, keyRef)
  if (ref === undefined) return Promise.reject(new KeyUnavailableError(String(keyRef), 'unknown'))
  return withKey(s, ref, false, (key) => unwrapUnderSubject(s.aead, key, keyRef, edk, aad))
}

/** The providers' `describe`: a subject key reference's state, from the store. */
export async function describeSubjectKey(s: SubjectKeysState, keyRef: string): Promise<KeyDescription> {
  const ref = parseSubjectKeyRef(s.id, keyRef)
  if (ref === undefined) throw new KeyUnavailableError(String(keyRef), 'unknown')
  const rec = await storeCall('get', () => s.store.get(ref))
  if (rec === undefined) throw new KeyUnavailableError(keyRef, 'unknown')
  return {
    keyRef,
    providerId: s.id,
    version: 1,
    state: rec.state === 'active' ? 'primary' : 'destroyed',
    createdAt: rec.createdAt,
  }
}
