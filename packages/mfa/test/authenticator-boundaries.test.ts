/**
 * The authenticator's decisions, checks and boundaries, each pinned exactly: what mutation testing
 * (StrykerJS on src/authenticator.ts) found no test for. Options and their defaults, the stored
 * record's shape, the sealing context, events in full, races on the credential record.
 */
import { base64urlToBytes, bytesToBase64url, manualClock, type SafeguardEvent } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  createAesGcmSealer,
  createMemoryStore,
  createTotpAuthenticator,
  type MfaStore,
  MfaStoreError,
  type SecretSealer,
  secretFromBase32,
  type TotpAuthenticatorOptions,
  totpCode,
} from '../src/index.js'
import { counterRandom, losingStore, plainHasher } from './fixtures.js'

const T0 = Date.UTC(2026, 10, 22, 9, 0, 1)
const MIN = 60_000

/** A sealer that records every context and keeps the buffers it was given and returned. */
async function spySealer() {
  const inner = await createAesGcmSealer(new Uint8Array(32).fill(1))
  const contexts: Record<string, string>[] = []
  const plaintexts: Uint8Array[] = []
  const opened: Uint8Array[] = []
  const sealer: SecretSealer = {
    encrypt: async (p, c) => {
      contexts.push(c)
      plaintexts.push(p)
      return inner.encrypt(p, c)
    },
    decrypt: async (ct, c) => {
      contexts.push(c)
      const p = await inner.decrypt(ct, c)
      opened.push(p)
      return p
    },
  }
  return { sealer, contexts, plaintexts, opened }
}

async function setup(extra: Partial<TotpAuthenticatorOptions> = {}) {
  const clock = manualClock(T0)
  const events: SafeguardEvent[] = []
  const store = extra.store ?? createMemoryStore({ clock })
  const spy = await spySealer()
  const mfa = createTotpAuthenticator({
    store,
    sealer: spy.sealer,
    issuer: 'Acme Clinic',
    clock,
    random: counterRandom(),
    recoveryHasher: plainHasher,
    events: (e) => {
      events.push(e)
    },
    ...extra,
  })
  return { clock, store, mfa, events, spy }
}

const codeFor = (manualKey: string, ms: number, o: { digits?: number; period?: number } = {}): string =>
  totpCode({ secret: secretFromBase32(manualKey), time: ms, ...o })

async function enrolled(s: Awaited<ReturnType<typeof setup>>, userId = 'u-1') {
  const e = await s.mfa.beginEnrollment(userId, 'jane@acme.org')
  const key = e.manualKey.reveal()
  expect((await s.mfa.confirmEnrollment(userId, e.credentialId, codeFor(key, s.clock.now()))).valid).toBe(
    true,
  )
  s.clock.advance(30_000)
  return { e, key }
}

