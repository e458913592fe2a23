/**
 * Per-subject keys and crypto-shredding. A subject (a patient, or any subject id) gets its own
 * random 256-bit subject key, between the KEK and the data keys:
 *
 * ```
 * KEK (LocalKeyring, HSM, KMS) ──wraps──▶ subject key (one per subject, in a SubjectKeyStore)
 *                                          ──wraps──▶ data keys of that subject's messages
 * ```
 *
 * {@link createSubjectKeys} returns a {@link KekProvider} layered on the KEK provider: envelopes
 * name `subject:<ref>@v1` as their key reference, so the envelope format does not change. `ref` is
 * an opaque keyed hash of the subject id (HMAC-SHA-256 under a namespace key kept wrapped in the
 * store, truncated to 128 bits): a header, a log line or a store row never carries the subject id.
 *
 * `shredSubject(id)` replaces the subject's record with a tombstone, durably: every message of the
 * subject then fails with {@link SubjectShreddedError} (`ERR_SUBJECT_SHREDDED`), never with the
 * tamper error, and no new key can ever be created for the id (a concurrent or later encrypt fails
 * with the same error). Other instances see the tombstone within the cache TTL
 * (`cacheTtlMs`, default {@link DEFAULT_SUBJECT_KEY_CACHE_TTL_MS}; 0 reads the store on every
 * operation). KEK rotation rewraps subject keys in the store ({@link SubjectKeys.rewrapSubjectKeys})
 * without touching any ciphertext.
 *
 * HIPAA: 164.310(d)(2)(i) disposal and 164.310(d)(2)(ii) media re-use (one subject's data made
 * unreadable wherever its copies live, backups included); 164.312(a)(2)(iv) encryption and
 * decryption.
 *
 * @module
 */
import { createEmitter, isSafeguardsError, randomBytes, systemClock } from '@safeguards/core'
import {
  KekProviderError,
  KeyUnavailableError,
  SubjectKeyStoreError,
  SubjectShreddedError,
} from './errors.js'
import { type Aead, type AeadKey, destroyKey, getAead } from './internal/aead.js'
import { SubjectKeyCache } from './internal/subject-cache.js'
import {
  NAMESPACE_REF,
  parseSubjectKeyRef,
  sameWrapped,
  subjectKeyAad,
  subjectKeyRef,
  subjectRefOf,
  unwrapUnderSubject,
  wrapUnderSubject,
} from './internal/subject-crypto.js'
import type { KekProvider, KeyDescription, WrapOptions, WrappedKey } from './kek-provider.js'
import type { NewSubjectKey, ShredOutcome, SubjectKeyRecord, WrappedSubjectKey } from './subject-key-store.js'
import {
  assertSubjectId,
  checkSubjectKeysOptions,
  type SubjectKeys,
  type SubjectKeysOptions,
  type SubjectRewrapResult,
} from './subject-keys-types.js'

/**
 * Creates per-subject keys over a KEK provider and a subject-key store. Encrypt a subject's fields
 * with {@link createSubjectEnvelope} (or `createEnvelope({ provider: subjects.forSubject(id) })`),
 * decrypt with it (or `createEnvelope({ provider: subjects.provider })`), and erase a subject with
 * `shredSubject`. `events` receives `key.destroyed` (`keyRef` the opaque subject key reference,
 * `subject` the id as given, `actor`, `code` the {@link ShredOutcome}) after the tombstone is
 * durable; a critical sink that fails turns the result into `EventSinkError`, but the shred stands.
 *
 * Caching and other instances: an unwrapped subject key is reused for `cacheTtlMs` (default 10 s).
 * An instance that cached a key before another one shredded it can still use it until the entry
 * expires: it may decrypt, and an encrypt it makes then is unreadable once the entry expires
 * (shredded with the rest). Set `cacheTtlMs: 0` where that window must be zero. Creating a key
 * always goes to the store, and a tombstone always wins: an encrypt for a shredded subject fails.
 *
 * Disposal of copies: shredding erases the wrapped subject key from the store's current state.
 * Older copies (database WAL and dead tuples, file-system blocks, backups of the store) still hold
 * it wrapped under the KEK version of that time: rotate the KEK, run `rewrapSubjectKeys`, then
 * retire and destroy the old KEK version to make those copies unreadable too.
 *
 * @hipaa 164.310(d)(2)(i) supports
 * @hipaa 164.310(d)(2)(ii) supports
 * @hipaa 164.312(a)(2)(iv) supports
 * @nist SC-12 164.312(a)(2)(iv): a random subject key per subject between the KEK and the data keys, wrapped under the KEK; KEK rotation rewraps subject keys without touching data
 * @nist MP-6 164.310(d)(2)(i): shredSubject destroys one subject's key and keeps a tombstone, so every message of that subject is unreadable and the subject can never get a new key (cryptographic erase)
 * @evidence key.destroyed events (opaque key reference, subject id as given, actor, outcome); tombstones in the subject-key store with their time
 * @appResponsibility Decide who may shred (a patient's request, a retention rule) and record the decision; keep the audit trail pseudonymised; after shredding, rotate the KEK and destroy its old version so backups of the store cannot yield the key.
 * @config subject-key store (file, PostgreSQL), cache TTL (default 10 s, 0 disables), provider id
 * @verifiedBy packages/envelope/test/subject-keys.test.ts
 * @verifiedBy packages/envelope-postgres/test/shred.test.ts
 * @throws {TypeError} when `kek` or `store` is missing or `id` is invalid.
 * @throws {RangeError} when `cacheTtlMs` or `maxCacheEntries` is out of range.
 * @example
 * ```ts
 * import { createSubjectEnvelope, createSubjectKeys, fileSubjectKeyStore, LocalKeyring } from '@safeguards/envelope'
 *
 * const kek = await LocalKeyring.open('/var/lib/app/keyring.json')
 * const subjects = createSubjectKeys({ kek, store: fileSubjectKeyStore('/var/lib/app/subject-keys.json') })
 * const envelope = createSubjectEnvelope({ subjects })
 * const ct = await envelope.encrypt('patient-17', utf8Encode('123-45-6789'), { column: 'ssn' })
 * await subjects.shredSubject('patient-17', { actor: 'privacy-officer' })
 * await envelope.decrypt(ct, { column: 'ssn' }) // throws SubjectShreddedError (ERR_SUBJECT_SHREDDED)
 * ```
 */
