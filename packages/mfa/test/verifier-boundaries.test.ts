/**
 * The verifier's and the throttle's decisions, checks and boundaries, each pinned exactly: what
 * mutation testing (StrykerJS on src/verifier.ts and src/throttle.ts) found no test for.
 */
import { manualClock, utf8Encode } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  createMemoryStore,
  createTotpVerifier,
  DEFAULT_THROTTLE_POLICY,
  MfaConfigError,
  type MfaStore,
  MfaStoreError,
  type ThrottlePolicy,
  totpCode,
} from '../src/index.js'
import { losingStore } from './fixtures.js'

const secret = utf8Encode('12345678901234567890')
const T = 1_111_111_111_000 // mid-step: step 37037037 starts at 1_111_111_110_000
const STEP = 37_037_037
const codeAt = (ms: number, digits = 6): string => totpCode({ secret, time: ms, digits })

function setup(options: { window?: number; throttle?: Partial<ThrottlePolicy>; store?: MfaStore } = {}) {
  const clock = manualClock(T)
  const store = options.store ?? createMemoryStore({ clock })
  const verifier = createTotpVerifier({
    store,
    clock,
    ...(options.window === undefined ? {} : { window: options.window }),
    ...(options.throttle === undefined ? {} : { throttle: options.throttle }),
  })
  return { clock, store, verifier }
}

/** A code that is none of the codes in ±2 steps of `ms` (so "wrong" for any window). */
function wrongCodeAt(ms: number): string {
  const near = new Set([-2, -1, 0, 1, 2].map((d) => codeAt(ms + d * 30_000)))
  for (let i = 0; ; i++) {
    const c = String(i).padStart(6, '0')
    if (!near.has(c)) return c
  }
}

