/**
 * The Redis side of the shared emergency store: its Lua scripts, and the commands that run them
 * (a timeout per command, `EVALSHA` with the script loaded on first use and loaded again, once,
 * after `NOSCRIPT`). Every failure is `EmergencyStoreUnavailableError` with the cause kept.
 *
 * @module
 */
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

/** A script's source and, once loaded, its SHA-1. */
export type Script = { readonly source: string; sha: string | null }

/** The error of a reply of an unexpected shape. */
export function unexpected(operation: string): EmergencyStoreUnavailableError {
  return new EmergencyStoreUnavailableError(`emergency store: ${operation} (unexpected reply)`)
}

/** The commands of one store. */
export class GrantCommands {
  readonly insert: Script = { source: INSERT, sha: null }
  readonly update: Script = { source: UPDATE, sha: null }
  readonly snapshot: Script = { source: SNAPSHOT, sha: null }
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

  /** Runs `script` (loading it when needed; once more after NOSCRIPT); the reply must be an array. */
  async run(operation: string, script: Script, keys: string[], argv: string[]): Promise<unknown[]> {
    for (let attempt = 0; ; attempt++) {
      if (script.sha === null) {
        const sha = await this.send(operation, ['SCRIPT', 'LOAD', script.source])
        if (typeof sha !== 'string') throw unexpected(operation)
        script.sha = sha
      }
      try {
        const reply = await this.send(operation, [
          'EVALSHA',
          script.sha,
          String(keys.length),
          ...keys,
          ...argv,
        ])
        if (!Array.isArray(reply)) throw unexpected(operation)
        return reply
      } catch (e) {
        const cause = (e as { cause?: { message?: unknown } }).cause
        if (attempt > 0 || !String(cause?.message).startsWith('NOSCRIPT')) throw e
        script.sha = null // the server restarted or SCRIPT FLUSH ran: load it again, once
      }
    }
  }
}
