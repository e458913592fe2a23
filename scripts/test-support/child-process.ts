/**
 * Child-process helpers shared by the tests that race real processes (the lock tests of
 * `@safeguards/core` and `@safeguards/envelope`, the multi-writer tests of `@safeguards/audit-log`).
 */
import { type ChildProcess, spawnSync } from 'node:child_process'

/** What a finished child printed, and how it ended. */
export interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  out: string
  err: string
}

/** Collects the child's stdout and stderr (when piped) until it closes. */
export function collectOutput(p: ChildProcess): Promise<ChildResult> {
  let out = ''
  let err = ''
  p.stdout?.on('data', (d: Uint8Array) => {
    out += new TextDecoder().decode(d)
  })
  p.stderr?.on('data', (d: Uint8Array) => {
    err += new TextDecoder().decode(d)
  })
  return new Promise((res) => p.on('close', (code, signal) => res({ code, signal, out, err })))
}

/** The pid of a process that has exited (a stale lock holder). */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  })
  return Number(r.stdout)
}
