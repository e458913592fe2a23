/** node:crypto, Web Crypto and noble give identical envelope bytes (with injected randomness). */
import { describe, expect, it } from 'vitest'
import { createEnvelope, EnvelopeDecryptionError, LocalKeyring } from '../src/index.js'
import { chunked, counterRandom, sameBytes, streamOf } from './helpers.js'

describe('backends', () => {
  it('produce identical bytes and read each other', async () => {
    const sizes = [0, 1, 4095, 4096, 4097, 20_000]
    const outputs: Record<string, Uint8Array[]> = {}
    for (const backend of ['node', 'webcrypto', 'noble'] as const) {
      for (const kdfBackend of ['node', 'noble'] as const) {
        const random = counterRandom(42)
        const kr = await LocalKeyring.inMemory({ random })
        const env = createEnvelope({ provider: kr, backend, kdfBackend, random, frameLength: 4096 })
        const cts: Uint8Array[] = []
        for (const n of sizes) cts.push(await env.encrypt(new Uint8Array(n).fill(n & 0xff), { n: String(n) }))
        outputs[`${backend}/${kdfBackend}`] = cts
      }
    }
    const [first, ...rest] = Object.values(outputs)
    for (const other of rest)
      for (const [i, ct] of other.entries()) expect(sameBytes(ct, first![i]!)).toBe(true)
    // cross-decrypt: noble reads what node wrote
    const random = counterRandom(42)
    const kr = await LocalKeyring.inMemory({ random })
    const noble = createEnvelope({ provider: kr, backend: 'noble', kdfBackend: 'noble' })
    for (const [i, n] of sizes.entries()) {
      expect(
        sameBytes(await noble.decrypt(first![i]!, { n: String(n) }), new Uint8Array(n).fill(n & 0xff)),
      ).toBe(true)
    }
  })

  it('stream decryption authenticates frames split across chunks on every backend', async () => {
    const kr = await LocalKeyring.inMemory()
    const pt = new Uint8Array(3 * 4096 + 100).map((_, i) => i & 0xff)
    const ct = await createEnvelope({ provider: kr, frameLength: 4096 }).encrypt(pt, { a: '1' })
    for (const backend of ['node', 'webcrypto', 'noble'] as const) {
      const env = createEnvelope({ provider: kr, backend, frameLength: 4096 })
      for (const chunk of [7, 1000, 4111, 4112, 4113]) {
        const decrypt = (bytes: Uint8Array) =>
          new Response(
            streamOf(chunked(bytes, chunk)).pipeThrough(env.decryptStream({ a: '1' })),
          ).arrayBuffer()
        expect(sameBytes(new Uint8Array(await decrypt(ct)), pt), `${backend} chunk ${chunk}`).toBe(true)
        const bad = ct.slice()
        bad[bad.length - 3] = (bad[bad.length - 3] as number) ^ 1 // inside the last tag
        await expect(decrypt(bad)).rejects.toBeInstanceOf(EnvelopeDecryptionError)
      }
    }
  })

  it('refuses an unknown backend name', () => {
    return LocalKeyring.inMemory().then((kr) => {
      expect(() => createEnvelope({ provider: kr, backend: 'rot13' as 'node' })).toThrow(TypeError)
    })
  })
})
