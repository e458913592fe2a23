/**
 * Running the Lua scripts: one command through the client under the shared timeout guard,
 * `EVALSHA` through core's `RedisScript` (loaded on first use, loaded again, once, after
 * `NOSCRIPT`). Every failure is `ERR_SESSION_STORE_UNAVAILABLE`.
 *
 * @module
 */
import { RedisScript } from '@safeguards/core'
import { SessionStoreUnavailableError } from '../errors.js'
import type { RedisCommandClient } from '../redis-store.js'
import { CREATE, LIST, REPLACE, REVOKE, REVOKE_USER, TOUCH, UPDATE } from './scripts.js'
import { createTimeoutGuard, type TimeoutGuard } from './timeouts.js'

/** The scripts of one store, each loaded on first use, and the commands that run them. */
export class ScriptRunner {
  readonly touch: RedisScript = new RedisScript(TOUCH)
  readonly create: RedisScript = new RedisScript(CREATE)
  readonly replace: RedisScript = new RedisScript(REPLACE)
  readonly revoke: RedisScript = new RedisScript(REVOKE)
  readonly revokeUser: RedisScript = new RedisScript(REVOKE_USER)
  readonly list: RedisScript = new RedisScript(LIST)
  readonly update: RedisScript = new RedisScript(UPDATE)
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

  /** Loads `script` (`SCRIPT LOAD`) and keeps its SHA-1. */
  async load(operation: string, script: RedisScript): Promise<void> {
    await script
      .load((args) => this.call(args))
      .catch((e: unknown) => {
        throw new SessionStoreUnavailableError(operation, { cause: e })
      })
  }

  /**
   * Runs `script` (loading it first when needed; loaded again, once, after `NOSCRIPT`: see
   * `RedisScript`) and checks the reply's type: an array, or a string when `array` is false.
   */
  async run(
    operation: string,
    script: RedisScript,
    keys: string[],
    argv: string[],
    array = true,
  ): Promise<unknown[]> {
    const reply = await script
      .run((args) => this.call(args), keys, argv)
      .catch((e: unknown) => {
        throw new SessionStoreUnavailableError(operation, { cause: e })
      })
    if (array ? !Array.isArray(reply) : typeof reply !== 'string')
      throw new SessionStoreUnavailableError(`${operation} (unexpected reply)`)
    return reply as unknown[]
  }
}
