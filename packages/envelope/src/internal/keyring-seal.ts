/**
 * Sealing of the local keyring's key material under a master secret: the secret comes from an
 * environment variable (HKDF-SHA-512, RFC 5869) or from a passphrase (argon2id, RFC 9106, through
 * the optional `argon2` package); the material is one AES-256-GCM ciphertext whose AAD is the
 * canonical JSON (RFC 8785) of the keyring's name, versions and seal parameters, so that no state
 * can be changed without the master secret.
 */
import {
  assertInteger,
  base64ToBytes,
  bytesToBase64,
  canonicalBytes,
  parseJson,
  type RandomSource,
  Secret,
  utf8Decode,
  utf8Encode,
} from '@safeguards/core'
import { EnvelopeDecryptionError, KeyringFileError, KeyringSealedError } from '../errors.js'
import type { Aead } from './aead.js'
import { hkdf } from './kdf.js'
import type { KeyMeta } from './keyring-lifecycle.js'

/** Where the master secret that seals a keyring comes from. */
export type MasterSecret =
  /** An environment variable holding at least 32 bytes of high-entropy secret (for example 32 random bytes in base64). */
  | { env: string }
  /** A passphrase, stretched with argon2id (needs the optional `argon2` package). */
  | { passphrase: Secret<string> | string }

/** argon2id cost parameters for passphrase-sealed keyrings. */
export interface Argon2Params {
  /** Memory in KiB (default 65536 = 64 MiB; at least 19456, the OWASP minimum). */
  memoryCost: number
  /** Iterations (default 3). */
  timeCost: number
  /** Lanes (default 1). */
  parallelism: number
}

/** How a keyring file is sealed (stored in the file, beside the ciphertext). */
export interface SealMeta {
  kdf: 'env' | 'argon2id'
  salt: string
  argon2?: Argon2Params
}

/** The sealed material as the file stores it. */
export interface SealedMaterial {
  iv: string
  ct: string
}

const DEFAULT_ARGON2: Argon2Params = { memoryCost: 65536, timeCost: 3, parallelism: 1 }

interface Argon2Module {
  hash(
    password: string,
    options: Argon2Params & { type: number; raw: true; salt: Uint8Array; hashLength: number },
  ): Promise<Uint8Array>
  argon2id: number
}

/** The environment of `{ env }` secrets: the given one, else `process.env`. */
function envOf(env: Record<string, string | undefined> | undefined): Record<string, string | undefined> {
  if (env) return env
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
  return p?.env ?? {}
}

/** The seal parameters of a new keyring: a fresh salt, and argon2id costs for a passphrase. */
export function newSeal(
  secret: MasterSecret,
  argon2: Partial<Argon2Params> | undefined,
  random: RandomSource,
): SealMeta {
  if ('env' in secret) return { kdf: 'env', salt: bytesToBase64(random(32)) }
  const params = { ...DEFAULT_ARGON2, ...argon2 }
  assertInteger(params.memoryCost, 'argon2.memoryCost', 19456, 4 * 1024 * 1024)
  assertInteger(params.timeCost, 'argon2.timeCost', 1, 100)
  assertInteger(params.parallelism, 'argon2.parallelism', 1, 16)
  return { kdf: 'argon2id', salt: bytesToBase64(random(16)), argon2: params }
}

/**
 * Derives the 32-byte master key from the secret and the seal's salt.
 *
 * @throws {KeyringSealedError} when the secret is missing or does not match the seal's kind.
 */
export async function deriveMasterKey(
  secret: MasterSecret,
  seal: SealMeta,
  env: Record<string, string | undefined> | undefined,
): Promise<Uint8Array> {
  const salt = base64ToBytes(seal.salt)
  if ('env' in secret) {
    if (seal.kdf !== 'env') throw new KeyringSealedError()
    const value = envOf(env)[secret.env]
    if (value === undefined || value.length === 0) throw new KeyringSealedError()
    const ikm = utf8Encode(value)
    if (ikm.length < 32) throw new RangeError('the master secret must be at least 32 bytes')
    // RFC 5869 §2.2-2.3: PRK = HMAC-SHA-512(salt, IKM); OKM = T(1)[0..32], info names the use.
    return hkdf('sha512', ikm, salt, utf8Encode('safeguards-keyring/v1/master'), 32)
  }
  if (seal.kdf !== 'argon2id' || seal.argon2 === undefined) throw new KeyringSealedError()
  const pass = Secret.isSecret(secret.passphrase) ? secret.passphrase.reveal() : secret.passphrase
  if (typeof pass !== 'string' || pass.length === 0) throw new KeyringSealedError()
  const argon2 = await loadArgon2()
  const raw = await argon2.hash(pass, {
    ...seal.argon2,
    type: argon2.argon2id,
    raw: true,
    salt,
    hashLength: 32,
  })
  return new Uint8Array(raw)
}

async function loadArgon2(): Promise<Argon2Module> {
  try {
    const mod = (await import('argon2')) as unknown as Argon2Module & { default?: Argon2Module }
    return typeof mod.hash === 'function' ? mod : (mod.default as Argon2Module)
  } catch (e) {
    throw new KeyringFileError('passphrase sealing needs the optional "argon2" package', {
      cause: e,
      category: 'key-unavailable',
    })
  }
}

/** The AAD of the sealed material: the keyring's public state, canonical JSON. */
function sealAad(name: string, keys: readonly KeyMeta[], seal: SealMeta): Uint8Array {
  return canonicalBytes({ format: 'safeguards-keyring', version: 1, name, keys, seal })
}

/** Seals the material (version → base64 key) under the master key. */
export async function sealMaterial(
  aead: Aead,
  masterKey: Uint8Array,
  state: { name: string; keys: readonly KeyMeta[]; seal: SealMeta },
  material: Record<string, string>,
  random: RandomSource,
): Promise<SealedMaterial> {
  const iv = random(12)
  const mk = aead.importKey(masterKey)
  const aad = sealAad(state.name, state.keys, state.seal)
  const ct = await aead.seal(mk, iv, aad, utf8Encode(JSON.stringify(material)))
  return { iv: bytesToBase64(iv), ct: bytesToBase64(ct) }
}

/**
 * Opens sealed material.
 *
 * @throws {KeyringSealedError} when the master key is wrong or the public state was changed.
 * @throws {KeyringFileError} when the sealed material is malformed.
 */
export async function unsealMaterial(
  aead: Aead,
  masterKey: Uint8Array,
  state: { name: string; keys: readonly KeyMeta[]; seal: SealMeta },
  sealed: SealedMaterial,
): Promise<Record<string, string>> {
  const mk = aead.importKey(masterKey)
  try {
    const aad = sealAad(state.name, state.keys, state.seal)
    const pt = await aead.open(mk, base64ToBytes(sealed.iv), aad, base64ToBytes(sealed.ct))
    const plain = parseJson(utf8Decode(pt)) as Record<string, string>
    pt.fill(0)
    return plain
  } catch (e) {
    if (e instanceof EnvelopeDecryptionError) throw new KeyringSealedError()
    throw new KeyringFileError('keyring file is malformed (sealed material)', {
      cause: e,
      category: 'invalid-input',
    })
  }
}
