/**
 * What the runner needs to know about the command it is running, recorded by the shared helpers
 * without threading it through every command: whether the command accepted `--json` (so a failure
 * is also reported as a JSON document) and whether it already wrote its one JSON document.
 * Scoped to one `runCli` call with `AsyncLocalStorage`, so concurrent in-process runs stay apart.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'

/** The state of one run. */
export interface RunState {
  /**
   * `yes` when the command parsed its arguments with a `json` option and `--json` was given, `no`
   * when it parsed them without `--json` (or has no such option), `unknown` before it parsed any.
   */
  json: 'unknown' | 'yes' | 'no'
  /** True once a JSON document was written to stdout. */
  documentWritten: boolean
}

const storage = new AsyncLocalStorage<RunState>()

/** Runs `fn` with `state` as the current run's state. */
export function withRunState<T>(state: RunState, fn: () => Promise<T>): Promise<T> {
  return storage.run(state, fn)
}

/** The current run's state, or undefined outside `runCli` (a helper called directly). */
export function currentRunState(): RunState | undefined {
  return storage.getStore()
}
