/**
 * The v1 key schedule and frame construction (see `docs/formats/envelope-v1.md`):
 *
 * ```
 * PRK  = HKDF-Extract(SHA-512, salt = messageId, IKM = DEK)
 * OKM  = HKDF-Expand(PRK, info = "hge/v1" ‖ u16 suiteId ‖ SHA-256(canonicalContext), 71)
 * encKey = OKM[0..32)  noncePrefix = OKM[32..39)  commitment = OKM[39..71)
 * headerTag = GCM(encKey, IV = 0xFF×12, AAD = header[magic..commitment] ‖ canonicalContext, ∅)
 * nonce_i   = noncePrefix ‖ u32 i ‖ u8 isFinal;  frameAAD_i = 0x01 ‖ u32 i ‖ u8 isFinal
 * wrapAAD   = "hge/v1/wrap" ‖ u16 suiteId ‖ SHA-256(canonicalContext)
 * ```
 */
import { concatBytes, hash, hashBackend, timingSafeEqual, utf8Encode } from '@safeguards/core'
import { EnvelopeDecryptionError, EnvelopeLimitError } from '../errors.js'
import { type Aead, type AeadKey, destroyKey } from './aead.js'
import { hkdf, type KdfBackendName } from './kdf.js'
import { nodeCrypto } from './native.js'

const INFO_LABEL = utf8Encode('hge/v1')
const WRAP_LABEL = utf8Encode('hge/v1/wrap')
const HEADER_IV = new Uint8Array(12).fill(0xff)
const EMPTY = new Uint8Array(0)
/** Frames per message are numbered 0..2^32-1. */
export const MAX_FRAMES: number = 2 ** 32

function u16(v: number): Uint8Array {
  return Uint8Array.of(v >>> 8, v & 0xff)
}

/** The SHA-256 digest of a canonical context, used in the KDF info and the wrap AAD. */
export function contextDigest(canonicalContext: Uint8Array): Uint8Array {
  // node:crypto's one-shot hash beats both a createHash object and JS for every size; elsewhere
  // small inputs hash faster in JS than through a native call. All give the same bytes.
  const h = nodeCrypto?.hash
  if (typeof h === 'function') {
    const d = h('sha256', canonicalContext, 'buffer')
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
  }
  return hash('sha256', canonicalContext, canonicalContext.length <= 512 ? 'noble' : hashBackend)
}

/** The AAD a KEK provider binds the wrapped data key to. */
export function wrapAad(suiteId: number, digest: Uint8Array): Uint8Array {
  return concatBytes(WRAP_LABEL, u16(suiteId), digest)
}

/** The per-message keys. */
export interface MessageKeys {
  aead: Aead
  key: AeadKey
  noncePrefix: Uint8Array
  commitment: Uint8Array
}

/**
 * Derives the message keys from the data key. `ephemeral` (one-shot records) imports the message
 * key for a few calls only (see {@link Aead.importKey}); call {@link destroyMessageKeys} after use.
 */
export function deriveMessageKeys(
  aead: Aead,
  kdf: KdfBackendName,
  dek: Uint8Array,
  messageId: Uint8Array,
  suiteId: number,
  digest: Uint8Array,
  ephemeral = false,
): MessageKeys {
  const okm = hkdf('sha512', dek, messageId, concatBytes(INFO_LABEL, u16(suiteId), digest), 71, kdf)
  const key = aead.importKey(okm.subarray(0, 32), ephemeral)
  const noncePrefix = okm.slice(32, 39)
  const commitment = okm.slice(39, 71)
  okm.fill(0)
  return { aead, key, noncePrefix, commitment }
}

/** Best-effort zeroisation of the message key bytes held in JavaScript memory (if any). */
export function destroyMessageKeys(keys: MessageKeys): void {
  destroyKey(keys.key)
}

/** Checks the stored commitment in constant time; throws the generic error on mismatch. */
export function checkCommitment(keys: MessageKeys, stored: Uint8Array): void {
  if (!timingSafeEqual(keys.commitment, stored)) throw new EnvelopeDecryptionError()
}

