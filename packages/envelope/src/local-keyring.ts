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
import {
  assertInteger,
  base64ToBytes,
  bytesToBase64,
  type Clock,
  canonicalBytes,
  concatBytes,
  createEmitter,
  type Emitter,
  type EventOptions,
  parseJson,
  type RandomSource,
  randomBytes,
  Secret,
  systemClock,
  timingSafeEqual,
  utf8Decode,
  utf8Encode,
} from '@safeguards/core'
import type { FileLock } from '@safeguards/core/node'
import {
  EnvelopeDecryptionError,
  KeyringFileError,
  KeyringSealedError,
  KeyringStateError,
  KeyUnavailableError,
  UsageLimitError,
} from './errors.js'
import { fileUsageStore } from './file-usage-store.js'
import { type Aead, type AeadKey, getAead } from './internal/aead.js'
import { fs, isNotFound, LOCK_TIMEOUT_MS, withFileLock, writeAtomic } from './internal/fs.js'
import { hkdf } from './internal/kdf.js'
import { pooledRandom } from './internal/random-pool.js'
import type { KekProvider, KeyDescription, KeyState, WrapOptions, WrappedKey } from './kek-provider.js'
import {
  DEFAULT_USAGE_LIMIT,
  DEFAULT_USAGE_WARN_AT,
  memoryUsageStore,
  type UsagePolicy,
  type UsageStore,
} from './usage-budget.js'

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

/** Usage budget settings of a keyring. */
export interface KeyringUsageOptions {
  /** Hard cap per version (default 2^32). */
  limit?: bigint
  /** Warning threshold per version (default 2^23). */
  warnAt?: bigint
  /** At the hard cap: `throw` (default) or `rotate` (add and promote a version, then go on). */
  policy?: UsagePolicy
  /** Where counts persist (default: `<path>.usage` for file keyrings, memory for in-memory ones). */
  store?: UsageStore
  /** Wraps reserved per store round trip (default 1024; lower wastes less on restarts). */
  reserveBlock?: number
}

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

/** A committed lifecycle change to announce: the event type and the version. */
type KeyChange = readonly [
  'key.created' | 'key.rotated' | 'key.retired' | 'key.disabled' | 'key.enabled' | 'key.destroyed',
  number,
]

/** The changes of a new keyring: version 1, created as the primary. */
const FIRST_VERSION: readonly KeyChange[] = [
  ['key.created', 1],
  ['key.rotated', 1],
]

interface KeyMeta {
  version: number
  state: KeyState
  createdAt: number
  retired?: boolean
}

/** A mutation's result and the state it leads to, not yet live. */
interface Staged<T> {
  keys: KeyMeta[]
  material: Map<number, Uint8Array>
  result: T
}

interface SealMeta {
  kdf: 'env' | 'argon2id'
  salt: string
  argon2?: Argon2Params
}

interface KeyringDoc {
  format: 'safeguards-keyring'
  version: 1
  name: string
  keys: KeyMeta[]
  seal?: SealMeta & { iv: string; ct: string }
  material?: Record<string, string>
}

