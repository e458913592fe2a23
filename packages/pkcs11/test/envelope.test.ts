import { concatBytes, randomBytes, type SafeguardEvent, utf8Decode, utf8Encode } from '@safeguards/core'
import {
  createEnvelope,
  EnvelopeDecryptionError,
  KeyUnavailableError,
  LocalKeyring,
} from '@safeguards/envelope'
import { expect, it } from 'vitest'
import type { Pkcs11KekProvider } from '../src/index.js'
import { describeHsm, useSoftHsm } from './softhsm.js'

const context = { patient: 'p-1042', purpose: 'treatment' }

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) parts.push(chunk)
  return concatBytes(...parts)
}

describeHsm('@safeguards/envelope over the HSM: encrypt, rotate, rewrap, retire', () => {
  let kek: Pkcs11KekProvider

  useSoftHsm(['envelope'], async (h, open) => {
    kek = await open(h.options('envelope', 'phi', { cacheTtlMs: 0 }))
    await kek.rotate()
  })

  it('encrypts and decrypts records with the KEK in the token, bound to the context', async () => {
    const events: SafeguardEvent[] = []
    const envelope = createEnvelope({ provider: kek, events: (e) => void events.push(e) })
    const record = utf8Encode('{"dx":"E11.9","note":"follow-up in 3 months"}')
    const ciphertext = await envelope.encrypt(record, context)
    expect(envelope.inspect(ciphertext).keys).toEqual([{ providerId: 'pkcs11', keyRef: 'pkcs11:phi@v1' }])
    expect(await envelope.decrypt(ciphertext, context)).toEqual(record)
    // The context is bound through the wrap AAD and the key commitment: any other context fails uniformly.
    for (const other of [{ ...context, patient: 'p-1043' }, { patient: 'p-1042' }, {}]) {
      const error = await envelope.decrypt(ciphertext, other).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(EnvelopeDecryptionError)
    }
    expect(events.map((e) => e.type)).toEqual(Array(3).fill('envelope.decrypt.failed'))
    expect(events[0]).toMatchObject({
      code: 'ERR_ENVELOPE_DECRYPTION_FAILED',
      keyRefs: ['pkcs11:phi@v1'],
      contextKeys: ['patient', 'purpose'],
    })
    expect(JSON.stringify(events)).not.toContain('p-104')
  })

  it('rotates across HSM key versions and rewraps old envelopes without touching their bodies', async () => {
    const envelope = createEnvelope({ provider: kek })
    const rows = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const plaintext = utf8Encode(`row ${i}: ${'x'.repeat(i * 50)}`)
        return { plaintext, ciphertext: await envelope.encrypt(plaintext, { ...context, row: String(i) }) }
      }),
    )
    // Two-phase rotation in the token: add v2 (every host can unwrap with it), then promote.
    await kek.addVersion()
    await kek.promote(2)
    expect(await envelope.needsRewrap(rows[0]?.ciphertext as Uint8Array)).toBe(true)

    const rewrapped = await Promise.all(
      rows.map((r, i) => envelope.rewrap(r.ciphertext, { ...context, row: String(i) })),
    )
    for (const [i, c] of rewrapped.entries()) {
      const before = rows[i]?.ciphertext as Uint8Array
      const info = envelope.inspect(c)
      expect(info.keys).toEqual([{ providerId: 'pkcs11', keyRef: 'pkcs11:phi@v2' }])
      expect(await envelope.needsRewrap(c)).toBe(false)
      // Only the header changed: the body bytes are identical.
      const oldBody = before.subarray(envelope.inspect(before).headerLength)
      expect(c.subarray(info.headerLength)).toEqual(oldBody)
      expect(await envelope.decrypt(c, { ...context, row: String(i) })).toEqual(rows[i]?.plaintext)
      // Rewrap needs the right context too.
      await expect(envelope.rewrap(before, { ...context, row: 'other' })).rejects.toBeInstanceOf(
        EnvelopeDecryptionError,
      )
    }

    // Everything is under v2: retire v1 in the token. Old ciphertexts now name an unavailable key.
    await kek.retire(1)
    const stale = await envelope
      .decrypt(rows[0]?.ciphertext as Uint8Array, { ...context, row: '0' })
      .catch((e: unknown) => e)
    expect(stale).toBeInstanceOf(KeyUnavailableError)
    expect((stale as KeyUnavailableError).keyRef).toBe('pkcs11:phi@v1')
    expect((stale as KeyUnavailableError).reason).toBe('retired')
    expect(await envelope.decrypt(rewrapped[0] as Uint8Array, { ...context, row: '0' })).toEqual(
      rows[0]?.plaintext,
    )
  })

  it('rewraps to an explicit version, and streams through the HSM provider', async () => {
    const envelope = createEnvelope({ provider: kek, frameLength: 4096 })
    await kek.addVersion() // v3, decrypt-only
    const plaintext = randomBytes(20_000)
    const encrypted = await collect(
      new Blob([plaintext as Uint8Array<ArrayBuffer>]).stream().pipeThrough(envelope.encryptStream(context)),
    )
    const moved = await envelope.rewrap(encrypted, context, { to: 'pkcs11:phi@v3' })
    expect(envelope.inspect(moved).keys[0]?.keyRef).toBe('pkcs11:phi@v3')
    const decrypted = await collect(
      new Blob([moved as Uint8Array<ArrayBuffer>]).stream().pipeThrough(envelope.decryptStream(context)),
    )
    expect(decrypted).toEqual(plaintext)
  })

  it('works as one of several providers: the HSM and a local keyring both wrap each data key', async () => {
    const local = await LocalKeyring.inMemory({ name: 'escrow' })
    await local.rotate()
    const both = createEnvelope({ providers: [kek, local] })
    const ciphertext = await both.encrypt(utf8Encode('dual-wrapped'), context)
    expect(both.inspect(ciphertext).keys.map((k) => k.providerId)).toEqual(['pkcs11', 'local'])
    // Either provider alone can open it.
    expect(utf8Decode(await createEnvelope({ provider: kek }).decrypt(ciphertext, context))).toBe(
      'dual-wrapped',
    )
    expect(utf8Decode(await createEnvelope({ provider: local }).decrypt(ciphertext, context))).toBe(
      'dual-wrapped',
    )
  })
})
