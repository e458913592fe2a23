/**
 * A {@link UsageStore} in a JSON file next to the keyring (`<keyring>.usage`, mode 0600), updated
 * under a lock file with an atomic replace, so several processes on one host share one budget.
 *
 * @module
 */
import { parseJson, utf8Decode, utf8Encode } from '@safeguards/core'
import { KeyringFileError } from './errors.js'
import { fs, isNotFound, withFileLock, writeAtomic } from './internal/fs.js'
import type { UsageStore } from './usage-budget.js'

async function readCounts(path: string): Promise<Record<string, string>> {
  const f = await fs()
  let text: string
  try {
    text = utf8Decode(await f.readFile(path))
  } catch (e) {
    if (isNotFound(e)) return {}
    throw new KeyringFileError(`cannot read the usage file ${path}`, { cause: e })
  }
  let v: unknown
  try {
    v = parseJson(text)
  } catch (e) {
    throw new KeyringFileError(`usage file ${path} is malformed`, { cause: e, category: 'invalid-input' })
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new KeyringFileError(`usage file ${path} is malformed`, { category: 'invalid-input' })
  const out: Record<string, string> = {}
  for (const [k, n] of Object.entries(v)) {
    if (typeof n !== 'string' || !/^[0-9]{1,20}$/.test(n))
      throw new KeyringFileError(`usage file ${path} is malformed`, { category: 'invalid-input' })
    out[k] = n
  }
  return out
}

/**
 * A usage store persisted in `path` (JSON, mode 0600), safe under concurrent use by several
 * processes: every reservation runs under `<path>.lock` and replaces the file atomically.
 *
 * HIPAA: 164.312(a)(2)(iv) (durable accounting of key use).
 *
 * @throws {KeyringFileError} when the file is malformed or cannot be written.
 * @example
 * ```ts
 * const store = fileUsageStore('/var/lib/app/keyring.json.usage')
 * const before = await store.reserve('local:default@v1', 1024n)
 * ```
 */
export function fileUsageStore(path: string): UsageStore {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('"path" expected a non-empty string')
  return {
    reserve(keyRef, count) {
      if (typeof count !== 'bigint' || count < 0n)
        throw new RangeError('"count" expected a non-negative bigint')
      return withFileLock(path, async (lock) => {
        const counts = await readCounts(path)
        const before = BigInt(counts[keyRef] ?? '0')
        counts[keyRef] = (before + count).toString()
        await writeAtomic(path, utf8Encode(JSON.stringify(counts)), false, lock)
        return before
      })
    },
    async get(keyRef) {
      return BigInt((await readCounts(path))[keyRef] ?? '0')
    },
  }
}
