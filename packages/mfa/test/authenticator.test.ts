import { criticalSink, EventSinkError, manualClock, type SafeguardEvent } from '@safeguards/core'
import { describe, expect, it, vi } from 'vitest'
import {
  createAesGcmSealer,
  createMemoryStore,
  createRedisStore,
  createTotpAuthenticator,
  createTotpVerifier,
  MfaConfigError,
  MfaSealError,
  type MfaStore,
  MfaStoreError,
  qrPngDataUrl,
  secretFromBase32,
  type TotpAuthenticatorOptions,
  totpCode,
} from '../src/index.js'
import { counterRandom, plainHasher } from './fixtures.js'
import { describeRedis } from './helpers.js'

const T0 = Date.UTC(2026, 10, 22, 9, 0, 1)

async function setup(store?: MfaStore, extra: Partial<TotpAuthenticatorOptions> = {}) {
  const clock = manualClock(T0)
  const s = store ?? createMemoryStore({ clock })
  const mfa = createTotpAuthenticator({
    store: s,
    sealer: await createAesGcmSealer(new Uint8Array(32).fill(1)),
    issuer: 'Acme Clinic',
    now: clock,
    ...extra,
  })
  return { clock, store: s, mfa }
}

const secretOf = (manualKey: string): Uint8Array => secretFromBase32(manualKey)
const code = (secret: Uint8Array, ms: number): string => totpCode({ secret, time: ms })

