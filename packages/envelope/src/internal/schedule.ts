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
 *
 * Format v2 (`schedule-v2.ts`) shares the frame functions: its message keys carry the header's
 * authenticated part as `frameAad` and a zero nonce prefix, and its labels are `hge/v2…`.
 */
import { concatBytes, hash, hashBackend, timingSafeEqual, utf8Encode } from '@safeguards/core'
import { EnvelopeDecryptionError, EnvelopeLimitError } from '../errors.js'
import { type Aead, type AeadKey, destroyKey } from './aead.js'
import { hkdf, hkdfSha512Into, type KdfBackendName } from './kdf.js'
import { nodeCrypto } from './native.js'

/** The v2 suite id (`SUITE_AES256GCM_HKDF_EXPAND_SHA256_COMMIT`; format.ts imports nothing from here). */
const SUITE_V2 = 0x0002

const INFO_LABEL = utf8Encode('hge/v1')
const WRAP_LABEL = utf8Encode('hge/v1/wrap')
const INFO_LABEL_V2 = utf8Encode('hge/v2')
const WRAP_LABEL_V2 = utf8Encode('hge/v2/wrap')
/** The header tag's fixed IV, FF×12 (never a frame nonce: those end in 00 or 01). */
export const HEADER_IV: Uint8Array = new Uint8Array(12).fill(0xff)
const EMPTY = new Uint8Array(0)
/** Frames per message are numbered 0..2^32-1. */
export const MAX_FRAMES: number = 2 ** 32

/** The SHA-256 digest of a canonical context, used in the KDF info and the wrap AAD. */
export function contextDigest(canonicalContext: Uint8Array): Uint8Array {
  // node:crypto's one-shot hash beats both a createHash object and JS for every size, and returns
  // a (latin1) string about twice as fast as a Buffer; elsewhere small inputs hash faster in JS
  // than through a native call. All give the same bytes.
  const h = nodeCrypto?.hash
  if (typeof h === 'function') {
    const d = h('sha256', canonicalContext, 'latin1')
    const out = new Uint8Array(32)
    for (let i = 0; i < 32; i++) out[i] = d.charCodeAt(i)
    return out
  }
  return hash('sha256', canonicalContext, canonicalContext.length <= 512 ? 'noble' : hashBackend)
}

/**
 * The AAD a KEK provider binds the wrapped data key to: `"hge/v1/wrap" ‖ u16 suiteId ‖ D`, or
 * `"hge/v2/wrap" ‖ …` for the v2 suite (each suite belongs to one format version).
 */
export function wrapAad(suiteId: number, digest: Uint8Array): Uint8Array {
  return labelled(suiteId === SUITE_V2 ? WRAP_LABEL_V2 : WRAP_LABEL, suiteId, digest)
}

/** `label ‖ u16 suiteId ‖ digest`, in one allocation. */
function labelled(label: Uint8Array, suiteId: number, digest: Uint8Array): Uint8Array {
  const out = new Uint8Array(label.length + 2 + digest.length)
  out.set(label, 0)
  out[label.length] = suiteId >>> 8
  out[label.length + 1] = suiteId & 0xff
  out.set(digest, label.length + 2)
  return out
}

/**
 * The HKDF info of the message key schedule: `"hge/v1" ‖ u16 suiteId ‖ D`; for the v2 suite the
 * constant prefix `"hge/v2" ‖ u16 suiteId ‖ D` of an info that ends with the message id.
 */
export function scheduleInfo(suiteId: number, digest: Uint8Array): Uint8Array {
  return labelled(suiteId === SUITE_V2 ? INFO_LABEL_V2 : INFO_LABEL, suiteId, digest)
}

/** The per-message keys. */
export interface MessageKeys {
  aead: Aead
  key: AeadKey
  noncePrefix: Uint8Array
  commitment: Uint8Array
  /**
   * Format v2: every frame's AAD (the header's authenticated part A); the nonce prefix is then
   * seven zero bytes. Absent in v1, whose frame AAD is `0x01 ‖ u32 i ‖ u8 final`.
   */
  frameAad?: Uint8Array | undefined
}

/**
 * Derives the message keys from the data key (`info` from {@link scheduleInfo}). `ephemeral`
 * (one-shot records) imports the message key for a few calls only (see {@link Aead.importKey});
 * call {@link destroyMessageKeys} after use.
 */
export function deriveMessageKeys(
  aead: Aead,
  kdf: KdfBackendName,
  dek: Uint8Array,
  messageId: Uint8Array,
  info: Uint8Array,
  ephemeral = false,
): MessageKeys {
  // envelope-v1 §5: PRK = HKDF-Extract(SHA-512, salt = messageId, IKM = DEK) (RFC 5869 §2.2);
  // OKM = HKDF-Expand(PRK, info = "hge/v1" ‖ u16 suiteId ‖ D, L = 71) (RFC 5869 §2.3)
  const okm = hkdf('sha512', dek, messageId, info, 71, kdf)
  try {
    // §5: encKey = OKM[0..32), noncePrefix = OKM[32..39), commitment = OKM[39..71)
    const key = aead.importKey(okm.subarray(0, 32), ephemeral)
    return { aead, key, noncePrefix: okm.slice(32, 39), commitment: okm.slice(39, 71) }
  } finally {
    okm.fill(0)
  }
}

