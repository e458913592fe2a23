import { describe, expect, it } from 'vitest'
import { createAesGcmSealer, MfaConfigError, MfaSealError, totpSealContext } from '../src/index.js'

const key = new Uint8Array(32).fill(5)
const secret = new Uint8Array(20).fill(9)

describe('createAesGcmSealer', () => {
  it('round-trips with the same context and fails the same way for everything else', async () => {
    const sealer = await createAesGcmSealer(key)
    const ctx = totpSealContext('u-1', 'c-1')
    const sealed = await sealer.encrypt(secret, ctx)
    expect(sealed.length).toBe(1 + 12 + 20 + 16)
    expect(await sealer.decrypt(sealed, ctx)).toEqual(secret)
    expect(await sealer.decrypt(sealed, { credential: 'c-1', user: 'u-1', purpose: 'totp' })).toEqual(secret)
    const other = await createAesGcmSealer(new Uint8Array(32).fill(6))
    const tampered = sealed.slice()
    tampered[20] = (tampered[20] as number) ^ 1
    const failures = [
      () => sealer.decrypt(sealed, totpSealContext('u-2', 'c-1')),
      () => sealer.decrypt(sealed, totpSealContext('u-1', 'c-2')),
      () => sealer.decrypt(sealed, { ...ctx, purpose: 'other' }),
      () => sealer.decrypt(tampered, ctx),
      () => sealer.decrypt(sealed.subarray(0, 20), ctx),
      () => sealer.decrypt(new Uint8Array([2, ...sealed.subarray(1)]), ctx),
      () => other.decrypt(sealed, ctx),
    ]
    for (const f of failures) {
      await expect(f()).rejects.toBeInstanceOf(MfaSealError)
      await expect(f()).rejects.toThrow(/^sealed secret could not be opened$/)
    }
  })

  it('uses a fresh nonce per message and validates its inputs', async () => {
    const sealer = await createAesGcmSealer(key)
    const a = await sealer.encrypt(secret, totpSealContext('u', 'c'))
    const b = await sealer.encrypt(secret, totpSealContext('u', 'c'))
    expect(a).not.toEqual(b)
    await expect(createAesGcmSealer('k' as never)).rejects.toBeInstanceOf(TypeError)
    await expect(sealer.encrypt('s' as never, {})).rejects.toBeInstanceOf(TypeError)
    await expect(sealer.encrypt(secret, { n: 1 } as never)).rejects.toBeInstanceOf(TypeError)
    const ck = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ])
    const s2 = await createAesGcmSealer(ck)
    expect(await s2.decrypt(await s2.encrypt(secret, { a: 'b' }), { a: 'b' })).toEqual(secret)
  })

  it('a key that is not a 256-bit AES-GCM key is a typed configuration error (ERR_MFA_CONFIG)', async () => {
    // What an app gets from a short or empty environment variable or KMS response: never a bare
    // RangeError, and never a silently weaker key.
    const weak: (Uint8Array | CryptoKey)[] = [
      new Uint8Array(0),
      new Uint8Array(16).fill(0xab),
      new Uint8Array(31).fill(0xab),
      new Uint8Array(33).fill(0xab),
      new Uint8Array(64).fill(0xab),
      await crypto.subtle.generateKey({ name: 'AES-GCM', length: 128 }, false, ['encrypt', 'decrypt']),
      await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']),
    ]
    for (const k of weak) {
      const e = await createAesGcmSealer(k).then(
        () => null,
        (err: unknown) => err,
      )
      expect(e).toBeInstanceOf(MfaConfigError)
      expect(e).toMatchObject({ code: 'ERR_MFA_CONFIG' })
      expect((e as Error).message).toMatch(/^"key" /)
      expect((e as Error).message).not.toMatch(/abab|171/i)
    }
    await expect(createAesGcmSealer(key, { nonce: 1 } as never)).rejects.toMatchObject({
      code: 'ERR_MFA_CONFIG',
    })
  })
})
