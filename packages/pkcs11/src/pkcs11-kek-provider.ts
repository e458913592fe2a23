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
import {
  assertBytes,
  assertInteger,
  type Clock,
  createEmitter,
  randomBytes as defaultRandom,
  type Emitter,
  type EventOptions,
  type RandomSource,
  type SafeguardEventType,
  SafeguardsError,
  Secret,
  systemClock,
} from '@safeguards/core'
import {
  type DestroyOptions,
  EnvelopeDecryptionError,
  type KekProvider,
  KekProviderError,
  type KeyDescription,
  KeyringStateError,
  type KeyringUsageOptions,
  type KeyState,
  KeyUnavailableError,
  type KeyUnavailableReason,
  UsageLimitError,
  type WrapOptions,
  type WrappedKey,
} from '@safeguards/envelope'
import { Pkcs11ClosedError, Pkcs11MechanismError, Pkcs11TokenNotFoundError } from './errors.js'
import {
  acquireLibrary,
  ckrName,
  constant,
  type Handle,
  type LibraryLease,
  type Pkcs11Library,
  type Pkcs11Module,
} from './internal/binding.js'
import {
  DEK_BYTES,
  decodeEdk,
  encodeEdk,
  formatKeyRef,
  IV_BYTES,
  KEY_NAME,
  MAX_AAD_BYTES,
  MAX_VERSION,
  PROVIDER_ID,
  parseKeyRef,
  TAG_BYTES,
  tokenAad,
} from './internal/codec.js'
import { SessionPool } from './internal/session-pool.js'
import {
  assertSafe,
  generateVersion,
  loadState,
  type StateDoc,
  setUsable,
  type TokenContext,
  type TokenState,
  type VersionObject,
  writeDoc,
} from './internal/token-store.js'
import { UsageBudget, usageSettings } from './internal/usage.js'

/** Which token to use: by label (as `softhsm2-util --init-token --label` sets it) or by serial number. */
export type TokenSelector = { label: string; serial?: never } | { serial: string; label?: never }

/**
 * Options of {@link Pkcs11KekProvider.open}.
 *
 * `events` receives the key lifecycle events (`key.created`, `key.rotated`, `key.retired`,
 * `key.disabled`, `key.enabled`, `key.destroyed`) once the change is made in the token and read
 * back, and `key.budget.warning` once per version and provider when its reserved usage reaches
 * `usage.warnAt`. A critical sink is awaited: when it fails, the call rejects with
 * `EventSinkError` (`ERR_EVENT_SINK`) but the change stands (the token already holds it).
 */
export interface Pkcs11ProviderOptions extends EventOptions {
  /** Path of the PKCS#11 library, for example `/usr/lib/softhsm/libsofthsm2.so`. */
  module: string
  /** The token. */
  token: TokenSelector
  /** The user PIN, as a `Secret` so that it never prints. */
  pin: Secret<string>
  /** The key name: `CKA_LABEL` of every version of this KEK (`[A-Za-z0-9._-]`, 1..64 characters). */
  keyName: string
  /** Provider id written into envelopes (default `pkcs11`). */
  providerId?: string
  /** Most sessions open at once, 1..64 (default 4). Each wrap or unwrap holds one exclusively. */
  maxSessions?: number
  /**
   * How long the key state read from the token is trusted before it is read again, in ms
   * (default 5000; 0 reads it on every operation). Lifecycle changes made through this provider
   * apply at once; changes made elsewhere are seen within this time, and a version the token
   * has disabled is refused by the token itself regardless.
   */
  cacheTtlMs?: number
  /** Accept key versions that were imported (not `CKA_ALWAYS_SENSITIVE` / `CKA_NEVER_EXTRACTABLE`). Default false. */
  allowImportedKeys?: boolean
  /**
   * Usage budget per version, as for the envelope's `LocalKeyring`: hard `limit` (default 2^32 wraps,
   * SP 800-38D §8.3 for random IVs), `warnAt` (default 2^23, a `key.budget.warning` event), `policy` at the limit
   * (`throw`, or `rotate`: add and promote a new HSM version, then go on), and the `store` that
   * counts (default in memory, per process: give a shared store, e.g. on PostgreSQL or Redis, when
   * several hosts wrap under the same HSM key).
   */
  usage?: KeyringUsageOptions
  /** Clock for creation times (default the system clock). */
  clock?: Clock
  /** Source of the GCM IVs (default the platform CSPRNG). */
  random?: RandomSource
}

