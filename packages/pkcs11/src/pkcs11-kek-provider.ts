/**
 * A `KekProvider` for `@safeguards/envelope` whose key-encryption keys live in an HSM token and
 * are used there through PKCS#11 (OASIS PKCS#11 v2.40 / v3.0: `C_GenerateKey`, `C_EncryptInit` /
 * `C_Encrypt`, `C_DecryptInit` / `C_Decrypt` with `CKM_AES_GCM`, SP 800-38D).
 *
 * The KEK is an AES-256 token object created inside the token, sensitive and never extractable:
 * its value is never in this process. Wrapping a data key is `CKM_AES_GCM` encryption inside the
 * token with a 96-bit random IV and the envelope's AAD (which binds the encryption context);
 * unwrapping is GCM decryption inside the token, which checks the tag before releasing anything.
 * Why not `C_WrapKey`: SoftHSM (and several HSMs) do not offer `CKM_AES_GCM` for wrapping, and
 * `CKM_AES_KEY_WRAP_PAD` (RFC 5649) has no associated data, so it cannot bind the context. The
 * data key is in host memory either way (the envelope encrypts the data with it), so `C_WrapKey`
 * would add no protection here; `C_Encrypt` keeps the one property that matters: the KEK never
 * leaves the token. See the package README for the full reasoning.
 *
 * HIPAA: 164.312(a)(2)(iv) encryption and decryption (the keys that protect stored ePHI are held
 * in a hardware security module).
 *
 * @module
 */
import { assertBytes, type Clock, type RandomSource } from '@safeguards/core'
import {
  type DestroyOptions,
  EnvelopeDecryptionError,
  type KekProvider,
  type KeyDescription,
  KeyringStateError,
  KeyUnavailableError,
  type WrapOptions,
  type WrappedKey,
} from '@safeguards/envelope'
import { Pkcs11ClosedError } from './errors.js'
import { acquireLibrary, type LibraryLease } from './internal/binding.js'
import { DEK_BYTES, decodeEdk, encodeEdk, formatKeyRef, IV_BYTES } from './internal/codec.js'
import { decryptable, stateOf } from './internal/key-state.js'
import {
  addVersionIn,
  destroyIn,
  type LifecycleScope,
  promoteIn,
  setEnabledIn,
} from './internal/lifecycle.js'
import { assertMechanism, findToken, type ValidOptions, validateOptions } from './internal/open.js'
import { ProviderKeys } from './internal/provider-keys.js'
import { SessionPool } from './internal/session-pool.js'
import { TokenAccess } from './internal/token-access.js'
import { assertAad, decryptInToken, encryptInToken, gcmMechanism } from './internal/wrap.js'
import type { Pkcs11ProviderOptions, TokenDescription } from './options.js'

export type { Pkcs11ProviderOptions, TokenDescription, TokenSelector } from './options.js'

/**
 * A KEK provider backed by a PKCS#11 token (an HSM, a cloud HSM, or SoftHSM2 in tests).
 *
 * Key versions are token objects `CKA_LABEL = keyName`, `CKA_ID = u32 version`; key references are
 * `pkcs11:<keyName>@v<version>`. Two-phase rotation: `addVersion()` (decrypt-only everywhere), then
 * `promote(version)`; `rotate()` does both. `retire` / `disable` switch the token object's own
 * `CKA_ENCRYPT`/`CKA_DECRYPT` off, so the token refuses the version whatever any host believes;
 * `destroy` erases it (explicit opt-in). Operations share a bounded pool of sessions and are safe
 * to run concurrently.
 *
 * HIPAA: supports 164.312(a)(2)(iv) encryption and decryption (KEKs in an HSM, rotation without
 * re-encrypting data) and 164.310(d)(2)(i) disposal (`destroy` erases a version in the token).
 *
 * @hipaa 164.312(a)(2)(iv) supports
 * @hipaa 164.310(d)(2)(i) supports
 * @nist SC-12 164.312(a)(2)(iv): KEK versions are generated and kept in the token, with rotation, retire, disable and destroy
 * @nist SC-13 164.312(a)(2)(iv)
 * @nist SC-12(1) 164.312(a)(2)(iv): retired versions stay decrypt-only until rewrap, so rotation never strands data
 * @nist MP-6 164.310(d)(2)(i): destroy() erases a version's key object in the token, so every ciphertext under it becomes unreadable (cryptographic erase)
 * @evidence key versions, states and creation times kept in the token; wrap and unwrap never expose the KEK
 * @appResponsibility Use a FIPS 140-validated HSM where required; manage PINs and HSM backups by the vendor's procedure; set a rotation cadence.
 * @config module path, token label, PIN (Secret), key label
 * @verifiedBy packages/pkcs11/test/provider.test.ts
 * @verifiedBy packages/pkcs11/test/lifecycle.test.ts
 * @example
 * ```ts
 * import { Secret } from '@safeguards/core'
 * import { createEnvelope } from '@safeguards/envelope'
 * import { Pkcs11KekProvider } from '@safeguards/pkcs11'
 *
 * const hsm = await Pkcs11KekProvider.open({
 *   module: '/usr/lib/softhsm/libsofthsm2.so',
 *   token: { label: 'phi-keys' },
 *   pin: Secret.of(process.env.HSM_PIN ?? ''),
 *   keyName: 'patients',
 * })
 * if ((await hsm.list()).length === 0) await hsm.rotate() // first version, promoted
 * const envelope = createEnvelope({ provider: hsm })
 * ```
 */
