/**
 * The local keyring: KEK versions in a JSON file (mode 0600), optionally sealed under a master
 * secret taken from an environment variable or derived from a passphrase with argon2id. It
 * implements {@link KekProvider} with AES-256-GCM wraps (`edk = iv[12] ‖ ct[32] ‖ tag[16]`, AAD =
 * `u16 len ‖ keyRef ‖ wrapAAD`), a key lifecycle (primary, decrypt-only, disabled, destroyed) with
 * two-phase rotation, and a per-version usage budget.
 *
 * Production keeps KEKs in an HSM or a cloud KMS (`@safeguards/pkcs11`, or a KMS provider): a
 * file on the application host is only as safe as that host. The local keyring is for
 * development, tests, single-host deployments and as the embedded default.
 *
 * HIPAA: 164.312(a)(2)(iv) encryption and decryption (key management), 164.308(a)(7)(ii)(A)
 * data backup plan (keys must be backed up with, and separately from, the data they protect).
 *
 * @module
 */
import { type Clock, type EventOptions, type RandomSource, randomBytes } from '@safeguards/core'
import { KeyringStateError, KeyUnavailableError, UsageLimitError } from './errors.js'
import { KeyringCore } from './internal/keyring-core.js'
import { keyRefOf, NAME_RE, PROVIDER_ID, versionOf } from './internal/keyring-file.js'
import { applyLifecycle, type KeyChange } from './internal/keyring-lifecycle.js'
import { type Argon2Params, deriveMasterKey, type MasterSecret, newSeal } from './internal/keyring-seal.js'
import type { KeyringUsageOptions } from './internal/keyring-usage.js'
import type { KekProvider, KeyDescription, WrapOptions, WrappedKey } from './kek-provider.js'

export type { Argon2Params, MasterSecret } from './internal/keyring-seal.js'
export type { KeyringUsageOptions } from './internal/keyring-usage.js'

/**
 * Options of {@link LocalKeyring.create}, {@link LocalKeyring.open} and {@link LocalKeyring.inMemory}.
 *
 * `events` receives the key lifecycle events (`key.created`, `key.rotated`, `key.retired`,
 * `key.disabled`, `key.enabled`, `key.destroyed`) once the change is on disk, and
 * `key.budget.warning` once per version and instance when its reserved usage reaches `warnAt`.
 * A critical sink is awaited: when it fails, the call rejects with `EventSinkError`
 * (`ERR_EVENT_SINK`) but the change stands (it was committed before the event was delivered).
 */
export interface LocalKeyringOptions extends EventOptions {
  /** Keyring name, used in key references `local:<name>@v<N>` (create only; default `default`). */
  name?: string
  /** Seals the key material (create) or unseals it (open). */
  masterSecret?: MasterSecret
  /** argon2id parameters for a passphrase seal (create only). */
  argon2?: Partial<Argon2Params>
  /** Environment for `{ env }` master secrets (default `process.env`). */
  env?: Record<string, string | undefined>
  /** Usage budget settings. */
  usage?: KeyringUsageOptions
  /**
   * For a keyring file: how often, in milliseconds, `wrap`, `unwrap` and an envelope's data-key
   * cache check whether another process changed the file (one `stat`; a reload when it changed),
   * so a rotation, retirement or disable made elsewhere takes effect here within this interval.
   * Default 5000; 0 checks before every operation. Ignored by in-memory keyrings.
   */
  refreshMs?: number
  /**
   * For a keyring file: how long a key command waits, in milliseconds, for another process that
   * holds the keyring's lock (`<path>.lock`) before failing with `LockTimeoutError`
   * (`ERR_LOCK_TIMEOUT`). A lock is broken only when its holder is provably dead (same host, process
   * gone), never for its age. Default 15000.
   */
  lockTimeoutMs?: number
  /** Clock for `createdAt` and the refresh interval (default the system clock). */
  clock?: Clock
  /** Randomness for keys, IVs and salts (default the platform CSPRNG). */
  random?: RandomSource
}

/** Options of {@link LocalKeyring.destroy}. */
export interface DestroyOptions {
  /** Must be `true`: destroying a version makes everything under it unreadable forever. */
  allowDestroy: boolean
}

/** The changes of a new keyring: version 1, created as the primary. */
const FIRST_VERSION: readonly KeyChange[] = [
  ['key.created', 1],
  ['key.rotated', 1],
]

