import { manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  createMemoryThrottleStore,
  createSignInThrottle,
  HttpConfigError,
  HttpThrottleStoreError,
  type ThrottleStore,
} from '../src/index.js'

describe('sign-in throttle (unit)', () => {
  it('per account: a sliding window, a lockout with Retry-After, a success forgives', async () => {
    const clock = manualClock(0)
    const t = createSignInThrottle({ clock, account: { limit: 3, windowMs: 10_000, lockoutMs: 30_000 } })
    for (let i = 0; i < 3; i++) expect((await t.attempt('ann', '10.0.0.1')).allowed).toBe(true)
    const no = await t.attempt('ann', '10.0.0.2')
    expect(no).toMatchObject({ allowed: false, reason: 'signin_throttled_account', retryAfterSeconds: 30 })
    if (no.allowed) throw new Error('unreachable')
    expect(no.reply.status).toBe(429)
    expect(no.reply.headers['retry-after']).toBe('30')
    expect((await t.attempt('bob', '10.0.0.1')).allowed).toBe(true) // another account
    clock.advance(29_999)
    expect((await t.attempt('ann', '10.0.0.1')).allowed).toBe(false)
    clock.advance(1)
    expect((await t.attempt('ann', '10.0.0.1')).allowed).toBe(true)
    await t.succeeded('ann')
    for (let i = 0; i < 3; i++) expect((await t.attempt('ann', '10.0.0.1')).allowed).toBe(true)
  })

  it('the window slides: old attempts fall out', async () => {
    const clock = manualClock(0)
    const t = createSignInThrottle({ clock, account: { limit: 2, windowMs: 10_000, lockoutMs: 30_000 } })
    await t.attempt('ann', 'a')
    clock.advance(6_000)
    await t.attempt('ann', 'a')
    clock.advance(4_001) // the first attempt is out of the window
    expect((await t.attempt('ann', 'a')).allowed).toBe(true)
    expect((await t.attempt('ann', 'a')).allowed).toBe(false)
  })

  it('per address: many accounts from one address are locked by address', async () => {
    const clock = manualClock(0)
    const t = createSignInThrottle({ clock, address: { limit: 4, windowMs: 60_000, lockoutMs: 60_000 } })
    for (let i = 0; i < 4; i++) expect((await t.attempt(`u${i}`, '203.0.113.9')).allowed).toBe(true)
    expect(await t.attempt('u9', '203.0.113.9')).toMatchObject({
      allowed: false,
      reason: 'signin_throttled_address',
      retryAfterSeconds: 60,
    })
    expect((await t.attempt('u9', '203.0.113.10')).allowed).toBe(true)
  })

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
