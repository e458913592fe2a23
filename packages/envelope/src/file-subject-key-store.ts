/**
 * A {@link SubjectKeyStore} in one JSON file (mode 0600), for single-host deployments, the CLI and
 * tests. Every change runs under `<path>.lock` (the SDK's inter-process lock from
 * `@safeguards/core/node`, broken only when its holder is provably dead), reads the file afresh and
 * replaces it atomically (temp file, fsync, rename, fsync of the directory), so several processes
 * on one host share it safely and a crash leaves the old or the new file, never a torn one. Reads
 * reuse the parsed file while its inode, size and modification time (ns) are unchanged.
 *
 * Scale: the whole file is rewritten on every change, so it suits thousands of subjects, not
 * millions; use the PostgreSQL store (`@safeguards/envelope-postgres`) for more, or for several hosts.
 *
 * Disposal: a shred rewrites the file without the wrapped key. The old file's blocks are released,
 * not overwritten, and backups keep old copies: those hold the key wrapped under the KEK of the
 * time, so rotate the KEK and destroy its old version to make them unreadable.
 *
 * File format (`safeguards-subject-keys/v1`): `{"format", "keys": {ref: {"state": "active",
 * "provider", "keyRef", "edk" (base64url), "createdAt"} | {"state": "shredded", "createdAt",
 * "shreddedAt"}}}`.
 *
 * @module
 */
import { REF_RE, sameWrapped } from './internal/subject-crypto.js'
import { type Records, SubjectKeyFile } from './internal/subject-key-file.js'
import type {
  NewSubjectKey,
  ShredOutcome,
  SubjectKeyRecord,
  SubjectKeyStore,
  WrappedSubjectKey,
} from './subject-key-store.js'

/** Options of {@link fileSubjectKeyStore}. */
export interface FileSubjectKeyStoreOptions {
  /** How long a change waits for another process holding `<path>.lock`, in ms (default 15000). */
  lockTimeoutMs?: number
}

function check(ref: string): void {
  if (typeof ref !== 'string' || !REF_RE.test(ref))
    throw new TypeError('"ref" expected 1..64 base64url characters')
}

/**
 * A subject-key store in the JSON file `path` (created on first write, mode 0600). See the module
 * documentation for locking, atomicity, scale and disposal.
 *
 * HIPAA: 164.310(d)(2)(i) disposal (tombstones that are never removed); 164.312(c)(1) integrity
 * (atomic, locked updates).
 *
 * @hipaa 164.310(d)(2)(i) supports
 * @hipaa 164.312(a)(2)(iv) supports
 * @nist MP-6 164.310(d)(2)(i): a shred rewrites the file atomically without the wrapped subject key and keeps a tombstone
 * @verifiedBy packages/envelope/test/subject-keys.test.ts
 * @throws {TypeError} when `path` is not a non-empty string.
 * @example
 * ```ts
 * import { createSubjectKeys, fileSubjectKeyStore, LocalKeyring } from '@safeguards/envelope'
 *
 * const store = fileSubjectKeyStore('/var/lib/app/subject-keys.json')
 * const subjects = createSubjectKeys({ kek: await LocalKeyring.open('/var/lib/app/keyring.json'), store })
 * ```
 */
export function fileSubjectKeyStore(path: string, options: FileSubjectKeyStoreOptions = {}): SubjectKeyStore {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('"path" expected a non-empty string')
  const timeoutMs = options.lockTimeoutMs ?? 15_000
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0)
    throw new RangeError('"lockTimeoutMs" expected ms ≥ 0')
  const file = new SubjectKeyFile(path, timeoutMs)
  return {
    async get(ref) {
      check(ref)
      return (await file.read()).get(ref)
    },
    create: (ref, wrapped, at) => file.update((records) => insert(records, ref, wrapped, at)),
    createMany: (entries: readonly NewSubjectKey[], at) =>
      file.update((records) => {
        let dirty = false
        const out = entries.map((e) => {
          const [rec, added] = insert(records, e.ref, e.wrapped, at)
          dirty ||= added
          return rec
        })
        return [out, dirty]
      }),
    shred: (ref, at) => file.update((records) => shred(records, ref, at)),
    async listActive(after, limit) {
      const records = await file.read()
      return [...records.values()]
        .filter((r) => r.state === 'active' && (after === undefined || r.ref > after))
        .sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0))
        .slice(0, limit)
    },
    replaceWrapped: (ref, expected, next) =>
      file.update((records) => {
        const existing = records.get(ref)
        if (
          existing?.state !== 'active' ||
          existing.wrapped === undefined ||
          !sameWrapped(existing.wrapped, expected)
        )
          return [false, false]
        records.set(ref, { ...existing, wrapped: { ...next, edk: next.edk.slice() } })
        return [true, true]
      }),
  }
}

/** Adds an active record for `ref` unless it has one (or a tombstone): `[record, added]`. */
function insert(
  records: Records,
  ref: string,
  wrapped: WrappedSubjectKey,
  at: number,
): [SubjectKeyRecord, boolean] {
  check(ref)
  const existing = records.get(ref)
  if (existing !== undefined) return [existing, false]
  const rec: SubjectKeyRecord = {
    ref,
    state: 'active',
    wrapped: { providerId: wrapped.providerId, keyRef: wrapped.keyRef, edk: wrapped.edk.slice() },
    createdAt: at,
  }
  records.set(ref, rec)
  return [rec, true]
}

/** Replaces `ref`'s record with a tombstone: `[outcome, changed]`. */
function shred(records: Records, ref: string, at: number): [ShredOutcome, boolean] {
  check(ref)
  const existing = records.get(ref)
  if (existing?.state === 'shredded') return ['already-shredded', false]
  records.set(ref, { ref, state: 'shredded', createdAt: existing?.createdAt ?? at, shreddedAt: at })
  return [existing === undefined ? 'tombstoned' : 'destroyed', true]
}
