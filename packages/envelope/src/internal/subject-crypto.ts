/**
 * The cryptography of per-subject keys:
 * - opaque subject references: `ref = base64url(HMAC-SHA-256(namespaceKey, "hge/subject-ref/v1" ‖
 *   0x00 ‖ UTF-8(subjectId))[0..16])`, 22 characters. The namespace key is a random 256-bit key
 *   kept in the store under the reserved reference `ns`, wrapped under the KEK like a subject key,
 *   so envelope headers and the store never carry a subject id, and a low-entropy id (an MRN)
 *   cannot be recovered from a reference without the KEK;
 * - subject keys wrapped under the KEK with AAD `"hge/subject-key/v1" ‖ 0x00 ‖ ref` (a wrapped
 *   key moved to another reference does not open);
 * - data keys wrapped under a subject key exactly as the local keyring wraps them under a KEK:
 *   AES-256-GCM, `edk = iv[12] ‖ ct[32] ‖ tag[16]`, AAD = `u16 len ‖ keyRef ‖ wrapAAD`.
 */
import { bytesToBase64url, hmac, type RandomSource, utf8Encode } from '@safeguards/core'
import { EnvelopeDecryptionError } from '../errors.js'
import type { WrappedSubjectKey } from '../subject-key-store.js'
import type { Aead, AeadKey } from './aead.js'

/** Valid store references: 1..64 base64url characters. */
export const REF_RE: RegExp = /^[A-Za-z0-9_-]{1,64}$/
/** The reserved reference of the namespace key (subject references are 22 characters). */
export const NAMESPACE_REF = 'ns'
/** Subject references carry 128 bits of the HMAC. */
const REF_BYTES = 16
const SUBJECT_REF_RE = /^[A-Za-z0-9_-]{22}$/
const EDK_LENGTH = 60
const REF_INFO = utf8Encode('hge/subject-ref/v1\u0000')
const KEY_INFO = utf8Encode('hge/subject-key/v1\u0000')

/** True when two wrapped subject keys are equal (provider, key reference and bytes). */
export function sameWrapped(a: WrappedSubjectKey, b: WrappedSubjectKey): boolean {
  if (a.providerId !== b.providerId || a.keyRef !== b.keyRef || a.edk.length !== b.edk.length) return false
  let diff = 0
  for (let i = 0; i < a.edk.length; i++) diff |= (a.edk[i] as number) ^ (b.edk[i] as number)
  return diff === 0
}

/** The opaque reference of `subjectId` under the namespace key. */
export function subjectRefOf(namespaceKey: Uint8Array, subjectId: string): string {
  const id = utf8Encode(subjectId)
  const msg = new Uint8Array(REF_INFO.length + id.length)
  msg.set(REF_INFO, 0)
  msg.set(id, REF_INFO.length)
  return bytesToBase64url(hmac('sha256', namespaceKey, msg).subarray(0, REF_BYTES))
}

/** The AAD binding a wrapped subject (or namespace) key to its reference. */
export function subjectKeyAad(ref: string): Uint8Array {
  const r = utf8Encode(ref)
  const out = new Uint8Array(KEY_INFO.length + r.length)
  out.set(KEY_INFO, 0)
  out.set(r, KEY_INFO.length)
  return out
}

/** The key reference an envelope header names: `<providerId>:<ref>@v1`. */
export function subjectKeyRef(providerId: string, ref: string): string {
  return `${providerId}:${ref}@v1`
}

/** The subject reference in `keyRef`, or `undefined` when it is not one of `providerId`'s. */
export function parseSubjectKeyRef(providerId: string, keyRef: string): string | undefined {
  if (typeof keyRef !== 'string' || !keyRef.startsWith(`${providerId}:`) || !keyRef.endsWith('@v1'))
    return undefined
  const ref = keyRef.slice(providerId.length + 1, -3)
  return SUBJECT_REF_RE.test(ref) ? ref : undefined
}

function wrapAad(keyRef: string, aad: Uint8Array): Uint8Array {
  const ref = utf8Encode(keyRef)
  const out = new Uint8Array(2 + ref.length + aad.length)
  out[0] = ref.length >>> 8
  out[1] = ref.length & 0xff
  out.set(ref, 2)
  out.set(aad, 2 + ref.length)
  return out
}

/** Wraps a data key under a subject key. */
export async function wrapUnderSubject(
  aead: Aead,
  key: AeadKey,
  keyRef: string,
  dek: Uint8Array,
  aad: Uint8Array,
  random: RandomSource,
): Promise<Uint8Array> {
  const iv = random(12)
  const a = wrapAad(keyRef, aad)
  const [ct, tag] =
    aead.sealPartsSync !== undefined
      ? aead.sealPartsSync(key, iv, a, dek)
      : await aead.sealParts(key, iv, a, dek)
  const edk = new Uint8Array(EDK_LENGTH)
  edk.set(iv, 0)
  edk.set(ct, 12)
  edk.set(tag, 12 + ct.length)
  return edk
}

/**
 * Unwraps a data key wrapped under a subject key.
 *
 * @throws {EnvelopeDecryptionError} when it is malformed or does not authenticate.
 */
export function unwrapUnderSubject(
  aead: Aead,
  key: AeadKey,
  keyRef: string,
  edk: Uint8Array,
  aad: Uint8Array,
): Uint8Array | Promise<Uint8Array> {
  if (!(edk instanceof Uint8Array) || edk.length !== EDK_LENGTH) throw new EnvelopeDecryptionError()
  const a = wrapAad(keyRef, aad)
  if (aead.openSync !== undefined) return aead.openSync(key, edk.subarray(0, 12), a, edk.subarray(12))
  return aead.open(key, edk.subarray(0, 12), a, edk.subarray(12))
}
