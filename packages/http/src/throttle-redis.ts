/**
 * The sign-in throttle's shared store on Redis. Behind several app instances an attacker spreads
 * guesses over all of them, so each instance counting on its own multiplies the limit by the
 * number of instances: this store counts every instance's attempts in one place. Each hit is one
 * Lua script, which Redis runs atomically, so parallel attempts on any number of instances are
 * counted exactly once each and never slip past the limit.
 *
 * Per throttle key, two Redis keys in one hash slot (Cluster-safe): a sorted set of the attempts
 * in the window (scored by time, each a random member so two attempts in one millisecond both
 * count) and the lock, whose value is when it ends. The throttle key (an account name or an
 * address) is hashed (SHA-256) into the Redis key, so it does not appear as such in Redis
 * (`KEYS`, `MONITOR`, dumps); the hash is not keyed, so whoever can read Redis can still test
 * guesses (an IPv4 address or a known e-mail address is found by hashing candidates). Times come
 * from the throttle's injected clock, not Redis's; Redis's expiry only cleans up (the attempts
 * after one window, the lock after its lockout).
 *
 * The client is structural: a node-redis client (`createClient()` from `redis`, tested with 6.3)
 * fits as is; for ioredis pass
 * `{ eval: (s, o) => r.eval(s, o.keys.length, ...o.keys, ...o.arguments) }`.
 *
 * @module
 */
import { assertKnownOptions, bytesToHex, randomBytes, sha256, utf8Encode } from '@safeguards/core'
import { HttpConfigError, HttpThrottleStoreError } from './errors.js'
import type { ThrottleHit, ThrottleRule, ThrottleStore } from './throttle.js'

/** The one Redis command the store needs, in node-redis's calling convention. */
export interface RedisEvalClient {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
}

/** Options of {@link createRedisThrottleStore}. */
export interface RedisThrottleStoreOptions {
  /** A connected client. */
  client: RedisEvalClient
  /** Prefix of every key this store writes (default `sg:throttle:`). One per application. */
  prefix?: string
}

// KEYS[1] = the attempts (sorted set), KEYS[2] = the lock (its end, ms since the epoch).
// ARGV = now, windowMs, limit, lockoutMs, member. Returns { count, lockedUntil as a string }.
// The steps are ThrottleStore.hit's contract: a lock in force is returned without counting;
// else the attempts older than the window go, this one is counted, and past the limit the key
// is locked. The set stays bounded: past the limit the key is locked, and nothing is added until the lock ends.
const HIT = `
local now = tonumber(ARGV[1])
local locked = tonumber(redis.call('GET', KEYS[2]) or '0')
if locked > now then return { redis.call('ZCARD', KEYS[1]), string.format('%.0f', locked) } end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
if count > tonumber(ARGV[3]) then
  locked = now + tonumber(ARGV[4])
  redis.call('SET', KEYS[2], string.format('%.0f', locked), 'PX', ARGV[4])
  return { count, string.format('%.0f', locked) }
end
return { count, '0' }
`

// KEYS[1], KEYS[2] as above: a successful sign-in forgives the account.
const RESET = `redis.call('DEL', KEYS[1], KEYS[2]) return 1`

const KNOWN: ReadonlySet<string> = new Set(['client', 'prefix'])

/**
 * Creates a {@link ThrottleStore} on Redis, shared by every instance of the app.
 *
 * HIPAA: 164.308(a)(5)(ii)(C) log-in monitoring (one count of failed attempts across instances),
 * 164.312(d) person or entity authentication.
 *
 * @hipaa 164.308(a)(5)(ii)(C) supports
 * @nist AC-7 164.308(a)(5)(ii)(C): the attempt limit holds across every instance behind a load balancer (one atomic count per account and per address)
 * @verifiedBy packages/http/test/throttle-redis.test.ts
 * @throws {HttpConfigError} on an unknown option, a client without `eval`, or a prefix that is not 1-100 printable ASCII characters without braces.
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect()
 * const throttle = createSignInThrottle({ store: createRedisThrottleStore({ client: redis, prefix: 'clinic:throttle:' }) })
 * ```
 */
export function createRedisThrottleStore(options: RedisThrottleStoreOptions): ThrottleStore {
  assertKnownOptions(options, KNOWN, (m) => new HttpConfigError(m))
  const { client } = options
  if (typeof client?.eval !== 'function')
    throw new HttpConfigError('"client" expected a Redis client with eval()')
  const prefix = options.prefix ?? 'sg:throttle:'
  // No braces: the store's own hash tag must be the key's first one.
  if (typeof prefix !== 'string' || !/^[!-z|~]{1,100}$/.test(prefix))
    throw new HttpConfigError('"prefix" expected 1-100 printable ASCII characters, no braces')
  const keysOf = (key: string): string[] => {
    // One hash tag for both keys: one Cluster slot, so the script may touch both.
    const tag = `${prefix}{${bytesToHex(sha256(utf8Encode(key)))}}`
    return [`${tag}:h`, `${tag}:l`]
  }
  return {
    async hit(key: string, now: number, rule: ThrottleRule): Promise<ThrottleHit> {
      const reply = await client.eval(HIT, {
        keys: keysOf(key),
        arguments: [
          String(now),
          String(rule.windowMs),
          String(rule.limit),
          String(rule.lockoutMs),
          bytesToHex(randomBytes(12)),
        ],
      })
      return hitOf(reply)
    },
    async reset(key: string): Promise<void> {
      await client.eval(RESET, { keys: keysOf(key), arguments: [] })
    },
  }
}

/** The script's reply, checked: a client or a server that answers anything else is a failure. */
function hitOf(reply: unknown): ThrottleHit {
  if (Array.isArray(reply) && reply.length === 2) {
    const [count, until] = reply as [unknown, unknown]
    const lockedUntil = typeof until === 'string' && /^\d{1,16}$/.test(until) ? Number(until) : Number.NaN
    if (
      typeof count === 'number' &&
      Number.isSafeInteger(count) &&
      count >= 0 &&
      Number.isSafeInteger(lockedUntil)
    )
      return { count, lockedUntil }
  }
  throw new HttpThrottleStoreError('unexpected reply from the Redis throttle script')
}