describe('replay and wrong codes', () => {
  it('a wrong code after an earlier success is invalid, not replayed', async () => {
    const { verifier } = setup()
    expect(await verifier.verify('c', secret, codeAt(T))).toEqual({ valid: true, step: STEP, delta: 0 })
    expect(await verifier.verify('c', secret, wrongCodeAt(T))).toEqual({ valid: false, reason: 'invalid' })
    // The used code is replayed; so is an older one in the window; a later one is fine.
    expect(await verifier.verify('c', secret, codeAt(T))).toEqual({ valid: false, reason: 'replayed' })
    expect(await verifier.verify('c', secret, codeAt(T - 30_000))).toEqual({
      valid: false,
      reason: 'replayed',
    })
    expect(await verifier.verify('c', secret, codeAt(T + 30_000))).toEqual({
      valid: true,
      step: STEP + 1,
      delta: 1,
    })
  })

  it('with no earlier success a wrong code is invalid; step and delta report where the code matched', async () => {
    const { verifier, store } = setup({ window: 2 })
    expect(await verifier.verify('c', secret, wrongCodeAt(T))).toEqual({ valid: false, reason: 'invalid' })
    expect(await verifier.verify('c', secret, codeAt(T - 60_000))).toEqual({
      valid: true,
      step: STEP - 2,
      delta: -2,
    })
    expect(await store.get('step:c')).toBe(String(STEP - 2))
    expect(await verifier.verify('c', secret, codeAt(T + 60_000))).toEqual({
      valid: true,
      step: STEP + 2,
      delta: 2,
    })
    expect(await store.get('step:c')).toBe(String(STEP + 2))
    // Everything in the window is now at or before the last used step.
    for (const d of [-2, -1, 0, 1, 2])
      expect((await verifier.verify('c', secret, codeAt(T + d * 30_000))).valid, `delta ${d}`).toBe(false)
  })

  it('a code at the step boundary: the last millisecond of a step and the first of the next', async () => {
    const start = (STEP + 1) * 30_000
    const { verifier, clock } = setup({ window: 0 })
    clock.set(start - 1)
    expect(await verifier.verify('c', secret, codeAt(start))).toEqual({ valid: false, reason: 'invalid' })
    expect(await verifier.verify('c', secret, codeAt(start - 1))).toEqual({
      valid: true,
      step: STEP,
      delta: 0,
    })
    clock.set(start)
    expect(await verifier.verify('c', secret, codeAt(start))).toEqual({
      valid: true,
      step: STEP + 1,
      delta: 0,
    })
  })

  it('a stored step far ahead of now (clock moved back) refuses every code in the window as replayed', async () => {
    const { verifier, store } = setup()
    await store.compareAndSet('step:c', null, String(STEP + 1))
    expect(await verifier.verify('c', secret, codeAt(T + 30_000))).toEqual({
      valid: false,
      reason: 'replayed',
    })
    expect(await verifier.verify('c', secret, codeAt(T))).toEqual({ valid: false, reason: 'replayed' })
    await store.compareAndSet('step:c', String(STEP + 1), String(STEP + 9))
    expect(await verifier.verify('c', secret, codeAt(T))).toEqual({ valid: false, reason: 'replayed' })
    expect(await verifier.verify('c', secret, wrongCodeAt(T))).toEqual({ valid: false, reason: 'invalid' })
  })

  it('step records: only 1 to 15 decimal digits are data this package wrote', async () => {
    for (const bad of ['', '-1', '1e3', ' 12', '12 ', '0x10', '1234567890123456', '1.5', 'NaN']) {
      const { verifier, store } = setup()
      await store.compareAndSet('step:c', null, bad)
      await expect(verifier.verify('c', secret, codeAt(T)), JSON.stringify(bad)).rejects.toThrow(
        new MfaStoreError('step record has an unexpected shape'),
      )
    }
    const { verifier, store } = setup()
    await store.compareAndSet('step:c', null, '0')
    expect((await verifier.verify('c', secret, codeAt(T))).valid).toBe(true)
  })

  it('digits: 8-digit verifiers take exactly 8 digits', async () => {
    const clock = manualClock(T)
    const v = createTotpVerifier({ clock, digits: 8 })
    expect(await v.verify('c', secret, codeAt(T))).toEqual({ valid: false, reason: 'malformed' })
    expect((await v.verify('c', secret, codeAt(T, 8))).valid).toBe(true)
  })

  it('a step compare-and-set that keeps losing fails with a typed error after bounded retries', async () => {
    const { store, losses } = losingStore('step:')
    const { verifier } = setup({ store })
    await expect(verifier.verify('c', secret, codeAt(T))).rejects.toThrow(
      new MfaStoreError('step update did not converge'),
    )
    expect(losses()).toBe(64)
  })

  it('losing a step race once re-reads and decides again', async () => {
    const inner = createMemoryStore()
    let lose = true
    const store: MfaStore = {
      get: (k) => inner.get(k),
      compareAndSet: async (k, expected, next, ttl) => {
        if (k === 'step:c' && lose) {
          lose = false
          await inner.compareAndSet(k, expected, String(STEP - 1)) // another instance used the previous step
          return false
        }
        return inner.compareAndSet(k, expected, next, ttl)
      },
    }
    const { verifier } = setup({ store })
    expect(await verifier.verify('c', secret, codeAt(T))).toEqual({ valid: true, step: STEP, delta: 0 })
    expect(await inner.get('step:c')).toBe(String(STEP))
  })
})

