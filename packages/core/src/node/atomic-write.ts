/**
 * Durable, atomic file writes (POSIX): the bytes go to a temporary file in the same directory,
 * which is fsynced and then renamed over the target (or hard-linked, for an exclusive create), and
 * the directory is fsynced so the new name survives a crash. A reader sees the old file or the new
 * one, never a mixture; a crash leaves at most a temporary file behind.
 *
 * @module
 */
import { closeSync, fsyncSync, openSync } from 'node:fs'
import { link, open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { bytesToHex } from '../bytes.js'
import { IoError } from '../errors.js'
import { randomBytes } from '../random.js'
import { errorCode } from './error-code.js'

/**
 * Flushes a directory's entries (new, renamed and removed names) to disk. Platforms that refuse to
 * fsync a directory (Windows) are tolerated: the files themselves are synced.
 *
 * @example
 * ```ts
 * import { fsyncDirSync } from '@safeguards/core/node'
 * fsyncDirSync('/var/lib/app')
 * ```
 */
export function fsyncDirSync(dir: string): void {
  let fd = -1
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // Some platforms refuse fsync on a directory; the data files themselves are synced.
  } finally {
    if (fd >= 0) closeSync(fd)
  }
}

/**
 * {@link fsyncDirSync} without blocking the event loop.
 *
 * @example
 * ```ts
 * import { fsyncDir } from '@safeguards/core/node'
 * await fsyncDir('/var/lib/app')
 * ```
 */
export async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r')
    try {
      await fh.sync()
    } finally {
      await fh.close()
    }
  } catch {
    // Some platforms refuse fsync on a directory; the data files themselves are synced.
  }
}

/** Options of {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** Permission bits of the new file (default `0o600`: owner only). */
  mode?: number
  /**
   * Create only: fail with `EEXIST` (an {@link IoError} whose `syscallCode` is `EEXIST`) when the
   * target exists, never replace it. Done with a hard link, which is atomic.
   */
  exclusive?: boolean
  /**
   * Called after the temporary file is complete and synced, just before it takes the target's
   * name: the last moment to refuse (a lock holder checks here that the lock is still its own).
   * Throwing removes the temporary file and leaves the target untouched.
   */
  beforeCommit?: () => void | Promise<void>
}

/**
 * Writes `data` to `path` atomically and durably: temporary file (mode 0600 by default) in the
 * same directory, write, fsync, rename over `path` (or hard-link, with `exclusive`), fsync the
 * directory.
 *
 * HIPAA: 164.312(c)(1) integrity (no torn writes of key material or records).
 *
 * @throws {IoError} `ERR_IO` naming the path and the step that failed (`syscallCode` holds the
 * system code, for example `EEXIST` for an exclusive create of an existing file).
 * @example
 * ```ts
 * import { writeFileAtomic } from '@safeguards/core/node'
 *
 * await writeFileAtomic('/var/lib/app/state.json', new TextEncoder().encode('{}'), { mode: 0o600 })
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array,
  options?: WriteFileAtomicOptions,
): Promise<void> {
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.tmp-${bytesToHex(randomBytes(8))}`)
  let fh: Awaited<ReturnType<typeof open>>
  try {
    fh = await open(tmp, 'wx', options?.mode ?? 0o600)
  } catch (e) {
    throw new IoError('create a temporary file beside', path, { cause: e })
  }
  let committed = false
  try {
    try {
      await fh.writeFile(data)
      await fh.sync()
    } catch (e) {
      throw new IoError('write', path, { cause: e })
    } finally {
      await fh.close()
    }
    await options?.beforeCommit?.()
    try {
      if (options?.exclusive === true) await link(tmp, path)
      else await rename(tmp, path)
      committed = options?.exclusive !== true
    } catch (e) {
      throw new IoError(errorCode(e) === 'EEXIST' ? 'create (it exists)' : 'replace', path, { cause: e })
    }
  } finally {
    if (!committed) await unlink(tmp).catch(() => undefined)
  }
  await fsyncDir(dir)
}
