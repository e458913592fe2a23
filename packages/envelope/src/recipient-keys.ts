/**
 * X25519 keys for sealing envelopes to recipients (RFC 9180 DHKEM(X25519, HKDF-SHA256)): a
 * recipient's public key ({@link RecipientPublicKey}) and the private key that opens what was
 * sealed to it ({@link RecipientIdentity}).
 *
 * Formats: PEM is the file format (RFC 7468 with RFC 8410 structures: SPKI `PUBLIC KEY` and
 * PKCS#8 `PRIVATE KEY`, as `openssl genpkey -algorithm X25519` and `openssl pkey -pubout` write
 * them), JWK the format for browsers and APIs (RFC 8037: `{ kty: 'OKP', crv: 'X25519', x, d }`,
 * as Web Crypto exports them). Both import and export; `import` accepts either.
 *
 * A recipient id is the first 16 bytes of SHA-256 over the raw 32-byte public key, in hex: the
 * key's fingerprint. It is written in the envelope header so an opener finds its entry, so a
 * header shows which keys can open it (not who holds them).
 *
 * HIPAA: 164.312(e)(2)(ii) encryption of ePHI sent to patients and partners; 164.312(a)(2)(iv).
 *
 * @module
 */
import {
  assertBytes,
  bytesToBase64url,
  type RandomSource,
  randomBytes,
  Secret,
  timingSafeEqual,
} from '@safeguards/core'
import { RecipientKeyError } from './errors.js'
import { importPrivateKey, importPublicKey, X25519_KEY_LENGTH } from './internal/hpke.js'
import {
  derivePublicKey,
  parseKey,
  privateKeyToPem,
  publicJwk,
  publicKeyToPem,
  recipientIdOf,
  type X25519Jwk,
} from './internal/hpke-keys.js'

export type { X25519Jwk } from './internal/hpke-keys.js'

const REDACTED = '<redacted>'
let publicCryptoKey: (key: RecipientPublicKey) => Promise<CryptoKey>
let privateCryptoKey: (identity: RecipientIdentity) => Promise<CryptoKey>

/** The Web Crypto key of a public key, imported once (package-internal: not in the barrel). */
export function cryptoKeyOfPublic(key: RecipientPublicKey): Promise<CryptoKey> {
  return publicCryptoKey(key)
}

/** The Web Crypto key of an identity, imported once (package-internal: not in the barrel). */
export function cryptoKeyOfIdentity(identity: RecipientIdentity): Promise<CryptoKey> {
  return privateCryptoKey(identity)
}
const inspectSymbol = Symbol.for('nodejs.util.inspect.custom')

/**
 * A recipient's X25519 public key. Not secret: share it (PEM or JWK) with whoever seals to it.
 *
 * @example
 * ```ts
 * import { RecipientPublicKey } from '@safeguards/envelope'
 *
 * const patient = await RecipientPublicKey.import(await readFile('patient.pub.pem', 'utf8'))
 * patient.id // '9f1c…' (32 hex digits), written in every envelope sealed to this key
 * ```
 */
export class RecipientPublicKey {
  /** The recipient id: hex of the first 16 bytes of SHA-256 over the raw public key. */
  readonly id: string
  readonly #raw: Uint8Array
  #key: Promise<CryptoKey> | undefined

  private constructor(raw: Uint8Array) {
    this.#raw = raw
    this.id = recipientIdOf(raw)
  }

  /**
   * A public key from its 32 raw bytes (RFC 7748 u-coordinate).
   *
   * @throws {TypeError} when `raw` is not a Uint8Array.
   * @throws {RangeError} when it is not 32 bytes.
   * @example
   * ```ts
   * const pk = RecipientPublicKey.fromRaw(bytes32)
   * ```
   */
  static fromRaw(raw: Uint8Array): RecipientPublicKey {
    assertBytes(raw, 'raw', X25519_KEY_LENGTH)
    return new RecipientPublicKey(raw.slice())
  }

  /**
   * Imports a public key from PEM (`PUBLIC KEY`), JWK JSON text or a JWK object. A private key
   * (PEM `PRIVATE KEY` or a JWK with `d`) is refused, so a secret is never mistaken for a
   * recipient.
   *
   * @throws {RecipientKeyError} when the input is not an X25519 public key.
   * @example
   * ```ts
   * const archive = await RecipientPublicKey.import('-----BEGIN PUBLIC KEY-----\n…')
   * const partner = await RecipientPublicKey.import({ kty: 'OKP', crv: 'X25519', x: 'hSDw…' })
   * ```
   */
  static async import(input: string | X25519Jwk | JsonWebKey): Promise<RecipientPublicKey> {
    const parsed = parseKey(input)
    if (parsed.kind !== 'public') {
      parsed.raw.fill(0)
      throw new RecipientKeyError('expected a public key, got a private key')
    }
    const pk = new RecipientPublicKey(parsed.raw)
    await pk.#cryptoKey().catch((e: unknown) => {
      throw new RecipientKeyError('the key is not a valid X25519 public key', { cause: e })
    })
    return pk
  }

  /** The 32 raw bytes (a copy). */
  raw(): Uint8Array {
    return this.#raw.slice()
  }

  /** PEM SPKI (`-----BEGIN PUBLIC KEY-----`), as OpenSSL writes it. */
  toPem(): string {
    return publicKeyToPem(this.#raw)
  }

  /** JWK (RFC 8037) with the recipient id as `kid`. */
  toJwk(): X25519Jwk {
    return publicJwk(this.#raw)
  }

  /** `x25519:<id>`. */
  toString(): string {
    return `x25519:${this.id}`
  }

  #cryptoKey(): Promise<CryptoKey> {
    this.#key ??= importPublicKey(this.#raw)
    return this.#key
  }

  static {
    publicCryptoKey = (key) => key.#cryptoKey()
  }
}

