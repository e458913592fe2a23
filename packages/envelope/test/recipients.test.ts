/**
 * The recipients provider: one envelope sealed to three recipients opens with each of their
 * private keys, not with a fourth; every changed bit fails with the one decryption error; the
 * recipient entries are bound to the context, the message and the recipient list; keys import and
 * export as PEM (interoperable with OpenSSL's structures through node:crypto) and JWK.
 */
import { generateKeyPairSync } from 'node:crypto'
import { isSafeguardsError, Secret } from '@safeguards/core'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  createEnvelope,
  createRecipientsProvider,
  EnvelopeDecryptionError,
  EnvelopeFormatError,
  inspectEnvelope,
  KeyUnavailableError,
  LocalKeyring,
  MAX_RECIPIENTS_PER_MESSAGE,
  RECIPIENTS_PROVIDER_ID,
  RecipientIdentity,
  RecipientKeyError,
  RecipientPublicKey,
} from '../src/index.js'
import { counterRandom, dec, enc, sameBytes } from './helpers.js'

const CONTEXT = { message: 'lab-42', kind: 'lab-result' }
const opener = (...ids: RecipientIdentity[]) =>
  createEnvelope({ provider: createRecipientsProvider({ identities: ids }) })
const failure = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  )

describe('sealing to recipients', () => {
  let patient: RecipientIdentity
  let partner: RecipientIdentity
  let archive: RecipientIdentity
  let stranger: RecipientIdentity
  let sealed: Uint8Array
  beforeAll(async () => {
    ;[patient, partner, archive, stranger] = await Promise.all([
      RecipientIdentity.generate(),
      RecipientIdentity.generate(),
      RecipientIdentity.generate(),
      RecipientIdentity.generate(),
    ])
    const sealer = createRecipientsProvider({
      recipients: [patient.publicKey, partner.publicKey, archive.publicKey],
    })
    sealed = await createEnvelope({ provider: sealer }).encrypt(enc('Potassium 4.1 mmol/L'), CONTEXT)
  })

  it('writes one wrapped key naming the three recipient ids', () => {
    const info = inspectEnvelope(sealed)
    expect(info.keys).toHaveLength(1)
    expect(info.keys[0]?.providerId).toBe(RECIPIENTS_PROVIDER_ID)
    expect(info.keys[0]?.keyRef).toBe(`hpke:${patient.id},${partner.id},${archive.id}`)
    expect(patient.id).toMatch(/^[0-9a-f]{32}$/)
  })

  it('opens with each recipient private key', async () => {
    for (const who of [patient, partner, archive]) {
      expect(dec(await opener(who).decrypt(sealed, CONTEXT))).toBe('Potassium 4.1 mmol/L')
    }
    // an opener holding several identities finds its own entry
    expect(dec(await opener(stranger, archive).decrypt(sealed, CONTEXT))).toBe('Potassium 4.1 mmol/L')
  })

  it('a fourth key cannot open it: not a recipient (key unavailable), before any cryptography', async () => {
    const err = await failure(opener(stranger).decrypt(sealed, CONTEXT))
    expect(err).toBeInstanceOf(KeyUnavailableError)
    expect((err as KeyUnavailableError).reason).toBe('unknown')
    expect((err as KeyUnavailableError).keyRef).toContain(patient.id)
  })

  it('writes format v1 by default, so every recipient notices a changed entry; v2 only when asked', async () => {
    const sealer = createRecipientsProvider({ recipients: [patient.publicKey, partner.publicKey] })
    expect(
      inspectEnvelope(await createEnvelope({ provider: sealer }).encrypt(enc('x'), {})).formatVersion,
    ).toBe(1)
    const v2 = await createEnvelope({ provider: sealer, formatVersion: 2 }).encrypt(enc('x'), {})
    expect(inspectEnvelope(v2).formatVersion).toBe(2)
    expect(dec(await opener(partner).decrypt(v2, {}))).toBe('x')
  })

  it('a sealer without identities cannot open what it sealed', async () => {
    const sealer = createRecipientsProvider({ recipients: [patient.publicKey] })
    const env = createEnvelope({ provider: sealer })
    const ct = await env.encrypt(enc('x'), {})
    await expect(env.decrypt(ct, {})).rejects.toBeInstanceOf(KeyUnavailableError)
  })

  it('any other context fails with the one decryption error', async () => {
    const err = await failure(opener(patient).decrypt(sealed, { ...CONTEXT, message: 'lab-43' }))
    expect(err).toBeInstanceOf(EnvelopeDecryptionError)
  })

  it('every flipped bit in the recipient entries, their key reference and the body fails with the one decryption error', async () => {
    const info = inspectEnvelope(sealed)
    const keyRef = info.keys[0]?.keyRef as string
    // header layout (docs/formats/envelope-v1.md): the edk entry sits after the provider id and
    // key reference; find them by content
    const refAt = Buffer.from(sealed).indexOf(Buffer.from(keyRef))
    const edkAt = refAt + keyRef.length + 2
    const edkEnd = edkAt + (2 + 3 * 96)
    const env = opener(partner)
    const regions: [number, number][] = [
      [refAt, refAt + keyRef.length],
      [edkAt, edkEnd],
      [10, 42], // message id
      [info.headerLength - 48, sealed.length], // commitment, header tag, body
    ]
    const positions = fc.oneof(...regions.map(([a, b]) => fc.integer({ min: a, max: b - 1 })))
    await fc.assert(
      fc.asyncProperty(positions, fc.integer({ min: 0, max: 7 }), async (pos, bit) => {
        const bad = sealed.slice()
        bad[pos] = (bad[pos] as number) ^ (1 << bit)
        const err = await failure(env.decrypt(bad, CONTEXT))
        const byte = bad[pos] as number
        if (pos < refAt + keyRef.length && pos >= refAt && byte > 0x7f) {
          // the envelope core refuses a key reference that is not UTF-8 before any provider sees
          // it (docs/formats/envelope-v1.md): a format error about public bytes, not an oracle
          expect(err, `byte ${pos} bit ${bit}`).toBeInstanceOf(EnvelopeFormatError)
          return
        }
        expect(err, `byte ${pos} bit ${bit}`).toBeInstanceOf(EnvelopeDecryptionError)
        expect((err as Error).message).toBe('decryption failed')
      }),
      { numRuns: 120 },
    )
  })

  it('every flipped bit anywhere fails with a typed error (header fields may be policy errors)', async () => {
    const env = opener(archive)
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: sealed.length * 8 - 1 }), async (bitAt) => {
        const bad = sealed.slice()
        bad[bitAt >> 3] = (bad[bitAt >> 3] as number) ^ (1 << (bitAt & 7))
        const err = await failure(env.decrypt(bad, CONTEXT))
        expect(isSafeguardsError(err)).toBe(true)
      }),
      { numRuns: 120 },
    )
  })

  it('an entry moved into another envelope does not open it (bound to the message by the key commitment)', async () => {
    const sealer = createRecipientsProvider({
      recipients: [patient.publicKey, partner.publicKey, archive.publicKey],
    })
    const env = createEnvelope({ provider: sealer })
    const other = await env.encrypt(enc('Potassium 6.9 mmol/L'), CONTEXT)
    const a = inspectEnvelope(sealed)
    const b = inspectEnvelope(other)
    expect(a.headerLength).toBe(b.headerLength)
    // splice: the other message's header with this message's recipient entries
    const keyRef = a.keys[0]?.keyRef as string
    const at = Buffer.from(sealed).indexOf(Buffer.from(keyRef)) + keyRef.length + 2
    const spliced = other.slice()
    spliced.set(sealed.subarray(at, at + 2 + 3 * 96), at)
    await expect(opener(patient).decrypt(spliced, CONTEXT)).rejects.toBeInstanceOf(EnvelopeDecryptionError)
  })

  it('entries are bound to the recipient list and their position', async () => {
    const p = createRecipientsProvider({ identities: [partner] })
    const aad = enc('hge/v1/wrap-test')
    const wrapped = await createRecipientsProvider({
      recipients: [patient.publicKey, partner.publicKey],
    }).wrap(new Uint8Array(32).fill(9), aad)
    expect(sameBytes(await p.unwrap(wrapped.edk, wrapped.keyRef, aad), new Uint8Array(32).fill(9))).toBe(true)
    // swap the two entries and the ids in the key reference: each entry's aad names its position
    const swapped = wrapped.edk.slice()
    swapped.set(wrapped.edk.subarray(2, 98), 98)
    swapped.set(wrapped.edk.subarray(98, 194), 2)
    const swappedRef = `hpke:${partner.id},${patient.id}`
    await expect(p.unwrap(swapped, swappedRef, aad)).rejects.toBeInstanceOf(EnvelopeDecryptionError)
    // drop the other recipient: the list is in every entry's aad
    const alone = Uint8Array.of(1, 1, ...wrapped.edk.subarray(98, 194))
    await expect(p.unwrap(alone, `hpke:${partner.id}`, aad)).rejects.toBeInstanceOf(EnvelopeDecryptionError)
    // another wrap AAD (suite or context digest)
    await expect(p.unwrap(wrapped.edk, wrapped.keyRef, enc('other'))).rejects.toBeInstanceOf(
      EnvelopeDecryptionError,
    )
    // a key reference that disagrees with the entries
    await expect(p.unwrap(wrapped.edk, `hpke:${partner.id},${patient.id}`, aad)).rejects.toBeInstanceOf(
      EnvelopeDecryptionError,
    )
  })

  it('round-trips any plaintext and context for any recipient (property)', async () => {
    const recipients = [patient, partner, archive]
    const env = createEnvelope({
      provider: createRecipientsProvider({ recipients: recipients.map((r) => r.publicKey) }),
    })
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 2000 }),
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !k.startsWith('hge:')),
          fc.string(),
        ),
        fc.integer({ min: 0, max: 2 }),
        async (pt, ctx, who) => {
          const ct = await env.encrypt(pt, ctx)
          const out = await opener(recipients[who] as RecipientIdentity).decrypt(ct, ctx)
          expect(sameBytes(out, pt)).toBe(true)
        },
      ),
      { numRuns: 25 },
    )
  })

  it('rewrap re-seals the data key to a new recipient set, leaving the body as it was', async () => {
    const newcomer = await RecipientIdentity.generate()
    const forwarder = createRecipientsProvider({
      identities: [archive],
      recipients: [archive.publicKey, newcomer.publicKey],
    })
    const env = createEnvelope({ provider: forwarder })
    expect(await env.needsRewrap(sealed)).toBe(true)
    const moved = await env.rewrap(sealed, CONTEXT)
    const body = sealed.length - inspectEnvelope(sealed).headerLength
    expect(sameBytes(moved.subarray(moved.length - body), sealed.subarray(sealed.length - body))).toBe(true)
    expect(await env.needsRewrap(moved)).toBe(false)
    expect(dec(await opener(newcomer).decrypt(moved, CONTEXT))).toBe('Potassium 4.1 mmol/L')
    await expect(opener(patient).decrypt(moved, CONTEXT)).rejects.toBeInstanceOf(KeyUnavailableError)
  })

  it('works next to a keyring (either opens) and with the data-key cache', async () => {
    const keyring = await LocalKeyring.inMemory()
    const sealer = createRecipientsProvider({ recipients: [patient.publicKey] })
    const env = createEnvelope({ providers: [keyring, sealer], dataKeyCache: { maxMessages: 10 } })
    const a = await env.encrypt(enc('one'), CONTEXT)
    const b = await env.encrypt(enc('two'), CONTEXT)
    expect(dec(await createEnvelope({ provider: keyring }).decrypt(a, CONTEXT))).toBe('one')
    const cached = createEnvelope({
      provider: createRecipientsProvider({ identities: [patient] }),
      dataKeyCache: {},
    })
    expect(dec(await cached.decrypt(a, CONTEXT))).toBe('one')
    expect(dec(await cached.decrypt(b, CONTEXT))).toBe('two')
    expect(dec(await cached.decrypt(a, CONTEXT))).toBe('one')
    env.close()
    cached.close()
  })

  it('is deterministic under injected randomness (known answer)', async () => {
    const rnd = counterRandom(7)
    const id = await RecipientIdentity.generate({ random: rnd })
    const again = await RecipientIdentity.generate({ random: counterRandom(7) })
    expect(again.id).toBe(id.id)
    const p1 = createRecipientsProvider({ recipients: [id.publicKey], random: counterRandom(3) })
    const p2 = createRecipientsProvider({ recipients: [id.publicKey], random: counterRandom(3) })
    const dek = new Uint8Array(32).fill(1)
    const w1 = await p1.wrap(dek, enc('aad'))
    const w2 = await p2.wrap(dek, enc('aad'))
    expect(sameBytes(w1.edk, w2.edk)).toBe(true)
    expect(w1.edk).toHaveLength(2 + 96)
  })
})

