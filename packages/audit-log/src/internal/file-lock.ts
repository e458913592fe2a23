/**
 * The log directory's inter-process lock (`<dir>/lock`): the SDK's one file lock from
 * `@safeguards/core/node` (holder recorded in the file; broken only when the holder is provably dead
 * on this host, never for its age), with this package's error codes: a timeout is
 * `AuditLockTimeoutError` (`ERR_AUDIT_LOCK_TIMEOUT`), a file-system failure `AuditStoreError`.
 *
 * Limits (documented in the README): the lock is advisory and host-local; on a network file system
 * shared by several hosts, a crashed remote writer's lock is never broken automatically.
 */
import { join } from 'node:path'
import { isSafeguardsError } from '@safeguards/core'
import { acquireFileLock, type FileLock } from '@safeguards/core/node'
import { AuditLockTimeoutError, AuditStoreError } from '../errors.js'

/** A held lock. */
export interface HeldLock {
  release(): void
  /** True when another writer has been waiting for the lock since it was taken. */
  contended(): boolean
  /** Throws `LockLostError` (`ERR_LOCK_LOST`) unless the lock file still names this holder. */
  assertHeld(): void
}

/** Takes the lock at `<dir>/lock`, waiting up to `timeoutMs`. */
export async function acquireDirLock(dir: string, timeoutMs: number): Promise<HeldLock> {
  let lock: FileLock
  try {
    lock = await acquireFileLock(join(dir, 'lock'), { timeoutMs })
  } catch (e) {
    if (isSafeguardsError(e, 'ERR_LOCK_TIMEOUT')) throw new AuditLockTimeoutError(timeoutMs, { cause: e })
    if (isSafeguardsError(e, 'ERR_IO')) throw new AuditStoreError(`lock failed (${e.message})`, { cause: e })
    throw e
  }
  return lock
}
