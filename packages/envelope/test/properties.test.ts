/**
 * Property tests (fast-check): round trips around frame boundaries, any changed byte fails, wrong
 * context fails; without and with the data-key cache (whose keys are then shared across cases).
 */
import { isSafeguardsError } from '@safeguards/core'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { createEnvelope, type Envelope, EnvelopeDecryptionError, LocalKeyring } from '../src/index.js'
import { sameBytes } from './helpers.js'
import {
  CACHE_CASES,
  changedByte,
  contextArb,
  FL,
  failure,
  HEADER_CODES,
  piped,
  sizeNearBoundary,
} from './properties-support.js'

describe.each(CACHE_CASES)('envelope properties, %s', (_, dataKeyCache) => {
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
          expect(sameBytes(await piped(ct, chunk, env.decryptStream(ctx)), pt)).toBe(true)
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
      fc.asyncProperty(changedByte(ct, fc.integer({ min: 1, max: 255 })), async ({ pos, bad, where }) => {
        const err = await failure(env.decrypt(bad, { id: 'p-1' }))
        expect(err, where).toBeDefined()
        expect(isSafeguardsError(err) && HEADER_CODES.has(err.code)).toBe(true)
        if (pos >= headerLength) expect(err).toBeInstanceOf(EnvelopeDecryptionError)
      }),
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
          const err = await failure(env.decrypt(bytes, {}))
          expect(isSafeguardsError(err) && HEADER_CODES.has(err.code)).toBe(true)
        },
      ),
      { numRuns: 200 },
    )
  })
})
