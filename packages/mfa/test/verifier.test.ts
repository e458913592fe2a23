import { criticalSink, manualClock, type SafeguardEvent, utf8Encode } from '@safeguards/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  createMemoryStore,
  createRedisStore,
  createTotpVerifier,
  MfaConfigError,
  type MfaStore,
  MfaStoreError,
  totpCode,
} from '../src/index.js'
import { describeRedis } from './helpers.js'

const secret = utf8Encode('12345678901234567890')
const T = 1_111_111_111_000 // RFC 6238 time, mid-step (step 37037037, offset 1 s)
const codeAt = (ms: number): string => totpCode({ secret, time: ms })

function setup(store?: MfaStore, window?: number) {
  const clock = manualClock(T)
  const s = store ?? createMemoryStore({ clock })
  const verifier = createTotpVerifier({ store: s, now: clock, ...(window === undefined ? {} : { window }) })
  return { clock, store: s, verifier }
}

describe('events', () => {
  it('reports each check with the actor and credential, never the code; critical sinks fail closed', async () => {
    const clock = manualClock(T)
    const events: SafeguardEvent[] = []
    const verifier = createTotpVerifier({
      now: clock,
      events: (e) => {
        events.push(e)
      },
    })
    const c = codeAt(T)
    expect((await verifier.verify('c1', secret, c, { actor: 'u-1' })).valid).toBe(true)
    expect((await verifier.verify('c1', secret, c, { actor: 'u-1' })).valid).toBe(false)
    expect((await verifier.verify('c1', secret, '12')).valid).toBe(false)
    const ev = { at: T, source: '@safeguards/mfa', credentialId: 'c1' }
    expect(events).toEqual([
      { type: 'auth.totp.succeeded', ...ev, actor: 'u-1', outcome: 'success' },
      {
        type: 'auth.totp.replayed',
        ...ev,
        actor: 'u-1',
        outcome: 'failure',
        code: 'replayed',
        counts: { failures: 1 },
      },
      { type: 'auth.totp.failed', ...ev, outcome: 'failure', code: 'malformed', counts: { failures: 2 } },
    ])
    expect(JSON.stringify(events)).not.toContain(c)
    const closed = createTotpVerifier({
      now: clock,
      events: criticalSink(() => Promise.reject(new Error('down'))),
    })
    await expect(closed.verify('c1', secret, c)).rejects.toMatchObject({
      code: 'ERR_EVENT_SINK',
      eventType: 'auth.totp.succeeded',
    })
  })
})

describe('window and clock', () => {
  it('accepts ±1 step by default and not ±2', async () => {
    for (const [offset, ok] of [
      [-60_000, false],
      [-30_000, true],
      [0, true],
      [30_000, true],
      [60_000, false],
    ] as const) {
      const { verifier } = setup()
      const r = await verifier.verify('c1', secret, codeAt(T + offset))
      expect(r.valid, `offset ${offset}`).toBe(ok)
      if (r.valid) expect(r.delta).toBe(offset / 30_000)
    }
  })

  it('accepts ±2 when configured, exactly the current step with 0, and refuses more than 2', async () => {
    expect((await setup(undefined, 2).verifier.verify('c', secret, codeAt(T - 60_000))).valid).toBe(true)
    expect((await setup(undefined, 2).verifier.verify('c', secret, codeAt(T + 60_000))).valid).toBe(true)
    expect((await setup(undefined, 2).verifier.verify('c', secret, codeAt(T + 90_000))).valid).toBe(false)
    expect((await setup(undefined, 0).verifier.verify('c', secret, codeAt(T - 30_000))).valid).toBe(false)
    expect((await setup(undefined, 0).verifier.verify('c', secret, codeAt(T))).valid).toBe(true)
    expect(() => createTotpVerifier({ window: 3 })).toThrow(MfaConfigError)
    expect(() => createTotpVerifier({ window: -1 })).toThrow(RangeError)
    expect(() => createTotpVerifier({ throttle: { disableAfter: 101 } })).toThrow(MfaConfigError)
    expect(() => createTotpVerifier({ throttle: { lockAfter: 200 } })).toThrow(MfaConfigError)
  })

  it('uses only the server clock', async () => {
    const { verifier, clock } = setup()
    const future = codeAt(T + 5 * 60_000)
    expect((await verifier.verify('c', secret, future)).valid).toBe(false)
    clock.advance(5 * 60_000)
    expect((await verifier.verify('c', secret, future)).valid).toBe(true)
  })
})