describe('throttle boundaries', () => {
  it('the 100th attempt with the right code succeeds and resets the count; after 100 failures, disabled', async () => {
    const { verifier, clock } = setup()
    for (let n = 0; n < 99; n++) {
      const st = await verifier.status('c')
      clock.advance(st.retryAfterMs)
      expect(await verifier.verify('c', secret, wrongCodeAt(clock.now()))).toEqual({
        valid: false,
        reason: 'invalid',
      })
    }
    expect(await verifier.status('c')).toEqual({ failures: 99, blocked: 'locked', retryAfterMs: 15 * 60_000 })
    clock.advance(15 * 60_000 - 1)
    expect(await verifier.verify('c', secret, codeAt(clock.now()))).toEqual({
      valid: false,
      reason: 'locked',
      retryAfterMs: 1,
    })
    clock.advance(1)
    expect(await verifier.verify('c', secret, codeAt(clock.now()))).toMatchObject({ valid: true })
    expect(await verifier.status('c')).toEqual({ failures: 0, blocked: null, retryAfterMs: 0 })

    const b = setup()
    for (let n = 0; n < 100; n++) {
      b.clock.advance((await b.verifier.status('c')).retryAfterMs)
      await b.verifier.verify('c', secret, wrongCodeAt(b.clock.now()))
    }
    expect(await b.verifier.status('c')).toEqual({
      failures: 100,
      blocked: 'disabled',
      retryAfterMs: Number.POSITIVE_INFINITY,
    })
    b.clock.advance(24 * 3600_000)
    expect(await b.verifier.verify('c', secret, codeAt(b.clock.now()))).toEqual({
      valid: false,
      reason: 'disabled',
      retryAfterMs: Number.POSITIVE_INFINITY,
    })
    expect((await b.verifier.status('c')).failures).toBe(100)
  })

  /**
   * A right code for credential `c`, counted under `u`, while failures on other app servers push
   * `u`'s count to `failuresMeanwhile` (between this attempt's step write and its success).
   */
  async function succeedWhileOthersFail(failuresMeanwhile: number) {
    const inner = createMemoryStore()
    const store: MfaStore = {
      get: (k) => inner.get(k),
      compareAndSet: async (k, expected, next, ttl) => {
        const ok = await inner.compareAndSet(k, expected, next, ttl)
        if (ok && k === 'step:c') {
          const raw = await inner.get('throttle:u')
          await inner.compareAndSet('throttle:u', raw, JSON.stringify({ f: failuresMeanwhile, t: T }))
        }
        return ok
      },
    }
    const verifier = createTotpVerifier({ store, clock: manualClock(T) })
    expect(await verifier.verify('c', secret, codeAt(T), { throttleKey: 'u' })).toMatchObject({ valid: true })
    return verifier.status('u')
  }

  it('a success does not re-enable a key that other attempts disabled while it was checked', async () => {
    // Regression: recordSuccess reset the count unless it was *above* disableAfter, which the
    // counter never reaches, so a success racing the failures that disabled the key re-enabled it.
    expect(await succeedWhileOthersFail(100)).toMatchObject({ failures: 100, blocked: 'disabled' })
  })

  it('a success resets a count that others raised below the limit meanwhile', async () => {
    expect(await succeedWhileOthersFail(99)).toEqual({ failures: 0, blocked: null, retryAfterMs: 0 })
  })

  it('backoff: none below backoffAfter, base × 2^k up to maxDelayMs, then lockMs from lockAfter', async () => {
    const policy = {
      backoffAfter: 2,
      baseDelayMs: 100,
      maxDelayMs: 350,
      lockAfter: 6,
      lockMs: 5000,
      disableAfter: 8,
    }
    const { verifier, clock } = setup({ throttle: policy })
    const expected = [0, 0, 100, 200, 350, 350, 5000, 5000]
    for (let n = 0; n < 8; n++) {
      const st = await verifier.status('c')
      expect(st.failures).toBe(n)
      expect(st.retryAfterMs, `after ${n} failures`).toBe(expected[n])
      if (st.retryAfterMs > 0) {
        expect(st.blocked).toBe(n >= 6 ? 'locked' : 'throttled')
        clock.advance(st.retryAfterMs - 1)
        expect((await verifier.status('c')).retryAfterMs).toBe(1)
        clock.advance(1)
      }
      expect(await verifier.status('c')).toEqual({ failures: n, blocked: null, retryAfterMs: 0 })
      await verifier.verify('c', secret, wrongCodeAt(clock.now()))
    }
    expect(await verifier.status('c')).toMatchObject({ failures: 8, blocked: 'disabled' })
  })

  it('refused attempts are not counted and do not restart the wait', async () => {
    const { verifier, clock } = setup()
    for (let i = 0; i < 5; i++) await verifier.verify('c', secret, wrongCodeAt(T))
    clock.advance(400)
    expect(await verifier.verify('c', secret, wrongCodeAt(T))).toEqual({
      valid: false,
      reason: 'throttled',
      retryAfterMs: 600,
    })
    expect(await verifier.status('c')).toEqual({ failures: 5, blocked: 'throttled', retryAfterMs: 600 })
  })

  it('reset clears a count and a disabled state; resetting a clean key is a no-op', async () => {
    const { verifier, store } = setup()
    await verifier.reset('c')
    expect(await store.get('throttle:c')).toBeNull()
    await store.compareAndSet('throttle:c', null, JSON.stringify({ f: 100, t: T }))
    await verifier.reset('c')
    expect(await verifier.status('c')).toEqual({ failures: 0, blocked: null, retryAfterMs: 0 })
    expect((await verifier.verify('c', secret, codeAt(T))).valid).toBe(true)
  })

  it('throttle records this package did not write are refused', async () => {
    const shape = 'throttle record has an unexpected shape'
    for (const [bad, message] of [
      ['nope', 'throttle record is not valid JSON'],
      ['null', shape],
      ['[]', shape],
      ['{"f":-1,"t":0}', shape],
      ['{"f":1.5,"t":0}', shape],
      ['{"f":1}', shape],
      ['{"t":0}', shape],
      ['{"f":"1","t":0}', shape],
      ['{"f":1,"t":0.5}', shape],
    ] as const) {
      const { verifier, store } = setup()
      await store.compareAndSet('throttle:c', null, bad)
      await expect(verifier.status('c'), bad).rejects.toThrow(new MfaStoreError(message))
      await expect(verifier.verify('c', secret, codeAt(T)), bad).rejects.toThrow(new MfaStoreError(message))
    }
    const { verifier, store } = setup()
    await store.compareAndSet('throttle:c', null, '{"f":0,"t":-5}')
    expect(await verifier.status('c')).toEqual({ failures: 0, blocked: null, retryAfterMs: 0 })
  })

  it('throttle compare-and-set that keeps losing fails with a typed error after bounded retries', async () => {
    const inner = createMemoryStore()
    const store: MfaStore = {
      get: (k) => inner.get(k),
      compareAndSet: async (k, e, n, t) =>
        k.startsWith('throttle:') ? false : inner.compareAndSet(k, e, n, t),
    }
    const { verifier } = setup({ store })
    const msg = 'throttle update did not converge'
    await expect(verifier.verify('c', secret, codeAt(T))).rejects.toThrow(new MfaStoreError(msg))
    await inner.compareAndSet('throttle:c', null, JSON.stringify({ f: 1, t: T }))
    await expect(verifier.reset('c')).rejects.toThrow(new MfaStoreError(msg))
    // Counting succeeds but clearing the count after a success keeps losing.
    let clears = 0
    const clearing: MfaStore = {
      get: (k) => inner.get(k),
      compareAndSet: async (k, e, n, t) => {
        if (k === 'throttle:d' && n === null) {
          clears++
          return false
        }
        return inner.compareAndSet(k, e, n, t)
      },
    }
    const v2 = createTotpVerifier({ store: clearing, clock: manualClock(T) })
    await expect(v2.verify('d', secret, codeAt(T))).rejects.toThrow(new MfaStoreError(msg))
    expect(clears).toBe(64)
  })

  it('the policy: defaults, validation, and thresholds in order', () => {
    // backoffAfter, baseDelayMs, maxDelayMs, lockAfter, lockMs, disableAfter
    expect(Object.values(DEFAULT_THROTTLE_POLICY)).toEqual([5, 1000, 60_000, 10, 15 * 60_000, 100])
    expect(Object.isFrozen(DEFAULT_THROTTLE_POLICY)).toBe(true)
    const ok = (t: Partial<ThrottlePolicy>) => expect(() => createTotpVerifier({ throttle: t })).not.toThrow()
    const bad = (t: Partial<ThrottlePolicy>, e: unknown) =>
      expect(() => createTotpVerifier({ throttle: t })).toThrow(e as Error)
    ok({ disableAfter: 100 })
    ok({ backoffAfter: 1, lockAfter: 1, disableAfter: 1 })
    ok({ backoffAfter: 0, lockAfter: 0, disableAfter: 1 })
    const range = new MfaConfigError(
      '"disableAfter" must be 1 to 100 (NIST SP 800-63B caps consecutive failures at 100)',
    )
    bad({ disableAfter: 101 }, range)
    bad({ backoffAfter: 0, lockAfter: 0, disableAfter: 0 }, range)
    const order = new MfaConfigError(
      'throttle thresholds must satisfy backoffAfter ≤ lockAfter ≤ disableAfter',
    )
    bad({ backoffAfter: 11 }, order)
    bad({ lockAfter: 101, disableAfter: 100 }, order)
    bad({ lockAfter: 4 }, order)
    bad({ lockMs: -1 }, RangeError)
    bad({ lockMs: 365 * 24 * 3600 * 1000 + 1 }, RangeError)
    ok({ lockMs: 365 * 24 * 3600 * 1000 })
    bad({ baseDelayMs: 1.5 }, TypeError)
  })
})

