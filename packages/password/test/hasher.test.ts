import { criticalSink, EventSinkError, manualClock, type SafeguardEvent } from '@safeguards/core'
import argon2 from 'argon2'
import { describe, expect, it } from 'vitest'
import {
  createPasswordHasher,
  formatPhc,
  hashPassword,
  PasswordConfigError,
  PasswordHasherBusyError,
  PasswordHashFormatError,
  PasswordInvalidTextError,
  PasswordTooLargeError,
  PepperKeyMissingError,
  parsePhc,
  passwordNeedsRehash,
  verifyPassword,
} from '../src/index.js'

const pepper1 = { keyId: 'p1', key: new Uint8Array(32).fill(7) }
const pepper2 = { keyId: 'p2', key: new Uint8Array(32).fill(9) }

describe('hashPassword / verifyPassword (defaults)', () => {
  it('produces an argon2id PHC string at the OWASP floor, verifiable by argon2 itself', async () => {
    const phc = await hashPassword('correct horse battery staple')
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
    expect(await argon2.verify(phc, 'correct horse battery staple')).toBe(true)
    expect(await verifyPassword(phc, 'correct horse battery staple')).toEqual({
      valid: true,
      needsRehash: false,
    })
    expect(await verifyPassword(phc, 'correct horse battery stapler')).toEqual({
      valid: false,
      needsRehash: false,
    })
  })

  it('verifies hashes written by argon2 itself, and flags weaker ones for rehash', async () => {
    const hash = (type: 0 | 1 | 2, memoryCost: number, timeCost: number) =>
      argon2.hash('pw-1234567890', { type, memoryCost, timeCost, parallelism: 1 })
    const strong = await hash(argon2.argon2id, 19456, 3)
    expect(await verifyPassword(strong, 'pw-1234567890')).toEqual({ valid: true, needsRehash: false })
    const weak = await hash(argon2.argon2id, 4096, 2)
    expect(await verifyPassword(weak, 'pw-1234567890')).toEqual({ valid: true, needsRehash: true })
    const argon2i = await hash(argon2.argon2i, 19456, 2)
    expect(await verifyPassword(argon2i, 'pw-1234567890')).toEqual({ valid: true, needsRehash: true })
    expect(await verifyPassword(argon2i, 'nope')).toEqual({ valid: false, needsRehash: false })
  })

  it('normalises to NFKC, so full-width and composed forms verify the same', async () => {
    const phc = await hashPassword('Ｃafé－pass－2024')
    expect((await verifyPassword(phc, 'Cafe\u0301-pass-2024')).valid).toBe(true)
  })

  it('refuses oversized and malformed passwords before hashing', async () => {
    await expect(hashPassword('x'.repeat(1025))).rejects.toBeInstanceOf(PasswordTooLargeError)
    // NFKC expansion past the cap (U+FDFA expands to 18 code points).
    await expect(hashPassword('\ufdfa'.repeat(100))).rejects.toBeInstanceOf(PasswordTooLargeError)
    await expect(hashPassword('ab\ud800cd')).rejects.toBeInstanceOf(PasswordInvalidTextError)
    await expect(hashPassword(42 as unknown as string)).rejects.toBeInstanceOf(TypeError)
    const phc = await hashPassword('fine password here')
    expect(await verifyPassword(phc, 'y'.repeat(1_000_000))).toEqual({ valid: false, needsRehash: false })
    expect(await verifyPassword(phc, '\udc00')).toEqual({ valid: false, needsRehash: false })
  })
})

describe('PHC parsing', () => {
  it('round-trips and rejects malformed or out-of-bounds strings', async () => {
    const phc = await hashPassword('round trip pw')
    expect(formatPhc(parsePhc(phc))).toBe(phc)
    const bad = [
      '',
      'plain',
      '$2b$10$abcdefghijklmnopqrstuu5b3T5fXoBV1pHx2lHQnCk1z2J0e4uK6',
      phc.replace('m=19456', 'm=99999999'),
      phc.replace('t=2', 't=0'),
      phc.replace('p=1', 'p=0'),
      phc.replace('p=1', 'p=1,t=2'),
      phc.replace('p=1', 'x=1'),
      phc.replace('t=2', 't=02'),
      phc.replace('v=19', 'v=20'),
      `${phc}$`,
      phc.replace(/\$[^$]+$/, '$AAAA'),
      `${phc}x`.repeat(20),
    ]
    for (const b of bad) expect(() => parsePhc(b), b).toThrow(PasswordHashFormatError)
    await expect(verifyPassword('$argon2id$v=19$m=19456,t=2,p=1$!!$!!', 'x')).rejects.toBeInstanceOf(
      PasswordHashFormatError,
    )
  })

  it('never rehashes down: stronger costs do not need a rehash', () => {
    const policy = { memoryCost: 19456, timeCost: 2, parallelism: 1, hashLength: 32, saltLength: 16 }
    const base = {
      algorithm: 'argon2id' as const,
      version: 19,
      salt: new Uint8Array(16),
      hash: new Uint8Array(32),
    }
    const phc = (m: number, t: number, p = 1, extra = {}): string =>
      formatPhc({ ...base, memoryCost: m, timeCost: t, parallelism: p, ...extra })
    expect(passwordNeedsRehash(phc(65536, 3, 4), policy)).toBe(false)
    expect(passwordNeedsRehash(phc(19456, 2), policy)).toBe(false)
    expect(passwordNeedsRehash(phc(19455, 2), policy)).toBe(true)
    expect(passwordNeedsRehash(phc(65536, 1), policy)).toBe(true)
    expect(passwordNeedsRehash(phc(19456, 2, 1, { version: 16 }), policy)).toBe(true)
    expect(passwordNeedsRehash(phc(19456, 2, 1, { hash: new Uint8Array(16) }), policy)).toBe(true)
    expect(passwordNeedsRehash(phc(19456, 2, 1, { keyId: 'p1' }), policy)).toBe(true)
    expect(passwordNeedsRehash(phc(19456, 2, 1, { keyId: 'p1' }), { ...policy, keyId: 'p1' })).toBe(false)
    expect(passwordNeedsRehash(phc(19456, 2, 1), { ...policy, keyId: 'p1' })).toBe(true)
  })
})

