/**
 * Running the Lua scripts: one command through the client under the shared timeout guard,
 * `EVALSHA` with the script loaded on first use and loaded again, once, after `NOSCRIPT` (the
 * server restarted or `SCRIPT FLUSH` ran). Every failure is `ERR_SESSION_STORE_UNAVAILABLE`.
 *
 * @module
 */
import { SessionStoreUnavailableError } from '../errors.js'
import type { RedisCommandClient } from '../redis-store.js'
import { CREATE, LIST, REPLACE, REVOKE, REVOKE_USER, TOUCH, UPDATE } from './scripts.js'
import { createTimeoutGuard, type TimeoutGuard } from './timeouts.js'

/** A script's source and, once loaded, its SHA-1. */
export type Script = { readonly source: string; sha: string | null }

/** True when the server no longer knows a script (`NOSCRIPT …`). */
export function isNoScript(e: unknown): boolean {
  return String((e as { message?: unknown })?.message).startsWith('NOSCRIPT')
}

/** The scripts of one store, each loaded on first use, and the commands that run them. */
export class ScriptRunner {
  readonly touch: Script = { source: TOUCH, sha: null }
  readonly create: Script = { source: CREATE, sha: null }
  readonly replace: Script = { source: REPLACE, sha: null }
  readonly revoke: Script = { source: REVOKE, sha: null }
  readonly revokeUser: Script = { source: REVOKE_USER, sha: null }
  readonly list: Script = { source: LIST, sha: null }
  readonly update: Script = { source: UPDATE, sha: null }
  readonly #client: RedisCommandClient
  readonly #timeouts: TimeoutGuard

  constructor(client: RedisCommandClient, timeoutMs: number) {
    this.#client = client
    this.#timeouts = createTimeoutGuard(timeoutMs)
  }

  /** Sends one command under the timeout; the client's own error on failure. */
  call(args: string[]): Promise<unknown> {
    return this.#timeouts.guard(this.#client.sendCommand(args))
  }

  /** {@link ScriptRunner.call}, failing with `SessionStoreUnavailableError(operation)`. */
  send(operation: string, args: string[]): Promise<unknown> {
    return this.call(args).catch((e: unknown) => {
      throw new SessionStoreUnavailableError(operation, { cause: e })
    })
  }

  /** Loads `script` and keeps its SHA-1. */
  async load(operation: string, script: Script): Promise<void> {
    const sha = await this.send(operation, ['SCRIPT', 'LOAD', script.source])
    if (typeof sha !== 'string') throw new SessionStoreUnavailableError(`${operation} (unexpected reply)`)
    script.sha = sha
  }

  /**
   * Runs `script` (loading it first when needed) and checks the reply's type: an array, or a
   * string when `array` is false. After `NOSCRIPT`, loads it again and retries once (`retry`).
   */
  run(
    operation: string,
    script: Script,
    keys: string[],
    argv: string[],
    retry = true,
    array = true,
  ): Promise<unknown[]> {
    if (script.sha === null)
      return this.load(operation, script).then(() => this.run(operation, script, keys, argv, retry, array))
    return this.call(['EVALSHA', script.sha, String(keys.length), ...keys, ...argv]).then(
      (reply) => {
        if (array ? !Array.isArray(reply) : typeof reply !== 'string')
          throw new SessionStoreUnavailableError(`${operation} (unexpected reply)`)
        return reply as unknown[]
      },
      (e: unknown) => {
        if (retry && isNoScript(e)) {
          script.sha = null // the server restarted or SCRIPT FLUSH ran: load it again, once
          return this.run(operation, script, keys, argv, false, array)
        }
        throw new SessionStoreUnavailableError(operation, { cause: e })
      },
    )
  }
}