/** Non-secret facts about the token a provider uses. */
export interface TokenDescription {
  label: string
  serialNumber: string
  manufacturer: string
  model: string
}

/** Return values after which the session (or the whole token login) cannot be trusted any more. */
const SESSION_FAULTS = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_DEVICE_REMOVED',
  'CKR_DEVICE_ERROR',
  'CKR_DEVICE_MEMORY',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_OPERATION_ACTIVE',
])
const KEY_GONE = new Set(['CKR_KEY_HANDLE_INVALID', 'CKR_OBJECT_HANDLE_INVALID'])

/** Keep the session after an error only when the token answered with an ordinary, operation-level code. */
const keepSession = (e: unknown): boolean => {
  if (e instanceof KeyUnavailableError || e instanceof EnvelopeDecryptionError) return true
  const rv = ckrName(e)
  return rv !== undefined && !SESSION_FAULTS.has(rv)
}

const trimPadded = (s: string): string => s.replace(/[ \0]+$/, '')

function call<T>(fn: (cb: (error: Error | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((error, value) => (error ? reject(error) : resolve(value)))
  })
}

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
  readonly #pool: SessionPool
  readonly #cacheTtlMs: number
  readonly #allowImportedKeys: boolean
  readonly #budget: UsageBudget
  readonly #emitter: Emitter
  readonly #clock: Clock
  readonly #random: RandomSource
  #state: TokenState | undefined
  #loadedAt = 0
  /** Key-state epoch: bumped when a lifecycle change starts and when a read finds the states changed. */
  #epoch = 0
  /** The version states of the last read, to tell whether a read found a change. */
  #fingerprint = ''
  /** Numbers of the last read started and of the last read whose state was kept. */
  #readSeq = 0
  #appliedSeq = 0
  #loading: Promise<TokenState> | undefined
  #lifecycle: Promise<unknown> = Promise.resolve()
  #closed = false
  #inflight = 0
  #drained: (() => void) | undefined

  private constructor(
    options: Required<
      Pick<
        Pkcs11ProviderOptions,
        'keyName' | 'providerId' | 'cacheTtlMs' | 'allowImportedKeys' | 'clock' | 'random'
      >
    > & {
      budget: UsageBudget
      emitter: Emitter
      lease: LibraryLease
      pool: SessionPool
      token: TokenDescription
    },
  ) {
    this.id = options.providerId
    this.keyName = options.keyName
    this.token = options.token
    this.#lease = options.lease
    this.#pool = options.pool
    this.#cacheTtlMs = options.cacheTtlMs
    this.#allowImportedKeys = options.allowImportedKeys
    this.#budget = options.budget
    this.#emitter = options.emitter
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
    let version: number
    let object: VersionObject
    let keyRef: string
    for (let attempt = 0; ; attempt++) {
      const state = await this.#fresh()
      if (options?.keyRef !== undefined) {
        version = this.#versionOf(options.keyRef)
      } else {
        const primary = state.doc.primary
        if (primary === undefined || this.#stateOf(state, primary) !== 'primary') {
          throw new KeyUnavailableError(this.#familyRef(), 'no-primary')
        }
        version = primary
      }
      keyRef = this.#ref(version)
      object = this.#usable(state, version, keyRef)
      const v = version
      if (await this.#budget.reserve(keyRef, (n) => this.#warn(v, n))) break
      const { policy, limit } = this.#budget.settings
      if (policy === 'rotate' && attempt === 0 && options?.keyRef === undefined) {
        // Another host may have rotated already: rotate only if the primary is still this version.
        const now = await this.#reload()
        if (now.doc.primary === version) await this.rotate()
        continue
      }
      throw new UsageLimitError(keyRef, limit)
    }
    const iv = this.#random(IV_BYTES)
    assertBytes(iv, 'random(12)', IV_BYTES)
    const sealed = await this.#run(object, keyRef, 'wrap', async (ctx, handle) => {
      ctx.library.C_EncryptInit(ctx.session, this.#gcm(iv, keyRef, aad), handle)
      const out = new Uint8Array(DEK_BYTES + TAG_BYTES)
      const result = await call<Uint8Array>((cb) => ctx.library.C_Encrypt(ctx.session, dek, out, cb))
      if (result.length !== DEK_BYTES + TAG_BYTES) {
        throw new KekProviderError(this.id, `C_Encrypt returned ${result.length} bytes, expected 48`)
      }
      return result.slice()
    })
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
    const version = this.#versionOf(keyRef)
    let state = await this.#fresh()
    if (!state.keys.has(version) && !state.doc.destroyed.includes(version)) {
      state = await this.#reload() // perhaps added since: read the token once more
    }
    const object = this.#decryptable(state, version, keyRef)
    const parts = decodeEdk(edk)
    if (parts === undefined) throw new EnvelopeDecryptionError()
    return this.#run(object, keyRef, 'unwrap', async (ctx, handle) => {
      try {
        ctx.library.C_DecryptInit(ctx.session, this.#gcm(parts.iv, keyRef, aad), handle)
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
        result = await call<Uint8Array>((cb) => ctx.library.C_Decrypt(ctx.session, parts.sealed, out, cb))
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
    })
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
    const version = this.#versionOf(keyRef)
    const state = await this.#fresh()
    const s = this.#stateOf(state, version)
    if (s === undefined) throw new KeyUnavailableError(keyRef, 'unknown')
    return this.#describe(state, version, s)
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
    const state = await this.#fresh()
    const primary = state.doc.primary
    if (primary === undefined || this.#stateOf(state, primary) !== 'primary') {
      throw new KeyUnavailableError(this.#familyRef(), 'no-primary')
    }
    return this.#describe(state, primary, 'primary')
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
    const state = await this.#reload()
    const versions = new Set<number>([...state.keys.keys(), ...state.doc.destroyed])
    return Promise.all(
      [...versions]
        .sort((a, b) => a - b)
        .map((v) => this.#describe(state, v, this.#stateOf(state, v) ?? 'destroyed')),
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
    return this.#mutate((ctx, state) => {
      let next = Math.max(
        0,
        ...state.keys.keys(),
        ...state.doc.destroyed,
        ...Object.keys(state.doc.versions).map(Number),
      )
      for (let attempt = 0; attempt < 5; attempt++) {
        next++
        if (next > MAX_VERSION) throw new KeyringStateError('no version number left')
        if (generateVersion(ctx, this.keyName, next) === undefined) continue
        const doc = cloneDoc(state.doc)
        doc.versions[String(next)] = { createdAt: this.#clock.now() }
        writeDoc(ctx, this.keyName, state, doc)
        return [next, 'key.created']
      }
      throw new KekProviderError(this.id, 'another writer keeps creating the same version numbers')
    })
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
    return this.#mutate((ctx, state) => {
      const object = this.#lifecycleTarget(state, version)
      if (!object.decrypt) throw new KeyringStateError(`cannot promote version ${version}: it is disabled`)
      assertSafe(object, this.#ref(version))
      if (!object.encrypt) setUsable(ctx, object.handle, true)
      const was = state.doc.primary === version && object.encrypt
      const doc = cloneDoc(state.doc)
      doc.primary = version
      writeDoc(ctx, this.keyName, state, doc)
      return [version, was ? undefined : 'key.rotated']
    })
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
    return this.#mutate((ctx, state) => {
      if (options?.allowDestroy !== true) {
        throw new KeyringStateError(`destroying version ${version} requires { allowDestroy: true }`)
      }
      const object = this.#lifecycleTarget(state, version)
      if (object.decrypt || object.encrypt) {
        throw new KeyringStateError(`cannot destroy version ${version}: disable or retire it first`)
      }
      const doc = cloneDoc(state.doc)
      doc.destroyed.push(version)
      // Record first: if the destroy below fails, the version reads as destroyed and is not used.
      writeDoc(ctx, this.keyName, state, doc)
      ctx.library.C_DestroyObject(ctx.session, object.handle)
      return [version, 'key.destroyed']
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
    await this.#reload(true)
  }

  /**
   * Reads the key state from the token, sharing a read already in flight unless `fresh` (after a
   * lifecycle change, a read started before it must not answer). Reads are numbered, and a read
   * never replaces the state of a read that started after it.
   */
  #reload(fresh = false): Promise<TokenState> {
    if (this.#loading !== undefined && !fresh) return this.#loading
    const seq = ++this.#readSeq
    const loading = this.#withSession((ctx) =>
      loadState(ctx, this.keyName, { allowImportedKeys: this.#allowImportedKeys }),
    )
      .catch((e: unknown) => {
        if (e instanceof SafeguardsError) throw e
        const rv = ckrName(e)
        if (rv !== undefined && SESSION_FAULTS.has(rv)) {
          throw new KeyUnavailableError(this.#familyRef(), 'unreachable', { cause: e })
        }
        throw new KekProviderError(this.id, `reading the key state failed (${rv ?? 'native error'})`, {
          cause: e,
        })
      })
      .then(
        (state) => {
          if (this.#loading === loading) this.#loading = undefined
          if (seq < this.#appliedSeq) return state
          this.#appliedSeq = seq
          const fingerprint = this.#fingerprintOf(state)
          if (fingerprint !== this.#fingerprint) {
            this.#fingerprint = fingerprint
            this.#epoch++
          }
          this.#state = state
          this.#loadedAt = this.#clock.now()
          return state
        },
        (e: unknown) => {
          if (this.#loading === loading) this.#loading = undefined
          throw e
        },
      )
    this.#loading = loading
    return loading
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
    await this.#lifecycle
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

  #ref(version: number): string {
    return formatKeyRef(this.id, this.keyName, version)
  }

  #familyRef(): string {
    return `${this.id}:${this.keyName}`
  }

  #versionOf(keyRef: string): number {
    if (typeof keyRef !== 'string') throw new TypeError('"keyRef" expected a string')
    const version = parseKeyRef(keyRef, this.id, this.keyName)
    if (version === undefined) throw new KeyUnavailableError(keyRef, 'unknown')
    return version
  }

  /** The primary and every version's state, as one comparable string. */
  #fingerprintOf(state: TokenState): string {
    const versions = new Set<number>([...state.keys.keys(), ...state.doc.destroyed])
    return [...versions]
      .sort((a, b) => a - b)
      .map((v) => `${v}:${this.#stateOf(state, v)}:${state.doc.versions[String(v)]?.retired === true}`)
      .join(',')
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
    if (
      !this.#closed &&
      this.#loading === undefined &&
      this.#clock.now() - this.#loadedAt >= this.#cacheTtlMs
    ) {
      // Background refresh: errors surface on the next wrap or unwrap, which reads the state itself.
      this.#reload().catch(() => undefined)
    }
    return this.#epoch
  }

  #stateOf(state: TokenState, version: number): KeyState | undefined {
    const object = state.keys.get(version)
    if (object === undefined) return state.doc.destroyed.includes(version) ? 'destroyed' : undefined
    if (state.doc.destroyed.includes(version)) return 'destroyed'
    if (!object.decrypt) return 'disabled'
    if (state.doc.primary === version && object.encrypt) return 'primary'
    return 'decrypt-only'
  }

  #unavailable(state: TokenState, version: number, keyRef: string): KeyUnavailableError | undefined {
    const s = this.#stateOf(state, version)
    let reason: KeyUnavailableReason | undefined
    if (s === undefined) reason = 'unknown'
    else if (s === 'destroyed') reason = 'destroyed'
    else if (s === 'disabled')
      reason = state.doc.versions[String(version)]?.retired === true ? 'retired' : 'disabled'
    return reason === undefined ? undefined : new KeyUnavailableError(keyRef, reason)
  }

  #decryptable(state: TokenState, version: number, keyRef: string): VersionObject {
    const error = this.#unavailable(state, version, keyRef)
    if (error !== undefined) throw error
    const object = state.keys.get(version) as VersionObject
    assertSafe(object, keyRef)
    return object
  }

  #usable(state: TokenState, version: number, keyRef: string): VersionObject {
    const object = this.#decryptable(state, version, keyRef)
    if (!object.encrypt) throw new KeyUnavailableError(keyRef, 'disabled')
    return object
  }

  #describeWith(state: TokenState, version: number, s: KeyState, wraps: bigint): KeyDescription {
    const meta = state.doc.versions[String(version)]
    const d: KeyDescription = { keyRef: this.#ref(version), providerId: this.id, version, state: s }
    if (s === 'disabled' && meta?.retired === true) d.retired = true
    if (meta?.createdAt !== undefined) d.createdAt = meta.createdAt
    const { limit, warnAt } = this.#budget.settings
    d.usage = { wraps, limit, warnAt }
    return d
  }

  async #describe(state: TokenState, version: number, s: KeyState): Promise<KeyDescription> {
    return this.#describeWith(state, version, s, await this.#budget.used(this.#ref(version)))
  }

  #warn(version: number, reserved: bigint): Promise<void> | undefined {
    if (!this.#emitter.active) return undefined
    return this.#emitter.emit({
      type: 'key.budget.warning',
      at: this.#clock.now(),
      source: '@safeguards/pkcs11',
      outcome: 'success',
      keyRef: this.#ref(version),
      counts: { wraps: Number(reserved), limit: Number(this.#budget.settings.limit) },
    })
  }

  #gcm(
    iv: Uint8Array,
    keyRef: string,
    aad: Uint8Array,
  ): { mechanism: number; parameter: { type: number; [k: string]: unknown } } {
    const b = this.#lease.binding
    return {
      mechanism: constant(b, 'CKM_AES_GCM'),
      parameter: {
        type: constant(b, 'CK_PARAMS_AES_GCM'),
        iv,
        aad: tokenAad(keyRef, aad),
        ivBits: 96,
        tagBits: 128,
      },
    }
  }

  async #fresh(): Promise<TokenState> {
    if (this.#closed) throw new Pkcs11ClosedError()
    const state = this.#state
    if (state !== undefined && this.#clock.now() - this.#loadedAt < this.#cacheTtlMs) return state
    return this.#reload()
  }

  /**
   * Runs `fn` on a pooled session. When the session turns out to be dead (closed by the token, a
   * token reset, a lost login), it is discarded and, if `retry`, `fn` runs once more on a fresh
   * session (logging in again): wrap, unwrap and reads are idempotent; lifecycle changes are not
   * retried.
   */
  async #withSession<T>(fn: (ctx: TokenContext) => Promise<T> | T, retry = true): Promise<T> {
    const { library, binding } = this.#lease
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#pool.use((session) => fn({ library, binding, session }), keepSession)
      } catch (e) {
        const rv = ckrName(e)
        if (rv === undefined || !SESSION_FAULTS.has(rv)) throw e
        this.#pool.discardIdle()
        if (!retry || attempt > 0) throw e
      }
    }
  }

  /**
   * Runs a wrap or unwrap with the version's key handle and maps token failures onto the provider
   * contract. When the token says the handle is invalid (the object was replaced or the token
   * renumbered its handles, for example after an HA failover), the state is read again and, if the
   * version is still usable, the call runs once more with the new handle.
   */
  async #run<T>(
    object: VersionObject,
    keyRef: string,
    op: 'wrap' | 'unwrap',
    fn: (ctx: TokenContext, handle: Handle) => Promise<T>,
  ): Promise<T> {
    let current = object
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = current.handle
        return await this.#withSession((ctx) => fn(ctx, handle))
      } catch (e) {
        if (e instanceof SafeguardsError) throw e
        const rv = ckrName(e)
        if (rv === 'CKR_KEY_FUNCTION_NOT_PERMITTED' || (rv !== undefined && KEY_GONE.has(rv))) {
          // Someone changed the key in the token: re-read the state and act on it as it now is.
          const state = await this.#reload()
          const error = this.#unavailable(state, object.version, keyRef)
          if (error !== undefined) throw error
          const now = state.keys.get(object.version) as VersionObject
          assertSafe(now, keyRef)
          if (op === 'wrap' && !now.encrypt) throw new KeyUnavailableError(keyRef, 'disabled')
          if (attempt === 0 && rv !== 'CKR_KEY_FUNCTION_NOT_PERMITTED') {
            current = now
            continue
          }
          throw new KeyUnavailableError(
            keyRef,
            rv === 'CKR_KEY_FUNCTION_NOT_PERMITTED' ? 'disabled' : 'unknown',
          )
        }
        if (rv !== undefined && SESSION_FAULTS.has(rv)) {
          throw new KeyUnavailableError(keyRef, 'unreachable', { cause: e })
        }
        throw new KekProviderError(this.id, `${op} failed (${rv ?? 'native error'})`, { cause: e })
      }
    }
  }

  #lifecycleTarget(state: TokenState, version: number): VersionObject {
    assertInteger(version, 'version', 1, MAX_VERSION)
    const object = state.keys.get(version)
    if (object === undefined || state.doc.destroyed.includes(version)) {
      throw new KeyringStateError(`version ${version} of ${this.keyName} does not exist`)
    }
    return object
  }

  #setEnabled(version: number, enabled: boolean, retired: boolean): Promise<KeyDescription> {
    return this.#mutate((ctx, state) => {
      const object = this.#lifecycleTarget(state, version)
      if (!enabled && state.doc.primary === version) {
        throw new KeyringStateError(
          `cannot ${retired ? 'retire' : 'disable'} version ${version}: it is the primary`,
        )
      }
      setUsable(ctx, object.handle, enabled)
      const doc = cloneDoc(state.doc)
      const meta = { ...doc.versions[String(version)] }
      if (retired) meta.retired = true
      else delete meta.retired
      doc.versions[String(version)] = meta
      writeDoc(ctx, this.keyName, state, doc)
      return [version, enabled ? 'key.enabled' : retired ? 'key.retired' : 'key.disabled']
    })
  }

  /** Serialises lifecycle changes in this process, each on a freshly read state, and re-reads after. */
  #mutate(fn: (ctx: TokenContext, state: TokenState) => KeyChange): Promise<KeyDescription> {
    const run = async (): Promise<KeyDescription> => {
      if (this.#closed) throw new Pkcs11ClosedError()
      // Before the token changes: a data-key cache stops serving keys from this moment.
      this.#epoch++
      let version: number
      let type: KeyChange[1]
      try {
        ;[version, type] = await this.#withSession(async (ctx) => {
          const state = loadState(ctx, this.keyName, { allowImportedKeys: this.#allowImportedKeys })
          return fn(ctx, state)
        }, false)
      } catch (e) {
        if (e instanceof SafeguardsError || e instanceof TypeError || e instanceof RangeError) throw e
        const rv = ckrName(e)
        if (rv === 'CKR_MECHANISM_INVALID' || rv === 'CKR_TEMPLATE_INCONSISTENT') {
          throw new Pkcs11MechanismError(`the token refused to create or change the key (${rv})`)
        }
        throw new KekProviderError(this.id, `key lifecycle change failed (${rv ?? 'native error'})`, {
          cause: e,
        })
      } finally {
        this.#state = undefined
      }
      const state = await this.#reload(true)
      const described = await this.#describe(state, version, this.#stateOf(state, version) ?? 'destroyed')
      // After the change is in the token and read back: a failing critical sink rejects, the change stands.
      if (type !== undefined && this.#emitter.active)
        await this.#emitter.emit({
          type,
          at: this.#clock.now(),
          source: '@safeguards/pkcs11',
          outcome: 'success',
          keyRef: described.keyRef,
        })
      return described
    }
    const next = this.#lifecycle.then(run, run)
    this.#lifecycle = next.catch(() => undefined)
    return next
  }
}