describe('options and defaults', () => {
  it('accepts every documented option at once', async () => {
    const sealer = await createAesGcmSealer(new Uint8Array(32))
    expect(() =>
      createTotpAuthenticator({
        store: createMemoryStore(),
        sealer,
        issuer: 'x',
        algorithm: 'SHA256',
        digits: 8,
        period: 60,
        clock: manualClock(T0),
        random: counterRandom(),
        window: 0,
        throttle: { lockMs: 1000 },
        secretBytes: 32,
        pendingTtlMs: 5000,
        recoveryHasher: plainHasher,
        events: () => {},
        onSinkError: () => {},
      }),
    ).not.toThrow()
  })

  it('refuses a store, a sealer, an issuer or callbacks of the wrong kind, by name', async () => {
    const sealer = await createAesGcmSealer(new Uint8Array(32))
    const store = createMemoryStore()
    const make = (o: Partial<TotpAuthenticatorOptions>) => () =>
      createTotpAuthenticator({ store, sealer, issuer: 'x', ...o } as TotpAuthenticatorOptions)
    expect(make({ store: { get: async () => null } as never })).toThrow(
      new TypeError('"store" expected an MfaStore'),
    )
    expect(make({ store: { compareAndSet: async () => true } as never })).toThrow(TypeError)
    expect(make({ store: undefined as never })).toThrow(TypeError)
    expect(make({ sealer: { encrypt: sealer.encrypt } as never })).toThrow(
      new TypeError('"sealer" expected a SecretSealer'),
    )
    expect(make({ sealer: { decrypt: sealer.decrypt } as never })).toThrow(TypeError)
    expect(make({ issuer: 5 as never })).toThrow(new TypeError('"issuer" expected a string'))
    expect(make({ issuer: 'i'.repeat(257) })).toThrow(RangeError)
    expect(make({ issuer: 'i'.repeat(256) })).not.toThrow()
    expect(make({ events: 'x' as never })).toThrow(new TypeError('"events" expected functions'))
    expect(make({ events: () => {}, onSinkError: 'x' as never })).toThrow(
      new TypeError('"onSinkError" expected a function'),
    )
    expect(make({ clock: 'x' as never })).toThrow(TypeError)
  })

  it('secretBytes: 20 by default, 20 to 64', async () => {
    for (const [n, len] of [
      [undefined, 20],
      [20, 20],
      [64, 64],
    ] as const) {
      const { mfa } = await setup(n === undefined ? {} : { secretBytes: n })
      const e = await mfa.beginEnrollment('u-1', 'jane')
      expect(secretFromBase32(e.manualKey.reveal())).toHaveLength(len)
    }
    for (const n of [19, 65])
      await expect(setup({ secretBytes: n })).rejects.toThrow(
        new RangeError('"secretBytes" expected an integer in [20, 64]'),
      )
  })

  it('pendingTtlMs: 10 minutes by default, 1 s to 24 h; the enrollment is usable until 1 ms before', async () => {
    for (const [ttl, expect_] of [
      [undefined, 10 * MIN],
      [1000, 1000],
      [24 * 3600_000, 24 * 3600_000],
    ] as const) {
      const { mfa, clock } = await setup(ttl === undefined ? {} : { pendingTtlMs: ttl })
      const e = await mfa.beginEnrollment('u-1', 'jane')
      expect(e.expiresAt).toBe(T0 + expect_)
      clock.set(T0 + expect_ - 1)
      const r = await mfa.confirmEnrollment('u-1', e.credentialId, codeFor(e.manualKey.reveal(), clock.now()))
      expect(r.valid).toBe(true)
    }
    for (const ttl of [999, 24 * 3600_000 + 1])
      await expect(setup({ pendingTtlMs: ttl })).rejects.toThrow(
        new RangeError(`"pendingTtlMs" expected an integer in [1000, ${24 * 3600_000}]`),
      )
  })

  it('uses the system clock and the platform CSPRNG by default', async () => {
    const mfa = createTotpAuthenticator({
      store: createMemoryStore(),
      sealer: await createAesGcmSealer(new Uint8Array(32)),
      issuer: 'x',
    })
    const before = Date.now()
    const a = await mfa.beginEnrollment('u-1', 'jane')
    const b = await mfa.beginEnrollment('u-2', 'jane')
    expect(a.expiresAt).toBeGreaterThanOrEqual(before + 10 * MIN)
    expect(a.expiresAt).toBeLessThanOrEqual(Date.now() + 10 * MIN)
    expect(a.credentialId).not.toBe(b.credentialId)
    expect(a.manualKey.reveal()).not.toBe(b.manualKey.reveal())
  })

  it('algorithm, digits, period and window reach both the URI and the verifier', async () => {
    const s = await setup({ algorithm: 'SHA512', digits: 8, period: 60, window: 0 })
    const e = await s.mfa.beginEnrollment('u-1', 'jane')
    const key = e.manualKey.reveal()
    expect(e.uri.reveal()).toMatch(/&algorithm=SHA512&digits=8&period=60$/)
    const code = (ms: number) =>
      totpCode({ secret: secretFromBase32(key), time: ms, algorithm: 'SHA512', digits: 8, period: 60 })
    expect(await s.mfa.confirmEnrollment('u-1', e.credentialId, code(T0 - 60_000))).toMatchObject({
      valid: false,
      reason: 'invalid',
    })
    expect(await s.mfa.confirmEnrollment('u-1', e.credentialId, code(T0))).toMatchObject({
      valid: true,
      delta: 0,
    })
    s.clock.advance(60_000)
    expect(await s.mfa.verify('u-1', code(s.clock.now()).slice(2))).toEqual({
      valid: false,
      reason: 'malformed',
    })
    expect((await s.mfa.verify('u-1', code(s.clock.now()))).valid).toBe(true)
    // The defaults: SHA1, 6 digits, 30 s, ±1 step.
    const d = await setup()
    const de = await d.mfa.beginEnrollment('u-1', 'jane')
    expect(de.uri.reveal()).toMatch(/&algorithm=SHA1&digits=6&period=30$/)
    const dk = de.manualKey.reveal()
    expect((await d.mfa.confirmEnrollment('u-1', de.credentialId, codeFor(dk, T0 - 30_000))).valid).toBe(true)
  })

  it('the throttle policy applies to TOTP codes and recovery codes, counted separately', async () => {
    const throttle = { backoffAfter: 1, baseDelayMs: 1000, lockAfter: 2, lockMs: 5000, disableAfter: 3 }
    const s = await setup({ throttle })
    await enrolled(s)
    await s.mfa.generateRecoveryCodes('u-1')
    expect(await s.mfa.verify('u-1', '000000')).toMatchObject({ valid: false, reason: 'invalid' })
    expect(await s.mfa.verify('u-1', '000000')).toEqual({
      valid: false,
      reason: 'throttled',
      retryAfterMs: 1000,
    })
    expect(await s.mfa.redeemRecoveryCode('u-1', 'bad')).toEqual({ valid: false, reason: 'malformed' })
    expect(await s.mfa.redeemRecoveryCode('u-1', 'bad')).toEqual({
      valid: false,
      reason: 'throttled',
      retryAfterMs: 1000,
    })
    expect(await s.mfa.status('u-1')).toEqual({ failures: 1, blocked: 'throttled', retryAfterMs: 1000 })
  })

  it('recovery codes are hashed with argon2id by default (one hasher, made once)', async () => {
    const s = await setup({ recoveryHasher: undefined as never })
    const codes = await s.mfa.generateRecoveryCodes('u-1')
    expect((await s.store.get('recovery:u-1'))?.match(/\$argon2id\$/g)).toHaveLength(10)
    expect(await s.mfa.redeemRecoveryCode('u-1', codes[0])).toEqual({ valid: true, remaining: 9 })
  }, 60_000)
})

