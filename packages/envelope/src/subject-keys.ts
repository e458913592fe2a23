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
import { createEmitter, type Emitter, randomBytes, systemClock } from '@safeguards/core'
import { KeyUnavailableError } from './errors.js'
import { getAead } from './internal/aead.js'
import { SubjectKeyCache } from './internal/subject-cache.js'
import { subjectKeyRef, wrapUnderSubject } from './internal/subject-crypto.js'
import { ensureSubjects, rewrapSubjectKeys } from './internal/subject-key-batch.js'
import {
  describeSubjectKey,
  markShredded,
  refOf,
  type SubjectKeysState,
  stateEpoch,
  storeCall,
  unwrapDataKey,
  withKey,
} from './internal/subject-key-state.js'
import type { KekProvider, KeyDescription, WrapOptions, WrappedKey } from './kek-provider.js'
import {
  assertSubjectId,
  checkSubjectKeysOptions,
  type ShredOptions,
  type ShredResult,
  type SubjectKeys,
  type SubjectKeysOptions,
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
  const aead = getAead(options.backend)
  const s: SubjectKeysState = {
    id,
    kek,
    store,
    clock,
    random: options.random ?? randomBytes,
    aead,
    cache: new SubjectKeyCache(ttl, max, clock, aead),
    loading: new Map(),
    kekEpoch: kek.stateEpoch?.(),
    shredEpoch: 0,
    namespaceKey: undefined,
  }
  const emitter = createEmitter(options)
  const shared: SharedMethods = {
    unwrap: (edk, keyRef, aad) => unwrapDataKey(s, edk, keyRef, aad),
    describe: (keyRef) => describeSubjectKey(s, keyRef),
    stateEpoch: () => stateEpoch(s),
  }
  const noPrimary = (): Promise<never> =>
    Promise.reject(new KeyUnavailableError(`${id}:(no subject)`, 'no-primary'))
  return {
    provider: {
      id,
      wrap: () => noPrimary(),
      unwrap: shared.unwrap,
      describe: shared.describe,
      primary: () => noPrimary(),
      stateEpoch: shared.stateEpoch,
    },
    forSubject: (subjectId) => subjectProvider(s, shared, subjectId),
    keyRefOf: async (subjectId) => subjectKeyRef(id, await refOf(s, subjectId)),
    async status(subjectId) {
      const rec = await storeCall('get', async () => store.get(await refOf(s, subjectId)))
      return rec === undefined ? 'none' : rec.state
    },
    ensureSubjects: (subjectIds) => ensureSubjects(s, subjectIds),
    shredSubject: (subjectId, opts) => shredSubject(s, emitter, subjectId, opts),
    rewrapSubjectKeys: (opts) => rewrapSubjectKeys(s, opts),
    clearCache: () => s.cache.clear(),
    close: () => closeSubjectKeys(s),
  }
}

/** The provider methods every subject's provider shares with `SubjectKeys.provider`. */
type SharedMethods = Pick<KekProvider, 'unwrap' | 'describe'> & { stateEpoch: () => number }

/** `SubjectKeys.forSubject`: a provider that wraps under one subject's key (created on first wrap). */
function subjectProvider(s: SubjectKeysState, shared: SharedMethods, subjectId: string): KekProvider {
  assertSubjectId(subjectId)
  const { id } = s
  // The reference is computed once per provider (one HMAC), then reused by every wrap.
  let ref: Promise<string> | undefined
  const refP = (): Promise<string> => {
    ref ??= refOf(s, subjectId)
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
      const edk = await withKey(s, ref, true, (key) =>
        wrapUnderSubject(s.aead, key, keyRef, dek, aad, s.random),
      )
      return { keyRef, edk }
    },
    unwrap: shared.unwrap,
    describe: shared.describe,
    async primary(): Promise<KeyDescription> {
      const ref = await refP()
      return { keyRef: subjectKeyRef(id, ref), providerId: id, version: 1, state: 'primary' }
    },
    stateEpoch: shared.stateEpoch,
  }
}

/** `SubjectKeys.shredSubject`: the tombstone first (durable), then the `key.destroyed` event. */
async function shredSubject(
  s: SubjectKeysState,
  emitter: Emitter,
  subjectId: string,
  opts: ShredOptions | undefined,
): Promise<ShredResult> {
  const ref = await refOf(s, subjectId)
  const keyRef = subjectKeyRef(s.id, ref)
  const outcome = await storeCall('shred', () => s.store.shred(ref, s.clock.now()))
  markShredded(s, ref)
  if (emitter.active) {
    await emitter.emit({
      type: 'key.destroyed',
      at: s.clock.now(),
      source: '@safeguards/envelope',
      outcome: 'success',
      keyRef,
      subject: subjectId,
      code: outcome,
      ...(opts?.actor === undefined ? {} : { actor: opts.actor }),
    })
  }
  return { keyRef, outcome }
}

/** `SubjectKeys.close`: drops the cached keys, zeroises the namespace key, closes the store. */
async function closeSubjectKeys(s: SubjectKeysState): Promise<void> {
  s.cache.clear()
  const ns = s.namespaceKey
  s.namespaceKey = undefined
  if (ns !== undefined) await ns.then((k) => k.fill(0)).catch(() => undefined)
  await s.store.close?.()
}