describe('enrollment', () => {
  it('issues a ≥160-bit secret with URI and QR codes, pending until a first valid code', async () => {
    const { mfa, clock, store } = await setup()
    const e = await mfa.beginEnrollment('u-1', 'jane@acme.org')
    const secret = secretOf(e.manualKey.reveal())
    expect(secret.length).toBeGreaterThanOrEqual(20)
    expect(e.uri.reveal()).toMatch(
      /^otpauth:\/\/totp\/Acme%20Clinic:jane%40acme\.org\?secret=[A-Z2-7]{32}&issuer=Acme%20Clinic/,
    )
    expect(e.qrSvg.reveal()).toMatch(/^<svg/)
    expect(e.qrPngDataUrl.reveal()).toMatch(/^data:image\/png;base64,/)
    expect(JSON.stringify(e)).not.toContain(e.manualKey.reveal())
    // The secret is sealed at rest: the stored record never contains it.
    const raw = (await store.get('cred:u-1')) as string
    expect(raw).not.toContain(e.manualKey.reveal())
    expect(await mfa.isEnrolled('u-1')).toBe(false)
    expect(await mfa.verify('u-1', code(secret, clock.now()))).toEqual({
      valid: false,
      reason: 'not-enrolled',
    })
    expect(await mfa.confirmEnrollment('u-1', e.credentialId, '000000')).toMatchObject({
      valid: false,
      reason: 'invalid',
    })
    expect(await mfa.confirmEnrollment('u-1', 'other-id', code(secret, clock.now()))).toEqual({
      valid: false,
      reason: 'no-pending-enrollment',
    })
    const first = code(secret, clock.now())
    expect(await mfa.confirmEnrollment('u-1', e.credentialId, first)).toMatchObject({ valid: true })
    expect(await mfa.isEnrolled('u-1')).toBe(true)
    // The confirming code's step is used up: it cannot log in.
    expect(await mfa.verify('u-1', first)).toEqual({ valid: false, reason: 'replayed' })
    clock.advance(30_000)
    expect(await mfa.verify('u-1', code(secret, clock.now()))).toMatchObject({ valid: true })
  })

  it('a pending enrollment expires, and a confirmed one cannot be confirmed twice', async () => {
    const { mfa, clock } = await setup()
    const e = await mfa.beginEnrollment('u-1', 'jane')
    clock.advance(10 * 60_000)
    const s = secretOf(e.manualKey.reveal())
    expect(await mfa.confirmEnrollment('u-1', e.credentialId, code(s, clock.now()))).toEqual({
      valid: false,
      reason: 'no-pending-enrollment',
    })
    const e2 = await mfa.beginEnrollment('u-1', 'jane')
    const s2 = secretOf(e2.manualKey.reveal())
    expect((await mfa.confirmEnrollment('u-1', e2.credentialId, code(s2, clock.now()))).valid).toBe(true)
    clock.advance(30_000)
    expect(await mfa.confirmEnrollment('u-1', e2.credentialId, code(s2, clock.now()))).toEqual({
      valid: false,
      reason: 'no-pending-enrollment',
    })
  })

  it('re-enrolling keeps the old credential until the new one is confirmed', async () => {
    const { mfa, clock } = await setup()
    const a = await mfa.beginEnrollment('u-1', 'jane')
    const sa = secretOf(a.manualKey.reveal())
    await mfa.confirmEnrollment('u-1', a.credentialId, code(sa, clock.now()))
    const b = await mfa.beginEnrollment('u-1', 'jane')
    const sb = secretOf(b.manualKey.reveal())
    clock.advance(30_000)
    expect((await mfa.verify('u-1', code(sa, clock.now()))).valid).toBe(true)
    clock.advance(30_000)
    expect((await mfa.confirmEnrollment('u-1', b.credentialId, code(sb, clock.now()))).valid).toBe(true)
    clock.advance(30_000)
    expect((await mfa.verify('u-1', code(sa, clock.now()))).valid).toBe(false)
    expect((await mfa.verify('u-1', code(sb, clock.now()))).valid).toBe(true)
    await mfa.removeCredential('u-1')
    expect(await mfa.isEnrolled('u-1')).toBe(false)
  })

  it('re-enrolling does not reset the failure count; only an operator reset does', async () => {
    const { mfa, clock } = await setup()
    const a = await mfa.beginEnrollment('u-1', 'jane')
    await mfa.confirmEnrollment('u-1', a.credentialId, code(secretOf(a.manualKey.reveal()), clock.now()))
    for (let n = 0; n < 100; n++) {
      clock.advance(15 * 60_000)
      await mfa.verify('u-1', '000000')
    }
    expect(await mfa.status('u-1')).toMatchObject({ failures: 100, blocked: 'disabled' })
    const b = await mfa.beginEnrollment('u-1', 'jane')
    const sb = secretOf(b.manualKey.reveal())
    expect(await mfa.confirmEnrollment('u-1', b.credentialId, code(sb, clock.now()))).toMatchObject({
      valid: false,
      reason: 'disabled',
    })
    await mfa.resetLockout('u-1')
    expect((await mfa.confirmEnrollment('u-1', b.credentialId, code(sb, clock.now()))).valid).toBe(true)
  })

  it('a sealed secret moved to another user does not open', async () => {
    const { mfa, clock, store } = await setup()
    const e = await mfa.beginEnrollment('u-1', 'jane')
    await mfa.confirmEnrollment('u-1', e.credentialId, code(secretOf(e.manualKey.reveal()), clock.now()))
    await store.compareAndSet('cred:u-2', null, (await store.get('cred:u-1')) as string)
    clock.advance(30_000)
    await expect(mfa.verify('u-2', code(secretOf(e.manualKey.reveal()), clock.now()))).rejects.toBeInstanceOf(
      MfaSealError,
    )
    await store.compareAndSet('cred:u-3', null, '{"active":{"id":1}}')
    await expect(mfa.verify('u-3', '123456')).rejects.toBeInstanceOf(MfaStoreError)
    await store.compareAndSet('cred:u-4', null, 'not json')
    await expect(mfa.verify('u-4', '123456')).rejects.toBeInstanceOf(MfaStoreError)
  })

  it('validates its options', async () => {
    const sealer = await createAesGcmSealer(new Uint8Array(32))
    const store = createMemoryStore()
    expect(() => createTotpAuthenticator({ store, sealer, issuer: 'x', secretBytes: 16 })).toThrow(RangeError)
    expect(() => createTotpAuthenticator({ store: {} as never, sealer, issuer: 'x' })).toThrow(TypeError)
    expect(() => createTotpAuthenticator({ store, sealer: {} as never, issuer: 'x' })).toThrow(TypeError)
    const mfa = createTotpAuthenticator({ store, sealer, issuer: 'x' })
    await expect(mfa.verify('', '123456')).rejects.toBeInstanceOf(RangeError)
  })
})