/**
 * A file-backed (or in-memory) keyring of KEK versions; a {@link KekProvider} with id `local`.
 *
 * HIPAA: supports 164.312(a)(2)(iv) encryption and decryption (KEK lifecycle: rotate, retire,
 * destroy) and 164.310(d)(2)(i) disposal (`destroy` erases a version's key material).
 *
 * @hipaa 164.312(a)(2)(iv) supports
 * @hipaa 164.310(d)(2)(i) supports
 * @nist SC-12 164.312(a)(2)(iv): versioned KEKs with add, promote, retire, disable and destroy, and usage budgets
 * @nist SC-12(1) 164.312(a)(2)(iv): retired versions stay decrypt-only until rewrap, so rotation never strands data
 * @nist MP-6 164.310(d)(2)(i): destroy() erases a version's key material, so every ciphertext under it becomes unreadable (cryptographic erase)
 * @evidence key versions with state (primary, decrypt-only, disabled, destroyed), creation time and usage counts (safeguards keys list --json)
 * @appResponsibility Production keeps KEKs in an HSM or KMS; protect the master secret; rotate on a schedule and rewrap, then retire old versions.
 * @config file path (mode 0600), master secret or passphrase seal, usage budget and policy
 * @verifiedBy packages/envelope/test/keyring.test.ts
 * @verifiedBy packages/envelope/test/budget.test.ts
 * @verifiedBy packages/envelope/test/data-key-cache.test.ts
 * @example
 * ```ts
 * import { createEnvelope, LocalKeyring } from '@safeguards/envelope'
 *
 * const keyring = await LocalKeyring.create('/var/lib/app/keyring.json', {
 *   masterSecret: { env: 'SAFEGUARDS_KEYRING_SECRET' },
 * })
 * const envelope = createEnvelope({ provider: keyring })
 * // rotation, two-phase: add (decrypt-capable everywhere), then promote
 * const next = await keyring.addVersion()
 * await keyring.promote(next.version)
 * ```
 */
export class LocalKeyring implements KekProvider {
  /** The provider id written into envelopes: `local`. */
  readonly id: string = PROVIDER_ID
  readonly #core: KeyringCore

  private constructor(core: KeyringCore) {
    this.#core = core
  }

  /**
   * Creates a new keyring file with version 1 as primary (mode 0600; never overwrites a file).
   *
   * @param path - where to write the keyring.
   * @param options - name, master secret (seals the file), usage budget, clock, randomness.
   * @throws {KeyringFileError} when the file exists or cannot be written.
   * @throws {KeyringSealedError} when the master secret's environment variable is missing.
   * @example
   * ```ts
   * const keyring = await LocalKeyring.create('./keyring.json', { name: 'patients' })
   * ```
   */
  static async create(path: string, options: LocalKeyringOptions = {}): Promise<LocalKeyring> {
    if (typeof path !== 'string' || path.length === 0)
      throw new TypeError('"path" expected a non-empty string')
    const kr = await LocalKeyring.#fresh(path, options)
    await kr.#core.file.write(kr.#core.snapshot(kr.#core.state), true)
    await kr.#core.announce(FIRST_VERSION)
    return kr
  }

  /**
   * Creates a keyring that lives only in memory (tests, demos, short-lived jobs).
   *
   * @example
   * ```ts
   * const envelope = createEnvelope({ provider: await LocalKeyring.inMemory() })
   * ```
   */
  static async inMemory(options: LocalKeyringOptions = {}): Promise<LocalKeyring> {
    const kr = await LocalKeyring.#fresh(undefined, options)
    await kr.#core.announce(FIRST_VERSION)
    return kr
  }

