/**
 * Sealing envelopes to recipients' public keys: a {@link KekProvider} that wraps each message's
 * data key with HPKE (RFC 9180: base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM,
 * through `@hpke/core`) once per recipient, so one envelope is sealed to, say, a patient, a
 * partner and an archive key at once, and any one of them opens it with its private key.
 *
 * All the recipients' entries travel in one wrapped key of the envelope header (provider id
 * `hpke`), so the v1 format carries any recipient set unchanged; the layout is specified in
 * `docs/formats/envelope-v1-recipients.md`. Each entry is bound to the envelope: the HPKE `info`
 * carries the envelope's wrap AAD (suite and SHA-256 of the encryption context), the HPKE `aad`
 * the whole recipient list and the entry's position, and the data key it yields must pass the
 * envelope's key commitment, which is derived with the message id: an entry copied into another
 * envelope, another context or another recipient list fails with the one
 * {@link EnvelopeDecryptionError}.
 *
 * Base mode authenticates nothing about the sender: anyone with the public keys can seal. Sign
 * the message, or authenticate the channel, where the sender matters.
 *
 * HIPAA: 164.312(e)(2)(ii) encryption of ePHI sent to others (the message stays sealed over any
 * channel and at rest in any mailbox), 164.312(a)(2)(iv) encryption and decryption.
 *
 * @module
 */
import { assertBytes, InvalidArgumentError, type RandomSource, randomBytes } from '@safeguards/core'
import { EnvelopeDecryptionError, KekProviderError, KeyUnavailableError } from './errors.js'
import { hpkeOpen, hpkeSeal } from './internal/hpke.js'
import {
  decodeStanzas,
  encodeStanzas,
  idsOfKeyRef,
  keyRefFor,
  MAX_RECIPIENTS,
  PROVIDER_ID,
  ridBytes,
  type Stanza,
  stanzaAad,
  stanzaInfo,
} from './internal/hpke-stanzas.js'
import type { KekProvider, KeyDescription, WrapOptions, WrappedKey } from './kek-provider.js'
import {
  cryptoKeyOfIdentity,
  cryptoKeyOfPublic,
  RecipientIdentity,
  RecipientPublicKey,
} from './recipient-keys.js'

/** The provider id of {@link createRecipientsProvider} in envelope headers. */
export const RECIPIENTS_PROVIDER_ID: string = PROVIDER_ID
/** Most recipients one envelope can be sealed to. */
export const MAX_RECIPIENTS_PER_MESSAGE: number = MAX_RECIPIENTS
/** The HPKE suite, as RFC 9180 names it. */
export const HPKE_SUITE: string = 'DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM (base mode)'

/** Options of {@link createRecipientsProvider}. Give `recipients`, `identities` or both. */
export interface RecipientsProviderOptions {
  /** Seal new envelopes to these keys (1..16, distinct). Without it the provider only opens. */
  recipients?: readonly RecipientPublicKey[]
  /** Open envelopes sealed to any of these. Without it the provider only seals. */
  identities?: readonly RecipientIdentity[]
  /** Randomness for the ephemeral HPKE keys (default: the platform CSPRNG). */
  random?: RandomSource
}

/** The recipients provider: a {@link KekProvider} with its recipient set. */
export interface RecipientsProvider extends KekProvider {
  /** The recipient ids new envelopes are sealed to, in header order (empty when it only opens). */
  readonly recipients: readonly string[]
  /** The recipient ids this provider can open for. */
  readonly identities: readonly string[]
}

function checkOptions(options: RecipientsProviderOptions): {
  recipients: RecipientPublicKey[]
  identities: RecipientIdentity[]
} {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" expected an object')
  const recipients = [...(options.recipients ?? [])]
  const identities = [...(options.identities ?? [])]
  if (recipients.length === 0 && identities.length === 0) {
    throw new TypeError('"recipients" or "identities" is required')
  }
  if (recipients.length > MAX_RECIPIENTS) {
    throw new RangeError(`"recipients" expected at most ${MAX_RECIPIENTS}, got ${recipients.length}`)
  }
  for (const r of recipients) {
    if (!(r instanceof RecipientPublicKey)) throw new TypeError('"recipients" expected RecipientPublicKey')
  }
  for (const i of identities) {
    if (!(i instanceof RecipientIdentity)) throw new TypeError('"identities" expected RecipientIdentity')
  }
  if (new Set(recipients.map((r) => r.id)).size !== recipients.length) {
    throw new InvalidArgumentError('"recipients" lists the same key twice')
  }
  return { recipients, identities }
}

