/**
 * Property tests (fast-check): round trips around frame boundaries, any changed byte fails, wrong
 * context fails; without and with the data-key cache (whose keys are then shared across cases).
 */
import { isSafeguardsError } from '@safeguards/core'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { createEnvelope, type Envelope, EnvelopeDecryptionError, LocalKeyring } from '../src/index.js'
import { chunked, sameBytes, streamOf } from './helpers.js'

const FL = 4096

const HEADER_CODES = new Set([
  'ERR_ENVELOPE_DECRYPTION_FAILED',
  'ERR_ENVELOPE_FORMAT',
  'ERR_ENVELOPE_UNSUPPORTED',
  'ERR_ENVELOPE_LIMIT',
  'ERR_ENVELOPE_KEY_UNAVAILABLE',
])

const sizeNearBoundary = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: -2, max: 2 }))
  .map(([k, d]) => Math.max(0, k * FL + d))
const contextArb = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !k.startsWith('hge:')),
  fc.string({ maxLength: 12 }),
  { maxKeys: 4 },
)

describe.each([
  ['without a cache', undefined],
  ['with the data-key cache', {}],
] as const)('envelope properties, %s', (_, dataKeyCache) => {
  let env: Envelope
  beforeAll(async () => {
    const provider = await LocalKeyring.inMemory()
    env = createEnvelope({ provider, frameLength: FL, ...(dataKeyCache ? { dataKeyCache } : {}) })
  })

  it('round-trips every size around frame boundaries, one-shot and streamed', async () => {
    await fc.assert(
      fc.asyncProperty(
        sizeNearBoundary,
        contextArb,
        fc.integer({ min: 1, max: 9000 }),
        async (n, ctx, chunk) => {
          const pt = new Uint8Array(n).map((_, i) => (i * 31) & 0xff)
          const ct = await env.encrypt(pt, ctx)
          expect(sameBytes(await env.decrypt(ct, ctx), pt)).toBe(true)
          // the streaming decryptor reads the one-shot format, in any chunking
          const out = new Uint8Array(
            await new Response(
              streamOf(chunked(ct, chunk)).pipeThrough(env.decryptStream(ctx)),
            ).arrayBuffer(),
          )
          expect(sameBytes(out, pt)).toBe(true)
        },
      ),
      { numRuns: 25 },
    )
  })

  it('fails when any single byte changes', async () => {
    const pt = new Uint8Array(2 * FL + 100).fill(7)
    const ct = await env.encrypt(pt, { id: 'p-1' })
    const headerLength = env.inspect(ct).headerLength
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: ct.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (pos, x) => {
          const bad = ct.slice()
          bad[pos] = (bad[pos] as number) ^ x
          const err = await env.decrypt(bad, { id: 'p-1' }).then(
            () => undefined,
            (e: unknown) => e,
          )
          expect(err, `byte ${pos}`).toBeDefined()
          expect(isSafeguardsError(err) && HEADER_CODES.has(err.code)).toBe(true)
          if (pos >= headerLength) expect(err).toBeInstanceOf(EnvelopeDecryptionError)
        },
      ),
      { numRuns: 150 },
    )
  })

  it('fails under any other context', async () => {
    await fc.assert(
      fc.asyncProperty(contextArb, contextArb, async (a, b) => {
        fc.pre(JSON.stringify(Object.entries(a).sort()) !== JSON.stringify(Object.entries(b).sort()))
        const ct = await env.encrypt(new Uint8Array([1, 2, 3]), a)
        await expect(env.decrypt(ct, b)).rejects.toBeInstanceOf(EnvelopeDecryptionError)
      }),
      { numRuns: 60 },
    )
  })

  it('never crashes on arbitrary input: only typed errors', async () => {
    const valid = await env.encrypt(new Uint8Array(10), {})
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }),
          fc.uint8Array({ maxLength: 64 }).map((tail) => {
            const b = new Uint8Array(valid.length + tail.length)
            b.set(valid.subarray(0, Math.min(valid.length, 60 + tail.length)))
            b.set(tail, Math.min(valid.length, 60 + tail.length))
            return b
          }),
        ),
        async (bytes) => {
          const err = await env.decrypt(bytes, {}).then(
            () => undefined,
            (e: unknown) => e,
          )
          expect(isSafeguardsError(err) && HEADER_CODES.has(err.code)).toBe(true)
        },
      ),
      { numRuns: 200 },
    )
  })
})