export class Pkcs11KekProvider implements KekProvider {
  /** Provider id written into envelopes (default `pkcs11`). */
  readonly id: string
  /** The key name (`CKA_LABEL`) of this KEK's versions. */
  readonly keyName: string
  /** The token in use (label, serial, manufacturer, model). */
  readonly token: TokenDescription

  readonly #lease: LibraryLease
  readonly #scope: LifecycleScope
  readonly #pool: SessionPool
  readonly #token: TokenAccess
  readonly #keys: ProviderKeys
  readonly #clock: Clock
  readonly #random: RandomSource
  #closed = false
  #inflight = 0
  #drained: (() => void) | undefined

  private constructor(
    options: ValidOptions & { lease: LibraryLease; pool: SessionPool; token: TokenDescription },
  ) {
    this.id = options.providerId
    this.keyName = options.keyName
    this.token = options.token
    this.#lease = options.lease
    this.#scope = {
      providerId: this.id,
      keyName: this.keyName,
      keyRef: (v) => formatKeyRef(this.id, this.keyName, v),
    }
    this.#pool = options.pool
    this.#token = new TokenAccess({ ...options, lease: options.lease, pool: options.pool })
    this.#keys = new ProviderKeys({
      ...options,
      token: this.#token,
      isClosed: () => this.#closed,
    })
    this.#clock = options.clock
    this.#random = options.random
  }

  /**
   * Loads the PKCS#11 library (once per process), finds the token, logs in with the PIN, checks
   * that the token offers `CKM_AES_GCM`, and reads the key state. The PIN is revealed only to
   * `C_Login`; no message ever contains it.
   *
   * HIPAA: 164.312(a)(1) access control, 164.312(d) entity authentication (the application
   * authenticates to the HSM).
   *
   * @throws {TypeError | RangeError} on malformed options (the PIN must be a `Secret`).
   * @throws {Pkcs11ModuleError} (`ERR_PKCS11_MODULE`) when the library cannot be loaded or initialised.
   * @throws {Pkcs11TokenNotFoundError} (`ERR_PKCS11_TOKEN_NOT_FOUND`) when no token, or several, match.
   * @throws {Pkcs11LoginError} (`ERR_PKCS11_LOGIN`) when the PIN is refused.
   * @throws {Pkcs11MechanismError} (`ERR_PKCS11_MECHANISM`) when the token lacks `CKM_AES_GCM`.
   * @example
   * ```ts
   * const hsm = await Pkcs11KekProvider.open({
   *   module: '/usr/lib/softhsm/libsofthsm2.so',
   *   token: { label: 'phi-keys' },
   *   pin: Secret.of(process.env.HSM_PIN ?? ''),
   *   keyName: 'patients',
   * })
   * ```
   */
  static async open(options: Pkcs11ProviderOptions): Promise<Pkcs11KekProvider> {
    const o = validateOptions(options)
    const lease = await acquireLibrary(o.module)
    let pool: SessionPool | undefined
    try {
      const { library, binding } = lease
      const { slot, info } = findToken(library, binding, o.token)
      assertMechanism(library, binding, slot)
      pool = new SessionPool({ lease, slot, tokenLabel: info.label, pin: o.pin, max: o.maxSessions })
      await pool.warmUp()
      const provider = new Pkcs11KekProvider({ ...o, lease, pool, token: info })
      await provider.refresh()
      return provider
    } catch (e) {
      await pool?.close()
      lease.release()
      throw e
    }
  }

  // --- KekProvider ---------------------------------------------------------------------------

  /**
   * Wraps a 32-byte data key inside the token under the primary version (or `options.keyRef`,
   * which must be primary or decrypt-only): AES-256-GCM with a fresh 96-bit IV and `aad`.
   *
   * HIPAA: 164.312(a)(2)(iv) encryption.
   *
   * @throws {TypeError | RangeError} when `dek` is not 32 bytes or `aad` is not bytes (≤ 4096).
   * @throws {KeyUnavailableError} when there is no primary, or the version is unknown, disabled,
   *   retired, destroyed or the token is unreachable.
   * @throws {UsageLimitError} when the version reached its usage cap and the policy is `throw`.
   * @throws {Pkcs11KeyPolicyError} when the version's key object breaks the key policy.
   * @throws {KekProviderError} on any other token failure.
   * @example
   * ```ts
   * const { keyRef, edk } = await hsm.wrap(dek, aad) // keyRef 'pkcs11:patients@v2', edk 61 bytes
   * ```
   */
  wrap(dek: Uint8Array, aad: Uint8Array, options?: WrapOptions): Promise<WrappedKey> {
    return this.#track(() => this.#wrap(dek, aad, options))
  }

  async #wrap(dek: Uint8Array, aad: Uint8Array, options?: WrapOptions): Promise<WrappedKey> {
    assertBytes(dek, 'dek', DEK_BYTES)
    assertAad(aad)
    const { keyRef, object } = await this.#keys.reserveWrap(options?.keyRef, () => this.rotate())
    const iv = this.#random(IV_BYTES)
    assertBytes(iv, 'random(12)', IV_BYTES)
    const mechanism = gcmMechanism(this.#lease.binding, iv, keyRef, aad)
    const sealed = await this.#token.run(object, keyRef, 'wrap', (ctx, handle) =>
      encryptInToken(ctx, handle, mechanism, dek, this.id),
    )
    return { keyRef, edk: encodeEdk(iv, sealed) }
  }

  /**
   * Unwraps a data key inside the token. Availability is decided first (unknown, disabled,
   * retired, destroyed: `KeyUnavailableError`); then every failure to authenticate (wrong AAD,
   * wrong version, any changed byte, a malformed EDK) throws the same `EnvelopeDecryptionError`.
   *
   * HIPAA: 164.312(a)(2)(iv) decryption; 164.312(c)(2) integrity (the GCM tag is checked inside
   * the token before the key is released).
   *
   * @throws {KeyUnavailableError} when `keyRef` is unknown, disabled, retired, destroyed, or the token is unreachable.
   * @throws {EnvelopeDecryptionError} when the EDK does not authenticate under `aad`.
   * @throws {Pkcs11KeyPolicyError} when the version's key object breaks the key policy.
   * @example
   * ```ts
   * const dek = await hsm.unwrap(edk, 'pkcs11:patients@v2', aad)
   * ```
   */
  unwrap(edk: Uint8Array, keyRef: string, aad: Uint8Array): Promise<Uint8Array> {
    return this.#track(() => this.#unwrap(edk, keyRef, aad))
  }

  async #unwrap(edk: Uint8Array, keyRef: string, aad: Uint8Array): Promise<Uint8Array> {
    assertBytes(edk, 'edk')
    assertAad(aad)
    const version = this.#keys.versionOf(keyRef)
    let state = await this.#keys.fresh()
    if (!state.keys.has(version) && !state.doc.destroyed.includes(version)) {
      state = await this.#token.reload() // perhaps added since: read the token once more
    }
    const object = decryptable(state, version, keyRef)
    const parts = decodeEdk(edk)
    if (parts === undefined) throw new EnvelopeDecryptionError()
    const mechanism = gcmMechanism(this.#lease.binding, parts.iv, keyRef, aad)
    return this.#token.run(object, keyRef, 'unwrap', (ctx, handle) =>
      decryptInToken(ctx, handle, mechanism, parts.sealed),
    )
  }

  /**
   * Describes a version: state, creation time (when this package created it) and usage (wraps
   * counted in the usage store). Never any key material.
   *
   * @throws {KeyUnavailableError} (reason `unknown`) when the version is not in the token.
   * @example
   * ```ts
   * await hsm.describe('pkcs11:patients@v1') // { state: 'decrypt-only', version: 1, ... }
   * ```
   */
  async describe(keyRef: string): Promise<KeyDescription> {
    const version = this.#keys.versionOf(keyRef)
    const state = await this.#keys.fresh()
    const s = stateOf(state, version)
    if (s === undefined) throw new KeyUnavailableError(keyRef, 'unknown')
    return this.#keys.describe(state, version, s)
  }

  /**
   * Describes the primary version.
   *
   * @throws {KeyUnavailableError} (reason `no-primary`) when no version is primary.
   * @example
   * ```ts
   * const { keyRef } = await hsm.primary() // 'pkcs11:patients@v2'
   * ```
   */
  async primary(): Promise<KeyDescription> {
    const state = await this.#keys.fresh()
    const primary = state.doc.primary
    if (primary === undefined || stateOf(state, primary) !== 'primary') {
      throw new KeyUnavailableError(this.#keys.familyRef(), 'no-primary')
    }
    return this.#keys.describe(state, primary, 'primary')
  }

  /**
   * Lists every version in the token (and destroyed ones), oldest first.
   *
   * @throws {KeyUnavailableError} (reason `unreachable`) when the token cannot be reached.
   *
   * @example
   * ```ts
   * for (const d of await hsm.list()) console.log(d.keyRef, d.state)
   * ```
   */
  async list(): Promise<KeyDescription[]> {
    const state = await this.#token.reload()
    const versions = new Set<number>([...state.keys.keys(), ...state.doc.destroyed])
    return Promise.all(
      [...versions]
        .sort((a, b) => a - b)
        .map((v) => this.#keys.describe(state, v, stateOf(state, v) ?? 'destroyed')),
    )
  }

  /**
   * Adds a new version and promotes it: the new primary. On an empty key name this creates
   * version 1. For two-phase rotation across many hosts, call {@link addVersion}, wait until every
   * host has seen it, then {@link promote}.
   *
   * HIPAA: 164.312(a)(2)(iv) (key rotation).
   *
   * @throws {KeyringStateError | KekProviderError} as {@link addVersion} and {@link promote}.
   * @example
   * ```ts
   * const next = await hsm.rotate() // { keyRef: 'pkcs11:patients@v3', state: 'primary', ... }
   * ```
   */
  async rotate(): Promise<KeyDescription> {
    const added = await this.addVersion()
    return this.promote(added.version)
  }

  // --- Lifecycle ------------------------------------------------------------------------------

  /**
   * Generates a new version inside the token (AES-256, sensitive, never extractable), in state
   * `decrypt-only`: every host can unwrap with it before it becomes primary.
   *
   * @throws {Pkcs11MechanismError} when the token cannot generate AES keys.
   * @throws {KekProviderError} when the token refuses.
   * @example
   * ```ts
   * const { version } = await hsm.addVersion()
   * ```
   */
  addVersion(): Promise<KeyDescription> {
    return this.#keys.mutate((ctx, state) => addVersionIn({ ...this.#scope, ctx, state }, this.#clock.now()))
  }

  /**
   * Makes `version` the primary (it must be enabled). The previous primary becomes decrypt-only.
   *
   * @throws {KeyringStateError} when the version is unknown, disabled or destroyed.
   * @example
   * ```ts
   * await hsm.promote(3)
   * ```
   */
  promote(version: number): Promise<KeyDescription> {
    return this.#keys.mutate((ctx, state) => promoteIn({ ...this.#scope, ctx, state }, version))
  }

  /**
   * Disables a non-primary version in the token itself (`CKA_ENCRYPT` and `CKA_DECRYPT` off):
   * envelopes under it cannot be opened until it is enabled again.
   *
   * @throws {KeyringStateError} when the version is the primary, unknown or destroyed.
   * @example
   * ```ts
   * await hsm.disable(1)
   * ```
   */
  disable(version: number): Promise<KeyDescription> {
    return this.#setEnabled(version, false, false)
  }

  /**
   * Retires a version: disables it and records that it was retired on purpose (after every
   * envelope under it was rewrapped). Unwrap then fails with reason `retired`.
   *
   * @throws {KeyringStateError} when the version is the primary, unknown or destroyed.
   * @example
   * ```ts
   * await hsm.retire(1)
   * ```
   */
  retire(version: number): Promise<KeyDescription> {
    return this.#setEnabled(version, false, true)
  }

  /**
   * Enables a disabled or retired version again (decrypt-only).
   *
   * @throws {KeyringStateError} when the version is unknown or destroyed.
   * @example
   * ```ts
   * await hsm.enable(1)
   * ```
   */
  enable(version: number): Promise<KeyDescription> {
    return this.#setEnabled(version, true, false)
  }

  /**
   * Destroys a disabled version's key object in the token (`C_DestroyObject`). Irreversible: every
   * envelope still under it becomes unreadable. Requires `{ allowDestroy: true }`.
   *
   * HIPAA: 164.310(d)(2)(i) disposal (crypto-shredding of the data under that version).
   *
   * @throws {KeyringStateError} without `allowDestroy`, or when the version is enabled, primary or unknown.
   * @example
   * ```ts
   * await hsm.retire(1)
   * await hsm.destroy(1, { allowDestroy: true })
   * ```
   */
  destroy(version: number, options: DestroyOptions): Promise<KeyDescription> {
    return this.#keys.mutate((ctx, state) => {
      if (options?.allowDestroy !== true) {
        throw new KeyringStateError(`destroying version ${version} requires { allowDestroy: true }`)
      }
      return destroyIn({ ...this.#scope, ctx, state }, version)
    })
  }

  /**
   * Reads the key state from the token now (instead of waiting for the cache to expire).
   *
   * @throws {KeyUnavailableError} (reason `unreachable`) when the token cannot be reached.
   * @throws {KekProviderError} when the token refuses to list the objects.
   *
   * @example
   * ```ts
   * await hsm.refresh() // after another host promoted a version
   * ```
   */
  async refresh(): Promise<void> {
    await this.#token.reload(true)
  }

  /**
   * Closes the provider: waits for operations in flight, closes its sessions, and finalises the
   * library when no other provider in the process uses it. Idempotent.
   *
   * @example
   * ```ts
   * await hsm.close()
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#inflight > 0) await new Promise<void>((resolve) => (this.#drained = resolve))
    await this.#keys.settled()
    await this.#pool.close()
    this.#lease.release()
  }

  // --- internals ------------------------------------------------------------------------------

  /** Counts an operation in flight so that `close()` waits for it; refuses new ones once closed. */
  async #track<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new Pkcs11ClosedError()
    this.#inflight++
    try {
      return await fn()
    } finally {
      this.#inflight--
      if (this.#inflight === 0) this.#drained?.()
    }
  }

  /**
   * The key-state epoch ({@link KekProvider.stateEpoch}), read by an envelope's data-key cache on
   * every lookup: it changes when a lifecycle change made through this provider starts (before
   * the token is touched), and when a read of the token finds any version's state changed (by
   * another host, or by `safeguards hsm`). A read is started in the background whenever the
   * state is older than `cacheTtlMs`, so a change made elsewhere stops cached data keys within
   * about `cacheTtlMs` plus one token round trip, even when every decryption hits the cache.
   *
   * @example
   * ```ts
   * const before = hsm.stateEpoch()
   * await hsm.disable(1)
   * hsm.stateEpoch() !== before // true: every cached data key is dropped
   * ```
   */
  stateEpoch(): number {
    if (!this.#closed && this.#token.stale()) {
      // Background refresh: errors surface on the next wrap or unwrap, which reads the state itself.
      this.#token.reload().catch(() => undefined)
    }
    return this.#token.epoch
  }

  #setEnabled(version: number, enabled: boolean, retired: boolean): Promise<KeyDescription> {
    return this.#keys.mutate((ctx, state) =>
      setEnabledIn({ ...this.#scope, ctx, state }, { version, enabled, retired }),
    )
  }
}