describe('replay', () => {
  it('accepts each time step at most once per credential', async () => {
    const { verifier, clock } = setup()
    const code = codeAt(T)
    expect(await verifier.verify('c', secret, code)).toMatchObject({ valid: true })
    expect(await verifier.verify('c', secret, code)).toEqual({ valid: false, reason: 'replayed' })
    // Another credential with the same secret has its own step record.
    expect((await verifier.verify('other', secret, code)).valid).toBe(true)
    // A code from an earlier step inside the window is refused once a later step was used.
    const { verifier: v2 } = setup()
    expect((await v2.verify('c', secret, codeAt(T + 30_000))).valid).toBe(true)
    expect(await v2.verify('c', secret, codeAt(T))).toEqual({ valid: false, reason: 'replayed' })
    // The next step's code works when its time comes.
    clock.advance(30_000)
    expect((await verifier.verify('c', secret, codeAt(T + 30_000))).valid).toBe(true)
    expect((await verifier.verify('c', secret, code)).valid).toBe(false)
  })

  it('two (or twenty) concurrent submissions of one code succeed exactly once', async () => {
    const { verifier } = setup()
    const code = codeAt(T)
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify('c', secret, code)))
    expect(results.filter((r) => r.valid)).toHaveLength(1)
    // The others are refused as replays, or by backoff (every attempt counts before it is checked).
    for (const r of results) if (!r.valid) expect(['replayed', 'throttled']).toContain(r.reason)
    const { verifier: v2 } = setup()
    const pair = await Promise.all([v2.verify('c', secret, code), v2.verify('c', secret, code)])
    expect(pair.map((r) => r.valid).sort()).toEqual([false, true])
    expect(pair.find((r) => !r.valid)).toEqual({ valid: false, reason: 'replayed' })
  })

  it('refuses corrupted step records', async () => {
    const { verifier, store } = setup()
    await store.compareAndSet('step:c', null, 'garbage')
    await expect(verifier.verify('c', secret, codeAt(T))).rejects.toBeInstanceOf(MfaStoreError)
  })
})

describe('malformed codes', () => {
  const malformed: unknown[] = [
    '47164x',
    ' 287082',
    '287082 ',
    '２８７０８２',
    '28708',
    '2870822',
    '+28708',
    '-28708',
    '0x1234',
    '١٢٣٤٥٦',
    'x'.repeat(1 << 20),
    '',
    287082,
    null,
    undefined,
    {},
    ['287082'],
    { toString: () => '287082' },
    Symbol('x'),
    10n,
  ]
  it('resolve to { valid: false } and never throw', async () => {
    const { verifier } = setup(undefined)
    for (const code of malformed) {
      const r = await verifier.verify(`m-${malformed.indexOf(code)}`, secret, code)
      expect(r, String(typeof code)).toEqual({ valid: false, reason: 'malformed' })
    }
  })

  it('count as failures', async () => {
    const { verifier } = setup()
    for (let i = 0; i < 3; i++) await verifier.verify('c', secret, '47164x')
    expect((await verifier.status('c')).failures).toBe(3)
  })

  it('any input at all gives { valid: false } unless it is the right code (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (code) => {
        const { verifier } = setup()
        const r = await verifier.verify('p', secret, code)
        expect(r.valid).toBe(code === codeAt(T) || code === codeAt(T - 30_000) || code === codeAt(T + 30_000))
      }),
      { numRuns: 200 },
    )
  })

  it('misuse of the API throws typed errors', async () => {
    const { verifier } = setup()
    await expect(verifier.verify('', secret, '123456')).rejects.toBeInstanceOf(RangeError)
    await expect(verifier.verify(1 as unknown as string, secret, '123456')).rejects.toBeInstanceOf(TypeError)
    await expect(verifier.verify('c', 'k' as unknown as Uint8Array, '123456')).rejects.toBeInstanceOf(
      TypeError,
    )
    await expect(verifier.verify('c', new Uint8Array(4), '123456')).rejects.toBeInstanceOf(RangeError)
    // Misuse is refused before anything is counted.
    expect((await verifier.status('c')).failures).toBe(0)
  })
})