/**
 * Creates a KEK provider that seals each envelope's data key to every recipient in `recipients`
 * with HPKE, and opens envelopes sealed to any of `identities`. Use it as an envelope's
 * `provider` (alone, or next to a keyring in `providers`). `rewrap` with a provider holding an
 * identity and a new recipient set re-seals the data key to the new set without touching the
 * body. A provider that only opens has no primary (`primary()` throws `no-primary`).
 *
 * Failures: not being among a header's recipients is `KeyUnavailableError` (reason `unknown`,
 * decided from the public recipient ids before any cryptography); any changed byte in the
 * recipient entries or their key reference, a wrong context or another envelope's entry is the
 * one `EnvelopeDecryptionError`.
 *
 * @hipaa 164.312(e)(2)(ii) implements
 * @hipaa 164.312(a)(2)(iv) supports
 * @nist SC-8 164.312(e)(2)(ii): messages are sealed end to end to each recipient's X25519 key with HPKE (RFC 9180), whatever carries them
 * @nist SC-13 164.312(e)(2)(ii)
 * @nist SC-12 164.312(e)(2)(ii)
 * @evidence envelope headers naming the recipient ids (key fingerprints) each message was sealed to
 * @appResponsibility Verify each recipient's public key out of band (compare the recipient id) before sealing to it; an unverified key may be an impostor's.
 * @appResponsibility Keep identity (private key) files mode 0600, or in a KMS or HSM; include an archive recipient so the organisation can still read what it sent.
 * @appResponsibility Sign messages or authenticate the channel where the sender matters: HPKE base mode does not authenticate the sender.
 * @config recipients (1..16 public keys), identities, randomness
 * @verifiedBy packages/envelope/test/recipients.test.ts
 * @verifiedBy packages/envelope/test/hpke-vectors.test.ts
 * @throws {TypeError} when neither `recipients` nor `identities` is given, or one is of the wrong type.
 * @throws {RangeError} when there are more than 16 recipients.
 * @throws {InvalidArgumentError} when a recipient is listed twice.
 * @example
 * ```ts
 * import { createEnvelope, createRecipientsProvider, RecipientIdentity, RecipientPublicKey } from '@safeguards/envelope'
 *
 * // the clinic seals a lab result to the patient, the referring partner and its archive
 * const sealer = createRecipientsProvider({ recipients: [patientKey, partnerKey, archiveKey] })
 * const sealed = await createEnvelope({ provider: sealer }).encrypt(result, { message: 'lab-42' })
 *
 * // the patient opens it with their private key
 * const me = await RecipientIdentity.import(Secret.of(pem))
 * const opener = createEnvelope({ provider: createRecipientsProvider({ identities: [me] }) })
 * const plain = await opener.decrypt(sealed, { message: 'lab-42' })
 * ```
 */
