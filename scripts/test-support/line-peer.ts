/**
 * A TypeScript fixture run as another process (workspace sources through the `@safeguards/source`
 * condition, TypeScript through tsx) that answers one JSON line per JSON line it reads: "another
 * app instance" for tests of state shared between processes. The fixture writes one JSON line
 * when it is ready.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

/** A running peer: its process, and a function that sends a command and resolves with the answer. */
export interface LinePeer {
  readonly child: ChildProcessWithoutNullStreams
  /** The first line the fixture wrote (its "ready" line). */
  readonly ready: Promise<unknown>
  ask(op: string, arg?: unknown, data?: unknown): Promise<unknown>
}

/** Starts `script` with `args` in `cwd` (a package directory, for module resolution). */
export function startLinePeer(script: string, args: readonly string[], cwd: string): LinePeer {
  const child = spawn(
    process.execPath,
    ['--conditions=@safeguards/source', '--import', 'tsx', script, ...args],
    {
      cwd,
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  )
  const pending: ((v: unknown) => void)[] = []
  createInterface({ input: child.stdout }).on('line', (l) => pending.shift()?.(JSON.parse(l)))
  const ready = new Promise((res) => pending.push(res))
  const ask = (op: string, arg?: unknown, data?: unknown): Promise<unknown> =>
    new Promise((res) => {
      pending.push(res)
      child.stdin.write(`${JSON.stringify({ op, arg, data })}\n`)
    })
  return { child, ready, ask }
}
