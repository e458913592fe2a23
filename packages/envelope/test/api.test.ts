/** createEnvelope options, audit events, provider contract enforcement. */
import { criticalSink, EventSinkError, manualClock, type SafeguardEvent } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  createEnvelope,
  EnvelopeDecryptionError,
  EnvelopeFormatError,
  EnvelopeLimitError,
  InvalidContextError,
  type KekProvider,
  KekProviderError,
  KeyUnavailableError,
  LocalKeyring,
} from '../src/index.js'
import { enc, sameBytes } from './helpers.js'

describe('createEnvelope options', () => {
  it('validates its options', async () => {
    const provider = await LocalKeyring.inMemory()
    expect(() => createEnvelope({ provider, frameLength: 100 })).toThrow(EnvelopeLimitError)
    expect(() => createEnvelope({ provider, frameLength: 32 * 1024 * 1024 })).toThrow(EnvelopeLimitError)
    expect(() => createEnvelope({ provider, maxEdks: 0 })).toThrow(RangeError)
    expect(() => createEnvelope({ provider, storedKeys: ['hge:x'] })).toThrow(InvalidContextError)
    expect(() => createEnvelope({ providers: [provider, provider] })).toThrow(TypeError)
    expect(() => createEnvelope({ provider: {} as KekProvider })).toThrow(TypeError)
    expect(() => createEnvelope(null as unknown as object)).toThrow(TypeError)
  })

  it('emits envelope.decrypt.failed with the code, key references and context key names, never values', async () => {
    const events: SafeguardEvent[] = []
    const clock = manualClock(1_700_000_000_000)
    const env = createEnvelope({
      provider: await LocalKeyring.inMemory(),
      events: (e) => void events.push(e),
      clock,
    })
    const ct = await env.encrypt(enc('x'), { mrn: 'MRN-123', table: 'labs' })
    await env.decrypt(ct, { mrn: 'MRN-123', table: 'labs' })
    await expect(env.decrypt(ct, { mrn: 'MRN-999', table: 'labs' })).rejects.toThrow(EnvelopeDecryptionError)
    await expect(env.decrypt(enc('junk'), {})).rejects.toThrow(EnvelopeFormatError)
    await expect(env.reencrypt(ct, { table: 'labs', mrn: 'MRN-9' })).rejects.toThrow(EnvelopeDecryptionError)
    await expect(env.rewrap(ct, { mrn: 'MRN-8' })).rejects.toThrow(EnvelopeDecryptionError)
    const base = {
      type: 'envelope.decrypt.failed',
      at: 1_700_000_000_000,
      source: '@safeguards/envelope',
      outcome: 'failure',
    }
    expect(events).toEqual([
      {
        ...base,
        code: 'ERR_ENVELOPE_DECRYPTION_FAILED',
        keyRefs: ['local:default@v1'],
        contextKeys: ['mrn', 'table'],
      },
      { ...base, code: 'ERR_ENVELOPE_FORMAT', keyRefs: [], contextKeys: [] },
      {
        ...base,
        code: 'ERR_ENVELOPE_DECRYPTION_FAILED',
        keyRefs: ['local:default@v1'],
        contextKeys: ['mrn', 'table'],
      },
      {
        ...base,
        code: 'ERR_ENVELOPE_DECRYPTION_FAILED',
        keyRefs: ['local:default@v1'],
        contextKeys: ['mrn'],
      },
    ])
    expect(JSON.stringify(events)).not.toContain('MRN-')
    // an isolated sink that throws does not change the result; its error goes to onSinkError
    const sinkErrors: unknown[] = []
    const env2 = createEnvelope({
      provider: await LocalKeyring.inMemory(),
      events: () => {
        throw new Error('sink down')
      },
      onSinkError: (e) => sinkErrors.push(e),
    })
    const ct2 = await env2.encrypt(enc('y'), {})
    expect(sameBytes(await env2.decrypt(ct2, {}), enc('y'))).toBe(true)
    await expect(env2.decrypt(ct2, { a: 'b' })).rejects.toThrow(EnvelopeDecryptionError)
    expect(sinkErrors).toHaveLength(1)
    // a critical sink that fails turns the rejection into ERR_EVENT_SINK
    const env3 = createEnvelope({
      provider: await LocalKeyring.inMemory(),
      events: criticalSink(() => {
        throw new Error('audit store down')
      }),
    })
    const ct3 = await env3.encrypt(enc('z'), {})
    expect(sameBytes(await env3.decrypt(ct3, {}), enc('z'))).toBe(true)
    await expect(env3.decrypt(ct3, { a: 'b' })).rejects.toBeInstanceOf(EventSinkError)
  })

  it('the webcrypto backend streams too', async () => {
    const env = createEnvelope({
      provider: await LocalKeyring.inMemory(),
      backend: 'webcrypto',
      frameLength: 4096,
    })
    const pt = new Uint8Array(10_000).fill(9)
    const ct = new Uint8Array(
      await new Response(new Blob([pt]).stream().pipeThrough(env.encryptStream({ a: 'b' }))).arrayBuffer(),
    )
    expect(sameBytes(await env.decrypt(ct, { a: 'b' }), pt)).toBe(true)
  })
})