/** A lifecycle change's version and the event it announces (none when nothing changed). */
type KeyChange = readonly [
  number,
  Exclude<Extract<SafeguardEventType, `key.${string}`>, 'key.budget.warning'> | undefined,
]

function cloneDoc(doc: StateDoc): StateDoc {
  const versions: StateDoc['versions'] = {}
  for (const [k, v] of Object.entries(doc.versions)) versions[k] = { ...v }
  const out: StateDoc = { seq: doc.seq, versions, destroyed: [...doc.destroyed] }
  if (doc.primary !== undefined) out.primary = doc.primary
  return out
}

function assertAad(aad: unknown): asserts aad is Uint8Array {
  assertBytes(aad, 'aad')
  if (aad.length > MAX_AAD_BYTES) throw new RangeError(`"aad" expected at most ${MAX_AAD_BYTES} bytes`)
}

interface ValidOptions {
  module: string
  token: TokenSelector
  pin: Secret<string>
  keyName: string
  providerId: string
  maxSessions: number
  cacheTtlMs: number
  allowImportedKeys: boolean
  budget: UsageBudget
  emitter: Emitter
  clock: Clock
  random: RandomSource
}

function validateOptions(options: Pkcs11ProviderOptions): ValidOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" expected an object')
  const { module, token, pin, keyName } = options
  if (typeof module !== 'string' || module.length === 0)
    throw new TypeError('"module" expected a library path')
  if (typeof token !== 'object' || token === null)
    throw new TypeError('"token" expected { label } or { serial }')
  const hasLabel = typeof token.label === 'string'
  const hasSerial = typeof token.serial === 'string'
  if (hasLabel === hasSerial) throw new TypeError('"token" expected exactly one of { label } or { serial }')
  if (!Secret.isSecret(pin) || typeof pin.reveal() !== 'string') {
    throw new TypeError('"pin" expected a Secret<string> (wrap it with Secret.of)')
  }
  if (typeof keyName !== 'string' || !KEY_NAME.test(keyName)) {
    throw new TypeError('"keyName" expected 1..64 characters of [A-Za-z0-9._-]')
  }
  const providerId = options.providerId ?? 'pkcs11'
  if (typeof providerId !== 'string' || !PROVIDER_ID.test(providerId)) {
    throw new TypeError('"providerId" expected 1..64 characters of [A-Za-z0-9._-]')
  }
  const maxSessions = options.maxSessions ?? 4
  assertInteger(maxSessions, 'maxSessions', 1, 64)
  const cacheTtlMs = options.cacheTtlMs ?? 5000
  assertInteger(cacheTtlMs, 'cacheTtlMs', 0, 3_600_000)
  const budget = new UsageBudget(usageSettings(options.usage))
  return {
    module,
    token,
    pin,
    keyName,
    providerId,
    maxSessions,
    cacheTtlMs,
    allowImportedKeys: options.allowImportedKeys === true,
    budget,
    emitter: createEmitter(options),
    clock: options.clock ?? systemClock,
    random: options.random ?? defaultRandom,
  }
}

