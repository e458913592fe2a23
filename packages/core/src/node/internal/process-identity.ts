/**
 * Who a process is, precisely enough to prove it dead: its pid, the host, and where Linux tells us,
 * the boot it runs in, its pid namespace and the tick at which it started (so a recycled pid is not
 * taken for the original process). Elsewhere the extra fields are null and only host + pid count.
 */
import { readFileSync, readlinkSync } from 'node:fs'
import { hostname } from 'node:os'
import { errorCode } from '../error-code.js'

/** A process as recorded in a lock file. */
export interface ProcessIdentity {
  pid: number
  host: string
  /** `/proc/sys/kernel/random/boot_id`: changes at every boot. */
  boot: string | null
  /** `/proc/self/ns/pid`: pids are comparable only inside one pid namespace. */
  pidns: string | null
  /** Field 22 of `/proc/<pid>/stat` (start time in clock ticks since boot). */
  start: string | null
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'latin1').trim()
  } catch {
    return null
  }
}

/** Start tick of `pid` from `/proc/<pid>/stat`, or null where there is no procfs or no such pid. */
export function processStart(pid: number): string | null {
  const stat = readText(`/proc/${pid}/stat`)
  if (stat === null) return null
  // proc(5): "pid (comm) state ppid …"; comm may hold spaces and parentheses, so fields are
  // counted from the last ')'. starttime is field 22, i.e. the 20th after the comm.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const start = fields[19]
  return start !== undefined && /^\d+$/.test(start) ? start : null
}

let self: ProcessIdentity | undefined

/** This process. */
export function selfIdentity(): ProcessIdentity {
  if (self === undefined) {
    let pidns: string | null = null
    try {
      pidns = readlinkSync('/proc/self/ns/pid')
    } catch {
      /* no procfs */
    }
    self = {
      pid: process.pid,
      host: hostname(),
      boot: readText('/proc/sys/kernel/random/boot_id'),
      pidns,
      start: processStart(process.pid),
    }
  }
  return self
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return errorCode(e) === 'EPERM'
  }
}

/**
 * True only when `other` is provably not running: same host and either a different boot, or (in the
 * same pid namespace) no process with its pid, or a process with its pid that started at another
 * tick. Anything that cannot be checked from here (another host, another pid namespace) is alive.
 * (`process.kill(pid, 0)` succeeding, or failing with EPERM, means the pid exists.)
 */
export function provablyDead(other: ProcessIdentity, me: ProcessIdentity = selfIdentity()): boolean {
  if (other.host !== me.host) return false
  if (other.boot !== null && me.boot !== null && other.boot !== me.boot) return true
  // A holder recorded without a pid namespace (another OS, or a legacy lock format) is judged by
  // host and pid alone, as before; one recorded in another namespace cannot be seen from here.
  if (other.pidns !== null && other.pidns !== me.pidns) return false
  if (other.pid === me.pid) return other.start !== null && me.start !== null && other.start !== me.start
  if (!pidExists(other.pid)) return true
  if (other.start === null) return false
  const now = processStart(other.pid)
  return now !== null && now !== other.start
}