describe('user ids', () => {
  it('every method refuses an empty, oversized or non-string user id before doing anything', async () => {
    const { mfa, store } = await setup()
    const calls: ((u: string) => Promise<unknown>)[] = [
      (u) => mfa.beginEnrollment(u, 'jane'),
      (u) => mfa.confirmEnrollment(u, 'c', '123456'),
      (u) => mfa.verify(u, '123456'),
      (u) => mfa.isEnrolled(u),
      (u) => mfa.status(u),
      (u) => mfa.resetLockout(u),
      (u) => mfa.removeCredential(u),
      (u) => mfa.generateRecoveryCodes(u),
      (u) => mfa.redeemRecoveryCode(u, 'x'),
      (u) => mfa.remainingRecoveryCodes(u),
    ]
    for (const call of calls) {
      await expect(call('')).rejects.toThrow(new RangeError('"userId" must not be empty'))
      await expect(call('u'.repeat(257))).rejects.toThrow(
        new RangeError('"userId" expected at most 256 characters'),
      )
      await expect(call(5 as never)).rejects.toThrow(new TypeError('"userId" expected a string'))
    }
    expect(await store.get('throttle:user:')).toBeNull()
    expect(await mfa.isEnrolled('u'.repeat(256))).toBe(false)
    await expect(mfa.confirmEnrollment('u-1', 5 as never, '123456')).rejects.toThrow(
      new TypeError('"credentialId" expected a string'),
    )
    await expect(mfa.confirmEnrollment('u-1', 'c'.repeat(257), '123456')).rejects.toThrow(RangeError)
  })
})

