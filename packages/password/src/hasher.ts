/**
 * Password hashing with argon2id (RFC 9106) through the `argon2` N-API addon: PHC strings,
 * an optional pepper (Argon2's secret input K) named by a key id, our own rehash check, a dummy
 * verify for unknown accounts, and a concurrency cap so memory stays bounded under load.
 *
 * Defaults are OWASP's Password Storage Cheat Sheet floor for argon2id: m=19456 KiB, t=2, p=1.
 * Configured costs must meet one of OWASP's equivalent rows (m=47104/t=1, 19456/2, 12288/3,
 * 9216/4, 7168/5) or exceed it.
 *
 * @module
 */
import { availableParallelism } from 'node:os'
import {
  assertBytes,
  assertInteger,
  assertKnownOptions,
  type Clock,
  createEmitter,
  createSemaphore,
  type EventOptions,
  type RandomSource,
  randomBytes,
  systemClock,
} from '@safeguards/core'
import {
  PasswordConfigError,
  PasswordHasherBusyError,
  PasswordInvalidTextError,
  PasswordTooLargeError,
} from './errors.js'
import {
  currentSecret,
  type HasherState,
  hashBytes,
  secretFor,
  verifyParsed,
} from './internal/hasher-state.js'
import { DEFAULT_MAX_PASSWORD_BYTES, normalizePassword } from './normalize.js'
import { parsePhc } from './phc.js'
import { passwordNeedsRehash, type RehashPolicy } from './rehash.js'

/** A pepper key: a secret kept outside the database (HSM, KMS, secret manager), named by an id. */
export interface PepperKey {
  /** 1 to 8 characters `[A-Za-z0-9_-]`; stored in the PHC string as `keyid`. */
  keyId: string
  /** At least 32 random bytes. */
  key: Uint8Array
}

/** Options of {@link createPasswordHasher}. */
export interface PasswordHasherOptions extends EventOptions {
  /** Memory in KiB (default 19456). */
  memoryCost?: number
  /** Passes (default 2). */
  timeCost?: number
  /** Lanes (default 1). */
  parallelism?: number
  /** Tag length in bytes (default 32). */
  hashLength?: number
  /** Salt length in bytes (default 16). */
  saltLength?: number
  /** The current pepper; new hashes use it. */
  pepper?: PepperKey
  /** Older peppers still accepted for verification (their hashes report `needsRehash`). */
  previousPeppers?: readonly PepperKey[]
  /**
   * When a pepper is configured, whether hashes without a `keyid` still verify (for migrating an
   * existing database; they report `needsRehash`). Default false: fail closed.
   */
  acceptUnpeppered?: boolean
  /** Byte cap on passwords after NFKC (default 1024). */
  maxPasswordBytes?: number
  /** Hashes computed at once (default min(4, CPU count)). Each holds `memoryCost` KiB. */
  maxConcurrent?: number
  /** Calls allowed to wait for a slot (default 256); beyond that, {@link PasswordHasherBusyError}. */
  maxQueue?: number
  /** Salt source (default the platform CSPRNG). */
  random?: RandomSource
  /** The clock of the events' `at` (default the system clock). */
  clock?: Clock
}

/** Options of one {@link PasswordHasher.verify} (or `dummyVerify`). */
export interface PasswordVerifyOptions {
  /** Who is signing in (a user id): the `actor` of the `auth.password.*` event. Default: none. */
  actor?: string
}

/** The result of verifying a password. */
export interface PasswordVerifyResult {
  /** True when the password matches. */
  valid: boolean
  /** True when the password matched and the stored hash is weaker than policy: store a new hash. */
  needsRehash: boolean
}

/** A configured password hasher. */
export interface PasswordHasher {
  /** Hashes a password (NFKC-normalised) into an argon2id PHC string. */
  hash(password: string): Promise<string>
  /** Verifies a password against a stored PHC string; emits `auth.password.succeeded` or `.failed`. */
  verify(hash: string, password: string, options?: PasswordVerifyOptions): Promise<PasswordVerifyResult>
  /**
   * Costs the same as {@link PasswordHasher.verify} and always fails: use it for unknown accounts
   * (it emits `auth.password.failed` with `code: 'unknown-account'`).
   */
  dummyVerify(password: string, options?: PasswordVerifyOptions): Promise<PasswordVerifyResult>
  /** Our rehash check against this hasher's policy. */
  needsRehash(hash: string): boolean
  /** The policy new hashes are made with. */
  readonly policy: Readonly<RehashPolicy>
  /** Hashes running and waiting right now. */
  readonly load: { active: number; queued: number }
}

