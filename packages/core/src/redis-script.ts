/**
 * Redis Lua scripts run by their SHA-1, the protocol the SDK's Redis stores share
 * (`@safeguards/session-redis`, `@safeguards/rbac`'s emergency store). `EVALSHA` sends the 40-hex
 * SHA-1 instead of the script; the script is loaded with `SCRIPT LOAD` on first use, and loaded
 * again, once, after `NOSCRIPT` (the server restarted, a replica that never saw it took over, or
 * `SCRIPT FLUSH` ran). Only the protocol is here: each store sends its commands itself (with its
 * own timeout) and turns failures into its own typed errors.
 *
 * @module
 */

/** Sends one command (node-redis `sendCommand`; ioredis `call`) and resolves with the raw reply. */
export type RedisSend = (args: string[]) => Promise<unknown>

/**
 * True when `e` (or its `cause`, for a store that wraps the client's error) is Redis's
 * `NOSCRIPT` error: the server does not know the script's SHA-1.
 *
 * @example
 * ```ts
 * if (isNoScript(e)) script.forget() // load it again on the next run
 * ```
 */
export function isNoScript(e: unknown): boolean {
  const message = (x: unknown): string =>
    typeof x === 'object' && x !== null ? String((x as { message?: unknown }).message) : ''
  return (
    message(e).startsWith('NOSCRIPT') ||
    (typeof e === 'object' && e !== null && message((e as { cause?: unknown }).cause).startsWith('NOSCRIPT'))
  )
}

/**
 * One Lua script, run by its SHA-1. Keep one instance per script and client (it remembers the
 * SHA-1 the server returned).
 *
 * @example
 * ```ts
 * import { RedisScript } from '@safeguards/core'
 * import { createClient } from 'redis'
 *
 * const redis = await createClient().connect()
 * const incr = new RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
 * const n = await incr.run((args) => redis.sendCommand(args), ['counter'], ['2'])
 * ```
 */
export class RedisScript {
  /** The script's Lua source. */
  readonly source: string
  #sha: string | null = null

  constructor(source: string) {
    if (typeof source !== 'string' || source.length === 0)
      throw new TypeError('"source" expected a non-empty string')
    this.source = source
  }

  /** The SHA-1 the server returned for the script; `null` before the first load and after {@link RedisScript.forget}. */
  get sha(): string | null {
    return this.#sha
  }

  /** Forgets the SHA-1 (after `NOSCRIPT`): the next run loads the script again. */
  forget(): void {
    this.#sha = null
  }

  /**
   * Loads the script (`SCRIPT LOAD`) and keeps the SHA-1 the server returns.
   *
   * @throws {TypeError} when the reply is not a string; whatever `send` throws.
   * @example
   * ```ts
   * await script.load((args) => redis.sendCommand(args))
   * ```
   */
  async load(send: RedisSend): Promise<string> {
    const sha = await send(['SCRIPT', 'LOAD', this.source])
    if (typeof sha !== 'string' || sha.length === 0) throw new TypeError('unexpected reply to SCRIPT LOAD')
    this.#sha = sha
    return sha
  }

  /**
   * Runs the script with `EVALSHA` (loading it first when needed) and resolves with the raw
   * reply. After `NOSCRIPT` it loads the script again and retries, once: a second `NOSCRIPT`
   * is thrown.
   *
   * @throws {TypeError} when `SCRIPT LOAD` answers something other than a string; whatever `send` throws.
   * @example
   * ```ts
   * const reply = await script.run((args) => redis.sendCommand(args), ['k'], ['v'])
   * ```
   */
  async run(send: RedisSend, keys: readonly string[], argv: readonly string[]): Promise<unknown> {
    for (let retried = false; ; retried = true) {
      const sha = this.#sha ?? (await this.load(send))
      try {
        return await send(['EVALSHA', sha, String(keys.length), ...keys, ...argv])
      } catch (e) {
        if (retried || !isNoScript(e)) throw e
        this.#sha = null // the server restarted, failed over, or SCRIPT FLUSH ran: load it again
      }
    }
  }
}
