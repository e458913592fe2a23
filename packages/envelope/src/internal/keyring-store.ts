/**
 * The local keyring's file as storage: reading it (checks, unsealing), writing it (sealing, atomic
 * replace under the caller's lock), and noticing that another process replaced it. Holds the seal
 * parameters and the derived master key; an in-memory keyring has a store with no path.
 */
import type { RandomSource } from '@safeguards/core'
import type { FileLock } from '@safeguards/core/node'
import { KeyringFileError, KeyringSealedError } from '../errors.js'
import type { Aead } from './aead.js'
import { writeAtomic } from './fs.js'
import {
  currentSig,
  decodeMaterial,
  encodeMaterial,
  type KeyringDoc,
  parseKeyringDoc,
  readKeyringFile,
  serializeDoc,
} from './keyring-file.js'
import type { KeyMeta } from './keyring-lifecycle.js'
import {
  deriveMasterKey,
  type MasterSecret,
  type SealMeta,
  sealMaterial,
  unsealMaterial,
} from './keyring-seal.js'

/** A keyring as read from its file. */
export interface LoadedKeyring {
  name: string
  keys: KeyMeta[]
  material: Map<number, Uint8Array>
}

/** Where the master secret comes from, as the keyring's options give it. */
export interface SecretSource {
  masterSecret?: MasterSecret
  env?: Record<string, string | undefined>
}

/** Reads and writes one keyring file. */
export class KeyringStore {
  /** The file, or undefined for an in-memory keyring. */
  readonly path: string | undefined
  readonly #aead: Aead
  readonly #random: RandomSource
  readonly #secret: SecretSource
  #seal: SealMeta | undefined
  #masterKey: Uint8Array | undefined
  /** The file as last read or written, and when it was last checked. */
  #sig = ''
  #checkedAt = 0

  /** @param path - the file (undefined: in memory); @param secret - the master secret's source. */
  constructor(path: string | undefined, aead: Aead, random: RandomSource, secret: SecretSource) {
    this.path = path
    this.#aead = aead
    this.#random = random
    this.#secret = secret
  }

  /** True when the material is sealed under a master secret. */
  get sealed(): boolean {
    return this.#seal !== undefined
  }

  /** Seals what this store writes (a new keyring). */
  setSeal(seal: SealMeta, masterKey: Uint8Array): void {
    this.#seal = seal
    this.#masterKey = masterKey
  }

  /** True when `refreshMs` has passed since the last check (and records this check). */
  due(now: number, refreshMs: number): boolean {
    if (this.path === undefined || now - this.#checkedAt < refreshMs) return false
    this.#checkedAt = now
    return true
  }

  /** True when another process replaced the file since it was last read or written here. */
  async changed(): Promise<boolean> {
    const sig = this.path === undefined ? undefined : await currentSig(this.path)
    // A vanished or unreadable file is reported by the next explicit reload, not here.
    return sig !== undefined && sig !== this.#sig
  }

  /**
   * Reads the file, checks it and unseals its material.
   *
   * @throws {KeyringFileError} when it is missing, unsafe or malformed.
   * @throws {KeyringSealedError} when it is sealed and the master secret is missing or wrong.
   */
  async read(now: number): Promise<LoadedKeyring> {
    const { text, sig } = await readKeyringFile(this.path as string)
    this.#sig = sig
    this.#checkedAt = now
    const doc = parseKeyringDoc(text)
    const plain = await this.#plainMaterial(doc)
    return {
      name: doc.name,
      keys: doc.keys.map((k) => ({ ...k })),
      material: decodeMaterial(doc.keys, plain),
    }
  }

  /** The document's material in the clear (unsealed when the file is sealed). */
  async #plainMaterial(doc: KeyringDoc): Promise<Record<string, string>> {
    const secret = this.#secret.masterSecret
    if (doc.seal === undefined) {
      if (secret !== undefined)
        throw new KeyringFileError('keyring file is not sealed', { category: 'invalid-input' })
      this.#seal = undefined
      return doc.material as Record<string, string>
    }
    const s = doc.seal
    const seal: SealMeta = { kdf: s.kdf, salt: s.salt, ...(s.argon2 ? { argon2: s.argon2 } : {}) }
    if (secret === undefined) throw new KeyringSealedError()
    let masterKey = this.#masterKey
    if (masterKey === undefined || this.#seal?.salt !== s.salt)
      masterKey = await deriveMasterKey(secret, seal, this.#secret.env)
    const plain = await unsealMaterial(this.#aead, masterKey, { name: doc.name, keys: doc.keys, seal }, s)
    this.#seal = seal
    this.#masterKey = masterKey
    return plain
  }

  /**
   * Writes the keyring atomically (mode 0600): with `exclusive`, never over an existing file; with
   * `lock`, only while the lock is still held. No-op in memory.
   */
  async write(keyring: LoadedKeyring, exclusive: boolean, lock?: FileLock): Promise<void> {
    if (this.path === undefined) return
    const { name, keys } = keyring
    const material = encodeMaterial(keyring.material)
    const doc: KeyringDoc = { format: 'safeguards-keyring', version: 1, name, keys }
    if (this.#seal !== undefined && this.#masterKey !== undefined) {
      const at = { name, keys, seal: this.#seal }
      doc.seal = {
        ...this.#seal,
        ...(await sealMaterial(this.#aead, this.#masterKey, at, material, this.#random)),
      }
    } else {
      doc.material = material
    }
    await writeAtomic(this.path, serializeDoc(doc), exclusive, lock)
    // Our own write is not another process's change: remember it so the next check does not reload.
    const sig = await currentSig(this.path)
    if (sig !== undefined) this.#sig = sig
  }
}