function findToken(
  library: Pkcs11Library,
  binding: Pkcs11Module,
  selector: TokenSelector,
): { slot: Handle; info: TokenDescription } {
  const wanted = selector.label !== undefined ? `label "${selector.label}"` : `serial "${selector.serial}"`
  const matches: { slot: Handle; info: TokenDescription; flags: number }[] = []
  for (const slot of library.C_GetSlotList(true)) {
    const t = library.C_GetTokenInfo(slot)
    const info: TokenDescription = {
      label: trimPadded(t.label),
      serialNumber: trimPadded(t.serialNumber),
      manufacturer: trimPadded(t.manufacturerID),
      model: trimPadded(t.model),
    }
    if (
      selector.label !== undefined ? info.label === selector.label : info.serialNumber === selector.serial
    ) {
      matches.push({ slot, info, flags: Number(t.flags) })
    }
  }
  if (matches.length !== 1) {
    throw new Pkcs11TokenNotFoundError(`${matches.length} tokens match ${wanted}, expected exactly 1`)
  }
  const match = matches[0] as { slot: Handle; info: TokenDescription; flags: number }
  const initialised =
    constant(binding, 'CKF_TOKEN_INITIALIZED') | constant(binding, 'CKF_USER_PIN_INITIALIZED')
  if ((match.flags & initialised) !== initialised) {
    throw new Pkcs11TokenNotFoundError(`the token with ${wanted} is not initialised (no user PIN)`)
  }
  return { slot: match.slot, info: match.info }
}

function assertMechanism(library: Pkcs11Library, binding: Pkcs11Module, slot: Handle): void {
  const needed = constant(binding, 'CKF_ENCRYPT') | constant(binding, 'CKF_DECRYPT')
  let flags = 0
  try {
    flags = Number(library.C_GetMechanismInfo(slot, constant(binding, 'CKM_AES_GCM')).flags)
  } catch {
    flags = 0
  }
  if ((flags & needed) !== needed) {
    throw new Pkcs11MechanismError('the token does not offer CKM_AES_GCM for encryption and decryption')
  }
}
