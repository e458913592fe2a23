/**
 * The local keyring's wraps: AES-256-GCM under a KEK version, `edk = iv[12] ‖ ct[32] ‖ tag[16]`,
 * AAD = `u16 len ‖ keyRef ‖ wrapAAD` (the key reference is bound, so an EDK cannot be replayed
 * under another version). Imported AEAD keys and AAD prefixes are kept per version.
 */
import { concatBytes, type RandomSource, utf8Encode } from '@safeguards/core'
import { EnvelopeDecryptionError, KeyUnavailableError } from '../errors.js'
import type { Aead, AeadKey } from './aead.js'

/** Length of a local keyring EDK. */
const EDK_LENGTH = 60

/** Wraps and unwraps data keys under the material of a keyring's versions. */
export class KekCrypto {
  /** The AES-GCM backend (also used to seal the keyring file). */
  readonly aead: Aead
  readonly #aead: Aead
  readonly #keys = new Map<number, AeadKey>()
  readonly #refPrefixes = new Map<string, Uint8Array>()

  /** @param aead - the AES-GCM backend. */
  constructor(aead: Aead) {
    this.aead = aead
    this.#aead = aead
  }

  /** Forgets the imported key of `version` (its material changed or was destroyed). */
  forget(version: number): void {
    this.#keys.delete(version)
  }

  /** Forgets every imported key whose version has no material in `material`. */
  prune(material: ReadonlyMap<number, Uint8Array>): void {
    for (const v of [...this.#keys.keys()]) if (!material.has(v)) this.#keys.delete(v)
  }

  #key(version: number, keyRef: string, material: ReadonlyMap<number, Uint8Array>): AeadKey {
    let k = this.#keys.get(version)
    if (k === undefined) {
      const raw = material.get(version)
      if (raw === undefined) throw new KeyUnavailableError(keyRef, 'destroyed')
      k = this.#aead.importKey(raw)
      this.#keys.set(version, k)
    }
    return k
  }

  #wrapAad(keyRef: string, aad: Uint8Array): Uint8Array {
    let prefix = this.#refPrefixes.get(keyRef)
    if (prefix === undefined) {
      const ref = utf8Encode(keyRef)
      prefix = concatBytes(Uint8Array.of(ref.length >>> 8, ref.length & 0xff), ref)
      if (this.#refPrefixes.size < 1024) this.#refPrefixes.set(keyRef, prefix)
    }
    const out = new Uint8Array(prefix.length + aad.length)
    out.set(prefix, 0)
    out.set(aad, prefix.length)
    return out
  }

  /** Wraps `dek` under `version` (synchronously when the backend can). */
  async wrap(
    version: number,
    keyRef: string,
    material: ReadonlyMap<number, Uint8Array>,
    dek: Uint8Array,
    aad: Uint8Array,
    random: RandomSource,
  ): Promise<Uint8Array> {
    const iv = random(12)
    const key = this.#key(version, keyRef, material)
    const wrapAad = this.#wrapAad(keyRef, aad)
    const sync = this.#aead.sealPartsSync
    const [ct, tag] =
      sync !== undefined ? sync(key, iv, wrapAad, dek) : await this.#aead.sealParts(key, iv, wrapAad, dek)
    const edk = new Uint8Array(12 + ct.length + tag.length)
    edk.set(iv, 0)
    edk.set(ct, 12)
    edk.set(tag, 12 + ct.length)
    return edk
  }

  /**
   * Unwraps an EDK under `version`.
   *
   * @throws {EnvelopeDecryptionError} when it is malformed or does not authenticate.
   */
  unwrap(
    version: number,
    keyRef: string,
    material: ReadonlyMap<number, Uint8Array>,
    edk: Uint8Array,
    aad: Uint8Array,
  ): Uint8Array | Promise<Uint8Array> {
    if (!(edk instanceof Uint8Array) || edk.length !== EDK_LENGTH) throw new EnvelopeDecryptionError()
    const key = this.#key(version, keyRef, material)
    const wrapAad = this.#wrapAad(keyRef, aad)
    const sync = this.#aead.openSync
    if (sync !== undefined) return sync(key, edk.subarray(0, 12), wrapAad, edk.subarray(12))
    return this.#aead.open(key, edk.subarray(0, 12), wrapAad, edk.subarray(12))
  }
}