describe('pepper with key id', () => {
  it('stores the key id, verifies with the right key and fails closed without it', async () => {
    const h1 = createPasswordHasher({ pepper: pepper1 })
    const phc = await h1.hash('peppered password')
    expect(parsePhc(phc).keyId).toBe('p1')
    expect(await h1.verify(phc, 'peppered password')).toEqual({ valid: true, needsRehash: false })
    // argon2 without the secret cannot verify it: the pepper really is an input.
    expect(await argon2.verify(phc.replace(/,keyid=[^$]+/, ''), 'peppered password')).toBe(false)
    // A hasher that lacks p1 refuses to verify instead of silently failing or skipping the pepper.
    await expect(
      createPasswordHasher({ pepper: pepper2 }).verify(phc, 'peppered password'),
    ).rejects.toBeInstanceOf(PepperKeyMissingError)
    await expect(createPasswordHasher().verify(phc, 'peppered password')).rejects.toBeInstanceOf(
      PepperKeyMissingError,
    )
    // Rotation: p2 current, p1 previous → verifies and asks for a rehash.
    const h2 = createPasswordHasher({ pepper: pepper2, previousPeppers: [pepper1] })
    expect(await h2.verify(phc, 'peppered password')).toEqual({ valid: true, needsRehash: true })
    expect((await h2.verify(phc, 'wrong')).valid).toBe(false)
  })

  it('refuses un-peppered hashes when a pepper is configured, unless migrating', async () => {
    const plain = await hashPassword('legacy password')
    await expect(
      createPasswordHasher({ pepper: pepper1 }).verify(plain, 'legacy password'),
    ).rejects.toBeInstanceOf(PepperKeyMissingError)
    const migrating = createPasswordHasher({ pepper: pepper1, acceptUnpeppered: true })
    expect(await migrating.verify(plain, 'legacy password')).toEqual({ valid: true, needsRehash: true })
  })

  it('validates pepper configuration', () => {
    expect(() => createPasswordHasher({ pepper: { keyId: 'p1', key: new Uint8Array(16) } })).toThrow(
      PasswordConfigError,
    )
    expect(() => createPasswordHasher({ pepper: { keyId: 'bad id!', key: new Uint8Array(32) } })).toThrow(
      PasswordConfigError,
    )
    expect(() => createPasswordHasher({ previousPeppers: [pepper1] })).toThrow(PasswordConfigError)
    expect(() =>
      createPasswordHasher({ pepper: { keyId: 'p1', key: 'k' as unknown as Uint8Array } }),
    ).toThrow(TypeError)
  })
})

describe('configuration floor', () => {
  it('accepts OWASP-equivalent rows and refuses weaker costs', () => {
    expect(() => createPasswordHasher({ memoryCost: 47104, timeCost: 1 })).not.toThrow()
    expect(() => createPasswordHasher({ memoryCost: 7168, timeCost: 5 })).not.toThrow()
    expect(() => createPasswordHasher({ memoryCost: 19455, timeCost: 2 })).toThrow(PasswordConfigError)
    expect(() => createPasswordHasher({ memoryCost: 65536, timeCost: 0 })).toThrow(RangeError)
    expect(() => createPasswordHasher({ memoryCost: 19456, parallelism: 4000 })).toThrow(RangeError)
    expect(() => createPasswordHasher({ hashLength: 8 })).toThrow(RangeError)
  })

  it('refuses unknown options with ERR_PASSWORD_CONFIG, naming the option and the nearest known one', () => {
    // A typo must not silently fall back to a default (here: the pepper would be dropped).
    for (const [options, named, suggested] of [
      [{ peper: pepper1 }, 'peper', 'pepper'],
      [{ memorycost: 65536 }, 'memorycost', 'memoryCost'],
      [{ timeCost: 3, saltBytes: 32 }, 'saltBytes', undefined],
    ] as const) {
      const make = () => createPasswordHasher(options as never)
      expect(make).toThrow(PasswordConfigError)
      expect(make).toThrow(expect.objectContaining({ code: 'ERR_PASSWORD_CONFIG' }))
      expect(make).toThrow(`"${named}"`)
      if (suggested) expect(make).toThrow(`did you mean "${suggested}"`)
      else expect(make).not.toThrow('did you mean')
    }
    expect(() => createPasswordHasher({ memoryCost: undefined, pepper: undefined } as never)).not.toThrow()
  })
})