/**
 * OWASP Password Storage Cheat Sheet, argon2id rows (memory KiB, passes), all with p=1: the floor
 * configured costs must meet.
 *
 * HIPAA: 164.308(a)(5)(ii)(D) password management.
 *
 * @example
 * ```ts
 * OWASP_ARGON2ID_FLOOR[1] // { memoryCost: 19456, timeCost: 2 }
 * ```
 */
export const OWASP_ARGON2ID_FLOOR: readonly { memoryCost: number; timeCost: number }[] = Object.freeze([
  { memoryCost: 47104, timeCost: 1 },
  { memoryCost: 19456, timeCost: 2 },
  { memoryCost: 12288, timeCost: 3 },
  { memoryCost: 9216, timeCost: 4 },
  { memoryCost: 7168, timeCost: 5 },
])

/**
 * The default costs: OWASP's m=19456 KiB, t=2, p=1, 32-byte tag, 16-byte salt.
 *
 * HIPAA: 164.308(a)(5)(ii)(D) password management.
 *
 * @example
 * ```ts
 * createPasswordHasher({ ...DEFAULT_ARGON2ID_COSTS, timeCost: 3 })
 * ```
 */
export const DEFAULT_ARGON2ID_COSTS: Readonly<{
  memoryCost: number
  timeCost: number
  parallelism: number
  hashLength: number
  saltLength: number
}> = Object.freeze({ memoryCost: 19456, timeCost: 2, parallelism: 1, hashLength: 32, saltLength: 16 })

const KEY_ID = /^[A-Za-z0-9_-]{1,8}$/
const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
  'memoryCost',
  'timeCost',
  'parallelism',
  'hashLength',
  'saltLength',
  'pepper',
  'previousPeppers',
  'acceptUnpeppered',
  'maxPasswordBytes',
  'maxConcurrent',
  'maxQueue',
  'random',
  'clock',
  'events',
  'onSinkError',
] satisfies (keyof PasswordHasherOptions)[])
const SOURCE = '@safeguards/password'

function checkPepper(p: PepperKey, name: string): void {
  if (typeof p !== 'object' || p === null) throw new TypeError(`"${name}" expected an object`)
  if (typeof p.keyId !== 'string' || !KEY_ID.test(p.keyId))
    throw new PasswordConfigError(`"${name}.keyId" must be 1 to 8 characters [A-Za-z0-9_-]`)
  assertBytes(p.key, `${name}.key`)
  if (p.key.length < 32) throw new PasswordConfigError(`"${name}.key" must be at least 32 bytes`)
}

/**
 * Creates a password hasher.
 *
 * HIPAA: 164.312(d) person or entity authentication and 164.308(a)(5)(ii)(D) password management
 * (passwords are stored only as salted, memory-hard, optionally peppered verifiers).
 *
 * @hipaa 164.308(a)(5)(ii)(D) supports
 * @hipaa 164.312(d) supports
 * @nist IA-5(1) 164.308(a)(5)(ii)(D): passwords are stored only as salted argon2id verifiers, optionally peppered, and rehashed when costs rise
 * @evidence PHC strings with algorithm, version, costs and pepper key id; needsRehash when policy rises
 * @appResponsibility Keep the pepper in a KMS or HSM; tune costs with calibrate() on production hardware; throttle sign-in attempts.
 * @appResponsibility Train users on creating and safeguarding passwords: NIST's own mapping of password management is training (AT-2, AT-3), which no library provides.
 * @config memoryCost, timeCost, parallelism, pepper and key id, maxConcurrent
 * @verifiedBy packages/password/test/hasher.test.ts
 * @verifiedBy packages/password/test/rfc9106.test.ts
 * @throws {PasswordConfigError} (code `ERR_PASSWORD_CONFIG`) on an unknown option (a typo never
 *   falls back to a default), when costs are below the OWASP floor, or when a pepper is malformed
 *   or shorter than 32 bytes.
 * @throws {TypeError} / {RangeError} on options of the wrong type or range (and when `events`
 *   holds something that is not a function).
 * @example
 * ```ts
 * const hasher = createPasswordHasher({ pepper: { keyId: 'p1', key: pepperFromKms } })
 * const phc = await hasher.hash(password)
 * const { valid, needsRehash } = await hasher.verify(phc, attempt)
 * if (valid && needsRehash) await users.setHash(id, await hasher.hash(attempt))
 * ```
 */
