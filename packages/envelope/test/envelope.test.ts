import { describe, expect, it } from 'vitest'
import {
  createEnvelope,
  EnvelopeDecryptionError,
  EnvelopeFormatError,
  InvalidContextError,
  KeyUnavailableError,
  LocalKeyring,
} from '../src/index.js'
import { dec, enc, sameBytes } from './helpers.js'

describe('createEnvelope', () => {
  it('round-trips records and rejects a wrong context with the generic error', async () => {
    const env = createEnvelope({ provider: await LocalKeyring.inMemory() })
    const ctx = { table: 'patients', column: 'ssn', id: 'p-1' }
    const ct = await env.encrypt(enc('123-45-6789'), ctx)
    expect(dec(await env.decrypt(ct, ctx))).toBe('123-45-6789')
    const wrong = [{ ...ctx, id: 'p-2' }, { table: 'patients', column: 'ssn' }, { ...ctx, extra: '' }, {}]
    for (const c of wrong) {
      const err = await env.decrypt(ct, c).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(EnvelopeDecryptionError)
      expect((err as Error).message).toBe('decryption failed')
    }
  })

  it('round-trips the empty message and exact frame multiples', async () => {
    const env = createEnvelope({ provider: await LocalKeyring.inMemory(), frameLength: 4096 })
    for (const n of [0, 1, 4095, 4096, 4097, 8192, 12289]) {
      const pt = new Uint8Array(n).map((_, i) => i & 0xff)
      const ct = await env.encrypt(pt, {})
      expect(env.inspect(ct).body).toEqual({ frames: Math.floor(n / 4096) + 1, plaintextLength: n })
      expect(sameBytes(await env.decrypt(ct, {}), pt)).toBe(true)
    }
  })

  it('does not decrypt under another keyring (no try-every-key)', async () => {
    const a = createEnvelope({ provider: await LocalKeyring.inMemory() })
    const b = createEnvelope({ provider: await LocalKeyring.inMemory() })
    const ct = await a.encrypt(enc('x'), {})
    await expect(b.decrypt(ct, {})).rejects.toBeInstanceOf(EnvelopeDecryptionError)
    const other = createEnvelope({ provider: await LocalKeyring.inMemory({ name: 'other' }) })
    const err = await other.decrypt(ct, {}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(KeyUnavailableError)
    expect((err as KeyUnavailableError).keyRef).toBe('local:default@v1')
  })

  it('validates contexts and inputs with typed errors', async () => {
    const env = createEnvelope({ provider: await LocalKeyring.inMemory() })
    await expect(env.encrypt(enc('x'), { 'hge:reserved': '1' })).rejects.toBeInstanceOf(InvalidContextError)
    await expect(env.encrypt(enc('x'), { a: '\ud800' })).rejects.toBeInstanceOf(InvalidContextError)
    await expect(env.encrypt(enc('x'), { a: 1 as unknown as string })).rejects.toBeInstanceOf(
      InvalidContextError,
    )
    await expect(env.encrypt(enc('x'), { '': 'v' })).rejects.toBeInstanceOf(InvalidContextError)
    await expect(env.encrypt('x' as unknown as Uint8Array, {})).rejects.toBeInstanceOf(TypeError)
    await expect(env.decrypt(enc('not an envelope'), {})).rejects.toBeInstanceOf(EnvelopeFormatError)
    expect(() => createEnvelope({})).toThrow(TypeError)
  })
})