describe('throttling', () => {
  it('backs off after 5 failures, locks after 10, disables at 100; success resets', async () => {
    const { verifier, clock } = setup()
    const fail = () => verifier.verify('c', secret, '000000')
    for (let i = 0; i < 5; i++) expect(await fail()).toEqual({ valid: false, reason: 'invalid' })
    // 5 failures: the next attempt must wait 1 s.
    expect(await fail()).toEqual({ valid: false, reason: 'throttled', retryAfterMs: 1000 })
    // Refused attempts are not counted.
    expect((await verifier.status('c')).failures).toBe(5)
    // Even the right code is refused while throttled.
    expect((await verifier.verify('c', secret, codeAt(T))).valid).toBe(false)
    let delay = 1000
    for (let n = 5; n < 10; n++) {
      clock.advance(delay)
      expect(await fail()).toEqual({ valid: false, reason: 'invalid' })
      delay = n + 1 < 10 ? 1000 * 2 ** (n + 1 - 5) : 15 * 60_000
      const st = await verifier.status('c')
      expect(st.retryAfterMs).toBe(delay)
    }
    expect(await fail()).toMatchObject({ valid: false, reason: 'locked', retryAfterMs: 15 * 60_000 })
    for (let n = 10; n < 100; n++) {
      clock.advance(15 * 60_000)
      expect((await fail()).valid).toBe(false)
    }
    expect(await verifier.status('c')).toEqual({
      failures: 100,
      blocked: 'disabled',
      retryAfterMs: Number.POSITIVE_INFINITY,
    })
    clock.advance(365 * 24 * 3600_000)
    const right = codeAt(clock.now())
    expect(await verifier.verify('c', secret, right)).toMatchObject({ valid: false, reason: 'disabled' })
    await verifier.reset('c')
    expect((await verifier.verify('c', secret, right)).valid).toBe(true)
    expect((await verifier.status('c')).failures).toBe(0)
  })

  it('a success resets the consecutive count', async () => {
    const { verifier, clock } = setup()
    for (let i = 0; i < 4; i++) await verifier.verify('c', secret, '000000')
    expect((await verifier.verify('c', secret, codeAt(T))).valid).toBe(true)
    expect((await verifier.status('c')).failures).toBe(0)
    clock.advance(30_000)
    for (let i = 0; i < 5; i++) await verifier.verify('c', secret, '000000')
    expect((await verifier.verify('c', secret, codeAt(T + 30_000))).valid).toBe(false)
  })

  it('parallel guesses cannot exceed the limit', async () => {
    const { verifier } = setup()
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => verifier.verify('c', secret, String(i).padStart(6, '0'))),
    )
    // Only the first 5 were checked; the rest were refused by backoff.
    expect(results.filter((r) => r.valid || r.reason !== 'throttled')).toHaveLength(5)
    expect((await verifier.status('c')).failures).toBe(5)
  })

  it('the throttle key can differ from the credential (per user)', async () => {
    const { verifier } = setup()
    for (let i = 0; i < 5; i++)
      await verifier.verify(`cred-${i}`, secret, '000000', { throttleKey: 'user-1' })
    expect(await verifier.verify('cred-new', secret, codeAt(T), { throttleKey: 'user-1' })).toMatchObject({
      valid: false,
      reason: 'throttled',
    })
  })
})

await describeRedis('on Redis', ({ client, prefix }) => {
  it('concurrent submissions of one code from two app instances succeed exactly once', async () => {
    const clock = manualClock(T)
    const a = createTotpVerifier({ store: createRedisStore({ client: client, prefix }), now: clock })
    const b = createTotpVerifier({ store: createRedisStore({ client: client, prefix }), now: clock })
    const code = codeAt(T)
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).verify('redis-cred', secret, code)),
    )
    expect(results.filter((r) => r.valid)).toHaveLength(1)
    expect(await a.verify('redis-cred', secret, code)).toEqual({ valid: false, reason: 'replayed' })
  })

  it('failure counts are shared and atomic', async () => {
    const clock = manualClock(T)
    const v = createTotpVerifier({ store: createRedisStore({ client: client, prefix }), now: clock })
    await Promise.all(Array.from({ length: 30 }, () => v.verify('redis-throttle', secret, '47164x')))
    expect((await v.status('redis-throttle')).failures).toBe(5)
  })
})

describe('clock option', () => {
  it('accepts a function as well as a Clock, and nothing else', async () => {
    let t = T
    const v = createTotpVerifier({ now: () => t })
    expect((await v.verify('c', secret, codeAt(T))).valid).toBe(true)
    t += 30_000
    expect((await v.verify('c', secret, codeAt(T + 30_000))).valid).toBe(true)
    expect(() => createTotpVerifier({ now: 5 as never })).toThrow(TypeError)
  })
})
