/**
 * The {@link MfaStore} on Redis: compare-and-set is one Lua script, which Redis runs atomically,
 * so many app servers can share the state safely. The client is structural: a node-redis client
 * (`createClient()` from `redis`, tested with 6.3) fits as is; for ioredis pass
 * `{ get: (k) => r.get(k), eval: (s, o) => r.eval(s, o.keys.length, ...o.keys, ...o.arguments) }`.
 *
 * @module
 */
import { assertString } from '@safeguards/core'
import { MfaStoreError } from './errors.js'
import { checkOptions } from './internal/options.js'
import type { MfaStore } from './store.js'

/** The two Redis commands the store needs, in node-redis's calling convention. */
export interface RedisEvalClient {
  get(key: string): Promise<unknown>
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
}

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** A connected client. */
  client: RedisEvalClient
  /** Prefix of every key this store writes (default `sg:mfa:`). Use one per application. */
  prefix?: string
}

// KEYS[1] = key; ARGV = hasExpected ('0'|'1'), expected, hasNext ('0'|'1'), next, ttlMs ('' = none)
const CAS = `
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if cur then return 0 end
elseif cur ~= ARGV[2] then
  return 0
end
if ARGV[3] == '0' then
  redis.call('DEL', KEYS[1])
elseif ARGV[5] == '' then
  redis.call('SET', KEYS[1], ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
end
return 1
`

/**
 * Creates an {@link MfaStore} on Redis.
 *
 * HIPAA: 164.312(d) person or entity authentication (replay and lockout state shared by every
 * app server).
 *
 * @throws {TypeError} when `client` lacks `get`/`eval` or `prefix` is not a string.
 * @throws {MfaConfigError} (code `ERR_MFA_CONFIG`) on an unknown option.
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * const client = await createClient({ url: process.env.REDIS_URL }).connect()
 * const store = createRedisStore({ client, prefix: 'clinic:mfa:' })
 * ```
 */
export function createRedisStore(options: RedisStoreOptions): MfaStore {
  checkOptions(options, ['client', 'prefix'] satisfies (keyof RedisStoreOptions)[])
  const { client } = options
  if (typeof client?.get !== 'function' || typeof client.eval !== 'function')
    throw new TypeError('"client" expected get() and eval()')
  const prefix = options.prefix ?? 'sg:mfa:'
  assertString(prefix, 'prefix', 256)
  return {
    async get(key: string): Promise<string | null> {
      const v = await client.get(prefix + key)
      if (v === null || v === undefined) return null
      if (typeof v !== 'string') throw new MfaStoreError('unexpected reply type from Redis GET')
      return v
    },
    // parameters typed by the store interface
    async compareAndSet(key, expected, next, ttlMs): Promise<boolean> {
      const r = await client.eval(CAS, {
        keys: [prefix + key],
        arguments: [
          expected === null ? '0' : '1',
          expected ?? '',
          next === null ? '0' : '1',
          next ?? '',
          ttlMs === undefined ? '' : String(Math.max(1, Math.ceil(ttlMs))),
        ],
      })
      if (r !== 0 && r !== 1) throw new MfaStoreError('unexpected reply type from Redis EVAL')
      return r === 1
    },
  }
}
