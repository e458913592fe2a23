/**
 * Restore-test hooks: the last verification stage proves that the payload can actually be used
 * (for example `pg_restore --list` on a dump), not only that its bytes are unchanged.
 *
 * @module
 */
import { spawn } from 'node:child_process'
import { errorCode } from '@safeguards/core/node'

/** What a restore test receives. */
export interface RestoreTestContext {
  /** The bag directory (absolute). */
  bagDir: string
  /** Its payload directory (`<bagDir>/data`). */
  payloadDir: string
  /** Aborted when the test's time is up. */
  signal: AbortSignal
}

/** A restore test: a function the application supplies, or {@link commandRestoreTest}. */
export interface RestoreTest {
  /** A short name for reports (no PHI). */
  name: string
  /** Time limit in ms (default 10 minutes). */
  timeoutMs?: number
  /** Resolves `{ ok: true }` when the restore works. Throwing counts as a failure. */
  run(context: RestoreTestContext): Promise<{ ok: boolean; detail?: string }>
}

/**
 * A restore test that runs a command without a shell: `{bag}` and `{data}` in the arguments are
 * replaced by the bag and payload directories, and `SAFEGUARDS_BAG`/`SAFEGUARDS_DATA` are set.
 * Exit status 0 passes. Output is discarded (it may name tables or patients).
 *
 * HIPAA: 164.308(a)(7)(ii)(D) testing and revision procedures.
 *
 * @throws {TypeError} when `argv` is empty.
 * @example
 * ```ts
 * commandRestoreTest('pg_restore --list', ['pg_restore', '--list', '{data}/db.dump'])
 * ```
 */
export function commandRestoreTest(
  name: string,
  argv: readonly string[],
  options: { timeoutMs?: number; env?: Record<string, string> } = {},
): RestoreTest {
  if (!Array.isArray(argv) || argv.length === 0 || typeof argv[0] !== 'string')
    throw new TypeError('"argv" expected a non-empty array of strings')
  return {
    name,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    run(ctx: RestoreTestContext): Promise<{ ok: boolean; detail?: string }> {
      const args = argv.map((a) => a.replaceAll('{bag}', ctx.bagDir).replaceAll('{data}', ctx.payloadDir))
      return new Promise((resolve) => {
        const child = spawn(args[0] as string, args.slice(1), {
          cwd: ctx.bagDir,
          stdio: 'ignore',
          signal: ctx.signal,
          env: {
            ...process.env,
            ...options.env,
            SAFEGUARDS_BAG: ctx.bagDir,
            SAFEGUARDS_DATA: ctx.payloadDir,
          },
        })
        child.on('error', (error: Error) =>
          resolve({
            ok: false,
            detail: error.name === 'AbortError' ? 'timeout' : (errorCode(error) ?? 'spawn'),
          }),
        )
        child.on('exit', (code, signal) =>
          resolve(
            code === 0 ? { ok: true } : { ok: false, detail: signal ? `signal ${signal}` : `exit ${code}` },
          ),
        )
      })
    },
  }
}
