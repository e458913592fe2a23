import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { manualClock, utf8Encode } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { createTotpVerifier, type TotpAlgorithm, totpCode } from '../src/index.js'

const load = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T
const rfc4226 = load<{ secretAscii: string; vectors: { counter: number; code: string }[] }>('rfc4226.json')
const rfc6238 = load<{
  seedsAscii: Record<TotpAlgorithm, string>
  digits: number
  period: number
  vectors: { time: number; algorithm: TotpAlgorithm; code: string }[]
}>('rfc6238.json')

describe('RFC 4226 Appendix D (HOTP through totpCode)', () => {
  for (const v of rfc4226.vectors) {
    it(`counter ${v.counter} → ${v.code}`, () => {
      expect(totpCode({ secret: utf8Encode(rfc4226.secretAscii), time: v.counter * 30_000 })).toBe(v.code)
    })
  }
})

describe('RFC 6238 Appendix B', () => {
  it('uses 20-, 32- and 64-byte seeds', () => {
    expect(rfc6238.seedsAscii.SHA1).toHaveLength(20)
    expect(rfc6238.seedsAscii.SHA256).toHaveLength(32)
    expect(rfc6238.seedsAscii.SHA512).toHaveLength(64)
  })
  for (const v of rfc6238.vectors) {
    it(`${v.algorithm} at T=${v.time} → ${v.code}`, () => {
      const secret = utf8Encode(rfc6238.seedsAscii[v.algorithm])
      const code = totpCode({ secret, time: v.time * 1000, algorithm: v.algorithm, digits: rfc6238.digits })
      expect(code).toBe(v.code)
      // The last second of the step gives the same code; the first of the next does not (mostly).
      const stepEnd = (Math.floor(v.time / 30) * 30 + 29) * 1000
      expect(totpCode({ secret, time: stepEnd, algorithm: v.algorithm, digits: 8 })).toBe(v.code)
    })
  }

  it('the SHA-256 and SHA-512 codes do not come out of the 20-byte seed', () => {
    const v = rfc6238.vectors.find((x) => x.algorithm === 'SHA512') as { time: number; code: string }
    expect(
      totpCode({
        secret: utf8Encode(rfc6238.seedsAscii.SHA1),
        time: v.time * 1000,
        algorithm: 'SHA512',
        digits: 8,
      }),
    ).not.toBe(v.code)
  })

  it('rejects bad parameters', () => {
    const secret = new Uint8Array(20)
    expect(() => totpCode({ secret, time: 0, digits: 5 })).toThrow(RangeError)
    expect(() => totpCode({ secret, time: 0, digits: 9 })).toThrow(RangeError)
    expect(() => totpCode({ secret, time: 0, algorithm: 'MD5' as TotpAlgorithm })).toThrow(RangeError)
    expect(() => totpCode({ secret, time: 0, period: 5 })).toThrow(RangeError)
    expect(() => totpCode({ secret: new Uint8Array(10), time: 0 })).toThrow(RangeError)
    expect(() => totpCode({ secret: 'abc' as unknown as Uint8Array, time: 0 })).toThrow(TypeError)
    expect(() => totpCode({ secret, time: -1 })).toThrow(RangeError)
    expect(() => totpCode({ secret, time: 1.5 })).toThrow(TypeError)
  })
})

/** RFC 4226 §5.3 / RFC 6238 §4, written from the RFCs with node:crypto: an independent reference. */
function referenceTotp(secret: Uint8Array, timeMs: number, algorithm: 'sha1' | 'sha256' | 'sha512'): string {
  const counter = new Uint8Array(8)
  new DataView(counter.buffer).setBigUint64(0, BigInt(Math.floor(timeMs / 1000 / 30)))
  const mac = createHmac(algorithm, secret).update(counter).digest()
  const offset = (mac[mac.length - 1] as number) & 0x0f
  const bin = mac.readUInt32BE(offset) & 0x7fffffff
  return String(bin % 1_000_000).padStart(6, '0')
}

describe('secret size limits (16 to 128 bytes, as documented)', () => {
  const T = 1_111_111_111_000
  it('every size from 16 to 128 bytes computes and verifies the RFC code, for each algorithm', async () => {
    // 65 to 128 bytes used to throw otplib's untyped SecretTooLongError (its default cap is 64),
    // after the verifier had already counted the attempt as a failure.
    for (const n of [16, 17, 20, 32, 63, 64, 65, 100, 127, 128]) {
      const secret = new Uint8Array(n).map((_, i) => (i * 7 + n) & 0xff)
      for (const algorithm of ['SHA1', 'SHA256', 'SHA512'] as const) {
        const expected = referenceTotp(secret, T, algorithm.toLowerCase() as 'sha1')
        expect(totpCode({ secret, time: T, algorithm }), `${n} bytes ${algorithm}`).toBe(expected)
        const v = createTotpVerifier({ clock: manualClock(T), algorithm })
        expect(await v.verify('c', secret, expected), `${n} bytes ${algorithm}`).toMatchObject({
          valid: true,
        })
        expect((await v.status('c')).failures).toBe(0)
      }
    }
  })

  it('15 and 129 bytes are refused with RangeError before any attempt is counted', async () => {
    const v = createTotpVerifier({ clock: manualClock(T) })
    for (const n of [0, 15, 129, 256]) {
      expect(() => totpCode({ secret: new Uint8Array(n), time: T }), `${n}`).toThrow(RangeError)
      await expect(v.verify('c', new Uint8Array(n), '123456'), `${n}`).rejects.toThrow(
        new RangeError('"secret" expected 16 to 128 bytes'),
      )
    }
    expect((await v.status('c')).failures).toBe(0)
  })
})

describe('base32 secrets', () => {
  it('round-trips and refuses what is not base32', async () => {
    const { secretFromBase32, secretToBase32, generateTotpSecret } = await import('../src/index.js')
    expect(secretToBase32(utf8Encode('12345678901234567890'))).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')
    expect(secretFromBase32('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')).toEqual(utf8Encode('12345678901234567890'))
    const s = generateTotpSecret(32)
    expect(secretFromBase32(secretToBase32(s))).toEqual(s)
    for (const bad of ['gezdgnbv', 'GEZ DGNBV', 'GEZDGNB1', 'GEZDGNBV', `${'A'.repeat(300)}`]) {
      expect(() => secretFromBase32(bad), bad).toThrow(RangeError)
    }
    expect(() => secretFromBase32(1 as unknown as string)).toThrow(TypeError)
    expect(() => generateTotpSecret(16)).toThrow(RangeError)
    expect(() => generateTotpSecret(20, () => new Uint8Array(3))).toThrow(TypeError)
    expect(() => secretToBase32('x' as unknown as Uint8Array)).toThrow(TypeError)
  })
})