export function createPasswordHasher(options: PasswordHasherOptions = {}): PasswordHasher {
  const s = resolveState(options)
  return {
    policy: s.policy,
    get load() {
      return { active: s.semaphore.active, queued: s.semaphore.queued }
    },
    async hash(password: string): Promise<string> {
      return hashBytes(s, normalizePassword(password, s.maxBytes))
    },
    verify: (hash: string, password: string, opts?: PasswordVerifyOptions) => verify(s, hash, password, opts),
    dummyVerify: (password: string, opts?: PasswordVerifyOptions) => dummyVerify(s, password, opts),
    needsRehash(hash: string): boolean {
      return passwordNeedsRehash(hash, s.policy)
    },
  }
}

/** Checks the options (see {@link createPasswordHasher}'s `@throws`) and builds the state. */
function resolveState(options: PasswordHasherOptions): HasherState {
  assertKnownOptions(options, KNOWN_OPTIONS, (message) => new PasswordConfigError(message))
  const memoryCost = options.memoryCost ?? DEFAULT_ARGON2ID_COSTS.memoryCost
  const timeCost = options.timeCost ?? DEFAULT_ARGON2ID_COSTS.timeCost
  const parallelism = options.parallelism ?? DEFAULT_ARGON2ID_COSTS.parallelism
  const hashLength = options.hashLength ?? DEFAULT_ARGON2ID_COSTS.hashLength
  const saltLength = options.saltLength ?? DEFAULT_ARGON2ID_COSTS.saltLength
  const maxBytes = options.maxPasswordBytes ?? DEFAULT_MAX_PASSWORD_BYTES
  assertInteger(memoryCost, 'memoryCost', 1, 4 * 1024 * 1024)
  assertInteger(timeCost, 'timeCost', 1, 1000)
  assertInteger(parallelism, 'parallelism', 1, 64)
  assertInteger(hashLength, 'hashLength', 16, 64)
  assertInteger(saltLength, 'saltLength', 16, 64)
  assertInteger(maxBytes, 'maxPasswordBytes', 64, 64 * 1024)
  if (!OWASP_ARGON2ID_FLOOR.some((row) => memoryCost >= row.memoryCost && timeCost >= row.timeCost))
    throw new PasswordConfigError('argon2id costs are below the OWASP floor (e.g. m=19456 KiB, t=2)')
  if (memoryCost < 8 * parallelism)
    throw new PasswordConfigError('"memoryCost" must be at least 8 × parallelism')
  const peppers = pepperKeys(options)
  const cores = availableParallelism()
  const maxConcurrent = options.maxConcurrent ?? Math.max(1, Math.min(4, cores))
  const maxQueue = options.maxQueue ?? 256
  assertInteger(maxConcurrent, 'maxConcurrent', 1, 1024)
  assertInteger(maxQueue, 'maxQueue', 0, 1_000_000)
  const semaphore = createSemaphore(maxConcurrent, {
    maxQueue,
    onFull: (queued) => new PasswordHasherBusyError(queued),
  })
  const policy: RehashPolicy = Object.freeze({
    memoryCost,
    timeCost,
    parallelism,
    hashLength,
    saltLength,
    keyId: options.pepper?.keyId,
  })
  const emitter = createEmitter(options)
  const clock = options.clock ?? systemClock
  if (typeof clock?.now !== 'function') throw new TypeError('"clock" expected a Clock')
  return {
    policy,
    maxBytes,
    peppers,
    acceptUnpeppered: options.acceptUnpeppered ?? false,
    random: options.random ?? randomBytes,
    semaphore,
    emitter,
    clock,
    decoy: undefined,
  }
}

/** The pepper keys by id (copies): the current one first, then the previous ones. */
function pepperKeys(options: PasswordHasherOptions): Map<string, Uint8Array> {
  const peppers = new Map<string, Uint8Array>()
  if (options.pepper !== undefined) {
    checkPepper(options.pepper, 'pepper')
    peppers.set(options.pepper.keyId, options.pepper.key.slice())
  }
  for (const [i, p] of (options.previousPeppers ?? []).entries()) {
    checkPepper(p, `previousPeppers[${i}]`)
    if (!peppers.has(p.keyId)) peppers.set(p.keyId, p.key.slice())
  }
  if (options.previousPeppers?.length && options.pepper === undefined)
    throw new PasswordConfigError('"previousPeppers" needs a current "pepper"')
  return peppers
}

