/**
 * An inter-process lock on a directory, built on exclusive create (`O_CREAT|O_EXCL`): the process
 * that creates `<dir>/lock` holds the lock and writes its owner (pid, host, nonce) into it. A lock
 * whose owner pid is dead on this host is broken (renamed away, checked, removed), so a `kill -9`
 * never wedges the log. Waiters poll with a capped backoff.
 *
 * Limits (documented in the README): the lock is advisory and host-local; on a network file system
 * shared by several hosts, stale-lock detection cannot see remote pids.
 */
import {
  closeSync,
  fstatSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { AuditLockTimeoutError, AuditStoreError } from '../errors.js'

/** A held lock. */
export interface HeldLock {
  release(): void
  /** True when another process has been waiting for the lock since it was taken. */
  contended(): boolean
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

interface Owner {
  pid: number
  host: string
  nonce: string
}

function readOwner(path: string): Owner | null {
  try {
    const [pid, host, nonce] = readFileSync(path, 'utf8').split('\n')
    const n = Number(pid)
    if (!Number.isSafeInteger(n) || host === undefined || nonce === undefined) return null
    return { pid: n, host, nonce }
  } catch {
    return null
  }
}

let counter = 0
let host: string | undefined
const encoder = new TextEncoder()

/** Takes the lock at `<dir>/lock`, waiting up to `timeoutMs`. */
export async function acquireDirLock(dir: string, timeoutMs: number): Promise<HeldLock> {
  const path = join(dir, 'lock')
  host ??= hostname()
  const nonce = `${process.pid}.${(counter++).toString(36)}.${Math.floor(performance.now() * 1000).toString(36)}`
  const deadline = performance.now() + timeoutMs
  let wait = 0.25
  let ownerMissingSince = -1
  for (;;) {
    let fd = -1
    try {
      fd = openSync(path, 'wx')
    } catch (e) {
      const code = (e as { code?: string }).code
      if (code !== 'EEXIST') throw new AuditStoreError(`lock failed (${code ?? 'unknown'})`, { cause: e })
    }
    if (fd >= 0) {
      let created = 0
      try {
        writeSync(fd, encoder.encode(`${process.pid}\n${host}\n${nonce}`))
        created = fstatSync(fd).mtimeMs
      } finally {
        closeSync(fd)
      }
      return {
        contended(): boolean {
          try {
            return statSync(path).mtimeMs > created
          } catch {
            return false
          }
        },
        release(): void {
          if (readOwner(path)?.nonce !== nonce) return // broken by someone who judged us dead
          try {
            unlinkSync(path)
          } catch {
            /* already gone */
          }
        },
      }
    }
    try {
      // Tell the holder someone is waiting (it yields after a long hold when it sees this).
      const t = Date.now() / 1000 + 1
      utimesSync(path, t, t)
    } catch {
      /* released meanwhile */
    }
    const owner = readOwner(path)
    if (owner === null) {
      // Between create and write, or a crash right there: give it a second.
      if (ownerMissingSince < 0) ownerMissingSince = performance.now()
      else if (performance.now() - ownerMissingSince > 1000) breakLock(path, null)
    } else {
      ownerMissingSince = -1
      if (owner.host === host && owner.pid !== process.pid && !pidAlive(owner.pid))
        breakLock(path, owner.nonce)
    }
    if (performance.now() > deadline) throw new AuditLockTimeoutError(timeoutMs)
    await sleep(wait)
    wait = Math.min(wait * 2, 4)
  }
}

function breakLock(path: string, staleNonce: string | null): void {
  const moved = `${path}.stale.${process.pid}.${(counter++).toString(36)}`
  try {
    renameSync(path, moved)
  } catch {
    return // someone else broke or released it
  }
  if ((readOwner(moved)?.nonce ?? null) !== staleNonce) {
    // We moved a lock that a live process took in the meantime: put it back if the path is free.
    try {
      closeSync(openSync(path, 'wx'))
      renameSync(moved, path)
      return
    } catch {
      /* the path was taken again; the moved lock's owner will find its nonce gone */
    }
  }
  try {
    unlinkSync(moved)
  } catch {
    /* gone */
  }
}