/** Options of {@link RecipientIdentity.generate}. */
export interface GenerateIdentityOptions {
  /** Randomness for the private key (default: the platform CSPRNG). */
  random?: RandomSource
}

/**
 * A recipient's X25519 private key: opens envelopes sealed to its {@link RecipientPublicKey}.
 * Printing it, `String(identity)` and `JSON.stringify(identity)` give `<redacted>`; the key
 * leaves only through {@link RecipientIdentity.exportPem} and {@link RecipientIdentity.exportJwk},
 * as a `Secret`.
 *
 * HIPAA: 164.312(a)(2)(iv) decryption; keep identity files mode 0600, or in a KMS or HSM.
 *
 * @example
 * ```ts
 * import { RecipientIdentity } from '@safeguards/envelope'
 *
 * const archive = await RecipientIdentity.generate()
 * await writeFile('archive.key.pem', archive.exportPem().reveal(), { mode: 0o600 })
 * await writeFile('archive.pub.pem', archive.publicKey.toPem())
 * ```
 */
export class RecipientIdentity {
  /** The public key of this identity. */
  readonly publicKey: RecipientPublicKey
  readonly #raw: Uint8Array
  #key: Promise<CryptoKey> | undefined

  private constructor(raw: Uint8Array, publicKey: RecipientPublicKey) {
    this.#raw = raw
    this.publicKey = publicKey
    Object.defineProperty(this, inspectSymbol, { value: () => `RecipientIdentity(${publicKey.id})` })
  }

  /** The recipient id of the public key. */
  get id(): string {
    return this.publicKey.id
  }

  /**
   * A new random identity.
   *
   * @throws {TypeError} when `crypto.subtle` is not available.
   * @example
   * ```ts
   * const patient = await RecipientIdentity.generate()
   * ```
   */
  static async generate(options?: GenerateIdentityOptions): Promise<RecipientIdentity> {
    const raw = (options?.random ?? randomBytes)(X25519_KEY_LENGTH).slice()
    return RecipientIdentity.#fromPrivate(raw, undefined)
  }

  /**
   * An identity from its 32 raw private-key bytes (copied).
   *
   * @throws {TypeError} when `raw` is not a Uint8Array.
   * @throws {RangeError} when it is not 32 bytes.
   * @example
   * ```ts
   * const id = await RecipientIdentity.fromRaw(secretBytes)
   * ```
   */
  static fromRaw(raw: Uint8Array): Promise<RecipientIdentity> {
    assertBytes(raw, 'raw', X25519_KEY_LENGTH)
    return RecipientIdentity.#fromPrivate(raw.slice(), undefined)
  }

  /**
   * Imports a private key from PEM (`PRIVATE KEY`, PKCS#8), JWK JSON text or a JWK object with
   * `d` (its `x`, when present, must be the matching public key), given as is or in a `Secret`.
   *
   * @throws {RecipientKeyError} when the input is not an X25519 private key.
   * @example
   * ```ts
   * const me = await RecipientIdentity.import(Secret.of(await readFile('me.key.pem', 'utf8')))
   * ```
   */
  static async import(input: string | Secret<string> | X25519Jwk | JsonWebKey): Promise<RecipientIdentity> {
    const parsed = parseKey(Secret.isSecret(input) ? (input.reveal() as string) : input)
    if (parsed.kind !== 'private') {
      throw new RecipientKeyError('expected a private key (PEM PRIVATE KEY or a JWK with "d")')
    }
    return RecipientIdentity.#fromPrivate(parsed.raw, parsed.claimedPublic)
  }

  static async #fromPrivate(raw: Uint8Array, claimed: Uint8Array | undefined): Promise<RecipientIdentity> {
    let pk: Uint8Array
    try {
      pk = await derivePublicKey(raw)
    } catch (e) {
      raw.fill(0)
      throw new RecipientKeyError('the key is not a valid X25519 private key', { cause: e })
    }
    if (claimed !== undefined && !timingSafeEqual(claimed, pk)) {
      raw.fill(0)
      throw new RecipientKeyError('the JWK "x" is not the public key of its "d"')
    }
    return new RecipientIdentity(raw, RecipientPublicKey.fromRaw(pk))
  }

  /** PEM PKCS#8 (`-----BEGIN PRIVATE KEY-----`), as OpenSSL writes it. Store it mode 0600. */
  exportPem(): Secret<string> {
    return Secret.of(privateKeyToPem(this.#raw))
  }

  /** JWK (RFC 8037) with `d`, `x` and the recipient id as `kid`. */
  exportJwk(): Secret<X25519Jwk> {
    const jwk = this.publicKey.toJwk()
    return Secret.of({ ...jwk, d: bytesToBase64url(this.#raw) })
  }

  /** Overwrites the private key in memory; the identity cannot open anything afterwards. */
  destroy(): void {
    this.#raw.fill(0)
    this.#key = Promise.reject(new RecipientKeyError('the identity was destroyed'))
    this.#key.catch(() => undefined)
  }

  /** Always `<redacted>`. */
  toString(): string {
    return REDACTED
  }

  /** Always `<redacted>`, so `JSON.stringify` never prints the key. */
  toJSON(): string {
    return REDACTED
  }

  #cryptoKey(): Promise<CryptoKey> {
    this.#key ??= importPrivateKey(this.#raw)
    return this.#key
  }

  static {
    privateCryptoKey = (identity) => identity.#cryptoKey()
  }
}