// One-shot records on synchronous backends derive their message keys into this scratch buffer,
// use them at once (header tag, frames) and zeroise it, all without yielding to the event loop.
const SCRATCH_OKM = new Uint8Array(71)
const scratchKeysOf = new Map<Aead, MessageKeys>()

/**
 * The scratch message keys of a synchronous backend (node, noble), or undefined for an
 * asynchronous one: views over one module-level buffer. Contract: {@link deriveScratchKeys}, use
 * the keys without yielding (no `await`, no callback that could run other records), then
 * {@link wipeScratchKeys} in a `finally`.
 */
export function scratchKeys(aead: Aead): MessageKeys | undefined {
  let keys = scratchKeysOf.get(aead)
  if (keys === undefined) {
    if (aead.borrowKey === undefined || aead.sealToSync === undefined || aead.tagSync === undefined)
      return undefined
    keys = {
      aead,
      key: aead.borrowKey(SCRATCH_OKM.subarray(0, 32)),
      noncePrefix: SCRATCH_OKM.subarray(32, 39),
      commitment: SCRATCH_OKM.subarray(39, 71),
    }
    scratchKeysOf.set(aead, keys)
  }
  return keys
}

/** Derives a message's keys into the scratch buffer behind {@link scratchKeys}. */
export function deriveScratchKeys(
  kdf: KdfBackendName,
  dek: Uint8Array,
  messageId: Uint8Array,
  info: Uint8Array,
): void {
  hkdfSha512Into(SCRATCH_OKM, dek, messageId, info, kdf)
}

/** Zeroises the scratch message keys. */
export function wipeScratchKeys(): void {
  SCRATCH_OKM.fill(0)
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
  const sync = keys.aead.tagSync
  if (sync !== undefined) return sync(keys.key, HEADER_IV, [authenticated, canonicalContext])
  return keys.aead.seal(keys.key, HEADER_IV, concatBytes(authenticated, canonicalContext), EMPTY)
}

/** Verifies the header tag; throws (or rejects with) the generic error on mismatch. */
export function verifyHeaderTag(
  keys: MessageKeys,
  authenticated: Uint8Array,
  canonicalContext: Uint8Array,
  tag: Uint8Array,
): undefined | Promise<unknown> {
  if (verifyHeaderTagSync(keys, authenticated, canonicalContext, tag)) return undefined
  return keys.aead.open(keys.key, HEADER_IV, concatBytes(authenticated, canonicalContext), tag)
}

/**
 * Verifies the header tag synchronously (throws the generic error on mismatch); false, having
 * checked nothing, when the backend has no synchronous form.
 */
export function verifyHeaderTagSync(
  keys: MessageKeys,
  authenticated: Uint8Array,
  canonicalContext: Uint8Array,
  tag: Uint8Array,
): boolean {
  const sync = keys.aead.tagSync
  if (sync === undefined) return false
  if (!timingSafeEqual(sync(keys.key, HEADER_IV, [authenticated, canonicalContext]), tag))
    throw new EnvelopeDecryptionError()
  return true
}

/** Writes frame `index`'s nonce (`noncePrefix ‖ u32 index ‖ u8 final`) and AAD (`0x01 ‖ u32 index ‖ u8 final`). */
function writeFrameParams(
  noncePrefix: Uint8Array,
  index: number,
  final: boolean,
  nonce: Uint8Array,
  aad: Uint8Array,
): void {
  nonce.set(noncePrefix, 0)
  nonce[7] = aad[1] = index >>> 24
  nonce[8] = aad[2] = (index >>> 16) & 0xff
  nonce[9] = aad[3] = (index >>> 8) & 0xff
  nonce[10] = aad[4] = index & 0xff
  nonce[11] = aad[5] = final ? 1 : 0
  aad[0] = 0x01
}

// Nonce and AAD of the synchronous frame functions (the backends copy them before returning).
const SYNC_NONCE = new Uint8Array(12)
const SYNC_AAD = new Uint8Array(6)

function frameParams(keys: MessageKeys, index: number, final: boolean): [Uint8Array, Uint8Array] {
  if (index >= MAX_FRAMES) throw new EnvelopeLimitError('message has too many frames')
  const nonce = new Uint8Array(12)
  const aad = new Uint8Array(6)
  writeFrameParams(keys.noncePrefix, index, final, nonce, aad)
  return [nonce, keys.frameAad ?? aad]
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

/**
 * As {@link sealFrame}, synchronously, writing `ciphertext ‖ tag` into `out` at `at`; false when
 * the backend has no synchronous form.
 */
export function sealFrameInto(
  keys: MessageKeys,
  index: number,
  final: boolean,
  plaintext: Uint8Array,
  out: Uint8Array,
  at: number,
): boolean {
  const sync = keys.aead.sealToSync
  if (sync === undefined) return false
  if (index >= MAX_FRAMES) throw new EnvelopeLimitError('message has too many frames')
  writeFrameParams(keys.noncePrefix, index, final, SYNC_NONCE, SYNC_AAD)
  sync(keys.key, SYNC_NONCE, keys.frameAad ?? SYNC_AAD, plaintext, out, at)
  return true
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
  writeFrameParams(keys.noncePrefix, index, final, SYNC_NONCE, SYNC_AAD)
  return sync(keys.key, SYNC_NONCE, keys.frameAad ?? SYNC_AAD, sealed)
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