const FAIL: PasswordVerifyResult = Object.freeze({ valid: false, needsRehash: false })

/** Emits `auth.password.succeeded` (no code) or `auth.password.failed` with `code`. */
async function report(
  s: HasherState,
  opts: PasswordVerifyOptions | undefined,
  code: 'mismatch' | 'malformed' | 'unknown-account' | undefined,
): Promise<void> {
  const actor = opts?.actor
  const base = { at: s.clock.now(), source: SOURCE, ...(actor === undefined ? {} : { actor }) }
  await s.emitter.emit(
    code === undefined
      ? { type: 'auth.password.succeeded', ...base, outcome: 'success' }
      : { type: 'auth.password.failed', ...base, outcome: 'failure', code },
  )
}

/** The normalised password, or undefined when it is oversized or not valid text. */
function tryNormalize(password: string, maxBytes: number): Uint8Array | undefined {
  try {
    return normalizePassword(password, maxBytes)
  } catch (e) {
    if (e instanceof PasswordTooLargeError || e instanceof PasswordInvalidTextError) return undefined
    throw e
  }
}

/** `PasswordHasher.verify`. */
async function verify(
  s: HasherState,
  hash: string,
  password: string,
  opts?: PasswordVerifyOptions,
): Promise<PasswordVerifyResult> {
  const h = parsePhc(hash)
  const secret = secretFor(s, h)
  const bytes = tryNormalize(password, s.maxBytes)
  // Oversized or malformed input is refused before any hashing: a normal "no".
  const ok = bytes !== undefined && (await verifyParsed(s, h, bytes, secret))
  if (s.emitter.active) await report(s, opts, ok ? undefined : bytes === undefined ? 'malformed' : 'mismatch')
  return ok ? { valid: true, needsRehash: passwordNeedsRehash(hash, s.policy) } : FAIL
}

/** `PasswordHasher.dummyVerify`: the cost of a verification against a decoy hash, always a "no". */
async function dummyVerify(
  s: HasherState,
  password: string,
  opts?: PasswordVerifyOptions,
): Promise<PasswordVerifyResult> {
  const bytes = tryNormalize(password, s.maxBytes)
  if (bytes !== undefined) {
    s.decoy ??= hashBytes(s, s.random(32)).then(parsePhc)
    const h = await s.decoy
    await verifyParsed(s, h, bytes, currentSecret(s))
  }
  if (s.emitter.active) await report(s, opts, 'unknown-account')
  return FAIL
}

let defaultHasher: PasswordHasher | undefined
const getDefault = (): PasswordHasher => {
  defaultHasher ??= createPasswordHasher()
  return defaultHasher
}

/**
 * Hashes a password with the default hasher (argon2id, m=19456 KiB, t=2, p=1, no pepper).
 *
 * HIPAA: 164.312(d) and 164.308(a)(5)(ii)(D).
 *
 * @throws {TypeError} when `password` is not a string.
 * @throws {PasswordTooLargeError} (code `ERR_PASSWORD_TOO_LARGE`) above 1 KiB after NFKC.
 * @throws {PasswordInvalidTextError} (code `ERR_PASSWORD_INVALID_TEXT`) on a lone surrogate.
 * @throws {PasswordHasherBusyError} (code `ERR_PASSWORD_BUSY`) when the queue is full.
 * @example
 * ```ts
 * const phc = await hashPassword('correct horse battery staple')
 * // '$argon2id$v=19$m=19456,t=2,p=1$…$…'
 * ```
 */
export function hashPassword(password: string): Promise<string> {
  return getDefault().hash(password)
}

/**
 * Verifies a password with the default hasher: `{ valid, needsRehash }`.
 *
 * HIPAA: 164.312(d) person or entity authentication.
 *
 * @throws {PasswordHashFormatError} (code `ERR_PASSWORD_HASH_FORMAT`) when `hash` is malformed.
 * @throws {PepperKeyMissingError} (code `ERR_PASSWORD_PEPPER_UNKNOWN`) when `hash` names a pepper.
 * @throws {PasswordHasherBusyError} (code `ERR_PASSWORD_BUSY`) when the queue is full.
 * @example
 * ```ts
 * const { valid, needsRehash } = await verifyPassword(user.passwordHash, attempt)
 * ```
 */
export function verifyPassword(hash: string, password: string): Promise<PasswordVerifyResult> {
  return getDefault().verify(hash, password)
}