export function createRecipientsProvider(options: RecipientsProviderOptions): RecipientsProvider {
  const { recipients, identities } = checkOptions(options)
  const random = options.random ?? randomBytes
  const recipientIds = recipients.map((r) => r.id)
  const ownKeyRef = recipients.length === 0 ? undefined : keyRefFor(recipientIds)
  const ownRids = ridBytes(recipientIds)

  const describeRef = (keyRef: string): KeyDescription => {
    const ids = idsOfKeyRef(keyRef)
    const opens = ids !== undefined && identities.some((i) => ids.includes(i.id))
    if (keyRef !== ownKeyRef && !opens) throw new KeyUnavailableError(keyRef, 'unknown')
    return {
      keyRef,
      providerId: PROVIDER_ID,
      version: 1,
      state: keyRef === ownKeyRef ? 'primary' : 'decrypt-only',
    }
  }

  async function wrap(dek: Uint8Array, aad: Uint8Array, wrapOptions?: WrapOptions): Promise<WrappedKey> {
    assertBytes(dek, 'dek', 32)
    assertBytes(aad, 'aad')
    if (ownKeyRef === undefined) throw new KeyUnavailableError(`${PROVIDER_ID}:`, 'no-primary')
    if (wrapOptions?.keyRef !== undefined && wrapOptions.keyRef !== ownKeyRef) {
      throw new KeyUnavailableError(wrapOptions.keyRef, 'unknown')
    }
    const stanzas = await sealStanzas(recipients, ownRids, stanzaInfo(aad), dek, random)
    return { keyRef: ownKeyRef, edk: encodeStanzas(stanzas) }
  }

  async function unwrap(edk: Uint8Array, keyRef: string, aad: Uint8Array): Promise<Uint8Array> {
    assertBytes(edk, 'edk')
    assertBytes(aad, 'aad')
    const ids = idsOfKeyRef(keyRef)
    const rids = ids === undefined ? undefined : ridBytes(ids)
    const stanzas = rids === undefined ? undefined : decodeStanzas(edk, rids)
    if (ids === undefined || rids === undefined || stanzas === undefined) throw new EnvelopeDecryptionError()
    return openStanzas(identities, ids, rids, stanzas, stanzaInfo(aad), keyRef)
  }

  return {
    id: PROVIDER_ID,
    // Several recipients' entries in one wrapped key: every reader must notice a changed entry,
    // so envelopes over this provider default to format v1 (its header tag covers the entries).
    authenticateWrappedKeys: true,
    recipients: recipientIds,
    identities: identities.map((i) => i.id),
    wrap,
    unwrap,
    describe: async (keyRef) => describeRef(keyRef),
    primary: async () => {
      if (ownKeyRef === undefined) throw new KeyUnavailableError(`${PROVIDER_ID}:`, 'no-primary')
      return describeRef(ownKeyRef)
    },
  }
}

/** Seals `dek` to every recipient (HPKE, one stanza each, bound to its place in the list). */
async function sealStanzas(
  recipients: readonly RecipientPublicKey[],
  rids: readonly Uint8Array[],
  info: Uint8Array,
  dek: Uint8Array,
  random: RandomSource,
): Promise<Stanza[]> {
  try {
    return await Promise.all(
      recipients.map(async (r, i): Promise<Stanza> => {
        const ekm = random(32).slice()
        try {
          const { enc, ct } = await hpkeSeal(await cryptoKeyOfPublic(r), info, stanzaAad(rids, i), dek, ekm)
          return { rid: rids[i] as Uint8Array, enc, ct }
        } finally {
          ekm.fill(0)
        }
      }),
    )
  } catch (e) {
    throw new KekProviderError(PROVIDER_ID, 'HPKE seal failed', { cause: e })
  }
}

/**
 * Opens the data key with the first of `identities` listed in `ids` whose stanza opens; the
 * generic decryption error when none does (uniform, whichever failed).
 */
async function openStanzas(
  identities: readonly RecipientIdentity[],
  ids: readonly string[],
  rids: readonly Uint8Array[],
  stanzas: readonly Stanza[],
  info: Uint8Array,
  keyRef: string,
): Promise<Uint8Array> {
  const mine = identities.flatMap((identity) => {
    const index = ids.indexOf(identity.id)
    return index < 0 ? [] : [{ identity, index }]
  })
  if (mine.length === 0) throw new KeyUnavailableError(keyRef, 'unknown')
  for (const { identity, index } of mine) {
    const s = stanzas[index] as Stanza
    try {
      const dek = await hpkeOpen(
        await cryptoKeyOfIdentity(identity),
        s.enc,
        info,
        stanzaAad(rids, index),
        s.ct,
      )
      if (dek.length === 32) return dek
      dek.fill(0)
    } catch {
      // try the next identity; the failure is reported uniformly below
    }
  }
  throw new EnvelopeDecryptionError()
}