describe('enrollment details', () => {
  it('the credential id comes from the random source, and the secret after it', async () => {
    const random = counterRandom()
    const expected = counterRandom()
    const s = await setup({ random })
    const e = await s.mfa.beginEnrollment('u-1', 'jane')
    expect(e.credentialId).toBe(bytesToBase64url(expected(16)))
    expect(secretFromBase32(e.manualKey.reveal())).toEqual(expected(20))
  })

  it('returns the URI and both QR codes of that URI, all wrapped as secrets', async () => {
    const { mfa } = await setup()
    const e = await mfa.beginEnrollment('u-1', 'jane@acme.org')
    const uri = e.uri.reveal()
    expect(uri).toBe(
      `otpauth://totp/Acme%20Clinic:jane%40acme.org?secret=${e.manualKey.reveal()}&issuer=Acme%20Clinic&algorithm=SHA1&digits=6&period=30`,
    )
    expect(e.qrSvg.reveal()).toMatch(/^<svg [^>]*viewBox="0 0 (\d+) \1"/)
    expect(e.qrPngDataUrl.reveal()).toMatch(/^data:image\/png;base64,iVBORw0KGgo/)
    for (const k of ['manualKey', 'uri', 'qrSvg', 'qrPngDataUrl'] as const)
      expect(String(e[k])).toBe('<redacted>')
  })

  it('seals with the user and credential as context, zeroes the plaintext, stores only the pending record', async () => {
    const s = await setup()
    const e = await s.mfa.beginEnrollment('u-1', 'jane')
    expect(s.spy.contexts).toEqual([{ purpose: 'totp', user: 'u-1', credential: e.credentialId }])
    expect(s.spy.plaintexts[0]?.every((b) => b === 0)).toBe(true)
    const record = JSON.parse((await s.store.get('cred:u-1')) as string)
    expect(Object.keys(record)).toEqual(['pending'])
    expect(record.pending).toEqual({
      id: e.credentialId,
      sealed: expect.stringMatching(/^[A-Za-z0-9_-]+$/),
      createdAt: T0,
      expiresAt: T0 + 10 * MIN,
    })
    expect(base64urlToBytes(record.pending.sealed)).toHaveLength(1 + 12 + 20 + 16)
  })

  it('confirming moves pending to active (no expiry), opens with the same context, zeroes the opened secret', async () => {
    const s = await setup()
    const e = await s.mfa.beginEnrollment('u-1', 'jane')
    const before = JSON.parse((await s.store.get('cred:u-1')) as string).pending
    await s.mfa.confirmEnrollment('u-1', e.credentialId, codeFor(e.manualKey.reveal(), T0))
    expect(JSON.parse((await s.store.get('cred:u-1')) as string)).toEqual({
      active: { id: e.credentialId, sealed: before.sealed, createdAt: T0 },
    })
    expect(s.spy.contexts[1]).toEqual({ purpose: 'totp', user: 'u-1', credential: e.credentialId })
    expect(s.spy.opened[0]?.every((b) => b === 0)).toBe(true)
  })

  it('a new enrollment keeps the active credential beside the pending one; isEnrolled needs an active one', async () => {
    const s = await setup()
    expect(await s.mfa.isEnrolled('u-1')).toBe(false)
    await s.mfa.beginEnrollment('u-1', 'jane')
    expect(await s.mfa.isEnrolled('u-1')).toBe(false)
    const { e } = await enrolled(s)
    const next = await s.mfa.beginEnrollment('u-1', 'jane')
    const record = JSON.parse((await s.store.get('cred:u-1')) as string)
    expect(record.active.id).toBe(e.credentialId)
    expect(record.pending.id).toBe(next.credentialId)
    expect(await s.mfa.isEnrolled('u-1')).toBe(true)
    // Confirming the old id now is refused: only the pending one can be confirmed.
    expect(await s.mfa.confirmEnrollment('u-1', e.credentialId, '123456')).toEqual({
      valid: false,
      reason: 'no-pending-enrollment',
    })
  })

  it('a pending enrollment replaced while its code was being checked is not confirmed', async () => {
    const inner = createMemoryStore()
    let other: (() => Promise<unknown>) | undefined
    const store: MfaStore = {
      get: (k) => inner.get(k),
      compareAndSet: async (k, e, n, t) => {
        const ok = await inner.compareAndSet(k, e, n, t)
        if (ok && k.startsWith('step:') && other) await other() // another tab starts enrolling again
        return ok
      },
    }
    const s = await setup({ store })
    const e = await s.mfa.beginEnrollment('u-1', 'jane')
    other = async () => {
      other = undefined
      await s.mfa.beginEnrollment('u-1', 'jane')
    }
    s.events.length = 0
    expect(await s.mfa.confirmEnrollment('u-1', e.credentialId, codeFor(e.manualKey.reveal(), T0))).toEqual({
      valid: false,
      reason: 'no-pending-enrollment',
    })
    expect(await s.mfa.isEnrolled('u-1')).toBe(false)
    // The code was right but the enrollment it confirmed is gone: no success is reported.
    expect(s.events).toEqual([])
  })

  it('removeCredential deletes the record (active and pending) and keeps the failure count', async () => {
    const s = await setup()
    await enrolled(s)
    await s.mfa.beginEnrollment('u-1', 'jane')
    await s.mfa.verify('u-1', '000000')
    await s.mfa.removeCredential('u-1')
    expect(await s.store.get('cred:u-1')).toBeNull()
    expect(await s.mfa.isEnrolled('u-1')).toBe(false)
    expect((await s.mfa.status('u-1')).failures).toBe(1)
    await s.mfa.removeCredential('u-1') // nothing there: still fine
    expect(await s.store.get('cred:u-1')).toBeNull()
  })

  it('a credential record whose compare-and-set keeps losing fails with a typed error', async () => {
    const { store, losses } = losingStore('cred:')
    const { mfa } = await setup({ store })
    await expect(mfa.beginEnrollment('u-1', 'jane')).rejects.toThrow(
      new MfaStoreError('credential update did not converge'),
    )
    expect(losses()).toBe(64)
  })

  it('credential records this package did not write are refused, field by field', async () => {
    const cred = { id: 'c', sealed: 'AQ', createdAt: 1 }
    const bad: [string, string][] = [
      ['not json', 'credential record is not valid JSON'],
      ['null', 'credential record has an unexpected shape'],
      ['5', 'credential record has an unexpected shape'],
      [JSON.stringify({ active: null }), 'credential record has an unexpected shape'],
      [JSON.stringify({ active: { ...cred, id: 1 } }), 'credential record has an unexpected shape'],
      [JSON.stringify({ active: { ...cred, sealed: 1 } }), 'credential record has an unexpected shape'],
      [JSON.stringify({ active: { ...cred, createdAt: 1.5 } }), 'credential record has an unexpected shape'],
      [JSON.stringify({ active: { ...cred, createdAt: '1' } }), 'credential record has an unexpected shape'],
      [JSON.stringify({ pending: cred }), 'credential record has an unexpected shape'],
      [JSON.stringify({ pending: { ...cred, expiresAt: '1' } }), 'credential record has an unexpected shape'],
      [
        JSON.stringify({ pending: { ...cred, id: 1, expiresAt: 1 } }),
        'credential record has an unexpected shape',
      ],
    ]
    for (const [raw, message] of bad) {
      const { mfa, store } = await setup()
      await store.compareAndSet('cred:u-1', null, raw)
      await expect(mfa.isEnrolled('u-1'), raw).rejects.toThrow(new MfaStoreError(message))
    }
    const { mfa, store } = await setup()
    await store.compareAndSet('cred:u-1', null, JSON.stringify({ pending: { ...cred, expiresAt: 1 } }))
    expect(await mfa.isEnrolled('u-1')).toBe(false)
    await store.compareAndSet('cred:u-1', JSON.stringify({ pending: { ...cred, expiresAt: 1 } }), '{}')
    expect(await mfa.isEnrolled('u-1')).toBe(false)
  })
})

