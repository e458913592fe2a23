/**
 * Property tests (fast-check) of format v2 (docs/formats/envelope-v2.md): round trips of records
 * and streams; any flipped bit, truncation or extension fails, with the one decryption error
 * (`ERR_ENVELOPE_DECRYPTION_FAILED`, message "decryption failed", no cause) whenever the change
 * reaches cryptography, and otherwise with a typed error raised before any key is touched; v1/v2
 * confusion refused; rewrap keeps the version, reencrypt moves v1 to v2.
 */
import { isSafeguardsError } from '@safeguards/core'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  createEnvelope,
  type Envelope,
  EnvelopeDecryptionError,
  LocalKeyring,
  UnsupportedFormatError,
} from '../src/index.js'
import { sameBytes } from './helpers.js'
import {
  CACHE_CASES,
  changedByte,
  contextArb,
  FL,
  failure,
  PRE_CRYPTO,
  piped,
  sizeNearBoundary,
} from './properties-support.js'

/** The one decryption error: same class, code and message, no cause to tell failures apart. */
function expectDecryptionFailed(err: unknown, where: string): void {
  expect(err, where).toBeInstanceOf(EnvelopeDecryptionError)
  const e = err as EnvelopeDecryptionError
  expect(e.code).toBe('ERR_ENVELOPE_DECRYPTION_FAILED')
  expect(e.message).toBe('decryption failed')
  expect(e.cause).toBeUndefined()
}

const sizeArb = fc.oneof(fc.integer({ min: 0, max: 64 }), sizeNearBoundary)

describe.each(CACHE_CASES)('format v2 properties, %s', (_, dataKeyCache) => {
  let env: Envelope
  let v1: Envelope
  beforeAll(async () => {
    const provider = await LocalKeyring.inMemory()
    const cache = dataKeyCache ? { dataKeyCache } : {}
    env = createEnvelope({ provider, frameLength: FL, storedKeys: ['tenant'], ...cache })
    v1 = createEnvelope({ provider, frameLength: FL, storedKeys: ['tenant'], formatVersion: 1, ...cache })
  })

  it('round-trips records and streams, and reads v1 alongside', async () => {
    await fc.assert(
      fc.asyncProperty(sizeArb, contextArb, fc.integer({ min: 1, max: 9000 }), async (n, ctx, chunk) => {
        const pt = new Uint8Array(n).map((_, i) => (i * 13) & 0xff)
        const ct = await env.encrypt(pt, ctx)
        expect(env.inspect(ct).formatVersion).toBe(2)
        expect(sameBytes(await env.decrypt(ct, ctx), pt)).toBe(true)
        expect(sameBytes(await piped(ct, chunk, env.decryptStream(ctx)), pt)).toBe(true)
        // a v2 stream reads back one-shot; a v1 ciphertext still reads with either instance
        const written = await piped(pt, chunk, env.encryptStream(ctx))
        expect(sameBytes(await v1.decrypt(written, ctx), pt)).toBe(true)
        expect(sameBytes(await env.decrypt(await v1.encrypt(pt, ctx), ctx), pt)).toBe(true)
      }),
      { numRuns: 30 },
    )
  })

  it('fails on any flipped bit: the one decryption error once cryptography is reached', async () => {
    const ctx = { tenant: 't-1', id: 'p-1' }
    const ct = await env.encrypt(new Uint8Array(2 * FL + 100).fill(7), ctx)
    const info = env.inspect(ct)
    // §2: A = magic‖version‖suite‖frameLength (10) ‖ messageId (32) ‖ u16 ‖ stored ‖ commitment (32)
    const stored = ((ct[42] as number) << 8) | (ct[43] as number)
    const messageId = [10, 42]
    const commitment = [44 + stored, 76 + stored]
    const edkBytes = [info.headerLength - 60, info.headerLength] // the local keyring's 60-byte wrapped key
    const cryptoBound = (pos: number): boolean =>
      pos >= info.headerLength ||
      (pos >= messageId[0]! && pos < messageId[1]!) ||
      (pos >= commitment[0]! && pos < commitment[1]!) ||
      (pos >= edkBytes[0]! && pos < edkBytes[1]!)
    await fc.assert(
      fc.asyncProperty(
        changedByte(
          ct,
          fc.integer({ min: 0, max: 7 }).map((bit) => 1 << bit),
        ),
        async ({ pos, bad, where }) => {
          const err = await failure(env.decrypt(bad, ctx))
          expect(err, where).toBeDefined()
          if (cryptoBound(pos)) expectDecryptionFailed(err, where)
          else
            expect(
              isSafeguardsError(err) && (PRE_CRYPTO.has(err.code) || err instanceof EnvelopeDecryptionError),
            ).toBe(true)
          if (err instanceof EnvelopeDecryptionError) expectDecryptionFailed(err, where)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('fails on any truncation of the body and any extension, with the one decryption error', async () => {
    const ctx = { id: 'p-2' }
    const ct = await env.encrypt(new Uint8Array(FL + 33).fill(3), ctx)
    const h = env.inspect(ct).headerLength
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer({ min: h, max: ct.length - 1 }).map((n) => ct.slice(0, n)),
          fc.uint8Array({ minLength: 1, maxLength: FL + 40 }).map((tail) => {
            const b = new Uint8Array(ct.length + tail.length)
            b.set(ct)
            b.set(tail, ct.length)
            return b
          }),
        ),
        async (bad) => expectDecryptionFailed(await failure(env.decrypt(bad, ctx)), `length ${bad.length}`),
      ),
      { numRuns: 100 },
    )
  })

  it('refuses v1/v2 confusion: relabelled versions and suites never decrypt', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        contextArb,
        fc.constantFrom([1, 0, 1], [1, 0, 2], [2, 0, 1], [2, 0, 2]),
        async (pt, ctx, label) => {
          for (const [source, from] of [
            [env, 2],
            [v1, 1],
          ] as const) {
            const ct = await source.encrypt(pt, ctx)
            if (label[0] === from && label[2] === from) continue // unchanged
            const bad = ct.slice()
            bad.set(label, 3)
            const err = await failure(env.decrypt(bad, ctx))
            expect(isSafeguardsError(err), `v${from} as ${label}`).toBe(true)
            if (label[0] !== label[2]) expect(err).toBeInstanceOf(UnsupportedFormatError)
          }
        },
      ),
      { numRuns: 40 },
    )
  })

  it('rewrap keeps the version; reencrypt moves v1 to v2 (or keeps v1 when asked)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: FL + 10 }), contextArb, async (pt, ctx) => {
        for (const source of [env, v1]) {
          const ct = await source.encrypt(pt, ctx)
          const version = env.inspect(ct).formatVersion
          const rewrapped = await env.rewrap(ct, ctx)
          expect(env.inspect(rewrapped).formatVersion).toBe(version)
          // the body is untouched: rewrap rewrites the header only
          const h = env.inspect(ct).headerLength
          expect(sameBytes(rewrapped.subarray(env.inspect(rewrapped).headerLength), ct.subarray(h))).toBe(
            true,
          )
          expect(sameBytes(await env.decrypt(rewrapped, ctx), pt)).toBe(true)
          const moved = await v1.reencrypt(ct, ctx, { formatVersion: 2 })
          expect(env.inspect(moved).formatVersion).toBe(2)
          expect(env.inspect(await v1.reencrypt(ct, ctx)).formatVersion).toBe(1)
          expect(sameBytes(await env.decrypt(moved, ctx), pt)).toBe(true)
        }
      }),
      { numRuns: 15 },
    )
  })
})
