/**
 * The SDK's one inter-process lock: a lock file created atomically with its holder already written
 * in it, broken only when that holder is provably dead, never for its age.
 *
 * Protocol (all names are siblings of the lock path `L`):
 * 1. **Take.** The holder writes its identity (pid, host, boot id, pid namespace, process start
 *    tick, a random 128-bit nonce, the time it took the lock) to a temporary file, fsyncs it and
 *    hard-links it to `L` (`link(2)` fails with `EEXIST` when `L` exists). `L` therefore never
 *    exists without its holder in it: there is no "empty lock" window to misjudge. (Where hard links
 *    are unsupported, `L` is created with `O_EXCL` and written; a crash in that window leaves a lock
 *    that names no holder, which is never broken automatically.)
 * 2. **Judge.** A waiter reads `L`. It breaks it only when the recorded holder is provably not
 *    running: same host, and a different boot, or no process with that pid in the same pid
 *    namespace, or a process with that pid that started at another tick (the pid was recycled).
 *    A holder on another host, in another pid namespace, or stopped (SIGSTOP) is alive; waiters
 *    time out with {@link LockTimeoutError} instead.
 * 3. **Break.** The right to remove the dead holder `X`'s lock is itself a file, `L.break-X`,
 *    created exclusively with the breaker's identity: at most one live process has it. The breaker
 *    re-reads `L` and removes it only if it still names `X`. Nothing else ever removes `L` (a
 *    holder removes its own on release), so between that re-read and the removal `L` cannot change:
 *    `X` is dead, and every other breaker is shut out by the claim. If the breaker itself dies
 *    holding the claim, the right passes on through `L.break-X-<breaker nonce>`, under the same rule.
 * 4. **Commit.** Before it writes what the lock protects, a holder checks that `L` still names its
 *    nonce ({@link FileLock.assertHeld}); it fails rather than writes when it does not.
 *
 * Host-local: the liveness test needs the holder's process table. On a network file system shared
 * by several hosts, a lock held by another host is never broken (a crashed remote holder's lock must
 * be removed by an operator), and nothing here makes concurrent writers on different hosts safe.
 *
 * @module
 */
import {
  closeSync,
  fstatSync,
  fsyncSync,
  linkSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { bytesToHex } from '../bytes.js'
import { IoError, LockLostError, LockTimeoutError } from '../errors.js'
import { randomBytes } from '../random.js'
import { errorCode } from './error-code.js'
import { type LockPoint, lockHooks } from './internal/lock-hooks.js'
import { type ProcessIdentity, provablyDead, selfIdentity } from './internal/process-identity.js'

/** A lock this process holds. */
export interface FileLock {
  /** The lock file's path. */
  readonly path: string
  /** True while the lock file still names this holder (it was not removed or replaced). */
  held(): boolean
  /**
   * Throws {@link LockLostError} unless the lock file still names this holder. Call it just before
   * committing the write the lock protects.
   */
  assertHeld(): void
  /** True when another process has been waiting for this lock since it was taken. */
  contended(): boolean
  /** Releases the lock (removes the lock file if it is still ours). Idempotent. */
  release(): void
}

/** Options of {@link acquireFileLock} and {@link withFileLock}. */
export interface FileLockOptions {
  /** How long to wait for another holder, in milliseconds (default 15 000). */
  timeoutMs?: number
}

interface Holder extends ProcessIdentity {
  nonce: string
  acquiredAt: string
}

const MAX_HOLDER_BYTES = 4096
const MAX_BREAK_CHAIN = 8
const encoder = new TextEncoder()

async function pause(point: LockPoint): Promise<void> {
  if (lockHooks.pause !== undefined) await lockHooks.pause(point)
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function parseHolder(text: string): Holder | null {
  if (!text.startsWith('{')) return parseLegacyHolder(text)
  try {
    const h = JSON.parse(text) as Partial<Holder>
    const nullableString = (v: unknown): boolean => v === null || typeof v === 'string'
    if (
      typeof h !== 'object' ||
      h === null ||
      !Number.isSafeInteger(h.pid) ||
      typeof h.host !== 'string' ||
      typeof h.nonce !== 'string' ||
      !/^[0-9a-f]{32}$/.test(h.nonce) ||
      typeof h.acquiredAt !== 'string' ||
      !nullableString(h.boot) ||
      !nullableString(h.pidns) ||
      !nullableString(h.start)
    )
      return null
    return h as Holder
  } catch {
    return null
  }
}

/**
 * The lock format of `@safeguards/audit-log` 0.1 (`pid\nhost\nnonce`), so that a log whose writer
 * crashed under that version opens after an upgrade. It is judged by host and pid only, as it was.
 */
function parseLegacyHolder(text: string): Holder | null {
  const [pid, host, nonce] = text.split('\n')
  const n = Number(pid)
  if (!Number.isSafeInteger(n) || n <= 0 || host === undefined || host === '') return null
  if (nonce === undefined || !/^[A-Za-z0-9._-]{1,64}$/.test(nonce)) return null
  return { pid: n, host, boot: null, pidns: null, start: null, nonce, acquiredAt: 'unknown' }
}

/** The holder named by a lock or claim file: a Holder, `null` when unreadable, `undefined` when absent. */
function readHolder(path: string): Holder | null | undefined {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return undefined
    throw new IoError('read the lock', path, { cause: e })
  }
  try {
    const buf = new Uint8Array(MAX_HOLDER_BYTES)
    const n = readSync(fd, buf, 0, buf.length, 0)
    return parseHolder(new TextDecoder().decode(buf.subarray(0, n)))
  } finally {
    closeSync(fd)
  }
}

/** Writes `holder` to a new synced file at `path` (exclusive). */
function writeHolderFile(path: string, holder: Holder): number {
  const fd = openSync(path, 'wx', 0o600)
  try {
    writeSync(fd, encoder.encode(`${JSON.stringify(holder)}\n`))
    fsyncSync(fd)
    return fstatSync(fd).mtimeMs
  } finally {
    closeSync(fd)
  }
}

/** Creates `path` as a copy of the holder file `from`, atomically and exclusively. False on EEXIST. */
function createFrom(from: string, path: string, holder: Holder): boolean {
  try {
    linkSync(from, path)
    return true
  } catch (e) {
    const code = errorCode(e)
    if (code === 'EEXIST') return false
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
      // No hard links here: exclusive create, then write (see the module notes).
      try {
        writeHolderFile(path, holder)
        return true
      } catch (e2) {
        if (errorCode(e2) === 'EEXIST') return false
        throw new IoError('create the lock', path, { cause: e2 })
      }
    }
    throw new IoError('create the lock', path, { cause: e })
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    /* already gone */
  }
}

