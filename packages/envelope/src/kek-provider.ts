/**
 * The key-encryption-key (KEK) provider interface. A provider holds KEKs (in a local keyring, an
 * HSM through PKCS#11, a cloud KMS) and wraps and unwraps data keys with them; the envelope core
 * never sees KEK material. Cloud KMS adapters implement this interface in their own packages
 * without touching the core.
 *
 * Contract every provider keeps:
 * - `wrap` uses the provider's current primary KEK version (or `options.keyRef` when given) and
 *   binds the wrapped key to `aad`, which the envelope builds from the suite and a digest of the
 *   encryption context (`"hge/v1/wrap" ‖ suiteId ‖ SHA-256(canonicalContext)`). A KMS passes it
 *   as its encryption context / additional authenticated data; a local AEAD uses it as AAD.
 * - `unwrap` either returns the 32-byte data key or throws: `KeyUnavailableError(keyRef, reason)`
 *   when the key is unknown, disabled, retired or destroyed (decided before any cryptography), and
 *   `EnvelopeDecryptionError` (no detail) when the wrapped key does not authenticate under `aad`.
 *   Other failures throw `KekProviderError` with the native error as `cause`.
 * - Key references are stable, printable, non-secret identifiers that include the version, for
 *   example `local:default@v3` or `pkcs11:patients@v2`; at most 1024 bytes of UTF-8.
 * - Provider ids are 1..64 bytes of printable ASCII, for example `local` or `pkcs11`.
 *
 * HIPAA: 164.312(a)(2)(iv) encryption and decryption (key management is separated from data
 * encryption, so keys can live in an HSM or KMS), 164.308(a)(7)(ii)(B) disaster recovery (key
 * references make the keys an envelope needs discoverable without decrypting it).
 *
 * @module
 */

/**
 * The lifecycle state of a KEK version:
 * - `primary`: wraps new data keys and unwraps old ones (exactly one per key, when any exists);
 * - `decrypt-only`: unwraps only (a new version before promotion, or an old one after rotation);
 * - `disabled`: neither (reversible; `retire` disables a version once everything is rewrapped);
 * - `destroyed`: key material erased (irreversible; requires explicit opt-in).
 */
export type KeyState = 'primary' | 'decrypt-only' | 'disabled' | 'destroyed'

/** Usage of one KEK version, as tracked by its usage budget. */
export interface KeyUsage {
  /** Wraps performed (or reserved) with this version. */
  wraps: bigint
  /** Hard cap: wrapping beyond it throws or rotates, per policy. */
  limit: bigint
  /** Soft limit: a warning is raised when `wraps` reaches it. */
  warnAt: bigint
}

/** What a provider reports about one key version, without key material. */
export interface KeyDescription {
  /** The key reference, for example `local:default@v3`. */
  keyRef: string
  /** The provider id, for example `local`. */
  providerId: string
  /** The version number (1, 2, ...). */
  version: number
  /** The lifecycle state. */
  state: KeyState
  /** True when the version was retired (disabled after a full rewrap); only with `state: 'disabled'`. */
  retired?: boolean
  /** Creation time, ms since the epoch, when the provider knows it. */
  createdAt?: number
  /** Usage counters, when the provider budgets wraps. */
  usage?: KeyUsage
}

/** Options for {@link KekProvider.wrap}. */
export interface WrapOptions {
  /**
   * Wrap under this key reference instead of the primary (for `rewrap --to`). The provider must
   * refuse a version that cannot wrap (not primary or decrypt-only) with `KeyUnavailableError`.
   */
  keyRef?: string
  /**
   * The 32-byte message id of the envelope being written, for providers that derive per-message
   * subkeys. With the data-key cache, one wrap serves many messages: this is then the id of the
   * first of them (a provider must not need it to unwrap).
   */
  messageId?: Uint8Array
}

/** The result of {@link KekProvider.wrap}. */
export interface WrappedKey {
  /** The key reference that wrapped the data key (with its version). */
  keyRef: string
  /** The encrypted data key (opaque to the envelope; at most 4096 bytes). */
  edk: Uint8Array
}

/**
 * A source of key-encryption keys. See the module documentation for the contract.
 *
 * HIPAA: 164.312(a)(2)(iv) encryption and decryption.
 *
 * @example
 * ```ts
 * import { createEnvelope, LocalKeyring } from '@safeguards/envelope'
 *
 * const keyring: KekProvider = await LocalKeyring.open('/var/lib/app/keyring.json')
 * const envelope = createEnvelope({ provider: keyring })
 * ```
 */
export interface KekProvider {
  /** Provider id written into each envelope next to the key reference, for example `local`. */
  readonly id: string
  /**
   * True for a provider whose wrapped key holds independent entries for several parties (sealing
   * to recipients): an envelope then defaults to format v1, whose header tag makes every entry
   * tamper-evident to every reader. Format v2 leaves wrapped keys outside the authenticated header
   * so that rewrap stays a header rewrite (docs/formats/envelope-v2.md §7).
   */
  readonly authenticateWrappedKeys?: boolean

  /**
   * Wraps a 32-byte data key under the primary KEK version (or `options.keyRef`), bound to `aad`.
   *
   * @throws {KeyUnavailableError} when there is no primary or the requested version cannot wrap.
   * @throws {UsageLimitError} when the version's usage budget is exhausted and the policy is `throw`.
   * @throws {KekProviderError} on any other provider failure.
   */
  wrap(dek: Uint8Array, aad: Uint8Array, options?: WrapOptions): Promise<WrappedKey>

  /**
   * Unwraps an encrypted data key produced by `wrap` under `keyRef`, checking `aad`.
   *
   * @throws {KeyUnavailableError} when `keyRef` is unknown, disabled, retired or destroyed.
   * @throws {EnvelopeDecryptionError} when the wrapped key does not authenticate.
   * @throws {KekProviderError} on any other provider failure.
   */
  unwrap(edk: Uint8Array, keyRef: string, aad: Uint8Array): Promise<Uint8Array>

  /**
   * Describes a key version without key material.
   *
   * @throws {KeyUnavailableError} (reason `unknown`) when the provider does not know `keyRef`.
   */
  describe(keyRef: string): Promise<KeyDescription>

  /**
   * Describes the current primary version: the one `wrap` uses by default. `rewrap` uses it to
   * skip envelopes that are already under the primary.
   *
   * @throws {KeyUnavailableError} (reason `no-primary`) when there is none.
   */
  primary(): Promise<KeyDescription>

  /** Lists every version the provider knows (optional; used by `keys list` and audits). */
  list?(): Promise<KeyDescription[]>

  /**
   * Key-state epoch (optional): a number that changes whenever the state of any key version
   * changes (add, promote, rotate, retire, disable, enable, destroy, or a reload that found the
   * keys changed), at the moment the change takes effect. An envelope's data-key cache reads it on
   * every lookup and drops every cached data key when it changes, so a disabled or destroyed KEK
   * version stops decryptions at once. Providers without it are cached for `maxAge` regardless
   * of state changes.
   */
  stateEpoch?(): number

  /**
   * Rotation hook (optional): adds a new version and promotes it, returning the new primary.
   * Called by a usage budget with policy `rotate` when the hard limit is reached.
   */
  rotate?(): Promise<KeyDescription>

  /**
   * Releases what the provider holds (HSM sessions, KMS clients, file handles), after the
   * operations in flight finish (optional; providers that hold nothing omit it). An application
   * that owns several providers closes each one on shutdown with `await provider.close?.()`.
   */
  close?(): Promise<void>
}
