/** Bounded header parsing: every malformed field gives a typed error before any cryptography. */
import { describe, expect, it } from 'vitest'
import {
  createEnvelope,
  EnvelopeFormatError,
  EnvelopeLimitError,
  inspectEnvelope,
  LocalKeyring,
  UnsupportedFormatError,
} from '../src/index.js'

/** A v1 envelope (the offsets below are v1's; `format-v2.test.ts` covers the v2 layout). */
async function sample(): Promise<Uint8Array> {
  const env = createEnvelope({
    provider: await LocalKeyring.inMemory(),
    storedKeys: ['purpose'],
    formatVersion: 1,
  })
  return env.encrypt(new Uint8Array(5), { purpose: 'test' })
}

/** Offsets in a one-EDK header written by the local keyring with name "default". */
const OFF = { version: 3, suite: 4, frame: 6, edkCount: 42, pLen: 44 }

describe('header parsing', () => {
  it('inspects a header without keys', async () => {
    const ct = await sample()
    const info = inspectEnvelope(ct)
    expect(info).toMatchObject({
      format: 'hge',
      formatVersion: 1,
      suiteId: 1,
      suite: 'AES-256-GCM/HKDF-SHA-512/commit',
      frameLength: 262144,
      keys: [{ providerId: 'local', keyRef: 'local:default@v1' }],
      storedContext: { purpose: 'test' },
      body: { frames: 1, plaintextLength: 5 },
    })
    expect(inspectEnvelope(ct.subarray(0, info.headerLength)).body).toBeUndefined()
  })

  it('rejects every truncation of the header as a format error', async () => {
    const ct = await sample()
    const h = inspectEnvelope(ct).headerLength
    for (let i = 0; i < h; i++)
      expect(() => inspectEnvelope(ct.subarray(0, i)), `length ${i}`).toThrow(EnvelopeFormatError)
  })

  it('rejects bad magic, versions, suites and frame lengths', async () => {
    const ct = await sample()
    const with_ = (off: number, ...bytes: number[]) => {
      const b = ct.slice()
      b.set(bytes, off)
      return b
    }
    expect(() => inspectEnvelope(with_(0, 0x47))).toThrow(EnvelopeFormatError)
    expect(() => inspectEnvelope(with_(OFF.version, 2))).toThrow(UnsupportedFormatError)
    expect(() => inspectEnvelope(with_(OFF.suite, 0, 2))).toThrow(UnsupportedFormatError)
    expect(() => inspectEnvelope(with_(OFF.frame, 0, 0, 0x0f, 0xff))).toThrow(EnvelopeLimitError)
    expect(() => inspectEnvelope(with_(OFF.frame, 0x01, 0, 0, 1))).toThrow(EnvelopeLimitError)
    expect(() => inspectEnvelope(with_(OFF.edkCount, 0, 0))).toThrow(EnvelopeFormatError)
    expect(() => inspectEnvelope(with_(OFF.edkCount, 0, 5))).toThrow(EnvelopeLimitError)
    expect(() => inspectEnvelope(with_(OFF.edkCount, 0xff, 0xff))).toThrow(EnvelopeLimitError)
    expect(() => inspectEnvelope(with_(OFF.pLen, 0))).toThrow(EnvelopeFormatError)
    expect(() => inspectEnvelope(with_(OFF.pLen + 1, 0x20))).toThrow(EnvelopeFormatError)
    // key ref length beyond 1024, or running past the end
    expect(() => inspectEnvelope(with_(OFF.pLen + 6, 0x04, 0x01))).toThrow(EnvelopeLimitError)
    expect(() => inspectEnvelope(with_(OFF.pLen + 6, 0x03, 0xff))).toThrow(EnvelopeFormatError)
  })

  it('allows more wrapped keys only when configured, never beyond 32', async () => {
    const ct = await sample()
    const b = ct.slice()
    b.set([0, 5], OFF.edkCount)
    expect(() => inspectEnvelope(b, { maxEdks: 8 })).toThrow(EnvelopeFormatError) // runs past the end instead
    b.set([0, 40], OFF.edkCount)
    expect(() => inspectEnvelope(b, { maxEdks: 100 })).toThrow(EnvelopeLimitError)
  })

  it('refuses a non-envelope with a typed error', () => {
    expect(() => inspectEnvelope(new Uint8Array(0))).toThrow(EnvelopeFormatError)
    expect(() => inspectEnvelope('HGE' as unknown as Uint8Array)).toThrow(TypeError)
  })
})