/**
 * Tries to remove the lock of the dead holder `dead` (see step 3 of the protocol). Returns when it
 * did, when the lock no longer names `dead`, or when a live process has the right to do it.
 */
async function breakDead(lockPath: string, dead: Holder, me: Holder, mine: string): Promise<void> {
  let claim = `${lockPath}.break-${dead.nonce}`
  const claims: string[] = []
  for (let depth = 0; depth < MAX_BREAK_CHAIN; depth++) {
    if (createFrom(mine, claim, me)) {
      claims.push(claim)
      await pause('after-claim')
      const now = readHolder(lockPath)
      await pause('after-reread')
      if (now?.nonce === dead.nonce) unlinkQuiet(lockPath)
      await pause('after-break')
      for (const c of claims.reverse()) unlinkQuiet(c)
      return
    }
    const claimant = readHolder(claim)
    if (claimant === undefined) continue // released meanwhile: try to claim it again
    if (claimant === null || !provablyDead(claimant)) return // a live breaker is at work (or unknown)
    claims.push(claim) // a dead breaker's claim: ours to clean up once the right has passed to us
    claim = `${claim}-${claimant.nonce}`
  }
}

/** Removes claims and temporary files that a crashed process left beside the lock. */
function sweep(lockPath: string, myNonce: string): void {
  const dir = dirname(lockPath)
  const base = basename(lockPath)
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    if (name.startsWith(`${base}.break-`)) {
      // Every claim names a dead holder's nonce; we hold the lock, so none of them can matter now.
      if (!name.includes(myNonce)) unlinkQuiet(join(dir, name))
    } else if (name.startsWith(`.${base}.`) && name.endsWith('.holder')) {
      const h = readHolder(join(dir, name))
      if (h !== undefined && h !== null && h.nonce !== myNonce && provablyDead(h))
        unlinkQuiet(join(dir, name))
    }
  }
}

/**
 * Takes the inter-process lock at `path` (a file; its directory must exist), waiting up to
 * `timeoutMs` for the current holder. See the module notes for the protocol and its limits.
 *
 * HIPAA: 164.312(c)(1) integrity (no two writers replace each other's key or log changes).
 *
 * @throws {LockTimeoutError} `ERR_LOCK_TIMEOUT` when a live holder kept the lock for `timeoutMs`;
 * it names the holder's pid and host.
 * @throws {IoError} `ERR_IO` when the lock file cannot be created or read (permissions, missing
 * directory).
 * @example
 * ```ts
 * import { acquireFileLock } from '@safeguards/core/node'
 *
 * const lock = await acquireFileLock('/var/lib/app/keyring.json.lock', { timeoutMs: 5000 })
 * try {
 *   lock.assertHeld()
 *   // … write the keyring …
 * } finally {
 *   lock.release()
 * }
 * ```
 */
