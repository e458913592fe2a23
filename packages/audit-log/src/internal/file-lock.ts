/**
 * An inter-process lock on a directory, built on the atomicity of `mkdir`: the process that creates
 * `<dir>/lock` holds the lock; it writes `owner` (pid, host, nonce) inside. A lock whose owner pid is
 * dead on this host is broken (renamed away, then removed), so a `kill -9` never wedges the log.
 * Waiters poll with a capped backoff.
 *
 * Limits (documented in the README): the lock is advisory and host-local; on a network file system
 * shared by several hosts, stale-lock detection cannot see remote pids.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { AuditLockTimeoutError, AuditStoreError } from '../errors.js'

/** A held lock. */
export interface HeldLock {
  release(): void
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM'
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function readOwner(path: string): { pid: number; host: string; nonce: string } | null {
  try {
    const [pid, host, nonce] = readFileSync(join(path, 'owner'), 'utf8').split('\n')
    const n = Number(pid)
    if (!Number.isSafeInteger(n) || host === undefined || nonce === undefined) return null
    return { pid: n, host, nonce }
  } catch {
    return null
  }
}

let counter = 0

/** Takes the lock at `<dir>/lock`, waiting up to `timeoutMs`. */
export async function acquireDirLock(dir: string, timeoutMs: number): Promise<HeldLock> {
  const path = join(dir, 'lock')
  const nonce = `${process.pid}.${Date.now().toString(36)}.${(counter++).toString(36)}`
  const host = hostname()
  const deadline = performance.now() + timeoutMs
  let wait = 0.25
  let ownerMissingSince = -1
  for (;;) {
    try {
      mkdirSync(path)
      writeFileSync(join(path, 'owner'), `${process.pid}\n${host}\n${nonce}`)
      return {
        release(): void {
          const owner = readOwner(path)
          if (owner?.nonce !== nonce) return // broken by someone who judged us dead; nothing to release
          const gone = `${path}.released.${nonce}`
          renameSync(path, gone)
          rmSync(gone, { recursive: true, force: true })
        },
      }
    } catch (e) {
      const code = (e as { code?: string }).code
      if (code !== 'EEXIST') throw new AuditStoreError(`lock failed (${code ?? 'unknown'})`, { cause: e })
    }
    const owner = readOwner(path)
    if (owner === null) {
      // Between mkdir and writing owner, or a crash right there: give it a second.
      if (ownerMissingSince < 0) ownerMissingSince = performance.now()
      else if (performance.now() - ownerMissingSince > 1000) breakLock(path, null)
    } else {
      ownerMissingSince = -1
      if (owner.host === host && owner.pid !== process.pid && !pidAlive(owner.pid))
        breakLock(path, owner.nonce)
    }
    if (performance.now() > deadline) throw new AuditLockTimeoutError(timeoutMs)
    await sleep(wait)
    wait = Math.min(wait * 2, 8)
  }
}

function breakLock(path: string, staleNonce: string | null): void {
  const moved = `${path}.stale.${process.pid}.${(counter++).toString(36)}`
  try {
    renameSync(path, moved)
  } catch {
    return // someone else broke or released it
  }
  const owner = readOwner(moved)
  if ((owner?.nonce ?? null) !== staleNonce) {
    // We moved a lock that a live process took in the meantime: put it back.
    try {
      renameSync(moved, path)
      return
    } catch {
      /* the path was taken again; the moved lock's owner will find its nonce gone */
    }
  }
  rmSync(moved, { recursive: true, force: true })
}
