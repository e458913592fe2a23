/**
 * The file behind {@link fileSubjectKeyStore}: the `safeguards-subject-keys/v1` JSON format
 * (parse with shape checks, serialise in reference order), reads that reuse the parsed file while
 * its inode, size and modification time are unchanged, and changes made under `<path>.lock` and
 * written atomically.
 *
 * HIPAA: 164.312(c)(1) integrity (atomic, locked updates).
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
import { SubjectKeyStoreError } from '../errors.js'
import type { SubjectKeyRecord } from '../subject-key-store.js'
import { fs, isNotFound } from './fs.js'
import { REF_RE } from './subject-crypto.js'

const FORMAT = 'safeguards-subject-keys/v1'

type CoreNode = typeof import('@safeguards/core/node')
let coreNode: Promise<CoreNode> | undefined
function node(): Promise<CoreNode> {
  coreNode ??= import('@safeguards/core/node')
  return coreNode
}

/** The records by reference. */
export type Records = Map<string, SubjectKeyRecord>

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

/** One store's file and its last parsed snapshot. */
export class SubjectKeyFile {
  readonly #path: string
  readonly #timeoutMs: number
  #snapshot: { stamp: string; records: Records } | undefined

  constructor(path: string, lockTimeoutMs: number) {
    this.#path = path
    this.#timeoutMs = lockTimeoutMs
  }

  /** The current records (a missing file has none); do not change the map. */
  async read(): Promise<Records> {
    return (await this.#readFresh()).records
  }

  async #readFresh(): Promise<{ stamp: string; records: Records }> {
    const path = this.#path
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
      if (this.#snapshot?.stamp === stamp) return this.#snapshot
      const records = parseRecords(path, utf8Decode(await handle.readFile()))
      this.#snapshot = { stamp, records }
      return this.#snapshot
    } catch (e) {
      if (e instanceof SubjectKeyStoreError) throw e
      throw new SubjectKeyStoreError(`cannot read the subject-key file ${path}`, { cause: e })
    } finally {
      await handle.close()
    }
  }

  /** Runs `change` on the current records under the lock; writes them back when it returns true. */
  async update<T>(change: (records: Records) => [T, boolean]): Promise<T> {
    const path = this.#path
    const { withFileLock, writeFileAtomic } = await node()
    return withFileLock(
      `${path}.lock`,
      async (lock) => {
        this.#snapshot = undefined
        const records = new Map((await this.#readFresh()).records)
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
        this.#snapshot = undefined
        return result
      },
      { timeoutMs: this.#timeoutMs },
    )
  }
}