describe('unknown options', () => {
  it('are refused with ERR_MFA_CONFIG everywhere an app configures the factor, naming the nearest option', async () => {
    // A typo must not fall back to a default: "widnow: 0" would silently keep ±1 step, a
    // misspelt throttle key the default lockout.
    const sealer = await createAesGcmSealer(new Uint8Array(32))
    const store = createMemoryStore()
    const base = { store, sealer, issuer: 'x' }
    const cases: [() => unknown, string, string | undefined][] = [
      [() => createTotpAuthenticator({ ...base, widnow: 0 } as never), 'widnow', 'window'],
      [() => createTotpAuthenticator({ ...base, event: () => {} } as never), 'event', 'events'],
      [() => createTotpAuthenticator({ ...base, throttle: { lockMS: 1 } } as never), 'lockMS', 'lockMs'],
      [() => createTotpVerifier({ digit: 8 } as never), 'digit', 'digits'],
      [
        () => createTotpVerifier({ throttle: { disableAfterr: 3 } } as never),
        'disableAfterr',
        'disableAfter',
      ],
      [() => createMemoryStore({ clok: undefined } as never), 'clok', 'clock'],
      [() => createRedisStore({ client: {} as never, prefx: 'a:' } as never), 'prefx', 'prefix'],
    ]
    for (const [make, named, near] of cases) {
      let err: unknown
      try {
        make()
      } catch (e) {
        err = e
      }
      expect(err, named).toBeInstanceOf(MfaConfigError)
      expect((err as Error).message).toBe(
        `unknown option "${named}"${near === undefined ? '' : ` (did you mean "${near}"?)`}`,
      )
    }
    await expect(qrPngDataUrl('x', { scael: 2 } as never)).rejects.toBeInstanceOf(MfaConfigError)
  })
})

describe('events', () => {
  it('reports enrollment, verification, refusals, recovery and resets without secrets', async () => {
    const events: SafeguardEvent[] = []
    const { mfa, clock } = await setup(undefined, {
      events: (e) => {
        events.push(e)
      },
    })
    const e = await mfa.beginEnrollment('u-1', 'jane')
    const s = secretOf(e.manualKey.reveal())
    await mfa.confirmEnrollment('u-1', e.credentialId, '000000')
    clock.advance(1000)
    await mfa.confirmEnrollment('u-1', e.credentialId, code(s, clock.now()))
    clock.advance(30_000)
    const c = code(s, clock.now())
    await mfa.verify('u-1', c)
    await mfa.verify('u-1', c)
    const codes = await mfa.generateRecoveryCodes('u-1')
    await mfa.redeemRecoveryCode('u-1', codes[0])
    await mfa.redeemRecoveryCode('u-1', codes[0])
    await mfa.resetLockout('u-1')
    await mfa.removeCredential('u-1')
    expect(events.map((x) => [x.type, x.outcome, x.code ?? null, x.counts ?? null])).toEqual([
      ['auth.totp.failed', 'failure', 'invalid', { failures: 1 }],
      ['auth.factor.enrolled', 'success', 'totp', null],
      ['auth.totp.succeeded', 'success', null, null],
      ['auth.totp.replayed', 'failure', 'replayed', { failures: 1 }],
      ['auth.factor.enrolled', 'success', 'recovery-codes', { remaining: 10 }],
      ['auth.recovery-code.used', 'success', null, { remaining: 9 }],
      ['auth.recovery-code.used', 'failure', 'replayed', null],
      ['auth.factor.removed', 'success', 'totp', null],
    ])
    for (const x of events) expect(x).toMatchObject({ actor: 'u-1', source: '@safeguards/mfa' })
    const text = JSON.stringify(events)
    expect(text).not.toContain(e.manualKey.reveal())
    expect(text).not.toContain(c)
    expect(text).not.toContain(codes[0]!.slice(5))
  })
})