describe('recipients provider options and key references', () => {
  it('checks its options', async () => {
    const id = await RecipientIdentity.generate()
    expect(() => createRecipientsProvider({})).toThrow(TypeError)
    expect(() => createRecipientsProvider({ recipients: [id.publicKey, id.publicKey] })).toThrow(
      /same key twice/,
    )
    const many = await Promise.all(
      Array.from({ length: MAX_RECIPIENTS_PER_MESSAGE + 1 }, () => RecipientIdentity.generate()),
    )
    expect(() => createRecipientsProvider({ recipients: many.map((m) => m.publicKey) })).toThrow(RangeError)
    expect(() =>
      createRecipientsProvider({ recipients: many.slice(0, 16).map((m) => m.publicKey) }),
    ).not.toThrow()
    expect(() => createRecipientsProvider({ recipients: ['x' as never] })).toThrow(TypeError)
  })

  it('seals to 16 recipients within the header limits; the last one opens', async () => {
    const many = await Promise.all(Array.from({ length: 16 }, () => RecipientIdentity.generate()))
    const env = createEnvelope({
      provider: createRecipientsProvider({ recipients: many.map((m) => m.publicKey) }),
    })
    const ct = await env.encrypt(enc('to all'), {})
    expect(dec(await opener(many[15] as RecipientIdentity).decrypt(ct, {}))).toBe('to all')
  })

  it('describes its keys; an opener has no primary and cannot seal', async () => {
    const me = await RecipientIdentity.generate()
    const other = await RecipientIdentity.generate()
    const both = createRecipientsProvider({ recipients: [other.publicKey], identities: [me] })
    expect(both.recipients).toEqual([other.id])
    expect(both.identities).toEqual([me.id])
    expect((await both.primary()).keyRef).toBe(`hpke:${other.id}`)
    expect((await both.describe(`hpke:${me.id}`)).state).toBe('decrypt-only')
    await expect(both.describe('hpke:00')).rejects.toBeInstanceOf(KeyUnavailableError)
    await expect(
      both.wrap(new Uint8Array(32), new Uint8Array(0), { keyRef: `hpke:${me.id}` }),
    ).rejects.toBeInstanceOf(KeyUnavailableError)
    const onlyOpens = createRecipientsProvider({ identities: [me] })
    await expect(onlyOpens.primary()).rejects.toMatchObject({ reason: 'no-primary' })
    await expect(onlyOpens.wrap(new Uint8Array(32), new Uint8Array(0))).rejects.toMatchObject({
      reason: 'no-primary',
    })
  })
})

