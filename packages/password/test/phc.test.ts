import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatPhc, PasswordHashFormatError, type PhcHash, parsePhc } from '../src/index.js'

const phcArb: fc.Arbitrary<PhcHash> = fc
  .record({
    algorithm: fc.constantFrom('argon2id', 'argon2i', 'argon2d'),
    version: fc.constantFrom(16, 19),
    parallelism: fc.integer({ min: 1, max: 64 }),
    timeCost: fc.integer({ min: 1, max: 1000 }),
    memoryExtra: fc.integer({ min: 0, max: 1_000_000 }),
    keyId: fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/), { nil: undefined }),
    salt: fc.uint8Array({ minLength: 8, maxLength: 64 }),
    hash: fc.uint8Array({ minLength: 12, maxLength: 64 }),
  })
  .map(({ memoryExtra, keyId, ...r }) => ({
    ...r,
    memoryCost: 8 * r.parallelism + memoryExtra,
    ...(keyId === undefined ? {} : { keyId }),
  }))

describe('PHC strings (properties)', () => {
  it('format then parse is the identity', () => {
    fc.assert(
      fc.property(phcArb, (h) => {
        expect(parsePhc(formatPhc(h))).toEqual(h)
      }),
    )
  })

  it('the parser throws only PasswordHashFormatError, on any text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 500 }), (text) => {
        try {
          parsePhc(text)
        } catch (e) {
          expect(e).toBeInstanceOf(PasswordHashFormatError)
        }
      }),
    )
  })

  it('single-character corruptions of a valid string never parse to different costs silently', () => {
    const base = formatPhc({
      algorithm: 'argon2id',
      version: 19,
      memoryCost: 19456,
      timeCost: 2,
      parallelism: 1,
      salt: new Uint8Array(16).fill(1),
      hash: new Uint8Array(32).fill(2),
    })
    fc.assert(
      fc.property(fc.nat(base.length - 1), fc.constantFrom(...'$,=0123456789abcmtpvAZ+/x'), (i, c) => {
        const mutated = base.slice(0, i) + c + base.slice(i + 1)
        let parsed: PhcHash | undefined
        try {
          parsed = parsePhc(mutated)
        } catch (e) {
          expect(e).toBeInstanceOf(PasswordHashFormatError)
          return
        }
        // Whatever parses re-formats to exactly the mutated text: no ambiguity in the format.
        expect(formatPhc(parsed)).toBe(mutated)
      }),
    )
  })
})
