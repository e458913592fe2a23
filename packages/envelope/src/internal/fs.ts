/**
 * File helpers for the local keyring: atomic replace (temp file, fsync, rename), an advisory
 * lock file (`O_CREAT|O_EXCL`) with stale-lock recovery, and owner-only permissions. node:fs is
 * imported lazily so the package stays loadable where there is no file system.
 */
import { bytesToHex, randomBytes } from '@safeguards/core'
import { KeyringFileError } from '../errors.js'

type Fs = typeof import('node:fs/promises')

let fsPromise: Promise<Fs> | undefined
/** node:fs/promises, loaded on first use. */
export function fs(): Promise<Fs> {
  fsPromise ??= import('node:fs/promises')
  return fsPromise
}

function errCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code
  return typeof c === 'string' ? c : undefined
}

/** True when the error is ENOENT. */
export function isNotFound(e: unknown): boolean {
  return errCode(e) === 'ENOENT'
}

/** Writes `data` to `path` atomically with mode 0600 (temp file in the same folder, fsync, rename). */
export async function writeAtomic(path: string, data: Uint8Array, exclusive = false): Promise<void> {
  const f = await fs()
  const tmp = `${path}.tmp-${bytesToHex(randomBytes(8))}`
  const fh = await f.open(tmp, 'wx', 0o600)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    if (exclusive) {
      // link fails if `path` exists: creation never overwrites an existing keyring
      await f.link(tmp, path)
      await f.unlink(tmp)
    } else {
      await f.rename(tmp, path)
    }
  } catch (e) {
    await f.unlink(tmp).catch(() => undefined)
    if (exclusive && errCode(e) === 'EEXIST') throw new KeyringFileError('keyring file already exists')
    throw new KeyringFileError('cannot write keyring file', { cause: e })
  }
}

const STALE_MS = 30_000
const TIMEOUT_MS = 15_000

/**
 * Runs `fn` while holding `<path>.lock`. Waits (with backoff) for other holders, up to 15 s; a
 * lock file older than 30 s is taken as left by a crashed process. Uses the system clock on
 * purpose (not an injected one): staleness is judged against the file system's mtime.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const f = await fs()
  const lock = `${path}.lock`
  const started = Date.now()
  let delay = 2
  for (;;) {
    try {
      const fh = await f.open(lock, 'wx', 0o600)
      await fh.close()
      break
    } catch (e) {
      if (errCode(e) !== 'EEXIST') throw new KeyringFileError('cannot create keyring lock file', { cause: e })
      try {
        const st = await f.stat(lock)
        if (Date.now() - st.mtimeMs > STALE_MS) {
          await f.unlink(lock).catch(() => undefined)
          continue
        }
      } catch {
        continue // the lock went away between open and stat
      }
      if (Date.now() - started > TIMEOUT_MS) throw new KeyringFileError('keyring is locked by another writer')
      // Jitter from the CSPRNG (no Math.random in library code), so writers that collided spread out.
      await new Promise((r) => setTimeout(r, delay + ((randomBytes(1)[0] as number) / 256) * delay))
      delay = Math.min(delay * 2, 50)
    }
  }
  try {
    return await fn()
  } finally {
    await f.unlink(lock).catch(() => undefined)
  }
}