describe('event listener failures', () => {
  async function flow(
    sink?: (e: SafeguardEvent) => unknown,
    onSinkError?: (err: unknown, e: SafeguardEvent) => void,
  ) {
    const clock = manualClock(T0)
    const mfa = createTotpAuthenticator({
      store: createMemoryStore({ clock }),
      sealer: await createAesGcmSealer(new Uint8Array(32).fill(1)),
      issuer: 'Acme Clinic',
      now: clock,
      random: counterRandom(),
      recoveryHasher: plainHasher,
      ...(sink === undefined ? {} : { events: sink as (e: SafeguardEvent) => void }),
      ...(onSinkError === undefined ? {} : { onSinkError }),
    })
    const e = await mfa.beginEnrollment('u-1', 'jane')
    const s = secretOf(e.manualKey.reveal())
    const out: unknown[] = [e.credentialId, e.uri.reveal()]
    out.push(await mfa.confirmEnrollment('u-1', e.credentialId, '000000'))
    clock.advance(1000)
    out.push(await mfa.confirmEnrollment('u-1', e.credentialId, code(s, clock.now())))
    clock.advance(30_000)
    out.push(await mfa.verify('u-1', code(s, clock.now())))
    out.push(await mfa.verify('u-1', code(s, clock.now())))
    const codes = await mfa.generateRecoveryCodes('u-1')
    out.push(codes, await mfa.redeemRecoveryCode('u-1', codes[0]), await mfa.redeemRecoveryCode('u-1', 'x'))
    await mfa.resetLockout('u-1')
    await mfa.removeCredential('u-1')
    out.push(await mfa.isEnrolled('u-1'))
    return { out, secret: e.manualKey.reveal() }
  }

  it('a throwing or rejecting isolated sink never changes the outcome; errors go to onSinkError', async () => {
    const expected = (await flow()).out
    // Throwing synchronously on every event: every call still returns what it returns without a listener.
    expect(
      (
        await flow(() => {
          throw new Error('audit sink down')
        })
      ).out,
    ).toEqual(expected)
    // Rejecting asynchronously: no unhandled rejection (Vitest fails the run on one), same results.
    expect((await flow(async () => Promise.reject(new Error('queue full')))).out).toEqual(expected)
    // Reported to onSinkError with the event (ids and reasons, no secret or code)...
    const reported: [string, SafeguardEvent][] = []
    const r = await flow(
      (e) => {
        if (e.type === 'auth.totp.succeeded' || e.type === 'auth.factor.enrolled')
          throw new Error(`sync ${e.type}`)
        return Promise.reject(new Error(`async ${e.type}`))
      },
      (err, e) => reported.push([(err as Error).message, e]),
    )
    expect(r.out).toEqual(expected)
    await vi.waitFor(() => expect(reported).toHaveLength(8))
    expect(reported.map(([m]) => m)).toContain('sync auth.totp.succeeded')
    expect(reported.map(([m]) => m)).toContain('async auth.totp.failed')
    for (const [m, e] of reported) expect(m).toMatch(new RegExp(`${e.type}$`))
    expect(JSON.stringify(reported.map(([, e]) => e))).not.toContain(r.secret)
    // ...and an onSinkError that throws itself changes nothing either.
    const bad = () => {
      throw new Error('reporter down')
    }
    expect(
      (
        await flow(() => {
          throw new Error('x')
        }, bad)
      ).out,
    ).toEqual(expected)
    expect((await flow(async () => Promise.reject(new Error('y')), bad)).out).toEqual(expected)
  })

  it('a critical sink that fails fails the call with ERR_EVENT_SINK; an isolated one beside it does not', async () => {
    let down = false
    const reported: string[] = []
    const { mfa, clock } = await setup(undefined, {
      recoveryHasher: plainHasher,
      events: [
        () => {
          throw new Error('isolated down')
        },
        criticalSink(() => {
          if (down) throw new Error('SIEM down')
        }),
      ],
      onSinkError: (err, e) => reported.push(`${(err as Error).message} ${e.type}`),
    })
    const e = await mfa.beginEnrollment('u-1', 'jane')
    const s = secretOf(e.manualKey.reveal())
    expect((await mfa.confirmEnrollment('u-1', e.credentialId, code(s, clock.now()))).valid).toBe(true)
    expect(reported).toEqual(['isolated down auth.factor.enrolled'])
    down = true
    clock.advance(30_000)
    const failed = await mfa.verify('u-1', code(s, clock.now())).catch((x: unknown) => x)
    expect(failed).toBeInstanceOf(EventSinkError)
    expect(failed).toMatchObject({ code: 'ERR_EVENT_SINK', eventType: 'auth.totp.succeeded' })
    await expect(mfa.generateRecoveryCodes('u-1')).rejects.toMatchObject({ code: 'ERR_EVENT_SINK' })
    await expect(mfa.removeCredential('u-1')).rejects.toMatchObject({ code: 'ERR_EVENT_SINK' })
  })
})

