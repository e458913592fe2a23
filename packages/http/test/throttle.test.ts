import { describe, expect, it } from 'vitest'
import {
  createMemoryThrottleStore,
  createSignInThrottle,
  HttpConfigError,
  HttpThrottleStoreError,
  type ThrottleStore,
} from '../src/index.js'
import { throttleStoreSuite } from './support/throttle-store.js'

throttleStoreSuite('memory', () => createMemoryThrottleStore())

describe('sign-in throttle (unit)', () => {
  it('a store failure throws HttpThrottleStoreError (the caller refuses with 503)', async () => {
    const store: ThrottleStore = {
      hit: () => Promise.reject(new Error('ECONNREFUSED')),
      reset: () => Promise.reject(new Error('ECONNREFUSED')),
    }
    const t = createSignInThrottle({ store })
    await expect(t.attempt('ann', 'a')).rejects.toBeInstanceOf(HttpThrottleStoreError)
    await expect(t.succeeded('ann')).rejects.toBeInstanceOf(HttpThrottleStoreError)
  })

  it('refuses bad options', () => {
    expect(() => createSignInThrottle({ account: { limit: 0 } })).toThrow(HttpConfigError)
    expect(() => createSignInThrottle({ nope: 1 } as never)).toThrow(HttpConfigError)
    expect(() => createMemoryThrottleStore({ maxKeys: 0 })).toThrow(HttpConfigError)
  })

  it('the memory store keeps at most maxKeys keys', async () => {
    const s = createMemoryThrottleStore({ maxKeys: 2 })
    const rule = { limit: 1, windowMs: 1000, lockoutMs: 1000 }
    await s.hit('a', 0, rule)
    expect((await s.hit('a', 0, rule)).lockedUntil).toBe(1000)
    await s.hit('b', 0, rule)
    await s.hit('c', 0, rule) // evicts a
    expect((await s.hit('a', 0, rule)).count).toBe(1)
  })
})