export async function acquireFileLock(path: string, options?: FileLockOptions): Promise<FileLock> {
  const timeoutMs = options?.timeoutMs ?? 15_000
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new RangeError('"timeoutMs" expected a number ≥ 0')
  const deadline = performance.now() + timeoutMs
  // Callers in this process queue here first (FIFO), so they do not poll the file against each
  // other; the file protocol then orders this process against the others.
  const key = resolve(path)
  const before = local.get(key) ?? Promise.resolve()
  let done!: () => void
  const turn = new Promise<void>((r) => {
    done = r
  })
  local.set(key, turn)
  const leave = (): void => {
    done()
    if (local.get(key) === turn) local.delete(key)
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const first = await Promise.race([
    before.then(() => true),
    new Promise<false>((r) => {
      timer = setTimeout(() => r(false), timeoutMs)
    }),
  ])
  clearTimeout(timer)
  if (!first) {
    // Keep the queue in order: our turn passes on when the one before us has finished.
    void before.then(leave)
    const holder = readHolder(path)
    throw new LockTimeoutError(timeoutMs, holder ? describeHolder(holder) : undefined, path)
  }
  try {
    const { nonce, created } = await take(path, deadline, timeoutMs)
    return heldLock(path, nonce, created, leave, () => local.get(key) !== turn)
  } catch (e) {
    leave()
    throw e
  }
}

const local = new Map<string, Promise<void>>()

function describeHolder(h: Holder): { pid: number; host: string; acquiredAt: string } {
  return { pid: h.pid, host: h.host, acquiredAt: h.acquiredAt }
}

/** The file protocol (steps 1 to 3 of the module notes). */
async function take(
  path: string,
  deadline: number,
  timeoutMs: number,
): Promise<{ nonce: string; created: number }> {
  const me: Holder = {
    ...selfIdentity(),
    nonce: bytesToHex(randomBytes(16)),
    acquiredAt: new Date().toISOString(),
  }
  const mine = join(dirname(path), `.${basename(path)}.${me.nonce}.holder`)
  let created: number
  try {
    created = writeHolderFile(mine, me)
  } catch (e) {
    throw new IoError('create the lock', path, { cause: e })
  }
  let wait = 1
  let broke = false
  try {
    for (;;) {
      await pause('before-link')
      if (createFrom(mine, path, me)) break
      await pause('after-eexist')
      const holder = readHolder(path)
      await pause('after-read-holder')
      if (holder === undefined) continue // released meanwhile
      if (holder !== null && provablyDead(holder)) {
        await pause('after-judged-dead')
        await breakDead(path, holder, me, mine)
        broke = true
        // Broken (by us or by the live breaker that had the right): try again at once.
        if (readHolder(path)?.nonce !== holder.nonce) continue
      }
      if (performance.now() >= deadline)
        throw new LockTimeoutError(timeoutMs, holder === null ? undefined : describeHolder(holder), path)
      try {
        // Tell the holder someone is waiting (a long-lived holder yields when it sees this).
        const t = Date.now() / 1000 + 1
        utimesSync(path, t, t)
      } catch {
        /* released meanwhile */
      }
      // Backoff with jitter from the CSPRNG (no Math.random in library code).
      const jitter = ((randomBytes(1)[0] as number) / 256) * wait
      await sleep(Math.min(wait + jitter, Math.max(1, deadline - performance.now())))
      wait = Math.min(wait * 2, 50)
    }
  } finally {
    unlinkQuiet(mine)
  }
  await pause('after-acquire')
  // Litter exists only where a process crashed, and a crash is what a break follows.
  if (broke) sweep(path, me.nonce)
  return { nonce: me.nonce, created }
}

function heldLock(
  path: string,
  nonce: string,
  created: number,
  leave: () => void,
  queuedHere: () => boolean,
): FileLock {
  let released = false
  const held = (): boolean => !released && readHolder(path)?.nonce === nonce
  return {
    path,
    held,
    assertHeld(): void {
      if (!held()) throw new LockLostError()
    },
    contended(): boolean {
      if (released) return false
      if (queuedHere()) return true
      try {
        return statSync(path).mtimeMs > created
      } catch {
        return false
      }
    },
    release(): void {
      if (released) return
      released = true
      try {
        // Only our own lock: one that names another holder was never ours to remove.
        if (readHolder(path)?.nonce === nonce) unlinkQuiet(path)
      } finally {
        leave()
      }
    },
  }
}

/**
 * Runs `fn` while holding the lock at `path`, and releases it afterwards (also when `fn` throws).
 * `fn` receives the lock: call `lock.assertHeld()` before committing a write.
 *
 * HIPAA: 164.312(c)(1) integrity.
 *
 * @throws {LockTimeoutError} `ERR_LOCK_TIMEOUT` when the lock stays held by a live process.
 * @throws {LockLostError} `ERR_LOCK_LOST` from `assertHeld()` when the lock was taken away.
 * @example
 * ```ts
 * import { withFileLock, writeFileAtomic } from '@safeguards/core/node'
 *
 * await withFileLock('/var/lib/app/counter.lock', async (lock) => {
 *   await writeFileAtomic('/var/lib/app/counter', new TextEncoder().encode('42'), {
 *     beforeCommit: () => lock.assertHeld(),
 *   })
 * })
 * ```
 */
export async function withFileLock<T>(
  path: string,
  fn: (lock: FileLock) => Promise<T>,
  options?: FileLockOptions,
): Promise<T> {
  const lock = await acquireFileLock(path, options)
  try {
    return await fn(lock)
  } finally {
    await pause('before-release')
    lock.release()
  }
}
