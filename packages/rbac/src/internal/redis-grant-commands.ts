/**
 * The Redis side of the shared emergency store: its Lua scripts, and the commands that run them
 * (a timeout per command, `EVALSHA` through core's `RedisScript`: loaded on first use, loaded
 * again, once, after `NOSCRIPT`). Every failure is `EmergencyStoreUnavailableError` with the cause kept.
 *
 * @module
 */
import { RedisScript } from '@safeguards/core'
import type { GrantRedisClient } from '../emergency-store-redis.js'
import { EmergencyStoreUnavailableError } from '../errors.js'

// KEYS: grants, version. ARGV: id, json. Reply {1} when stored, {0, current} when the id exists.
const INSERT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then return {0, cur} end
redis.call('HSET', KEYS[1], ARGV[1], '1|' .. ARGV[2])
redis.call('INCR', KEYS[2])
return {1}`

// KEYS: grants, version. ARGV: id, expected version, next version, json. Reply {1} when stored,
// else {0} (no such grant) or {0, current} (another change came first).
const UPDATE = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {0} end
if string.sub(cur, 1, string.len(ARGV[2]) + 1) ~= ARGV[2] .. '|' then return {0, cur} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3] .. '|' .. ARGV[4])
redis.call('INCR', KEYS[2])
return {1}`

// KEYS: version, grants. Reply {counter, {id, entry, ...}}, read atomically.
const SNAPSHOT = `return {redis.call('GET', KEYS[1]) or '0', redis.call('HGETALL', KEYS[2])}`

/** The error of a reply of an unexpected shape. */
export function unexpected(operation: string): EmergencyStoreUnavailableError {
  return new EmergencyStoreUnavailableError(`emergency store: ${operation} (unexpected reply)`)
}

/** The commands of one store. */
export class GrantCommands {
  readonly insert: RedisScript = new RedisScript(INSERT)
  readonly update: RedisScript = new RedisScript(UPDATE)
  readonly snapshot: RedisScript = new RedisScript(SNAPSHOT)
  readonly #client: GrantRedisClient
  readonly #timeoutMs: number

  constructor(client: GrantRedisClient, timeoutMs: number) {
    this.#client = client
    this.#timeoutMs = timeoutMs
  }

  /** Sends one command; every failure is typed, its cause (NOSCRIPT, a closed socket, a timeout) kept. */
  send(operation: string, args: string[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const fail = (cause: unknown): void =>
        reject(new EmergencyStoreUnavailableError(`emergency store: ${operation} failed`, { cause }))
      const timer = setTimeout(fail, this.#timeoutMs, new Error('command timed out'))
      ;(timer as unknown as { unref?: () => void }).unref?.()
      const done = (v: unknown): void => {
        clearTimeout(timer)
        resolve(v)
      }
      const failed = (e: unknown): void => {
        clearTimeout(timer)
        fail(e)
      }
      try {
        this.#client.sendCommand(args).then(done, failed)
      } catch (e) {
        failed(e)
      }
    })
  }

  /**
   * Runs `script` through core's `RedisScript` (loaded when needed; loaded again, once, after
   * NOSCRIPT, which `send` keeps as the cause); the reply must be an array.
   */
  async run(operation: string, script: RedisScript, keys: string[], argv: string[]): Promise<unknown[]> {
    let reply: unknown
    try {
      reply = await script.run((args) => this.send(operation, args), keys, argv)
    } catch (e) {
      // `send` types every failure; what is left is a SCRIPT LOAD reply of the wrong shape.
      throw e instanceof EmergencyStoreUnavailableError ? e : unexpected(operation)
    }
    if (!Array.isArray(reply)) throw unexpected(operation)
    return reply
  }
}
