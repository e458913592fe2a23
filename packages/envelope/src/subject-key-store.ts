/**
 * The storage interface of per-subject keys (crypto-shredding), and an in-memory store for tests
 * and demos. A store keeps, per opaque subject reference, either the subject key wrapped under a
 * KEK (`active`) or a tombstone (`shredded`): the wrapped key is erased and the reference can never
 * get a key again. Stores hold no key material in the clear and no subject ids: references are
 * keyed hashes computed by {@link createSubjectKeys}.
 *
 * Contract every store keeps (the file and PostgreSQL stores are tested against it):
 * - `create` is insert-if-absent and atomic: with several writers (processes, hosts) exactly one
 *   record wins and every caller gets the winner back; a tombstone wins over any create.
 * - `shred` is durable when it resolves, erases the wrapped key, and leaves a tombstone even for a
 *   reference that never had a key; a tombstone is never removed or replaced.
 * - `get` reads the durable state (no cache: caching is {@link createSubjectKeys}' job, with a
 *   stated TTL).
 *
 * HIPAA: 164.310(d)(2)(i) disposal (a tombstone records the destruction, irreversibly);
 * 164.312(a)(2)(iv) encryption (subject keys are stored wrapped under a KEK).
 *
 * @module
 */
import { REF_RE, sameWrapped } from './internal/subject-crypto.js'

/** The state of a subject key: `active` (wrapped key present) or `shredded` (a tombstone). */
export type SubjectKeyState = 'active' | 'shredded'

/** A subject key wrapped under a KEK: which provider and key version, and the wrapped bytes. */
export interface WrappedSubjectKey {
  /** The KEK provider id, for example `local`. */
  readonly providerId: string
  /** The KEK key reference, for example `local:default@v2`. */
  readonly keyRef: string
  /** The wrapped subject key (opaque; at most 4096 bytes). */
  readonly edk: Uint8Array
}

/** One record of a {@link SubjectKeyStore}. */
export interface SubjectKeyRecord {
  /** The opaque subject reference (1..64 characters of base64url). */
  readonly ref: string
  /** `active` or `shredded`. */
  readonly state: SubjectKeyState
  /** The wrapped subject key; present exactly when `state` is `active`. */
  readonly wrapped?: WrappedSubjectKey
  /** When the record was created, ms since the epoch. */
  readonly createdAt: number
  /** When the key was shredded, ms since the epoch; present exactly when `state` is `shredded`. */
  readonly shreddedAt?: number
}

/**
 * What {@link SubjectKeyStore.shred} did: erased an active key (`destroyed`), found a tombstone
 * (`already-shredded`), or wrote a tombstone for a reference that had no key (`tombstoned`).
 */
export type ShredOutcome = 'destroyed' | 'already-shredded' | 'tombstoned'

/** One entry of {@link SubjectKeyStore.createMany}. */
export interface NewSubjectKey {
  /** The opaque subject reference. */
  readonly ref: string
  /** The subject key wrapped under the KEK. */
  readonly wrapped: WrappedSubjectKey
}

/**
 * Where subject keys live. See the module documentation for the contract.
 *
 * HIPAA: 164.310(d)(2)(i) disposal; 164.312(a)(2)(iv) encryption.
 *
 * @example
 * ```ts
 * import { createSubjectKeys, LocalKeyring, memorySubjectKeyStore } from '@safeguards/envelope'
 *
 * const subjects = createSubjectKeys({ kek: await LocalKeyring.inMemory(), store: memorySubjectKeyStore() })
 * ```
 */