/** Computes the header tag over the authenticated header bytes and the canonical context. */
export function headerTag(
  keys: MessageKeys,
  authenticated: Uint8Array,
  canonicalContext: Uint8Array,
): Uint8Array | Promise<Uint8Array> {
  const aad = concatBytes(authenticated, canonicalContext)
  const sync = keys.aead.sealPartsSync
  if (sync !== undefined) return sync(keys.key, HEADER_IV, aad, EMPTY)[1]
  return keys.aead.seal(keys.key, HEADER_IV, aad, EMPTY)
}

/** Verifies the header tag; throws (or rejects with) the generic error on mismatch. */
export function verifyHeaderTag(
  keys: MessageKeys,
  authenticated: Uint8Array,
  canonicalContext: Uint8Array,
  tag: Uint8Array,
): undefined | Promise<unknown> {
  const aad = concatBytes(authenticated, canonicalContext)
  const sync = keys.aead.openSync
  if (sync === undefined) return keys.aead.open(keys.key, HEADER_IV, aad, tag)
  sync(keys.key, HEADER_IV, aad, tag)
  return undefined
}

function frameParams(keys: MessageKeys, index: number, final: boolean): [Uint8Array, Uint8Array] {
  if (index >= MAX_FRAMES) throw new EnvelopeLimitError('message has too many frames')
  const f = final ? 1 : 0
  const b0 = index >>> 24
  const b1 = (index >>> 16) & 0xff
  const b2 = (index >>> 8) & 0xff
  const b3 = index & 0xff
  const p = keys.noncePrefix
  const nonce = Uint8Array.of(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, p[6]!, b0, b1, b2, b3, f)
  return [nonce, Uint8Array.of(0x01, b0, b1, b2, b3, f)]
}

/** Encrypts frame `index`; returns `[ciphertext, tag]` (the frame is their concatenation). */
export function sealFrame(
  keys: MessageKeys,
  index: number,
  final: boolean,
  plaintext: Uint8Array,
): Promise<[Uint8Array, Uint8Array]> {
  const [nonce, aad] = frameParams(keys, index, final)
  return keys.aead.sealParts(keys.key, nonce, aad, plaintext)
}

/** As {@link sealFrame}, synchronously; undefined when the backend has no synchronous form. */
export function sealFrameSync(
  keys: MessageKeys,
  index: number,
  final: boolean,
  plaintext: Uint8Array,
): [Uint8Array, Uint8Array] | undefined {
  const sync = keys.aead.sealPartsSync
  if (sync === undefined) return undefined
  const [nonce, aad] = frameParams(keys, index, final)
  return sync(keys.key, nonce, aad, plaintext)
}

/**
 * As {@link openFrame}, synchronously (throws the generic error); undefined when the backend has
 * no synchronous form.
 */
export function openFrameSync(
  keys: MessageKeys,
  index: number,
  final: boolean,
  sealed: Uint8Array,
): Uint8Array | undefined {
  const sync = keys.aead.openSync
  if (sync === undefined) return undefined
  if (index >= MAX_FRAMES) throw new EnvelopeDecryptionError()
  const [nonce, aad] = frameParams(keys, index, final)
  return sync(keys.key, nonce, aad, sealed)
}

/** Decrypts and authenticates frame `index`; throws the generic error on any failure. */
export function openFrame(
  keys: MessageKeys,
  index: number,
  final: boolean,
  sealed: Uint8Array,
): Promise<Uint8Array> {
  if (index >= MAX_FRAMES) return Promise.reject(new EnvelopeDecryptionError())
  const [nonce, aad] = frameParams(keys, index, final)
  return keys.aead.open(keys.key, nonce, aad, sealed)
}

/** As {@link openFrame}, for a frame given in pieces; returns the plaintext in pieces. */
export function openFrameParts(
  keys: MessageKeys,
  index: number,
  final: boolean,
  parts: readonly Uint8Array[],
): Promise<Uint8Array[]> {
  if (index >= MAX_FRAMES) return Promise.reject(new EnvelopeDecryptionError())
  const [nonce, aad] = frameParams(keys, index, final)
  return keys.aead.openParts(keys.key, nonce, aad, parts)
}
