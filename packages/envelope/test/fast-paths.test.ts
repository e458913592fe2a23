/**
 * The performance fast paths give the same bytes and the same errors as the general code:
 * the ASCII context encoder against the general encoder, and the one-shot-hash HKDF against
 * node:crypto `hkdfSync` and @noble/hashes (Wycheproof vectors are in vectors.test.ts).
 */
import { hkdfSync } from 'node:crypto'
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeContext, encodeContextGeneral } from '../src/internal/context.js'
import { hkdf } from '../src/internal/kdf.js'

function outcome(f: () => Uint8Array): { bytes?: string; error?: string } {
  try {
    return { bytes: Buffer.from(f()).toString('hex') }
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` }
  }
}

const text = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.string({
    unit: fc.constantFrom('a', 'é', '\ud800', '\udc00', '😀', '\u0000', '\u007f', '\u0080'),
    maxLength: 6,
  }),
  fc.constantFrom('', 'hge:', 'hge:x', 'Hge:x'),
)

describe('ASCII context fast path', () => {
  it('matches the general encoder on arbitrary contexts, bytes and errors alike', () => {
    fc.assert(
      fc.property(fc.dictionary(text, fc.oneof(text, fc.integer() as fc.Arbitrary<unknown>)), (ctx) => {
        const c = ctx as Record<string, string>
        expect(outcome(() => encodeContext(c))).toEqual(outcome(() => encodeContextGeneral(c)))
      }),
      { numRuns: 1000 },
    )
  })

  it('matches at the size limits (entry length, total length)', () => {
    const cases: Record<string, string>[] = [
      { a: 'x'.repeat(0xffff) },
      { a: 'x'.repeat(0x10000) },
      { a: 'x'.repeat(65000), b: 'y'.repeat(520) },
      { a: 'x'.repeat(65000), b: 'y'.repeat(530) },
      {},
    ]
    for (const c of cases)
      expect(outcome(() => encodeContext(c))).toEqual(outcome(() => encodeContextGeneral(c)))
    for (const bad of [null, [], 'x', 1] as unknown[]) {
      const c = bad as Record<string, string>
      expect(outcome(() => encodeContext(c))).toEqual(outcome(() => encodeContextGeneral(c)))
    }
  })
})

describe('HKDF over the one-shot hash', () => {
  it('matches hkdfSync and noble for arbitrary inputs, including salts longer than a block', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('sha256', 'sha512'),
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: 1, max: 600 }),
        (alg, ikm, salt, info, length) => {
          const ours = hkdf(alg, ikm, salt, info, length, 'node')
          expect(Buffer.from(ours)).toEqual(Buffer.from(hkdfSync(alg, ikm, salt, info, length)))
          expect(Buffer.from(ours)).toEqual(
            Buffer.from(nobleHkdf(alg === 'sha256' ? sha256 : sha512, ikm, salt, info, length)),
          )
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('header writer growth', () => {
  it('encodes every field that lands on a buffer growth boundary (regression: writes went to the old buffer)', () => {
    for (let n = 230; n < 270; n++) {
      const c = { a: 'x'.repeat(n), b: 'y', c: 'z' }
      const bytes = encodeContextGeneral(c)
      expect(bytes.length).toBe(2 + 4 + 1 + n + 4 + 1 + 1 + 4 + 1 + 1)
      expect(Buffer.from(bytes)).toEqual(Buffer.from(encodeContext(c)))
    }
  })
})

describe('headers across the writer growth boundary', () => {
  it('round-trips stored contexts of every length around 256 header bytes', async () => {
    const { createEnvelope, LocalKeyring } = await import('../src/index.js')
    const env = createEnvelope({ provider: await LocalKeyring.inMemory(), storedKeys: ['a'] })
    for (let n = 60; n < 110; n++) {
      const ctx = { a: 'x'.repeat(n), row: '1' }
      const ct = await env.encrypt(Uint8Array.of(n), ctx)
      expect(Array.from(await env.decrypt(ct, { row: '1' }))).toEqual([n])
    }
  })
})