describe('recipient keys', () => {
  it('export and import as PEM and JWK, and the private key stays redacted', async () => {
    const id = await RecipientIdentity.generate()
    const pem = id.exportPem().reveal()
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=]{64}\n-----END PRIVATE KEY-----\n$/)
    expect((await RecipientIdentity.import(Secret.of(pem))).id).toBe(id.id)
    const jwk = id.exportJwk().reveal()
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'X25519', kid: id.id })
    expect((await RecipientIdentity.import(jwk)).id).toBe(id.id)
    expect((await RecipientIdentity.import(JSON.stringify(jwk))).id).toBe(id.id)
    const pubPem = id.publicKey.toPem()
    expect(pubPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/)
    expect((await RecipientPublicKey.import(pubPem)).id).toBe(id.id)
    expect((await RecipientPublicKey.import(id.publicKey.toJwk())).id).toBe(id.id)
    expect(String(id)).toBe('<redacted>')
    expect(JSON.stringify({ id })).toBe('{"id":"<redacted>"}')
    expect(String(id.publicKey)).toBe(`x25519:${id.id}`)
  })

  it('reads the keys OpenSSL and node:crypto write, and they read ours', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('x25519')
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
    const pubPem = publicKey.export({ format: 'pem', type: 'spki' }) as string
    const id = await RecipientIdentity.import(pem)
    const pk = await RecipientPublicKey.import(pubPem)
    expect(pk.id).toBe(id.id)
    expect(id.publicKey.toPem()).toBe(pubPem)
    expect(id.exportPem().reveal()).toBe(pem)
    const jwk = privateKey.export({ format: 'jwk' })
    expect((await RecipientIdentity.import(jwk as JsonWebKey)).id).toBe(id.id)
  })

  it('refuses what is not an X25519 key of the expected kind', async () => {
    const id = await RecipientIdentity.generate()
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }) as string
    await expect(RecipientPublicKey.import(ed)).rejects.toBeInstanceOf(RecipientKeyError)
    await expect(RecipientPublicKey.import('not a key')).rejects.toBeInstanceOf(RecipientKeyError)
    await expect(RecipientPublicKey.import('{nope')).rejects.toBeInstanceOf(RecipientKeyError)
    await expect(RecipientPublicKey.import(id.exportPem().reveal())).rejects.toThrow(/private key/)
    await expect(RecipientIdentity.import(id.publicKey.toPem())).rejects.toBeInstanceOf(RecipientKeyError)
    const jwk = id.exportJwk().reveal()
    const other = (await RecipientIdentity.generate()).publicKey.toJwk()
    await expect(RecipientIdentity.import({ ...jwk, x: other.x })).rejects.toThrow(/not the public key/)
    await expect(RecipientPublicKey.import({ kty: 'OKP', crv: 'X25519', x: 'AAAA' })).rejects.toBeInstanceOf(
      RecipientKeyError,
    )
    expect(() => RecipientPublicKey.fromRaw(new Uint8Array(31))).toThrow(RangeError)
    await expect(
      RecipientPublicKey.import(`-----BEGIN PUBLIC KEY-----\n${'A'.repeat(9000)}`),
    ).rejects.toThrow(/too long/)
    const err = await failure(RecipientPublicKey.import('x'))
    expect((err as RecipientKeyError).code).toBe('ERR_RECIPIENT_KEY')
  })

  it('a destroyed identity opens nothing', async () => {
    const id = await RecipientIdentity.generate()
    const env = createEnvelope({ provider: createRecipientsProvider({ recipients: [id.publicKey] }) })
    const ct = await env.encrypt(enc('x'), {})
    const fresh = await RecipientIdentity.import(id.exportPem())
    id.destroy()
    await expect(opener(id).decrypt(ct, {})).rejects.toBeInstanceOf(EnvelopeDecryptionError)
    expect(dec(await opener(fresh).decrypt(ct, {}))).toBe('x')
  })
})
