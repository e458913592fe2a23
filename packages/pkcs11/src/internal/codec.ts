/**
 * Byte and string layouts of the PKCS#11 provider: key references, token object ids, and the
 * encrypted data key (EDK).
 *
 * EDK v1 (61 bytes): `0x01 ‖ iv (12) ‖ AES-256-GCM(KEK, iv, aad', dek) (32) ‖ tag (16)`, computed
 * inside the token with `CKM_AES_GCM`, where
 * `aad' = "safeguards/pkcs11/v1" ‖ 0x01 ‖ u16 len(keyRef) ‖ keyRef ‖ aad` (the envelope passes
 * `aad = "hge/v1/wrap" ‖ suiteId ‖ SHA-256(canonicalContext)`). The domain label keeps these
 * ciphertexts apart from anything else the same token key might ever encrypt; the key reference
 * binds the EDK to the version (and key name) it claims, as the envelope's `LocalKeyring` does.
 *
 * @module
 */
import { concatBytes, utf8Encode } from '@safeguards/core'

/** The EDK format byte (AES-256-GCM in the token, IV chosen by the host). */
export const EDK_FORMAT_GCM = 0x01
/** IV length in bytes (96 bits, SP 800-38D §8.2.2 for random IVs). */
export const IV_BYTES = 12
/** GCM tag length in bytes. */
export const TAG_BYTES = 16
/** Data-key length in bytes. */
export const DEK_BYTES = 32
/** Total EDK length. */
export const EDK_BYTES: number = 1 + IV_BYTES + DEK_BYTES + TAG_BYTES
/** The largest AAD accepted from the envelope (it passes 45 bytes today). */
export const MAX_AAD_BYTES = 4096

const DOMAIN = utf8Encode('safeguards/pkcs11/v1')

/** The AAD the token authenticates. */
export function tokenAad(keyRef: string, aad: Uint8Array): Uint8Array {
  const ref = utf8Encode(keyRef)
  return concatBytes(DOMAIN, Uint8Array.of(EDK_FORMAT_GCM, ref.length >>> 8, ref.length & 0xff), ref, aad)
}

/** Assembles an EDK from the IV and the token's `ciphertext ‖ tag`. */
export function encodeEdk(iv: Uint8Array, sealed: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([EDK_FORMAT_GCM]), iv, sealed)
}

/** Splits an EDK, or returns `undefined` when it is not a well-formed v1 EDK. */
export function decodeEdk(edk: Uint8Array): { iv: Uint8Array; sealed: Uint8Array } | undefined {
  if (edk.length !== EDK_BYTES || edk[0] !== EDK_FORMAT_GCM) return undefined
  return { iv: edk.subarray(1, 1 + IV_BYTES), sealed: edk.subarray(1 + IV_BYTES) }
}

/** Key names: what `CKA_LABEL` holds for every version of one KEK. */
export const KEY_NAME: RegExp = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
/** Provider ids: printable ASCII without `:` (it separates the id from the key name). */
export const PROVIDER_ID: RegExp = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
/** The largest version number (it is stored as a u32 `CKA_ID`; kept within the signed range). */
export const MAX_VERSION = 0x7fffffff

/** `pkcs11:patients@v3`. */
export function formatKeyRef(providerId: string, keyName: string, version: number): string {
  return `${providerId}:${keyName}@v${version}`
}

/**
 * Parses a key reference of this provider and key name; `undefined` when it belongs to another
 * provider or key, or is malformed (no leading zeros, 1..2^31-1).
 */
export function parseKeyRef(keyRef: string, providerId: string, keyName: string): number | undefined {
  const prefix = `${providerId}:${keyName}@v`
  if (typeof keyRef !== 'string' || !keyRef.startsWith(prefix)) return undefined
  const digits = keyRef.slice(prefix.length)
  if (!/^[1-9][0-9]{0,9}$/.test(digits)) return undefined
  const version = Number(digits)
  return version <= MAX_VERSION ? version : undefined
}

/** `CKA_ID` of a version: its number as a big-endian u32. */
export function versionId(version: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, version)
  return out
}

/** The version of a `CKA_ID`, or `undefined` when it is not a 4-byte id in range. */
export function parseVersionId(id: Uint8Array | undefined): number | undefined {
  if (id === undefined || id.length !== 4) return undefined
  const v = new DataView(id.buffer, id.byteOffset, 4).getUint32(0)
  return v >= 1 && v <= MAX_VERSION ? v : undefined
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Reads a `CK_ULONG` attribute value (native byte order, 4 or 8 bytes). */
export function readUlong(bytes: Uint8Array | undefined): number | undefined {
  if (bytes === undefined || (bytes.length !== 4 && bytes.length !== 8)) return undefined
  let v = 0
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[LITTLE_ENDIAN ? bytes.length - 1 - i : i] as number
    v = v * 256 + b
  }
  return v
}

/** Reads a `CK_BBOOL` attribute value. */
export function readBool(bytes: Uint8Array | undefined): boolean | undefined {
  if (bytes === undefined || bytes.length !== 1) return undefined
  return bytes[0] !== 0
}
