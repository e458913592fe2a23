/**
 * The wrap and unwrap operations inside the token: `CKM_AES_GCM` encryption and decryption
 * (NIST SP 800-38D) with a 96-bit IV, a 128-bit tag and the envelope's AAD bound to the key
 * reference. Unwrap failures that are not about the session or the key object all become the one
 * `EnvelopeDecryptionError` (no oracle).
 */
import { assertBytes } from '@safeguards/core'
import { EnvelopeDecryptionError, KekProviderError } from '@safeguards/envelope'
import { ckrName, constant, type Handle, type Pkcs11Module } from './binding.js'
import { DEK_BYTES, MAX_AAD_BYTES, TAG_BYTES, tokenAad } from './codec.js'
import { call, KEY_GONE, SESSION_FAULTS } from './faults.js'
import type { TokenContext } from './token-store.js'

/** A `CK_MECHANISM` for AES-GCM. */
export interface GcmMechanism {
  mechanism: number
  parameter: { type: number; [k: string]: unknown }
}

/** The `CKM_AES_GCM` mechanism for one wrap or unwrap (SP 800-38D: 96-bit IV, 128-bit tag). */
export function gcmMechanism(
  binding: Pkcs11Module,
  iv: Uint8Array,
  keyRef: string,
  aad: Uint8Array,
): GcmMechanism {
  return {
    mechanism: constant(binding, 'CKM_AES_GCM'),
    parameter: {
      type: constant(binding, 'CK_PARAMS_AES_GCM'),
      iv,
      aad: tokenAad(keyRef, aad),
      ivBits: 96,
      tagBits: 128,
    },
  }
}

/** Encrypts `dek` under the key object (`C_EncryptInit`, `C_Encrypt`): ciphertext ‖ tag, 48 bytes. */
export async function encryptInToken(
  ctx: TokenContext,
  handle: Handle,
  mechanism: GcmMechanism,
  dek: Uint8Array,
  providerId: string,
): Promise<Uint8Array> {
  ctx.library.C_EncryptInit(ctx.session, mechanism, handle)
  const out = new Uint8Array(DEK_BYTES + TAG_BYTES)
  const result = await call<Uint8Array>((cb) => ctx.library.C_Encrypt(ctx.session, dek, out, cb))
  if (result.length !== DEK_BYTES + TAG_BYTES) {
    throw new KekProviderError(providerId, `C_Encrypt returned ${result.length} bytes, expected 48`)
  }
  return result.slice()
}

/**
 * Decrypts `sealed` under the key object (`C_DecryptInit`, `C_Decrypt`; the token checks the tag).
 * Session faults and a gone or refused key object are rethrown for the caller to handle.
 *
 * @throws {EnvelopeDecryptionError} for every other failure.
 */
export async function decryptInToken(
  ctx: TokenContext,
  handle: Handle,
  mechanism: GcmMechanism,
  sealed: Uint8Array,
): Promise<Uint8Array> {
  try {
    ctx.library.C_DecryptInit(ctx.session, mechanism, handle)
  } catch (e) {
    const rv = ckrName(e)
    if (
      rv !== undefined &&
      (SESSION_FAULTS.has(rv) || KEY_GONE.has(rv) || rv === 'CKR_KEY_FUNCTION_NOT_PERMITTED')
    )
      throw e
    throw new EnvelopeDecryptionError()
  }
  const out = new Uint8Array(DEK_BYTES + TAG_BYTES)
  let result: Uint8Array
  try {
    result = await call<Uint8Array>((cb) => ctx.library.C_Decrypt(ctx.session, sealed, out, cb))
  } catch (e) {
    const rv = ckrName(e)
    if (rv !== undefined && SESSION_FAULTS.has(rv)) throw e
    throw new EnvelopeDecryptionError()
  }
  const dek = result.slice()
  out.fill(0)
  if (dek.length !== DEK_BYTES) {
    dek.fill(0)
    throw new EnvelopeDecryptionError()
  }
  return dek
}

/** Checks the AAD a caller gives to wrap or unwrap: bytes, at most 4096. */
export function assertAad(aad: unknown): asserts aad is Uint8Array {
  assertBytes(aad, 'aad')
  if (aad.length > MAX_AAD_BYTES) throw new RangeError(`"aad" expected at most ${MAX_AAD_BYTES} bytes`)
}
