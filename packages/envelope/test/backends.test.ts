/** node:crypto, Web Crypto and noble give identical envelope bytes (with injected randomness). */
import { describe, expect, it } from 'vitest'
import { createEnvelope, LocalKeyring } from '../src/index.js'
import { counterRandom, sameBytes } from './helpers.js'

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

  it('refuses an unknown backend name', () => {
    return LocalKeyring.inMemory().then((kr) => {
      expect(() => createEnvelope({ provider: kr, backend: 'rot13' as 'node' })).toThrow(TypeError)
    })
  })
})
