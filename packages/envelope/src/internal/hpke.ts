/**
 * HPKE (RFC 9180) through `@hpke/core`, one suite only: base mode, DHKEM(X25519, HKDF-SHA256)
 * (KEM 0x0020), HKDF-SHA256 (KDF 0x0001), AES-256-GCM (AEAD 0x0002); single-shot seal and open
 * (RFC 9180 §6.1). This module does no HPKE itself: it pins the suite, feeds the library bytes,
 * passes injected randomness as the ephemeral keying material (`ekm`, RFC 9180 §7.1.3
 * DeriveKeyPair), and turns every failure to open into the one {@link EnvelopeDecryptionError}.
 *
 * The X25519 operations run in Web Crypto (`crypto.subtle`, Node ≥ 20, current browsers).
 */
import type { CipherSuite } from '@hpke/core'
import { EnvelopeDecryptionError } from '../errors.js'

/** Lengths of the suite (RFC 9180 §7.1: Nenc = Npk = Nsk = 32; §7.3: Nt = 16). */
export const X25519_KEY_LENGTH = 32
export const HPKE_ENC_LENGTH = 32
export const HPKE_TAG_LENGTH = 16

let suite: Promise<CipherSuite> | undefined

/**
 * The pinned suite, created on first use: `@hpke/core` is imported only then, so an application
 * that never seals to recipients never loads it.
 */
export function hpkeSuite(): Promise<CipherSuite> {
  suite ??= import('@hpke/core').then(
    ({ Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 }) =>
      new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() }),
  )
  return suite
}

/** Result of a single-shot seal: the encapsulated key and the ciphertext with its tag. */
export interface HpkeSealed {
  enc: Uint8Array
  ct: Uint8Array
}

/**
 * SealBase(pkR, info, aad, pt) with the ephemeral key pair derived from `ekm` (32 random bytes,
 * RFC 9180 §7.1.3), so the caller's random source decides the ephemeral key.
 */
export async function hpkeSeal(
  recipient: CryptoKey,
  info: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  ekm: Uint8Array,
): Promise<HpkeSealed> {
  const s = await hpkeSuite()
  const ephemeral = await s.kem.deriveKeyPair(ekm)
  const sealed = await s.seal({ recipientPublicKey: recipient, info, ekm: ephemeral }, plaintext, aad)
  return { enc: new Uint8Array(sealed.enc), ct: new Uint8Array(sealed.ct) }
}

/**
 * OpenBase(enc, skR, info, aad, ct). Any failure (a bad tag, an invalid or low-order `enc`, a
 * wrong key) throws {@link EnvelopeDecryptionError}, with no cause and no detail.
 */
export async function hpkeOpen(
  recipient: CryptoKey,
  enc: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  ct: Uint8Array,
): Promise<Uint8Array> {
  try {
    const s = await hpkeSuite()
    return new Uint8Array(await s.open({ recipientKey: recipient, enc, info }, ct, aad))
  } catch {
    throw new EnvelopeDecryptionError()
  }
}

/** Imports a 32-byte X25519 public key for sealing. */
export async function importPublicKey(raw: Uint8Array): Promise<CryptoKey> {
  return (await hpkeSuite()).kem.deserializePublicKey(raw)
}

/** Imports a 32-byte X25519 private key for opening. */
export async function importPrivateKey(raw: Uint8Array): Promise<CryptoKey> {
  return (await hpkeSuite()).kem.deserializePrivateKey(raw)
}