describe('recovery codes', () => {
  it('issues 10 codes of 80+ bits, stores only argon2id hashes, each usable once', async () => {
    const { mfa, store } = await setup()
    const codes = await mfa.generateRecoveryCodes('u-1')
    expect(codes).toHaveLength(10)
    expect(new Set(codes).size).toBe(10)
    for (const c of codes) expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$/)
    const raw = (await store.get('recovery:u-1')) as string
    for (const c of codes) {
      expect(raw).not.toContain(c.replace(/-/g, '').slice(4))
    }
    expect(raw.match(/\$argon2id\$v=19\$m=19456,t=2,p=1\$/g)).toHaveLength(10)
    expect(await mfa.remainingRecoveryCodes('u-1')).toBe(10)
    // Lower case, spaces and the Crockford look-alikes are accepted.
    const typed = codes[3]!.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l')
    expect(await mfa.redeemRecoveryCode('u-1', typed)).toEqual({ valid: true, remaining: 9 })
    expect(await mfa.redeemRecoveryCode('u-1', codes[3])).toEqual({ valid: false, reason: 'replayed' })
    expect(await mfa.redeemRecoveryCode('u-1', 'XXXX-XXXX-XXXX-XXXX-XXXX')).toEqual({
      valid: false,
      reason: 'invalid',
    })
    const wrongBody = `${codes[0]!.slice(0, 5)}0000-0000-0000-0000`
    expect(await mfa.redeemRecoveryCode('u-1', wrongBody)).toEqual({ valid: false, reason: 'invalid' })
    for (const bad of ['', 'short', 'U'.repeat(1 << 20), 42, null]) {
      expect(await mfa.redeemRecoveryCode('u-2', bad)).toEqual({ valid: false, reason: 'malformed' })
    }
  })

  it('two concurrent redemptions of one code succeed exactly once; regenerating revokes the old set', async () => {
    const { mfa } = await setup()
    const codes = await mfa.generateRecoveryCodes('u-1')
    const r = await Promise.all([
      mfa.redeemRecoveryCode('u-1', codes[0]),
      mfa.redeemRecoveryCode('u-1', codes[0]),
    ])
    expect(r.filter((x) => x.valid)).toHaveLength(1)
    await mfa.generateRecoveryCodes('u-1')
    expect((await mfa.redeemRecoveryCode('u-1', codes[1])).valid).toBe(false)
  })

  it('attempts are throttled', async () => {
    const { mfa } = await setup()
    await mfa.generateRecoveryCodes('u-1')
    for (let i = 0; i < 5; i++) await mfa.redeemRecoveryCode('u-1', 'bad')
    expect(await mfa.redeemRecoveryCode('u-1', 'bad')).toMatchObject({ valid: false, reason: 'throttled' })
  })
})

await describeRedis('on Redis', ({ client, prefix }) => {
  it('the full flow works on the shared Redis', async () => {
    const { mfa, clock } = await setup(createRedisStore({ client: client, prefix }))
    const e = await mfa.beginEnrollment('u-1', 'jane')
    const s = secretOf(e.manualKey.reveal())
    expect((await mfa.confirmEnrollment('u-1', e.credentialId, code(s, clock.now()))).valid).toBe(true)
    clock.advance(30_000)
    const c = code(s, clock.now())
    const both = await Promise.all([mfa.verify('u-1', c), mfa.verify('u-1', c)])
    expect(both.filter((r) => r.valid)).toHaveLength(1)
  })
})
