/**
 * What every ThrottleStore must do under the sign-in throttle, run against each store (the memory
 * store in `throttle.test.ts`, Redis in `throttle-redis.test.ts`): the same scenarios, so a shared
 * store cannot drift from the one it replaces.
 */
import { manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { createSignInThrottle, type SignInThrottleOptions, type ThrottleStore } from '../../src/index.js'

/** Runs the scenarios with a fresh store from `make` in each (keys must not leak between them). */
export function throttleStoreSuite(name: string, make: () => ThrottleStore): void {
  /** A throttle on a fresh store, with a manual clock. */
  const start = (rules: Omit<SignInThrottleOptions, 'store' | 'clock'>) => {
    const clock = manualClock(Date.UTC(2026, 11, 7))
    return { clock, t: createSignInThrottle({ store: make(), clock, ...rules }) }
  }
  describe(`sign-in throttle on the ${name} store`, () => {
    it('per account: a sliding window, a lockout with Retry-After, a success forgives', async () => {
      const { clock, t } = start({ account: { limit: 3, windowMs: 10_000, lockoutMs: 30_000 } })
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
      const { clock, t } = start({ account: { limit: 2, windowMs: 10_000, lockoutMs: 30_000 } })
      await t.attempt('ann', 'a')
      clock.advance(6_000)
      await t.attempt('ann', 'a')
      clock.advance(4_001) // the first attempt is out of the window
      expect((await t.attempt('ann', 'a')).allowed).toBe(true)
      expect((await t.attempt('ann', 'a')).allowed).toBe(false)
    })

    it('per address: many accounts from one address are locked by address', async () => {
      const { t } = start({ address: { limit: 4, windowMs: 60_000, lockoutMs: 60_000 } })
      for (let i = 0; i < 4; i++) expect((await t.attempt(`u${i}`, '203.0.113.9')).allowed).toBe(true)
      expect(await t.attempt('u9', '203.0.113.9')).toMatchObject({
        allowed: false,
        reason: 'signin_throttled_address',
        retryAfterSeconds: 60,
      })
      expect((await t.attempt('u9', '203.0.113.10')).allowed).toBe(true)
    })

    it('attempts in one millisecond all count, and parallel attempts never pass the limit', async () => {
      const clock = manualClock(Date.UTC(2026, 11, 7))
      const store = make()
      const rule = { limit: 5, windowMs: 60_000, lockoutMs: 60_000 }
      const hits = await Promise.all(Array.from({ length: 40 }, () => store.hit('a:eve', clock.now(), rule)))
      expect(hits.map((h) => h.count).sort((x, y) => x - y)).toEqual([
        ...[1, 2, 3, 4, 5, 6],
        ...Array(34).fill(6), // locked after the sixth: not counted
      ])
      expect(hits.filter((h) => h.lockedUntil === 0)).toHaveLength(5)
      expect(new Set(hits.filter((h) => h.lockedUntil > 0).map((h) => h.lockedUntil))).toEqual(
        new Set([clock.now() + 60_000]),
      )
    })
  })
}