describe('dummy verify and concurrency', () => {
  it('dummyVerify always fails and does real work', async () => {
    const h = createPasswordHasher({ pepper: pepper1 })
    expect(await h.dummyVerify('anything at all')).toEqual({ valid: false, needsRehash: false })
    expect(await h.dummyVerify('x'.repeat(5000))).toEqual({ valid: false, needsRehash: false })
  })

  it('caps concurrent hashes and refuses work beyond the queue', async () => {
    const h = createPasswordHasher({ maxConcurrent: 1, maxQueue: 1 })
    const a = h.hash('first password 1')
    const b = h.hash('second password 2')
    expect(h.load).toEqual({ active: 1, queued: 1 })
    await expect(h.hash('third password 3')).rejects.toBeInstanceOf(PasswordHasherBusyError)
    const [pa, pb] = await Promise.all([a, b])
    expect((await h.verify(pa, 'first password 1')).valid).toBe(true)
    expect((await h.verify(pb, 'second password 2')).valid).toBe(true)
    expect(h.load).toEqual({ active: 0, queued: 0 })
  })

  it('salts come from the injected random source', async () => {
    const h = createPasswordHasher({ random: (n) => new Uint8Array(n).fill(1) })
    const [a, b] = await Promise.all([h.hash('same password!'), h.hash('same password!')])
    expect(a).toBe(b)
    expect(await createPasswordHasher().hash('same password!')).not.toBe(a)
  })
})

describe('events', () => {
  it('verify and dummyVerify report auth.password.* with the actor, the clock and a code, never the password', async () => {
    const events: SafeguardEvent[] = []
    const clock = manualClock(Date.UTC(2026, 0, 1))
    const hasher = createPasswordHasher({
      clock,
      events: (e) => {
        events.push(e)
      },
    })
    const phc = await hasher.hash('correct horse battery staple')
    expect(events).toEqual([]) // hashing is not an authentication
    await hasher.verify(phc, 'correct horse battery staple', { actor: 'u-1' })
    clock.advance(1)
    await hasher.verify(phc, 'wrong horse battery staple', { actor: 'u-1' })
    await hasher.verify(phc, 'x'.repeat(2000))
    await hasher.dummyVerify('guess', { actor: 'u-404' })
    const ev = { source: '@safeguards/password' }
    const t = clock.now()
    expect(events).toEqual([
      { type: 'auth.password.succeeded', ...ev, at: t - 1, actor: 'u-1', outcome: 'success' },
      { type: 'auth.password.failed', ...ev, at: t, actor: 'u-1', outcome: 'failure', code: 'mismatch' },
      { type: 'auth.password.failed', ...ev, at: t, outcome: 'failure', code: 'malformed' },
      {
        type: 'auth.password.failed',
        ...ev,
        at: t,
        actor: 'u-404',
        outcome: 'failure',
        code: 'unknown-account',
      },
    ])
    expect(JSON.stringify(events)).not.toContain('horse')
  })

  it('a critical sink that fails fails verify with ERR_EVENT_SINK; an isolated one goes to onSinkError', async () => {
    const phc = await hashPassword('correct horse battery staple')
    const closed = createPasswordHasher({ events: criticalSink(() => Promise.reject(new Error('down'))) })
    await expect(closed.verify(phc, 'correct horse battery staple')).rejects.toBeInstanceOf(EventSinkError)
    await expect(closed.dummyVerify('x')).rejects.toMatchObject({
      code: 'ERR_EVENT_SINK',
      eventType: 'auth.password.failed',
    })
    const reported: unknown[] = []
    const open = createPasswordHasher({
      events: () => {
        throw new Error('isolated down')
      },
      onSinkError: (err, e) => reported.push([(err as Error).message, e.type]),
    })
    expect((await open.verify(phc, 'correct horse battery staple')).valid).toBe(true)
    expect(reported).toEqual([['isolated down', 'auth.password.succeeded']])
    expect(() => createPasswordHasher({ clock: {} as never })).toThrow(TypeError)
  })
})