export function createSubjectKeys(options: SubjectKeysOptions): SubjectKeys {
  const { id, ttl, max } = checkSubjectKeysOptions(options)
  const { kek, store } = options
  const clock = options.clock ?? systemClock
  const random = options.random ?? randomBytes
  const aead: Aead = getAead(options.backend)
  const emitter = createEmitter(options)
  const cache = new SubjectKeyCache(ttl, max, clock, aead)
  const loading = new Map<string, Promise<AeadKey>>()
  let kekEpoch = kek.stateEpoch?.()
  /** Counts shreds made or seen here: with the KEK's epoch, the providers' `stateEpoch`. */
  let shredEpoch = 0
  const stateEpoch = (): number => (kek.stateEpoch?.() ?? 0) + shredEpoch
  const markShredded = (ref: string): void => {
    if (!cache.isShredded(ref)) shredEpoch++
    cache.markShredded(ref)
  }
  let namespaceKey: Promise<Uint8Array> | undefined

  /** Drops cached keys when the KEK provider reports a key state change. */
  const checkKekEpoch = (): void => {
    if (kek.stateEpoch === undefined) return
    const now = kek.stateEpoch()
    if (now !== kekEpoch) {
      kekEpoch = now
      cache.clear()
    }
  }

  const storeCall = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call()
    } catch (e) {
      if (isSafeguardsError(e) || e instanceof TypeError || e instanceof RangeError) throw e
      throw new SubjectKeyStoreError(`subject-key store: ${what} failed`, { cause: e })
    }
  }

  const wrapNew = async (ref: string, key: Uint8Array): Promise<WrappedSubjectKey> => {
    const w = await kek.wrap(key, subjectKeyAad(ref))
    return { providerId: kek.id, keyRef: w.keyRef, edk: w.edk }
  }

  /** Unwraps a stored record's key, or throws the error its state calls for. */
  const openRecord = async (rec: SubjectKeyRecord | undefined, keyRef: string): Promise<Uint8Array> => {
    if (rec === undefined) throw new KeyUnavailableError(keyRef, 'unknown')
    if (rec.state === 'shredded') {
      markShredded(rec.ref)
      throw new SubjectShreddedError(keyRef)
    }
    const w = rec.wrapped
    if (rec.state !== 'active' || w === undefined)
      throw new SubjectKeyStoreError(`subject-key store: record ${keyRef} is malformed`)
    if (w.providerId !== kek.id) throw new KeyUnavailableError(w.keyRef, 'no-provider')
    const raw = await kek.unwrap(w.edk, w.keyRef, subjectKeyAad(rec.ref))
    if (!(raw instanceof Uint8Array) || raw.length !== 32)
      throw new KekProviderError(kek.id, 'unwrap returned a key that is not 32 bytes')
    return raw
  }

  const getNamespaceKey = (): Promise<Uint8Array> => {
    namespaceKey ??= (async () => {
      let rec = await storeCall('get', () => store.get(NAMESPACE_REF))
      if (rec === undefined) {
        const fresh = random(32)
        const wrapped = await wrapNew(NAMESPACE_REF, fresh)
        rec = await storeCall('create', () => store.create(NAMESPACE_REF, wrapped, clock.now()))
        fresh.fill(0)
      }
      if (rec.state !== 'active')
        throw new SubjectKeyStoreError('subject-key store: the namespace key is missing')
      return openRecord(rec, `${id}:${NAMESPACE_REF}`)
    })()
    namespaceKey.catch(() => {
      namespaceKey = undefined
    })
    return namespaceKey
  }

  const refOf = async (subjectId: string): Promise<string> => {
    assertSubjectId(subjectId)
    return subjectRefOf(await getNamespaceKey(), subjectId)
  }

  /** Reads `ref`'s record and unwraps its subject key (creating the key when `create` and there is none). */
  const fetchKey = async (ref: string, create: boolean): Promise<Uint8Array> => {
    let rec = await storeCall('get', () => store.get(ref))
    if (rec === undefined && create) {
      const fresh = random(32)
      try {
        const wrapped = await wrapNew(ref, fresh)
        rec = await storeCall('create', () => store.create(ref, wrapped, clock.now()))
      } finally {
        fresh.fill(0)
      }
    }
    return openRecord(rec, subjectKeyRef(id, ref))
  }

  /**
   * Runs `use` with `ref`'s subject key: from the cache, or fetched from the store (and cached when
   * the TTL is not 0; concurrent fetches of one reference then share one store read).
   */
  const withKey = async <T>(
    ref: string,
    create: boolean,
    use: (key: AeadKey) => T | Promise<T>,
  ): Promise<T> => {
    checkKekEpoch()
    if (cache.isShredded(ref)) throw new SubjectShreddedError(subjectKeyRef(id, ref))
    const hit = cache.get(ref)
    if (hit !== undefined) return use(hit)
    if (!cache.enabled) {
      const raw = await fetchKey(ref, create)
      const key = aead.importKey(raw, true)
      try {
        return await use(key)
      } finally {
        raw.fill(0)
        destroyKey(key)
      }
    }
    const slot = `${create ? 'c' : 'o'}${ref}`
    let p = loading.get(slot)
    if (p === undefined) {
      p = fetchKey(ref, create)
        .then((raw) => {
          if (cache.isShredded(ref)) {
            raw.fill(0)
            throw new SubjectShreddedError(subjectKeyRef(id, ref))
          }
          return cache.put(ref, raw)
        })
        .finally(() => loading.delete(slot))
      loading.set(slot, p)
    }
    return use(await p)
  }

  const unwrap = (edk: Uint8Array, keyRef: string, aad: Uint8Array): Promise<Uint8Array> => {
    const ref = parseSubjectKeyRef(id, keyRef)
    if (ref === undefined) return Promise.reject(new KeyUnavailableError(String(keyRef), 'unknown'))
    return withKey(ref, false, (key) => unwrapUnderSubject(aead, key, keyRef, edk, aad))
  }

  const describeRef = async (keyRef: string): Promise<KeyDescription> => {
    const ref = parseSubjectKeyRef(id, keyRef)
    if (ref === undefined) throw new KeyUnavailableError(String(keyRef), 'unknown')
    const rec = await storeCall('get', () => store.get(ref))
    if (rec === undefined) throw new KeyUnavailableError(keyRef, 'unknown')
    return {
      keyRef,
      providerId: id,
      version: 1,
      state: rec.state === 'active' ? 'primary' : 'destroyed',
      createdAt: rec.createdAt,
    }
  }

  const noPrimary = (): Promise<never> =>
    Promise.reject(new KeyUnavailableError(`${id}:(no subject)`, 'no-primary'))

  const provider: KekProvider = {
    id,
    wrap: () => noPrimary(),
    unwrap,
    describe: describeRef,
    primary: () => noPrimary(),
    stateEpoch,
  }

  const forSubject = (subjectId: string): KekProvider => {
    assertSubjectId(subjectId)
    // The reference is computed once per provider (one HMAC), then reused by every wrap.
    let ref: Promise<string> | undefined
    const refP = (): Promise<string> => {
      ref ??= refOf(subjectId)
      ref.catch(() => {
        ref = undefined
      })
      return ref
    }
    return {
      id,
      async wrap(dek: Uint8Array, aad: Uint8Array, opts?: WrapOptions): Promise<WrappedKey> {
        const ref = await refP()
        const keyRef = subjectKeyRef(id, ref)
        if (opts?.keyRef !== undefined && opts.keyRef !== keyRef)
          throw new KeyUnavailableError(opts.keyRef, 'no-primary')
        const edk = await withKey(ref, true, (key) => wrapUnderSubject(aead, key, keyRef, dek, aad, random))
        return { keyRef, edk }
      },
      unwrap,
      describe: describeRef,
      async primary(): Promise<KeyDescription> {
        const ref = await refP()
        return { keyRef: subjectKeyRef(id, ref), providerId: id, version: 1, state: 'primary' }
      },
      stateEpoch,
    }
  }

  return {
    provider,
    forSubject,
    keyRefOf: async (subjectId) => subjectKeyRef(id, await refOf(subjectId)),
    async status(subjectId) {
      const rec = await storeCall('get', async () => store.get(await refOf(subjectId)))
      return rec === undefined ? 'none' : rec.state
    },
    async ensureSubjects(subjectIds) {
      if (!Array.isArray(subjectIds)) throw new TypeError('"subjectIds" expected an array')
      const nsKey = await getNamespaceKey()
      const refs = new Map<string, string>()
      for (const s of subjectIds) {
        assertSubjectId(s)
        refs.set(subjectRefOf(nsKey, s), s)
      }
      const entries: NewSubjectKey[] = []
      const raws = new Map<string, Uint8Array>()
      for (const ref of refs.keys()) {
        if (cache.get(ref) !== undefined) continue
        const raw = random(32)
        raws.set(ref, raw)
        entries.push({ ref, wrapped: await wrapNew(ref, raw) })
      }
      const at = clock.now()
      const createMany = store.createMany?.bind(store)
      const stored =
        createMany !== undefined
          ? await storeCall('createMany', () => createMany(entries, at))
          : await storeCall('create', async () => {
              const out: SubjectKeyRecord[] = []
              for (const e of entries) out.push(await store.create(e.ref, e.wrapped, at))
              return out
            })
      const mine = new Map(entries.map((e) => [e.ref, e.wrapped]))
      for (const rec of stored) {
        if (rec.state === 'shredded') markShredded(rec.ref)
        const raw = raws.get(rec.ref)
        const ours = mine.get(rec.ref)
        // Cache only the keys this call stored (a concurrent creator's record has other bytes).
        if (
          cache.enabled &&
          raw !== undefined &&
          ours !== undefined &&
          rec.wrapped !== undefined &&
          sameWrapped(rec.wrapped, ours)
        ) {
          cache.put(rec.ref, raw)
          raws.delete(rec.ref)
        }
      }
      for (const raw of raws.values()) raw.fill(0)
    },
    async shredSubject(subjectId, opts) {
      const ref = await refOf(subjectId)
      const keyRef = subjectKeyRef(id, ref)
      const outcome = await storeCall('shred', () => store.shred(ref, clock.now()))
      markShredded(ref)
      if (emitter.active) {
        await emitter.emit({
          type: 'key.destroyed',
          at: clock.now(),
          source: '@safeguards/envelope',
          outcome: 'success',
          keyRef,
          subject: subjectId,
          code: outcome,
          ...(opts?.actor === undefined ? {} : { actor: opts.actor }),
        })
      }
      return { keyRef, outcome }
    },
    async rewrapSubjectKeys(opts) {
      const batchSize = opts?.batchSize ?? 500
      if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 100_000)
        throw new RangeError('"batchSize" expected an integer in 1..100000')
      const primary = await kek.primary()
      const result: SubjectRewrapResult = { rewrapped: 0, current: 0, skipped: 0 }
      let after: string | undefined
      for (;;) {
        const page = await storeCall('listActive', () => store.listActive(after, batchSize))
        for (const rec of page) {
          const w = rec.wrapped
          if (w === undefined) continue
          if (w.providerId === kek.id && w.keyRef === primary.keyRef) {
            result.current++
            continue
          }
          if (w.providerId !== kek.id) throw new KeyUnavailableError(w.keyRef, 'no-provider')
          const aad = subjectKeyAad(rec.ref)
          const raw = await kek.unwrap(w.edk, w.keyRef, aad)
          try {
            const next = await kek.wrap(raw, aad, { keyRef: primary.keyRef })
            const ok = await storeCall('replaceWrapped', () =>
              store.replaceWrapped(rec.ref, w, { providerId: kek.id, keyRef: next.keyRef, edk: next.edk }),
            )
            if (ok) result.rewrapped++
            else result.skipped++
          } finally {
            raw.fill(0)
          }
        }
        if (page.length < batchSize) break
        after = page[page.length - 1]?.ref
      }
      return result
    },
    clearCache: () => cache.clear(),
    async close() {
      cache.clear()
      const ns = namespaceKey
      namespaceKey = undefined
      if (ns !== undefined) await ns.then((k) => k.fill(0)).catch(() => undefined)
      await store.close?.()
    },
  }
}