export interface SubjectKeyStore {
  /**
   * The durable record of `ref`, or `undefined` when there is none.
   *
   * @throws {SubjectKeyStoreError} when the store cannot be read.
   */
  get(ref: string): Promise<SubjectKeyRecord | undefined>
  /**
   * Stores an active key for `ref` unless a record exists (active or tombstone); atomic. Returns
   * the record now stored: the new one, the winner of a concurrent create, or a tombstone.
   *
   * @throws {SubjectKeyStoreError} when the store cannot be written.
   */
  create(ref: string, wrapped: WrappedSubjectKey, at: number): Promise<SubjectKeyRecord>
  /**
   * {@link SubjectKeyStore.create} for many references at once (optional; used by
   * `SubjectKeys.ensureSubjects` for bulk loads). Returns the records now stored, in any order.
   */
  createMany?(entries: readonly NewSubjectKey[], at: number): Promise<SubjectKeyRecord[]>
  /**
   * Replaces `ref`'s record with a tombstone, erasing its wrapped key, durably; writes a tombstone
   * when there is no record. Never undone.
   *
   * @throws {SubjectKeyStoreError} when the store cannot be written.
   */
  shred(ref: string, at: number): Promise<ShredOutcome>
  /**
   * Active records with a reference greater than `after` (all when `undefined`), in reference
   * order, at most `limit` (for KEK rotation in batches).
   */
  listActive(after: string | undefined, limit: number): Promise<SubjectKeyRecord[]>
  /**
   * Replaces the wrapped key of an active record when it still equals `expected` (same KEK key
   * reference and bytes); false otherwise (shredded meanwhile, or rewrapped by someone else).
   */
  replaceWrapped(ref: string, expected: WrappedSubjectKey, next: WrappedSubjectKey): Promise<boolean>
  /** Releases what the store holds (a pool it created; optional). */
  close?(): Promise<void>
}

/**
 * Checks a subject reference (1..64 base64url characters).
 *
 * @throws {TypeError} when `ref` is not such a string.
 * @example
 * ```ts
 * assertSubjectRef('q8b2Xh0kL3m9Tz1Rr5wE7A') // ok
 * ```
 */
export function assertSubjectRef(ref: unknown): asserts ref is string {
  if (typeof ref !== 'string' || !REF_RE.test(ref))
    throw new TypeError('"ref" expected 1..64 base64url characters')
}

function copyWrapped(w: WrappedSubjectKey): WrappedSubjectKey {
  return { providerId: w.providerId, keyRef: w.keyRef, edk: w.edk.slice() }
}

/**
 * A {@link SubjectKeyStore} in process memory: for tests, demos and short-lived jobs. Nothing
 * survives the process, so shredding is trivially durable and a restart forgets every key.
 *
 * HIPAA: 164.310(d)(2)(i) disposal (tombstones, as every store).
 *
 * @example
 * ```ts
 * const store = memorySubjectKeyStore()
 * await store.shred('q8b2Xh0kL3m9Tz1Rr5wE7A', Date.now()) // 'tombstoned'
 * ```
 */
export function memorySubjectKeyStore(): SubjectKeyStore {
  const records = new Map<string, SubjectKeyRecord>()
  const create = (ref: string, wrapped: WrappedSubjectKey, at: number): SubjectKeyRecord => {
    assertSubjectRef(ref)
    const existing = records.get(ref)
    if (existing !== undefined) return existing
    const rec: SubjectKeyRecord = { ref, state: 'active', wrapped: copyWrapped(wrapped), createdAt: at }
    records.set(ref, rec)
    return rec
  }
  return {
    async get(ref) {
      assertSubjectRef(ref)
      return records.get(ref)
    },
    async create(ref, wrapped, at) {
      return create(ref, wrapped, at)
    },
    async createMany(entries, at) {
      return entries.map((e) => create(e.ref, e.wrapped, at))
    },
    async shred(ref, at) {
      assertSubjectRef(ref)
      const existing = records.get(ref)
      if (existing?.state === 'shredded') return 'already-shredded'
      existing?.wrapped?.edk.fill(0)
      records.set(ref, { ref, state: 'shredded', createdAt: existing?.createdAt ?? at, shreddedAt: at })
      return existing === undefined ? 'tombstoned' : 'destroyed'
    },
    async listActive(after, limit) {
      const refs = [...records.values()]
        .filter((r) => r.state === 'active' && (after === undefined || r.ref > after))
        .sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0))
      return refs.slice(0, limit)
    },
    async replaceWrapped(ref, expected, next) {
      const existing = records.get(ref)
      if (existing?.state !== 'active' || existing.wrapped === undefined) return false
      if (!sameWrapped(existing.wrapped, expected)) return false
      records.set(ref, { ...existing, wrapped: copyWrapped(next) })
      return true
    },
  }
}
