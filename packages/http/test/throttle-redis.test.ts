/**
 * The Redis throttle store against a real Redis: the shared scenarios (the same as the memory
 * store's), two app instances sharing one count, Redis keys that name no account or address,
 * and the failures: a Redis that is down or answers something else makes the throttle throw
 * HttpThrottleStoreError (the adapters answer 503: an attempt that cannot be counted is refused).
 */
import { randomUUID } from 'node:crypto'
import { manualClock } from '@safeguards/core'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createRedisThrottleStore,
  createSignInThrottle,
  HttpConfigError,
  HttpThrottleStoreError,
  type RedisEvalClient,
} from '../src/index.js'
import { throttleStoreSuite } from './support/throttle-store.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const connect = () =>
  createClient({ url: REDIS_URL, socket: { connectTimeout: 2000, reconnectStrategy: false } }).connect()
let redis: Awaited<ReturnType<typeof connect>>
let other: Awaited<ReturnType<typeof connect>>
const prefix = `sg-test:throttle:${randomUUID()}:`
let n = 0
const fresh = () => createRedisThrottleStore({ client: redis, prefix: `${prefix}${++n}:` })

beforeAll(async () => {
  redis = await connect()
  other = await connect() // a second app instance's own connection
})
afterAll(async () => {
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 }))
    if (keys.length > 0) await redis.del(keys)
  await Promise.all([redis?.quit(), other?.quit()])
})

throttleStoreSuite('Redis', fresh)

describe('the Redis throttle store', () => {
  it('two instances share one count: the limit holds across them', async () => {
    const clock = manualClock(Date.UTC(2026, 11, 7))
    const rule = { account: { limit: 4, windowMs: 60_000, lockoutMs: 60_000 } }
    const p = `${prefix}shared:`
    const a = createSignInThrottle({
      store: createRedisThrottleStore({ client: redis, prefix: p }),
      clock,
      ...rule,
    })
    const b = createSignInThrottle({
      store: createRedisThrottleStore({ client: other, prefix: p }),
      clock,
      ...rule,
    })
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).attempt('ann@example.org', `10.0.0.${i}`)),
    )
    expect(outcomes.filter((o) => o.allowed)).toHaveLength(4)
    // A success on one instance forgives the account on the other.
    await a.succeeded('ann@example.org')
    expect((await b.attempt('ann@example.org', '10.0.0.1')).allowed).toBe(true)
  })

  it('keeps no account name or address in Redis: keys are hashed, one hash slot per throttle key', async () => {
    const p = `${prefix}names:`
    const t = createSignInThrottle({ store: createRedisThrottleStore({ client: redis, prefix: p }) })
    await t.attempt('carol@example.org', '198.51.100.7')
    const keys: string[] = []
    for await (const batch of redis.scanIterator({ MATCH: `${p}*`, COUNT: 500 })) keys.push(...batch)
    expect(keys.sort()).toHaveLength(2) // the account's attempts and the address's; no lock yet
    for (const k of keys) {
      expect(k).toMatch(/^.+\{[0-9a-f]{64}\}:h$/)
      expect(k).not.toContain('carol')
      expect(k).not.toContain('198.51.100.7')
    }
    await t.succeeded('carol@example.org')
    const left: string[] = []
    for await (const batch of redis.scanIterator({ MATCH: `${p}*`, COUNT: 500 })) left.push(...batch)
    expect(left).toHaveLength(1) // the address's count stays
  })

  it('expires what it writes: the attempts after one window, the lock after its lockout', async () => {
    const store = fresh()
    const now = Date.now()
    await store.hit('a:dan', now, { limit: 1, windowMs: 5_000, lockoutMs: 9_000 })
    const locked = await store.hit('a:dan', now, { limit: 1, windowMs: 5_000, lockoutMs: 9_000 })
    expect(locked.lockedUntil).toBe(now + 9_000)
    const keys: string[] = []
    for await (const batch of redis.scanIterator({ MATCH: `${prefix}${n}:*`, COUNT: 500 }))
      keys.push(...batch)
    const ttl = new Map(await Promise.all(keys.map(async (k) => [k.slice(-1), await redis.pTTL(k)] as const)))
    expect(ttl.get('h')).toBeGreaterThan(0)
    expect(ttl.get('h')).toBeLessThanOrEqual(5_000)
    expect(ttl.get('l')).toBeGreaterThan(5_000)
    expect(ttl.get('l')).toBeLessThanOrEqual(9_000)
  })

  it('a Redis that is down, or a reply that is not the script’s, fails the attempt (503 upstream)', async () => {
    const down: RedisEvalClient = { eval: () => Promise.reject(new Error('ECONNREFUSED')) }
    const t = createSignInThrottle({ store: createRedisThrottleStore({ client: down }) })
    await expect(t.attempt('ann', 'a')).rejects.toBeInstanceOf(HttpThrottleStoreError)
    await expect(t.succeeded('ann')).rejects.toBeInstanceOf(HttpThrottleStoreError)
    for (const reply of [null, 'OK', [1], [1, 2], [-1, '0'], [1.5, '0'], [1, 'soon'], [1, '1e3']]) {
      const odd: RedisEvalClient = { eval: () => Promise.resolve(reply) }
      const store = createRedisThrottleStore({ client: odd })
      // The store's own typed error, used alone or under the throttle.
      await expect(
        store.hit('a:ann', 0, { limit: 1, windowMs: 1000, lockoutMs: 1000 }),
        JSON.stringify(reply),
      ).rejects.toBeInstanceOf(HttpThrottleStoreError)
      const u = createSignInThrottle({ store })
      await expect(u.attempt('ann', 'a'), JSON.stringify(reply)).rejects.toBeInstanceOf(
        HttpThrottleStoreError,
      )
    }
  })

  it('refuses bad options', () => {
    expect(() => createRedisThrottleStore({ client: {} as RedisEvalClient })).toThrow(HttpConfigError)
    expect(() => createRedisThrottleStore({ client: redis, nope: 1 } as never)).toThrow(HttpConfigError)
    for (const prefix of ['', 'a b', 'x{y}', 'é', 'p'.repeat(101)])
      expect(() => createRedisThrottleStore({ client: redis, prefix }), prefix).toThrow(HttpConfigError)
  })
})