describe('events in full', () => {
  it('carry the type, actor, server time, credential id and code or counts, exactly', async () => {
    const s = await setup({ throttle: { backoffAfter: 5 } })
    const e = await s.mfa.beginEnrollment('u-1', 'jane')
    const key = e.manualKey.reveal()
    const id = e.credentialId
    s.clock.advance(1000)
    await s.mfa.confirmEnrollment('u-1', id, '000000')
    await s.mfa.confirmEnrollment('u-1', id, codeFor(key, s.clock.now()))
    s.clock.advance(30_000)
    await s.mfa.verify('u-1', codeFor(key, s.clock.now()))
    await s.mfa.verify('u-1', 'x')
    const codes = await s.mfa.generateRecoveryCodes('u-1')
    await s.mfa.redeemRecoveryCode('u-1', codes[0])
    await s.mfa.redeemRecoveryCode('u-1', 'nope')
    s.clock.advance(1)
    await s.mfa.resetLockout('u-1')
    await s.mfa.removeCredential('u-1')
    const t1 = T0 + 1000
    const t2 = t1 + 30_000
    const ev = { source: '@safeguards/mfa', actor: 'u-1' }
    expect(s.events).toEqual([
      {
        type: 'auth.totp.failed',
        ...ev,
        at: t1,
        credentialId: id,
        outcome: 'failure',
        code: 'invalid',
        counts: { failures: 1 },
      },
      { type: 'auth.factor.enrolled', ...ev, at: t1, credentialId: id, outcome: 'success', code: 'totp' },
      { type: 'auth.totp.succeeded', ...ev, at: t2, credentialId: id, outcome: 'success' },
      {
        type: 'auth.totp.failed',
        ...ev,
        at: t2,
        credentialId: id,
        outcome: 'failure',
        code: 'malformed',
        counts: { failures: 1 },
      },
      {
        type: 'auth.factor.enrolled',
        ...ev,
        at: t2,
        outcome: 'success',
        code: 'recovery-codes',
        counts: { remaining: 10 },
      },
      { type: 'auth.recovery-code.used', ...ev, at: t2, outcome: 'success', counts: { remaining: 9 } },
      { type: 'auth.recovery-code.used', ...ev, at: t2, outcome: 'failure', code: 'malformed' },
      { type: 'auth.factor.removed', ...ev, at: t2 + 1, outcome: 'success', code: 'totp' },
    ])
  })

  it('auth.locked when a failure locks the factor, and again when one disables it; refusals only fail', async () => {
    const s = await setup({ throttle: { backoffAfter: 2, lockAfter: 2, disableAfter: 3, lockMs: 1000 } })
    const { e } = await enrolled(s)
    s.events.length = 0
    const at = s.clock.now()
    const ev = { source: '@safeguards/mfa', actor: 'u-1', credentialId: e.credentialId }
    const failed = (code: string, failures: number, t = at) => ({
      type: 'auth.totp.failed',
      ...ev,
      at: t,
      outcome: 'failure',
      code,
      counts: { failures },
    })
    const locked = (code: string, failures: number, t = at) => ({
      type: 'auth.locked',
      ...ev,
      at: t,
      outcome: 'success',
      code,
      counts: { failures },
    })
    await s.mfa.verify('u-1', '000000')
    await s.mfa.verify('u-1', '000000')
    await s.mfa.verify('u-1', '000000')
    s.clock.advance(1000)
    await s.mfa.verify('u-1', '000000')
    expect(s.events).toEqual([
      failed('invalid', 1),
      failed('invalid', 2),
      locked('locked', 2),
      failed('locked', 2),
      failed('invalid', 3, at + 1000),
      locked('disabled', 3, at + 1000),
    ])
  })

  it('no event for a refusal before any code is compared (not enrolled, no pending enrollment)', async () => {
    const s = await setup()
    expect(await s.mfa.verify('u-1', '123456')).toEqual({ valid: false, reason: 'not-enrolled' })
    expect(await s.mfa.confirmEnrollment('u-1', 'c', '123456')).toEqual({
      valid: false,
      reason: 'no-pending-enrollment',
    })
    expect(s.events).toEqual([])
  })

  it('lockout: status and resetLockout act on the user, whatever the credential', async () => {
    const s = await setup()
    await enrolled(s)
    for (let i = 0; i < 5; i++) await s.mfa.verify('u-1', '000000')
    expect(await s.mfa.status('u-1')).toEqual({ failures: 5, blocked: 'throttled', retryAfterMs: 1000 })
    expect(await s.mfa.status('u-2')).toEqual({ failures: 0, blocked: null, retryAfterMs: 0 })
    await s.mfa.resetLockout('u-1')
    expect(await s.mfa.status('u-1')).toEqual({ failures: 0, blocked: null, retryAfterMs: 0 })
    expect(await s.mfa.remainingRecoveryCodes('u-1')).toBe(0)
  })
})