describe('verifier checks', () => {
  it('window: 0 to 2, integers only', () => {
    expect(() => createTotpVerifier({ window: 2 })).not.toThrow()
    expect(() => createTotpVerifier({ window: 3 })).toThrow(
      new MfaConfigError('"window" must be at most 2 steps'),
    )
    expect(() => createTotpVerifier({ window: -1 })).toThrow(
      new RangeError(`"window" expected an integer in [0, ${Number.MAX_SAFE_INTEGER}]`),
    )
    expect(() => createTotpVerifier({ window: 1.5 })).toThrow(TypeError)
  })

  it('credential and throttle keys: 1 to 256 characters, refused before anything is counted', async () => {
    const { verifier, store } = setup()
    expect(
      (await verifier.verify('k'.repeat(256), secret, codeAt(T), { throttleKey: 't'.repeat(256) })).valid,
    ).toBe(true)
    await expect(verifier.verify('k'.repeat(257), secret, '123456')).rejects.toThrow(RangeError)
    await expect(verifier.verify('c', secret, '123456', { throttleKey: '' })).rejects.toThrow(
      new RangeError('"throttleKey" must not be empty'),
    )
    await expect(verifier.verify('', secret, '123456')).rejects.toThrow(
      new RangeError('"credentialId" must not be empty'),
    )
    await expect(verifier.status('')).rejects.toThrow(new RangeError('"key" must not be empty'))
    await expect(verifier.reset('')).rejects.toThrow(new RangeError('"key" must not be empty'))
    await expect(verifier.verify('c', secret, '123456', { throttleKey: 5 as never })).rejects.toThrow(
      TypeError,
    )
    expect(await store.get('throttle:c')).toBeNull()
  })

  it('failures count under the throttle key when given, else under the credential id', async () => {
    const { verifier } = setup()
    await verifier.verify('c', secret, '000000', { throttleKey: 'user' })
    expect((await verifier.status('user')).failures).toBe(1)
    expect((await verifier.status('c')).failures).toBe(0)
    await verifier.verify('c', secret, '000000')
    expect((await verifier.status('c')).failures).toBe(1)
  })

  it('a success resets only its own throttle key', async () => {
    const { verifier } = setup()
    await verifier.verify('c', secret, '000000', { throttleKey: 'other' })
    await verifier.verify('c', secret, '000000')
    expect((await verifier.verify('c', secret, codeAt(T))).valid).toBe(true)
    expect((await verifier.status('c')).failures).toBe(0)
    expect((await verifier.status('other')).failures).toBe(1)
  })

  it('uses its own in-memory store when none is given, per verifier', async () => {
    const a = createTotpVerifier({ clock: manualClock(T) })
    const b = createTotpVerifier({ clock: manualClock(T) })
    expect((await a.verify('c', secret, codeAt(T))).valid).toBe(true)
    expect((await b.verify('c', secret, codeAt(T))).valid).toBe(true)
    expect(await a.verify('c', secret, codeAt(T))).toEqual({ valid: false, reason: 'replayed' })
  })
})