describe('provider contract', () => {
  const fake = (over: Partial<KekProvider>): KekProvider => ({
    id: 'fake',
    wrap: async () => ({ keyRef: 'fake:k@v1', edk: new Uint8Array(40).fill(1) }),
    unwrap: async () => new Uint8Array(32),
    describe: async () => ({ keyRef: 'fake:k@v1', providerId: 'fake', version: 1, state: 'primary' }),
    primary: async () => ({ keyRef: 'fake:k@v1', providerId: 'fake', version: 1, state: 'primary' }),
    ...over,
  })

  it('a data key of the wrong size is a decryption failure', async () => {
    const env = createEnvelope({ provider: fake({ unwrap: async () => new Uint8Array(16) }) })
    const ct = await createEnvelope({ provider: fake({}) }).encrypt(enc('x'), {})
    await expect(env.decrypt(ct, {})).rejects.toBeInstanceOf(EnvelopeDecryptionError)
  })

  it('a key that unwraps to the wrong data key fails the commitment', async () => {
    const ct = await createEnvelope({ provider: fake({}) }).encrypt(enc('x'), {})
    const env = createEnvelope({ provider: fake({ unwrap: async () => new Uint8Array(32).fill(7) }) })
    await expect(env.decrypt(ct, {})).rejects.toBeInstanceOf(EnvelopeDecryptionError)
  })

  it('provider failures propagate as typed errors', async () => {
    const ct = await createEnvelope({ provider: fake({}) }).encrypt(enc('x'), {})
    const down = createEnvelope({
      provider: fake({
        unwrap: async () => {
          throw new KekProviderError('fake', 'device error')
        },
      }),
    })
    await expect(down.decrypt(ct, {})).rejects.toBeInstanceOf(KekProviderError)
    const gone = createEnvelope({
      provider: fake({
        unwrap: async (_e, ref) => {
          throw new KeyUnavailableError(ref, 'unreachable')
        },
      }),
    })
    await expect(gone.decrypt(ct, {})).rejects.toMatchObject({ keyRef: 'fake:k@v1', reason: 'unreachable' })
    await expect(
      createEnvelope({
        provider: fake({
          wrap: async () => {
            throw new KekProviderError('fake', 'no session')
          },
        }),
      }).encrypt(enc('x'), {}),
    ).rejects.toBeInstanceOf(KekProviderError)
  })

  it('needsRewrap compares with the primary and ignores unregistered providers', async () => {
    const kr = await LocalKeyring.inMemory()
    const env = createEnvelope({ provider: kr })
    const ct = await env.encrypt(enc('x'), {})
    expect(await env.needsRewrap(ct)).toBe(false)
    expect(await createEnvelope({ provider: fake({}) }).needsRewrap(ct)).toBe(false)
    await kr.rotate()
    expect(await env.needsRewrap(ct)).toBe(true)
  })
})