/** What identifies one version of the keyring file: an atomic replace gives a new inode. */
function fileSig(st: { ino: number | bigint; size: number | bigint; mtimeMs: number }): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}`
}

const PROVIDER_ID = 'local'
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const MAX_FILE_BYTES = 4 * 1024 * 1024
const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/
const MAX_VERSIONS = 10_000
const DEFAULT_ARGON2: Argon2Params = { memoryCost: 65536, timeCost: 3, parallelism: 1 }

function getEnv(options: LocalKeyringOptions): Record<string, string | undefined> {
  if (options.env) return options.env
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
  return p?.env ?? {}
}

interface Argon2Module {
  hash(
    password: string,
    options: Argon2Params & { type: number; raw: true; salt: Uint8Array; hashLength: number },
  ): Promise<Uint8Array>
  argon2id: number
}

async function deriveMasterKey(
  secret: MasterSecret,
  seal: SealMeta,
  options: LocalKeyringOptions,
): Promise<Uint8Array> {
  const salt = base64ToBytes(seal.salt)
  if ('env' in secret) {
    if (seal.kdf !== 'env') throw new KeyringSealedError()
    const value = getEnv(options)[secret.env]
    if (value === undefined || value.length === 0) throw new KeyringSealedError()
    const ikm = utf8Encode(value)
    if (ikm.length < 32) throw new RangeError('the master secret must be at least 32 bytes')
    return hkdf('sha512', ikm, salt, utf8Encode('safeguards-keyring/v1/master'), 32)
  }
  if (seal.kdf !== 'argon2id' || seal.argon2 === undefined) throw new KeyringSealedError()
  const pass = Secret.isSecret(secret.passphrase) ? secret.passphrase.reveal() : secret.passphrase
  if (typeof pass !== 'string' || pass.length === 0) throw new KeyringSealedError()
  let argon2: Argon2Module
  try {
    const mod = (await import('argon2')) as unknown as Argon2Module & { default?: Argon2Module }
    argon2 = typeof mod.hash === 'function' ? mod : (mod.default as Argon2Module)
  } catch (e) {
    throw new KeyringFileError('passphrase sealing needs the optional "argon2" package', {
      cause: e,
      category: 'key-unavailable',
    })
  }
  const raw = await argon2.hash(pass, {
    ...seal.argon2,
    type: argon2.argon2id,
    raw: true,
    salt,
    hashLength: 32,
  })
  return new Uint8Array(raw)
}

function keyRefOf(name: string, version: number): string {
  return `${PROVIDER_ID}:${name}@v${version}`
}

function checkDoc(v: unknown): KeyringDoc {
  const bad = (what: string): never => {
    throw new KeyringFileError(`keyring file is malformed (${what})`, { category: 'invalid-input' })
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('not an object')
  const d = v as Record<string, unknown>
  if (d.format !== 'safeguards-keyring') bad('format')
  if (d.version !== 1) bad('version')
  if (typeof d.name !== 'string' || !NAME_RE.test(d.name)) bad('name')
  if (!Array.isArray(d.keys) || d.keys.length > MAX_VERSIONS) return bad('keys')
  const seen = new Set<number>()
  let primaries = 0
  for (const k of d.keys as unknown[]) {
    const m = k as Record<string, unknown>
    if (typeof m !== 'object' || m === null) bad('key')
    if (!Number.isSafeInteger(m.version) || (m.version as number) < 1 || seen.has(m.version as number))
      bad('version')
    seen.add(m.version as number)
    if (!['primary', 'decrypt-only', 'disabled', 'destroyed'].includes(m.state as string)) bad('state')
    if (m.state === 'primary') primaries++
    if (!Number.isSafeInteger(m.createdAt)) bad('createdAt')
  }
  if (primaries > 1) bad('more than one primary')
  if (d.seal !== undefined) {
    const s = d.seal as Record<string, unknown>
    if (typeof s !== 'object' || s === null) bad('seal')
    if (s.kdf !== 'env' && s.kdf !== 'argon2id') bad('seal kdf')
    for (const f of ['salt', 'iv', 'ct'])
      if (typeof s[f] !== 'string' || !B64_RE.test(s[f] as string)) bad(`seal ${f}`)
    if (s.kdf === 'argon2id') {
      // bounded so that a tampered file cannot make opening it exhaust memory or time
      const a = s.argon2 as Record<string, unknown> | undefined
      const ok = (v: unknown, min: number, max: number) =>
        Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max
      if (
        !a ||
        !ok(a.memoryCost, 19456, 4 * 1024 * 1024) ||
        !ok(a.timeCost, 1, 100) ||
        !ok(a.parallelism, 1, 16)
      ) {
        bad('argon2 parameters')
      }
    }
  }
  if (d.seal === undefined && (typeof d.material !== 'object' || d.material === null)) bad('material')
  return v as KeyringDoc
}

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
  readonly #path: string | undefined
  readonly #options: LocalKeyringOptions
  readonly #aead: Aead
  readonly #random: RandomSource
  readonly #clock: Clock
  readonly #store: UsageStore
  readonly #limit: bigint
  readonly #warnAt: bigint
  readonly #policy: UsagePolicy
  readonly #block: bigint
  readonly #emitter: Emitter
  #name: string
  #keys: KeyMeta[]
  #material = new Map<number, Uint8Array>()
  #aeadKeys = new Map<number, AeadKey>()
  #seal: SealMeta | undefined
  #masterKey: Uint8Array | undefined
  #blocks = new Map<number, { next: bigint; end: bigint }>()
  #pending = new Map<number, Promise<boolean>>()
  #warned = new Set<number>()
  #queue: Promise<unknown> = Promise.resolve()
  #epoch = 0
  readonly #refreshMs: number
  readonly #lockTimeoutMs: number
  /** When the file was last checked for changes by another process, and what it looked like. */
  #checkedAt = 0
  #fileSig = ''
  #checking: Promise<void> | undefined

  private constructor(path: string | undefined, name: string, options: LocalKeyringOptions) {
    this.#path = path
    this.#options = options
    this.#name = name
    this.#keys = []
    this.#aead = getAead()
    this.#random = options.random ?? pooledRandom(randomBytes)
    this.#clock = options.clock ?? systemClock
    const refreshMs = options.refreshMs ?? 5000
    if (!Number.isSafeInteger(refreshMs) || refreshMs < 0 || refreshMs > 86_400_000)
      throw new RangeError('"refreshMs" expected an integer from 0 to 86400000')
    this.#refreshMs = refreshMs
    const lockTimeoutMs = options.lockTimeoutMs ?? LOCK_TIMEOUT_MS
    if (!Number.isSafeInteger(lockTimeoutMs) || lockTimeoutMs < 0 || lockTimeoutMs > 3_600_000)
      throw new RangeError('"lockTimeoutMs" expected an integer from 0 to 3600000')
    this.#lockTimeoutMs = lockTimeoutMs
    const u = options.usage ?? {}
    this.#store = u.store ?? (path === undefined ? memoryUsageStore() : fileUsageStore(`${path}.usage`))
    this.#limit = u.limit ?? DEFAULT_USAGE_LIMIT
    this.#warnAt = u.warnAt ?? DEFAULT_USAGE_WARN_AT
    this.#policy = u.policy ?? 'throw'
    if (typeof this.#limit !== 'bigint' || this.#limit < 1n)
      throw new RangeError('"usage.limit" expected a positive bigint')
    if (typeof this.#warnAt !== 'bigint' || this.#warnAt < 0n)
      throw new RangeError('"usage.warnAt" expected a bigint')
    if (this.#policy !== 'throw' && this.#policy !== 'rotate')
      throw new TypeError('"usage.policy" expected throw or rotate')
    const block = u.reserveBlock ?? 1024
    assertInteger(block, 'usage.reserveBlock', 1, 2 ** 20)
    this.#block = BigInt(block)
    this.#emitter = createEmitter(options)
  }

  /** Delivers the events of committed changes, in order (awaiting critical sinks). */
  async #announce(changes: readonly KeyChange[]): Promise<void> {
    if (!this.#emitter.active) return
    for (const [type, version] of changes) {
      await this.#emitter.emit({
        type,
        at: this.#clock.now(),
        source: '@safeguards/envelope',
        outcome: 'success',
        keyRef: keyRefOf(this.#name, version),
      })
    }
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
    await kr.#persist(true)
    await kr.#announce(FIRST_VERSION)
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
    await kr.#announce(FIRST_VERSION)
    return kr
  }

  static async #fresh(path: string | undefined, options: LocalKeyringOptions): Promise<LocalKeyring> {
    const name = options.name ?? 'default'
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      throw new TypeError('"name" expected 1..64 characters of [A-Za-z0-9._-]')
    }
    const kr = new LocalKeyring(path, name, options)
    if (options.masterSecret !== undefined) {
      const random = options.random ?? randomBytes
      const seal: SealMeta =
        'env' in options.masterSecret
          ? { kdf: 'env', salt: bytesToBase64(random(32)) }
          : {
              kdf: 'argon2id',
              salt: bytesToBase64(random(16)),
              argon2: { ...DEFAULT_ARGON2, ...options.argon2 },
            }
      if (seal.argon2) {
        assertInteger(seal.argon2.memoryCost, 'argon2.memoryCost', 19456, 4 * 1024 * 1024)
        assertInteger(seal.argon2.timeCost, 'argon2.timeCost', 1, 100)
        assertInteger(seal.argon2.parallelism, 'argon2.parallelism', 1, 16)
      }
      kr.#seal = seal
      kr.#masterKey = await deriveMasterKey(options.masterSecret, seal, options)
    }
    kr.#addKey('primary')
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
    const kr = new LocalKeyring(path, 'default', options)
    await kr.#load()
    return kr
  }

  /** The keyring name (the `<name>` in `local:<name>@v<N>`). */
  get name(): string {
    return this.#name
  }

  /** True when the key material is sealed under a master secret. */
  get sealed(): boolean {
    return this.#seal !== undefined
  }

  async #load(): Promise<void> {
    const path = this.#path as string
    const f = await fs()
    let text: string
    try {
      const st = await f.stat(path)
      if (!st.isFile())
        throw new KeyringFileError(`cannot read the keyring ${path}: not a regular file`, {
          category: 'invalid-input',
        })
      const platform = (globalThis as { process?: { platform?: string } }).process?.platform
      if (platform !== 'win32' && (st.mode & 0o077) !== 0) {
        throw new KeyringFileError(`keyring file ${path} is accessible by group or others (chmod 600 it)`, {
          category: 'invalid-input',
        })
      }
      if (st.size > MAX_FILE_BYTES)
        throw new KeyringFileError(`keyring file ${path} is too large`, { category: 'invalid-input' })
      text = utf8Decode(await f.readFile(path))
      this.#fileSig = fileSig(st)
      this.#checkedAt = this.#clock.now()
    } catch (e) {
      if (e instanceof KeyringFileError) throw e
      if (isNotFound(e)) throw new KeyringFileError(`keyring file not found: ${path}`, { cause: e })
      throw new KeyringFileError(`cannot read the keyring ${path}`, { cause: e })
    }
    let parsed: unknown
    try {
      parsed = parseJson(text)
    } catch (e) {
      throw new KeyringFileError('keyring file is malformed (not JSON)', {
        cause: e,
        category: 'invalid-input',
      })
    }
    const doc = checkDoc(parsed)
    const material = new Map<number, Uint8Array>()
    let masterKey = this.#masterKey
    let seal: SealMeta | undefined
    let plain: Record<string, string>
    if (doc.seal !== undefined) {
      const s = doc.seal
      seal = { kdf: s.kdf, salt: s.salt, ...(s.argon2 ? { argon2: s.argon2 } : {}) }
      const secret = this.#options.masterSecret
      if (secret === undefined) throw new KeyringSealedError()
      if (masterKey === undefined || this.#seal?.salt !== s.salt)
        masterKey = await deriveMasterKey(secret, seal, this.#options)
      const mk = this.#aead.importKey(masterKey)
      try {
        const pt = await this.#aead.open(
          mk,
          base64ToBytes(s.iv),
          this.#sealAad(doc.name, doc.keys, seal),
          base64ToBytes(s.ct),
        )
        plain = parseJson(utf8Decode(pt)) as Record<string, string>
        pt.fill(0)
      } catch (e) {
        if (e instanceof EnvelopeDecryptionError) throw new KeyringSealedError()
        throw new KeyringFileError('keyring file is malformed (sealed material)', {
          cause: e,
          category: 'invalid-input',
        })
      }
    } else {
      if (this.#options.masterSecret !== undefined)
        throw new KeyringFileError('keyring file is not sealed', { category: 'invalid-input' })
      plain = doc.material as Record<string, string>
    }
    for (const k of doc.keys) {
      if (k.state === 'destroyed') continue
      const b64 = plain[String(k.version)]
      if (typeof b64 !== 'string' || !B64_RE.test(b64)) {
        throw new KeyringFileError('keyring file is malformed (missing material)', {
          category: 'invalid-input',
        })
      }
      const raw = base64ToBytes(b64)
      if (raw.length !== 32)
        throw new KeyringFileError('keyring file is malformed (key length)', { category: 'invalid-input' })
      material.set(k.version, raw)
    }
    if (this.#differs(doc, material)) this.#epoch++
    this.#name = doc.name
    this.#keys = doc.keys.map((k) => ({ ...k }))
    this.#seal = seal
    this.#masterKey = masterKey
    for (const [v, old] of this.#material) if (!material.has(v)) old.fill(0)
    this.#material = material
    for (const v of [...this.#aeadKeys.keys()]) if (!material.has(v)) this.#aeadKeys.delete(v)
  }

  /** True when a loaded document changes any version's state or material (or the name). */
  #differs(doc: KeyringDoc, material: Map<number, Uint8Array>): boolean {
    const meta = (keys: readonly KeyMeta[]): string =>
      JSON.stringify(keys.map((k) => [k.version, k.state, k.retired === true, k.createdAt]))
    if (doc.name !== this.#name || meta(doc.keys) !== meta(this.#keys)) return true
    if (material.size !== this.#material.size) return true
    for (const [v, raw] of material) {
      const old = this.#material.get(v)
      if (old === undefined || !timingSafeEqual(old, raw)) return true
    }
    return false
  }

  #sealAad(name: string, keys: KeyMeta[], seal: SealMeta): Uint8Array {
    return canonicalBytes({ format: 'safeguards-keyring', version: 1, name, keys, seal })
  }

  async #persist(
    exclusive = false,
    lock?: FileLock,
    state: { keys: KeyMeta[]; material: Map<number, Uint8Array> } = {
      keys: this.#keys,
      material: this.#material,
    },
  ): Promise<void> {
    if (this.#path === undefined) return
    const material: Record<string, string> = {}
    for (const [v, raw] of state.material) material[String(v)] = bytesToBase64(raw)
    const doc: KeyringDoc = { format: 'safeguards-keyring', version: 1, name: this.#name, keys: state.keys }
    if (this.#seal !== undefined && this.#masterKey !== undefined) {
      const iv = this.#random(12)
      const mk = this.#aead.importKey(this.#masterKey)
      const ct = await this.#aead.seal(
        mk,
        iv,
        this.#sealAad(this.#name, state.keys, this.#seal),
        utf8Encode(JSON.stringify(material)),
      )
      doc.seal = { ...this.#seal, iv: bytesToBase64(iv), ct: bytesToBase64(ct) }
    } else {
      doc.material = material
    }
    await writeAtomic(this.#path, utf8Encode(`${JSON.stringify(doc, null, 2)}\n`), exclusive, lock)
    // Our own write is not another process's change: remember it so the next check does not reload.
    const st = await (await fs()).stat(this.#path).catch(() => undefined)
    if (st !== undefined) this.#fileSig = fileSig(st)
  }

  /**
   * Serialises mutations in this process, and across processes through the file lock. `fn` runs on
   * a staged copy of the state, which replaces the live state only once it is on disk: no wrap ever
   * uses a version that a failed write (a lost lock, a full disk) left unsaved.
   */
  #mutate<T>(fn: (changes: KeyChange[]) => T): Promise<T> {
    const changes: KeyChange[] = []
    const run = async (): Promise<T> => {
      changes.length = 0
      const result = await this.#mutateLocked(() => fn(changes))
      await this.#announce(changes)
      return result
    }
    const p = this.#queue.then(run, run)
    this.#queue = p.catch(() => undefined)
    return p
  }

  #mutateLocked<T>(fn: () => T): Promise<T> {
    if (this.#path === undefined) return Promise.resolve(this.#commit(this.#stage(fn)))
    return withFileLock(
      this.#path,
      async (lock) => {
        await this.#load()
        const staged = this.#stage(fn)
        try {
          await this.#persist(false, lock, staged)
        } catch (e) {
          for (const [v, raw] of staged.material) if (this.#material.get(v) !== raw) raw.fill(0)
          throw e
        }
        return this.#commit(staged)
      },
      this.#lockTimeoutMs,
    )
  }

  /** Runs the synchronous `fn` against copies of the keys and material, leaving the live state as it was. */
  #stage<T>(fn: () => T): Staged<T> {
    const live = { keys: this.#keys, material: this.#material }
    this.#keys = live.keys.map((k) => ({ ...k }))
    this.#material = new Map(live.material)
    try {
      const result = fn()
      return { keys: this.#keys, material: this.#material, result }
    } finally {
      this.#keys = live.keys
      this.#material = live.material
    }
  }

  /** Makes a staged state live; material it dropped (a destroyed version) is zeroed. */
  #commit<T>(staged: Staged<T>): T {
    for (const [v, raw] of this.#material) {
      if (staged.material.get(v) === raw) continue
      raw.fill(0)
      this.#aeadKeys.delete(v)
    }
    this.#keys = staged.keys
    this.#material = staged.material
    // Every mutation moves the state epoch as it takes effect (data-key caches drop their keys).
    this.#epoch++
    return staged.result
  }

  #addKey(state: KeyState): KeyMeta {
    const version = this.#keys.reduce((m, k) => Math.max(m, k.version), 0) + 1
    if (version > MAX_VERSIONS) throw new KeyringStateError('keyring has too many versions')
    const meta: KeyMeta = { version, state, createdAt: this.#clock.now() }
    this.#keys.push(meta)
    this.#material.set(version, this.#random(32).slice())
    return meta
  }

  #find(version: number): KeyMeta {
    assertInteger(version, 'version', 1)
    const k = this.#keys.find((x) => x.version === version)
    if (k === undefined) throw new KeyringStateError(`version ${version} does not exist`)
    return k
  }

  #describe(k: KeyMeta, wraps?: bigint): KeyDescription {
    const d: KeyDescription = {
      keyRef: keyRefOf(this.#name, k.version),
      providerId: PROVIDER_ID,
      version: k.version,
      state: k.state,
      createdAt: k.createdAt,
    }
    if (k.retired) d.retired = true
    if (wraps !== undefined) d.usage = { wraps, limit: this.#limit, warnAt: this.#warnAt }
    return d
  }

  #parseRef(keyRef: string): number | undefined {
    const prefix = `${PROVIDER_ID}:${this.#name}@v`
    if (typeof keyRef !== 'string' || !keyRef.startsWith(prefix)) return undefined
    const v = keyRef.slice(prefix.length)
    if (!/^[1-9][0-9]{0,8}$/.test(v)) return undefined
    return Number(v)
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
    return this.#mutate((changes) => {
      const k = this.#addKey(this.#keys.some((x) => x.state === 'primary') ? 'decrypt-only' : 'primary')
      changes.push(['key.created', k.version])
      if (k.state === 'primary') changes.push(['key.rotated', k.version])
      return this.#describe(k)
    })
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
    return this.#mutate((changes) => {
      const k = this.#find(version)
      if (k.state === 'primary') return this.#describe(k)
      if (k.state !== 'decrypt-only')
        throw new KeyringStateError(`version ${version} is ${k.state} and cannot be promoted`)
      for (const o of this.#keys) if (o.state === 'primary') o.state = 'decrypt-only'
      k.state = 'primary'
      changes.push(['key.rotated', version])
      return this.#describe(k)
    })
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
    return this.#mutate((changes) => {
      for (const o of this.#keys) if (o.state === 'primary') o.state = 'decrypt-only'
      const k = this.#addKey('primary')
      changes.push(['key.created', k.version], ['key.rotated', k.version])
      return this.#describe(k)
    })
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
    return this.#setDisabled(version, true)
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
    return this.#setDisabled(version, false)
  }

  #setDisabled(version: number, retired: boolean): Promise<KeyDescription> {
    return this.#mutate((changes) => {
      const k = this.#find(version)
      if (k.state === 'primary')
        throw new KeyringStateError(`version ${version} is the primary; promote another first`)
      if (k.state === 'destroyed') throw new KeyringStateError(`version ${version} is destroyed`)
      k.state = 'disabled'
      if (retired) k.retired = true
      changes.push([retired ? 'key.retired' : 'key.disabled', version])
      return this.#describe(k)
    })
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
    return this.#mutate((changes) => {
      const k = this.#find(version)
      if (k.state !== 'disabled')
        throw new KeyringStateError(`version ${version} is ${k.state}, not disabled`)
      k.state = 'decrypt-only'
      delete k.retired
      changes.push(['key.enabled', version])
      return this.#describe(k)
    })
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
    return this.#mutate((changes) => {
      const k = this.#find(version)
      if (k.state === 'primary')
        throw new KeyringStateError(`version ${version} is the primary; promote another first`)
      k.state = 'destroyed'
      changes.push(['key.destroyed', version])
      // Staged: the material is zeroed when the destruction is on disk (see #commit).
      this.#material.delete(version)
      return this.#describe(k)
    })
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
    if (this.#path !== undefined) await this.#load()
  }

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
    for (const k of this.#keys)
      out.push(this.#describe(k, await this.#store.get(keyRefOf(this.#name, k.version))))
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
    const v = this.#parseRef(keyRef)
    const k = v === undefined ? undefined : this.#keys.find((x) => x.version === v)
    if (k === undefined) throw new KeyUnavailableError(String(keyRef), 'unknown')
    return this.#describe(k, await this.#store.get(keyRef))
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
    const k = this.#keys.find((x) => x.state === 'primary')
    if (k === undefined)
      return Promise.reject(new KeyUnavailableError(`${PROVIDER_ID}:${this.#name}`, 'no-primary'))
    return Promise.resolve(this.#describe(k))
  }

  /**
   * Checks, at most every `refreshMs`, whether another process replaced the keyring file, and
   * reloads it (serialised with this keyring's own changes) when it did. Undefined when no check
   * is due, so the common path stays synchronous.
   */
  #refresh(): Promise<void> | undefined {
    if (this.#path === undefined) return undefined
    if (this.#checking !== undefined) return this.#checking
    const now = this.#clock.now()
    if (now - this.#checkedAt < this.#refreshMs) return undefined
    this.#checkedAt = now
    const path = this.#path
    const check = async (): Promise<void> => {
      const st = await (await fs()).stat(path).catch(() => undefined)
      // A vanished or unreadable file is reported by the next explicit reload, not here.
      if (st !== undefined && fileSig(st) !== this.#fileSig) await this.#load()
    }
    const run = this.#queue.then(check, check)
    this.#queue = run.catch(() => undefined)
    this.#checking = run.finally(() => {
      this.#checking = undefined
    })
    return this.#checking
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
    this.#refresh()?.catch(() => undefined)
    return this.#epoch
  }

  #aeadKey(version: number): AeadKey {
    let k = this.#aeadKeys.get(version)
    if (k === undefined) {
      const raw = this.#material.get(version)
      if (raw === undefined) throw new KeyUnavailableError(keyRefOf(this.#name, version), 'destroyed')
      k = this.#aead.importKey(raw)
      this.#aeadKeys.set(version, k)
    }
    return k
  }

  /** Takes one use of `version` from its reserved block, if the block has one left. */
  #takeReserved(version: number): boolean {
    const b = this.#blocks.get(version)
    if (b === undefined || b.next >= b.end) return false
    b.next++
    return true
  }

  /** Reserves one use of `version`; false when the hard limit is reached. */
  async #reserve(version: number): Promise<boolean> {
    for (;;) {
      const b = this.#blocks.get(version)
      if (b !== undefined && b.next < b.end) {
        b.next++
        return true
      }
      // One store round trip per version at a time: concurrent callers wait for it and share the block.
      let pending = this.#pending.get(version)
      if (pending === undefined) {
        pending = this.#fetchBlock(version).finally(() => this.#pending.delete(version))
        this.#pending.set(version, pending)
      }
      if (!(await pending)) return false
    }
  }

  async #fetchBlock(version: number): Promise<boolean> {
    const keyRef = keyRefOf(this.#name, version)
    const before = await this.#store.reserve(keyRef, this.#block)
    if (before >= this.#limit) return false
    let end = before + this.#block
    if (end > this.#limit) end = this.#limit
    this.#blocks.set(version, { next: before, end })
    if (end >= this.#warnAt && !this.#warned.has(version)) {
      this.#warned.add(version)
      if (this.#emitter.active)
        await this.#emitter.emit({
          type: 'key.budget.warning',
          at: this.#clock.now(),
          source: '@safeguards/envelope',
          outcome: 'success',
          keyRef,
          counts: { wraps: Number(end), limit: Number(this.#limit) },
        })
    }
    return true
  }

  #refPrefixes = new Map<string, Uint8Array>()

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
    const due = this.#refresh()
    if (due !== undefined) await due
    for (let attempt = 0; ; attempt++) {
      let k: KeyMeta | undefined
      if (options?.keyRef !== undefined) {
        const v = this.#parseRef(options.keyRef)
        k = v === undefined ? undefined : this.#keys.find((x) => x.version === v)
        if (k === undefined) throw new KeyUnavailableError(options.keyRef, 'unknown')
        if (k.state !== 'primary' && k.state !== 'decrypt-only') {
          throw new KeyUnavailableError(
            options.keyRef,
            k.retired ? 'retired' : (k.state as 'disabled' | 'destroyed'),
          )
        }
      } else {
        k = this.#keys.find((x) => x.state === 'primary')
        if (k === undefined) throw new KeyUnavailableError(`${PROVIDER_ID}:${this.#name}`, 'no-primary')
      }
      const keyRef = keyRefOf(this.#name, k.version)
      // the common case takes a use from the reserved block without a store round trip (or an await)
      if (!this.#takeReserved(k.version) && !(await this.#reserve(k.version))) {
        if (this.#policy === 'rotate' && attempt === 0 && options?.keyRef === undefined) {
          // another instance may have rotated already; rotate only if the primary is still this one
          await this.reload()
          if (this.#keys.find((x) => x.state === 'primary')?.version === k.version) await this.rotate()
          continue
        }
        throw new UsageLimitError(keyRef, this.#limit)
      }
      const iv = this.#random(12)
      const key = this.#aeadKey(k.version)
      const wrapAad = this.#wrapAad(keyRef, aad)
      const sync = this.#aead.sealPartsSync
      const [ct, tag] =
        sync !== undefined ? sync(key, iv, wrapAad, dek) : await this.#aead.sealParts(key, iv, wrapAad, dek)
      const edk = new Uint8Array(12 + ct.length + tag.length)
      edk.set(iv, 0)
      edk.set(ct, 12)
      edk.set(tag, 12 + ct.length)
      return { keyRef, edk }
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
    const due = this.#refresh()
    if (due !== undefined) await due
    let v = this.#parseRef(keyRef)
    let k = v === undefined ? undefined : this.#keys.find((x) => x.version === v)
    if (k === undefined && v !== undefined && this.#path !== undefined) {
      await this.reload() // another process may have added the version
      v = this.#parseRef(keyRef)
      k = this.#keys.find((x) => x.version === v)
    }
    if (k === undefined) throw new KeyUnavailableError(String(keyRef), 'unknown')
    if (k.state === 'disabled') throw new KeyUnavailableError(keyRef, k.retired ? 'retired' : 'disabled')
    if (k.state === 'destroyed') throw new KeyUnavailableError(keyRef, 'destroyed')
    if (!(edk instanceof Uint8Array) || edk.length !== 60) throw new EnvelopeDecryptionError()
    const key = this.#aeadKey(k.version)
    const wrapAad = this.#wrapAad(keyRef, aad)
    const sync = this.#aead.openSync
    if (sync !== undefined) return sync(key, edk.subarray(0, 12), wrapAad, edk.subarray(12))
    return this.#aead.open(key, edk.subarray(0, 12), wrapAad, edk.subarray(12))
  }
}