  static async #fresh(path: string | undefined, options: LocalKeyringOptions): Promise<LocalKeyring> {
    const name = options.name ?? 'default'
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      throw new TypeError('"name" expected 1..64 characters of [A-Za-z0-9._-]')
    }
    const kr = new LocalKeyring(new KeyringCore(path, name, options))
    if (options.masterSecret !== undefined) {
      const seal = newSeal(options.masterSecret, options.argon2, options.random ?? randomBytes)
      kr.#core.file.setSeal(seal, await deriveMasterKey(options.masterSecret, seal, options.env))
    }
    const first = applyLifecycle([], { op: 'add' }, kr.#core.clock.now())
    kr.#core.state = { keys: first.keys, material: new Map([[first.version, kr.#core.random(32).slice()]]) }
    return kr
  }

  /**
   * Opens an existing keyring file. Refuses a file readable or writable by group or others.
   *
   * @param path - the keyring file.
   * @param options - the master secret when the file is sealed; usage budget, clock, randomness.
   * @throws {KeyringFileError} when missing, malformed, too permissive, or over 4 MiB.
   * @throws {KeyringSealedError} when sealed and the master secret is missing or wrong.
   * @example
   * ```ts
   * const keyring = await LocalKeyring.open('./keyring.json', { masterSecret: { env: 'SAFEGUARDS_KEYRING_SECRET' } })
   * ```
   */
  static async open(path: string, options: LocalKeyringOptions = {}): Promise<LocalKeyring> {
    if (typeof path !== 'string' || path.length === 0)
      throw new TypeError('"path" expected a non-empty string')
    const kr = new LocalKeyring(new KeyringCore(path, 'default', options))
    await kr.#core.load()
    return kr
  }

  /** The keyring name (the `<name>` in `local:<name>@v<N>`). */
  get name(): string {
    return this.#core.name
  }

  /** True when the key material is sealed under a master secret. */
  get sealed(): boolean {
    return this.#core.file.sealed
  }

  /**
   * Adds a new version in state `decrypt-only` (phase one of a rotation): distribute it to every
   * reader (they reopen the keyring) before promoting it, so nothing encrypted under it is
   * unreadable anywhere.
   *
   * @throws {KeyringFileError} when the file cannot be updated.
   * @example
   * ```ts
   * const v = await keyring.addVersion() // { version: 2, state: 'decrypt-only', … }
   * ```
   */
  addVersion(): Promise<KeyDescription> {
    return this.#core.command({ op: 'add' })
  }

  /**
   * Makes `version` the primary (phase two of a rotation); the old primary becomes decrypt-only.
   *
   * @throws {KeyringStateError} when the version does not exist or is disabled or destroyed.
   * @example
   * ```ts
   * await keyring.promote(2)
   * ```
   */
  promote(version: number): Promise<KeyDescription> {
    return this.#core.command({ op: 'promote', version })
  }

  /**
   * Adds a version and promotes it at once (single-process deployments; the usage-budget
   * `rotate` policy). Multi-host deployments should use {@link LocalKeyring.addVersion}, distribute,
   * then {@link LocalKeyring.promote}.
   *
   * @example
   * ```ts
   * const primary = await keyring.rotate()
   * ```
   */
  rotate(): Promise<KeyDescription> {
    return this.#core.command({ op: 'rotate' })
  }

  /**
   * Retires a version once every ciphertext under it has been rewrapped: it is disabled (no
   * wrap, no unwrap) and marked retired. Reversible with {@link LocalKeyring.enable}.
   *
   * @throws {KeyringStateError} for the primary, a destroyed or an unknown version.
   * @example
   * ```ts
   * await keyring.retire(1)
   * ```
   */
  retire(version: number): Promise<KeyDescription> {
    return this.#core.command({ op: 'retire', version })
  }

  /**
   * Disables a version (no wrap, no unwrap), for example while investigating a suspected
   * compromise. Reversible with {@link LocalKeyring.enable}.
   *
   * @throws {KeyringStateError} for the primary, a destroyed or an unknown version.
   * @example
   * ```ts
   * await keyring.disable(3)
   * ```
   */
  disable(version: number): Promise<KeyDescription> {
    return this.#core.command({ op: 'disable', version })
  }

  /**
   * Re-enables a disabled or retired version as decrypt-only.
   *
   * @throws {KeyringStateError} unless the version is disabled.
   * @example
   * ```ts
   * await keyring.enable(1)
   * ```
   */
  enable(version: number): Promise<KeyDescription> {
    return this.#core.command({ op: 'enable', version })
  }

  /**
   * Destroys a version's key material, irreversibly: everything still under it becomes
   * unreadable (crypto-shredding). Requires `{ allowDestroy: true }`.
   *
   * @throws {KeyringStateError} without `allowDestroy`, for the primary, or an unknown version.
   * @example
   * ```ts
   * await keyring.destroy(1, { allowDestroy: true })
   * ```
   */
  destroy(version: number, options?: DestroyOptions): Promise<KeyDescription> {
    if (options?.allowDestroy !== true) {
      return Promise.reject(new KeyringStateError('destroy requires { allowDestroy: true }'))
    }
    return this.#core.command({ op: 'destroy', version })
  }

  /**
   * Re-reads the keyring file (for example after another process added or promoted a version).
   *
   * @example
   * ```ts
   * await keyring.reload()
   * ```
   */
  async reload(): Promise<void> {
    if (this.#core.file.path !== undefined) await this.#core.load()
  }

  // --- reading the state -------------------------------------------------------------------------

  /**
   * Lists every version with its state, creation time and usage.
   *
   * @example
   * ```ts
   * for (const k of await keyring.list()) console.log(k.keyRef, k.state, k.usage?.wraps)
   * ```
   */
  async list(): Promise<KeyDescription[]> {
    const out: KeyDescription[] = []
    for (const k of this.#core.state.keys)
      out.push(this.#core.describe(k, await this.#core.usage.used(k.version)))
    return out
  }

  /**
   * Describes one version by key reference.
   *
   * @throws {KeyUnavailableError} (reason `unknown`) for a key reference this keyring does not know.
   * @example
   * ```ts
   * const d = await keyring.describe('local:default@v1') // { state: 'decrypt-only', … }
   * ```
   */
  async describe(keyRef: string): Promise<KeyDescription> {
    const k = this.#core.byRef(keyRef)
    if (k === undefined) throw new KeyUnavailableError(String(keyRef), 'unknown')
    return this.#core.describe(k, await this.#core.usage.settings.store.get(keyRef))
  }

  /**
   * Describes the primary version.
   *
   * @throws {KeyUnavailableError} (reason `no-primary`) when there is none.
   * @example
   * ```ts
   * const { keyRef } = await keyring.primary() // 'local:default@v2'
   * ```
   */
  primary(): Promise<KeyDescription> {
    const k = this.#core.primaryMeta()
    if (k === undefined) return Promise.reject(this.#core.noPrimary())
    return Promise.resolve(this.#core.describe(k))
  }

  /**
   * The key-state epoch ({@link KekProvider.stateEpoch}): it changes with every add, promote,
   * rotate, retire, disable, enable and destroy, and with every reload that finds the keyring
   * changed (for example by another process). An envelope's data-key cache drops all its keys
   * when it changes.
   *
   * @example
   * ```ts
   * const before = keyring.stateEpoch()
   * await keyring.disable(1)
   * keyring.stateEpoch() !== before // true: cached data keys are gone
   * ```
   */
  stateEpoch(): number {
    // A data-key cache asks on every lookup: start a due check of the file in the background, so
    // a change made by another process drops cached keys within `refreshMs` even when every
    // lookup hits. A failed check surfaces on the next wrap or unwrap.
    this.#core.refresh()?.catch(() => undefined)
    return this.#core.epoch
  }

  // --- KekProvider: wrap and unwrap ----------------------------------------------------------------

  /**
   * Wraps a data key under the primary (or `options.keyRef`), counting the use against the
   * version's budget. At the hard limit: throws {@link UsageLimitError}, or rotates and wraps
   * under the new primary when the policy is `rotate`.
   *
   * @throws {KeyUnavailableError} when there is no primary or the requested version cannot wrap.
   * @throws {UsageLimitError} when the budget is exhausted under policy `throw`.
   * @example
   * ```ts
   * // normally called by createEnvelope; direct use is for other envelope formats
   * const { keyRef, edk } = await keyring.wrap(dek, aad)
   * ```
   */
  async wrap(dek: Uint8Array, aad: Uint8Array, options?: WrapOptions): Promise<WrappedKey> {
    if (!(dek instanceof Uint8Array) || dek.length !== 32) throw new RangeError('"dek" expected 32 bytes')
    if (!(aad instanceof Uint8Array)) throw new TypeError('"aad" expected Uint8Array')
    const due = this.#core.refresh()
    if (due !== undefined) await due
    for (let attempt = 0; ; attempt++) {
      const k = this.#core.wrapTarget(options?.keyRef)
      const keyRef = keyRefOf(this.#core.name, k.version)
      // the common case takes a use from the reserved block without a store round trip (or an await)
      if (this.#core.usage.take(k.version) || (await this.#core.usage.reserve(k.version))) {
        const edk = await this.#core.crypto.wrap(
          k.version,
          keyRef,
          this.#core.state.material,
          dek,
          aad,
          this.#core.random,
        )
        return { keyRef, edk }
      }
      if (this.#core.usage.settings.policy === 'rotate' && attempt === 0 && options?.keyRef === undefined) {
        // another instance may have rotated already; rotate only if the primary is still this one
        await this.reload()
        if (this.#core.primaryMeta()?.version === k.version) await this.rotate()
        continue
      }
      throw new UsageLimitError(keyRef, this.#core.usage.settings.limit)
    }
  }

  /**
   * Unwraps a data key.
   *
   * @throws {KeyUnavailableError} when the version is unknown, disabled, retired or destroyed.
   * @throws {EnvelopeDecryptionError} when the wrapped key does not authenticate.
   * @example
   * ```ts
   * const dek = await keyring.unwrap(edk, 'local:default@v1', aad)
   * ```
   */
  async unwrap(edk: Uint8Array, keyRef: string, aad: Uint8Array): Promise<Uint8Array> {
    const due = this.#core.refresh()
    if (due !== undefined) await due
    let k = this.#core.byRef(keyRef)
    if (
      k === undefined &&
      versionOf(this.#core.name, keyRef) !== undefined &&
      this.#core.file.path !== undefined
    ) {
      await this.reload() // another process may have added the version
      k = this.#core.byRef(keyRef)
    }
    if (k === undefined) throw new KeyUnavailableError(String(keyRef), 'unknown')
    if (k.state === 'disabled') throw new KeyUnavailableError(keyRef, k.retired ? 'retired' : 'disabled')
    if (k.state === 'destroyed') throw new KeyUnavailableError(keyRef, 'destroyed')
    return this.#core.crypto.unwrap(k.version, keyRef, this.#core.state.material, edk, aad)
  }
}
