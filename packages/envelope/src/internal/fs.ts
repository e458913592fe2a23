/**
 * File helpers for the local keyring and the file usage store, on `@safeguards/core/node`: atomic
 * replace (temp file, fsync, rename, fsync directory) and the SDK's inter-process lock. node:fs is
 * imported lazily so the package stays loadable where there is no file system.
 */

import { isSafeguardsError } from '@safeguards/core'
import type { FileLock } from '@safeguards/core/node'
import { KeyringFileError } from '../errors.js'

type Fs = typeof import('node:fs/promises')
type CoreNode = typeof import('@safeguards/core/node')

let fsPromise: Promise<Fs> | undefined
/** node:fs/promises, loaded on first use. */
export function fs(): Promise<Fs> {
  fsPromise ??= import('node:fs/promises')
  return fsPromise
}

let coreNode: Promise<CoreNode> | undefined
function node(): Promise<CoreNode> {
  coreNode ??= import('@safeguards/core/node')
  return coreNode
}

/** True when the error is ENOENT. */
export function isNotFound(e: unknown): boolean {
  return e instanceof Error && 'code' in e && e.code === 'ENOENT'
}

/**
 * Writes `data` to `path` atomically with mode 0600. With `exclusive`, never replaces an existing
 * file. With `lock`, checks just before the rename that the lock is still ours (a lost lock throws
 * `LockLostError` and writes nothing).
 */
export async function writeAtomic(
  path: string,
  data: Uint8Array,
  exclusive = false,
  lock?: FileLock,
): Promise<void> {
  const { writeFileAtomic, errorCode } = await node()
  try {
    await writeFileAtomic(path, data, {
      mode: 0o600,
      exclusive,
      ...(lock === undefined ? {} : { beforeCommit: () => lock.assertHeld() }),
    })
  } catch (e) {
    if (exclusive && e instanceof Error && errorCode(e.cause) === 'EEXIST')
      throw new KeyringFileError(`keyring file already exists: ${path}`, { category: 'conflict' })
    if (isSafeguardsError(e, 'ERR_LOCK_LOST')) throw e
    throw new KeyringFileError(`cannot write ${path}`, { cause: e })
  }
}

/** Default wait for another writer of the keyring. */
export const LOCK_TIMEOUT_MS = 15_000

/**
 * Runs `fn` while holding `<path>.lock`, the SDK's inter-process lock (`@safeguards/core/node`): a
 * lock is broken only when its holder is provably dead, never for its age; a live holder makes this
 * wait up to `timeoutMs` and then throw `LockTimeoutError` (`ERR_LOCK_TIMEOUT`). Host-local.
 */
export async function withFileLock<T>(
  path: string,
  fn: (lock: FileLock) => Promise<T>,
  timeoutMs: number = LOCK_TIMEOUT_MS,
): Promise<T> {
  const { withFileLock: locked } = await node()
  return locked(`${path}.lock`, fn, { timeoutMs })
}
