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
import {
  base64urlToBytes,
  bytesToBase64url,
  isSafeguardsError,
  parseJson,
  utf8Decode,
  utf8Encode,
} from '@safeguards/core'
import { SubjectKeyStoreError } from './errors.js'
import { fs, isNotFound } from './internal/fs.js'
import { REF_RE, sameWrapped } from './internal/subject-crypto.js'
import type {
  NewSubjectKey,
  SubjectKeyRecord,
  SubjectKeyStore,
  WrappedSubjectKey,
} from './subject-key-store.js'

const FORMAT = 'safeguards-subject-keys/v1'

type CoreNode = typeof import('@safeguards/core/node')
let coreNode: Promise<CoreNode> | undefined
function node(): Promise<CoreNode> {
  coreNode ??= import('@safeguards/core/node')
  return coreNode
}

/** Options of {@link fileSubjectKeyStore}. */
export interface FileSubjectKeyStoreOptions {
  /** How long a change waits for another process holding `<path>.lock`, in ms (default 15000). */
  lockTimeoutMs?: number
}

type Records = Map<string, SubjectKeyRecord>

function malformed(path: string, cause?: unknown): SubjectKeyStoreError {
  return new SubjectKeyStoreError(`subject-key file ${path} is malformed`, { cause })
}

function parseRecords(path: string, text: string): Records {
  let doc: unknown
  try {
    doc = parseJson(text)
  } catch (e) {
    throw malformed(path, e)
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw malformed(path)
  const { format, keys } = doc as { format?: unknown; keys?: unknown }
  if (format !== FORMAT || typeof keys !== 'object' || keys === null || Array.isArray(keys))
    throw malformed(path)
  const out: Records = new Map()
  for (const [ref, v] of Object.entries(keys)) {
    if (!REF_RE.test(ref) || typeof v !== 'object' || v === null) throw malformed(path)
    const r = v as Record<string, unknown>
    if (typeof r.createdAt !== 'number') throw malformed(path)
    if (r.state === 'active') {
      if (typeof r.provider !== 'string' || typeof r.keyRef !== 'string' || typeof r.edk !== 'string')
        throw malformed(path)
      let edk: Uint8Array
      try {
        edk = base64urlToBytes(r.edk)
      } catch (e) {
        throw malformed(path, e)
      }
      out.set(ref, {
        ref,
        state: 'active',
        wrapped: { providerId: r.provider, keyRef: r.keyRef, edk },
        createdAt: r.createdAt,
      })
    } else if (r.state === 'shredded' && typeof r.shreddedAt === 'number') {
      out.set(ref, { ref, state: 'shredded', createdAt: r.createdAt, shreddedAt: r.shreddedAt })
    } else throw malformed(path)
  }
  return out
}

function serialise(records: Records): Uint8Array {
  const keys: Record<string, unknown> = {}
  for (const [ref, r] of [...records].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    keys[ref] =
      r.state === 'active' && r.wrapped !== undefined
        ? {
            state: 'active',
            provider: r.wrapped.providerId,
            keyRef: r.wrapped.keyRef,
            edk: bytesToBase64url(r.wrapped.edk),
            createdAt: r.createdAt,
          }
        : { state: 'shredded', createdAt: r.createdAt, shreddedAt: r.shreddedAt }
  }
  return utf8Encode(JSON.stringify({ format: FORMAT, keys }))
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
  let snapshot: { stamp: string; records: Records } | undefined

  const readFresh = async (): Promise<{ stamp: string; records: Records }> => {
    const f = await fs()
    let handle: Awaited<ReturnType<typeof f.open>>
    try {
      handle = await f.open(path, 'r')
    } catch (e) {
      if (isNotFound(e)) return { stamp: 'none', records: new Map() }
      throw new SubjectKeyStoreError(`cannot read the subject-key file ${path}`, { cause: e })
    }
    try {
      const st = await handle.stat({ bigint: true })
      const stamp = `${st.ino}:${st.size}:${st.mtimeNs}`
      if (snapshot?.stamp === stamp) return snapshot
      const records = parseRecords(path, utf8Decode(await handle.readFile()))
      snapshot = { stamp, records }
      return snapshot
    } catch (e) {
      if (e instanceof SubjectKeyStoreError) throw e
      throw new SubjectKeyStoreError(`cannot read the subject-key file ${path}`, { cause: e })
    } finally {
      await handle.close()
    }
  }

  /** Runs `change` on the current records under the lock; writes them back when it returns true. */
  const update = async <T>(change: (records: Records) => [T, boolean]): Promise<T> => {
    const { withFileLock, writeFileAtomic } = await node()
    return withFileLock(
      `${path}.lock`,
      async (lock) => {
        snapshot = undefined
        const records = new Map((await readFresh()).records)
        const [result, dirty] = change(records)
        if (dirty) {
          try {
            await writeFileAtomic(path, serialise(records), {
              mode: 0o600,
              beforeCommit: () => lock.assertHeld(),
            })
          } catch (e) {
            if (isSafeguardsError(e, 'ERR_LOCK_LOST')) throw e
            throw new SubjectKeyStoreError(`cannot write the subject-key file ${path}`, { cause: e })
          }
        }
        snapshot = undefined
        return result
      },
      { timeoutMs },
    )
  }

  const insert = (
    records: Records,
    ref: string,
    wrapped: WrappedSubjectKey,
    at: number,
  ): [SubjectKeyRecord, boolean] => {
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

  return {
    async get(ref) {
      check(ref)
      return (await readFresh()).records.get(ref)
    },
    create: (ref, wrapped, at) => update((records) => insert(records, ref, wrapped, at)),
    createMany: (entries: readonly NewSubjectKey[], at) =>
      update((records) => {
        let dirty = false
        const out = entries.map((e) => {
          const [rec, added] = insert(records, e.ref, e.wrapped, at)
          dirty ||= added
          return rec
        })
        return [out, dirty]
      }),
    shred: (ref, at) =>
      update((records) => {
        check(ref)
        const existing = records.get(ref)
        if (existing?.state === 'shredded') return ['already-shredded', false]
        records.set(ref, { ref, state: 'shredded', createdAt: existing?.createdAt ?? at, shreddedAt: at })
        return [existing === undefined ? 'tombstoned' : 'destroyed', true]
      }),
    async listActive(after, limit) {
      const { records } = await readFresh()
      return [...records.values()]
        .filter((r) => r.state === 'active' && (after === undefined || r.ref > after))
        .sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0))
        .slice(0, limit)
    },
    replaceWrapped: (ref, expected, next) =>
      update((records) => {
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
