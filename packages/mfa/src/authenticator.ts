/**
 * The whole TOTP factor for an application: enrollment (secret, `otpauth://` URI, QR codes, kept
 * pending until confirmed by a first valid code), login verification, recovery codes and
 * lockout management. Secrets are sealed at rest with a {@link SecretSealer} bound to the user
 * and the credential id; failures are counted per user, so enrolling a new credential does not
 * reset them.
 *
 * @module
 */
import {
  assertInteger,
  assertString,
  base64urlToBytes,
  bytesToBase64url,
  type Clock,
  createEmitter,
  type Emitter,
  type EventOptions,
  type RandomSource,
  randomBytes,
  Secret,
  systemClock,
} from '@safeguards/core'
import { type Cred, readRecord, updateRecord, userThrottle } from './internal/credential-record.js'
import { lazyPasswordHasher } from './internal/default-hasher.js'
import { checkOptions } from './internal/options.js'
import { uriFor } from './internal/uri-for.js'
import { qrPngDataUrl, qrSvg } from './qr.js'
import {
  issueRecoveryCodes,
  type RecoveryCodeHasher,
  type RecoveryRedeemResult,
  redeemRecoveryCode,
  remainingRecoveryCodes,
} from './recovery-codes.js'
import { type SecretSealer, totpSealContext } from './sealer.js'
import { generateTotpSecret, secretToBase32 } from './secret.js'
import type { MfaStore } from './store.js'
import { resolveThrottlePolicy, type ThrottlePolicy, type ThrottleStatus } from './throttle.js'
import { resolveTotp, type TotpParameters } from './totp.js'
import {
  type CheckedCode,
  createVerifierCore,
  reportCheck,
  type TotpVerifyResult,
  VERIFIER_OPTIONS,
  type VerifierCore,
} from './verifier.js'

/** Options of {@link createTotpAuthenticator}. */
export interface TotpAuthenticatorOptions extends TotpParameters, EventOptions {
  /** Credentials, used steps, failure counts and recovery codes. */
  store: MfaStore
  /** Seals secrets at rest (`createAesGcmSealer(key)`, or an `@safeguards/envelope` envelope). */
  sealer: SecretSealer
  /** The service name shown in authenticator apps. */
  issuer: string
  /** The server clock (default the system clock). */
  clock?: Clock
  /** Randomness for secrets, ids and recovery codes (default the platform CSPRNG). */
  random?: RandomSource
  /** Steps accepted either side of now: 0, 1 (default) or 2. */
  window?: number
  /** Throttling policy, shared by TOTP codes and recovery codes (separately counted). */
  throttle?: Partial<ThrottlePolicy>
  /** Secret size in bytes (default 20 = 160 bits; at least 20). */
  secretBytes?: number
  /** How long an unconfirmed enrollment stays usable (default 10 minutes). */
  pendingTtlMs?: number
  /**
   * Hashes recovery codes (default `createPasswordHasher()` from the optional peer
   * `@safeguards/password`: argon2id, m=19456 KiB, t=2, loaded on first use; without it, recovery
   * codes throw `MfaDependencyError`).
   */
  recoveryHasher?: RecoveryCodeHasher
}

/** What {@link TotpAuthenticator.beginEnrollment} returns. Every field but the id holds the secret. */
export interface TotpEnrollment {
  /** The new credential's id (not secret). */
  credentialId: string
  /** The secret in base32, for typing into an app by hand. */
  manualKey: Secret<string>
  /** The `otpauth://` URI. */
  uri: Secret<string>
  /** The URI as an SVG QR code. */
  qrSvg: Secret<string>
  /** The URI as a PNG QR code, as a `data:` URL. */
  qrPngDataUrl: Secret<string>
  /** When the pending enrollment expires (ms since the epoch). */
  expiresAt: number
}

/** Why a user-level check was refused before any code was compared. */
export type TotpUserFailure = { valid: false; reason: 'not-enrolled' | 'no-pending-enrollment' }

/** The TOTP factor of an application. */
export interface TotpAuthenticator {
  /** Starts (or restarts) enrollment: a new secret, pending until confirmed. The active credential, if any, stays active. */
  beginEnrollment(userId: string, account: string): Promise<TotpEnrollment>
  /** Confirms a pending enrollment with a first valid code; it then replaces any active credential. */
  confirmEnrollment(
    userId: string,
    credentialId: string,
    code: unknown,
  ): Promise<TotpVerifyResult | TotpUserFailure>
  /** Verifies a login code against the user's active credential. */
  verify(userId: string, code: unknown): Promise<TotpVerifyResult | TotpUserFailure>
  /** True when the user has an active (confirmed) credential. */
  isEnrolled(userId: string): Promise<boolean>
  /** The user's TOTP throttle state. */
  status(userId: string): Promise<ThrottleStatus>
  /** Clears the user's TOTP failure count and disabled state (operator action after identity proofing). */
  resetLockout(userId: string): Promise<void>
  /** Removes the user's active and pending credentials (failure counts are kept). */
  removeCredential(userId: string): Promise<void>
  /** Issues 10 new recovery codes (replacing the old set). Show them once; only hashes are stored. */
  generateRecoveryCodes(userId: string): Promise<string[]>
  /** Redeems a recovery code (each works once). */
  redeemRecoveryCode(userId: string, code: unknown): Promise<RecoveryRedeemResult>
  /** Unused recovery codes left. */
  remainingRecoveryCodes(userId: string): Promise<number>
}

const SOURCE = '@safeguards/mfa'

/** What one authenticator holds, its options checked; the operations below take it. */
interface Factor {
  readonly options: TotpAuthenticatorOptions
  readonly store: MfaStore
  readonly sealer: SecretSealer
  readonly clock: Clock
  readonly random: RandomSource
  readonly secretBytes: number
  readonly pendingTtlMs: number
  readonly policy: ThrottlePolicy
  readonly verifier: VerifierCore
  /** Isolated sinks never change an authentication result; a critical sink that fails fails the call. */
  readonly emitter: Emitter
  /** The recovery-code hasher (the default one loaded on first use). */
  readonly hasher: () => RecoveryCodeHasher
}

/** Checks the options and builds the state (see {@link createTotpAuthenticator}'s `@throws`). */
function resolveFactor(options: TotpAuthenticatorOptions): Factor {
  checkOptions(options, [
    ...VERIFIER_OPTIONS,
    'sealer',
    'issuer',
    'random',
    'secretBytes',
    'pendingTtlMs',
    'recoveryHasher',
  ])
  const params = resolveTotp(options)
  const { store, sealer } = options
  if (typeof store?.get !== 'function' || typeof store.compareAndSet !== 'function')
    throw new TypeError('"store" expected an MfaStore')
  if (typeof sealer?.encrypt !== 'function' || typeof sealer.decrypt !== 'function')
    throw new TypeError('"sealer" expected a SecretSealer')
  assertString(options.issuer, 'issuer', 256)
  const clock = options.clock ?? systemClock
  if (typeof clock?.now !== 'function') throw new TypeError('"clock" expected a Clock')
  const random = options.random ?? randomBytes
  const secretBytes = options.secretBytes ?? 20
  assertInteger(secretBytes, 'secretBytes', 20, 64)
  const pendingTtlMs = options.pendingTtlMs ?? 10 * 60_000
  assertInteger(pendingTtlMs, 'pendingTtlMs', 1000, 24 * 3600_000)
  const policy = resolveThrottlePolicy(options.throttle)
  const verifier = createVerifierCore({
    algorithm: options.algorithm ?? 'SHA1',
    digits: params.digits,
    period: params.period,
    store,
    clock,
    ...(options.window === undefined ? {} : { window: options.window }),
    throttle: policy,
  })
  let hasher = options.recoveryHasher
  const emitter = createEmitter(options)
  return {
    options,
    store,
    sealer,
    clock,
    random,
    secretBytes,
    pendingTtlMs,
    policy,
    verifier,
    emitter,
    hasher: () => {
      hasher ??= lazyPasswordHasher()
      return hasher
    },
  }
}

function checkUser(userId: string): void {
  assertString(userId, 'userId', 256)
  if (userId.length === 0) throw new RangeError('"userId" must not be empty')
}

const fields = (f: Factor, actor: string): { at: number; source: string; actor: string } => ({
  at: f.clock.now(),
  source: SOURCE,
  actor,
})

/** auth.factor.enrolled / removed: `code` names the factor (`totp`, `recovery-codes`). */
async function factorEvent(
  f: Factor,
  type: 'auth.factor.enrolled' | 'auth.factor.removed',
  actor: string,
  code: 'totp' | 'recovery-codes',
  extra: { credentialId?: string; counts?: { remaining: number } } = {},
): Promise<void> {
  if (f.emitter.active)
    await f.emitter.emit({ type, ...fields(f, actor), outcome: 'success', code, ...extra })
}

/** Checks `code` against `cred`'s secret (unsealed only for the check) and reports the outcome. */
async function checkCode(
  f: Factor,
  userId: string,
  cred: Cred,
  code: unknown,
  confirming: boolean,
): Promise<TotpVerifyResult> {
  const secret = await f.sealer.decrypt(base64urlToBytes(cred.sealed), totpSealContext(userId, cred.id))
  let c: CheckedCode
  try {
    c = await f.verifier.check(cred.id, secret, code, userThrottle(userId))
  } finally {
    secret.fill(0)
  }
  // A confirmation's success is reported as auth.factor.enrolled, once the credential is active.
  if (f.emitter.active && !(confirming && c.result.valid))
    await reportCheck(f.emitter, f.clock.now(), { actor: userId, credentialId: cred.id }, c, f.policy)
  return c.result
}

/**
 * Creates the TOTP factor of an application.
 *
 * Enrollment flow: `beginEnrollment` → show the QR code → the user types the first code →
 * `confirmEnrollment` (which consumes that code's time step) → `generateRecoveryCodes`, shown once.
 *
 * HIPAA: supports 164.312(d) person or entity authentication (a second factor; the procedure
 * around it is yours), 164.308(a)(5)(ii)(C) log-in monitoring (failures counted, throttled and
 * reported as events) and 164.308(a)(3)(ii)(C) termination procedures (`removeCredential`).
 *
 * @hipaa 164.312(d) supports
 * @hipaa 164.308(a)(5)(ii)(C) supports
 * @hipaa 164.308(a)(3)(ii)(C) supports
 * @nist IA-2 164.312(d)
 * @nist IA-2(1) 164.312(d): a TOTP second factor for privileged accounts
 * @nist IA-2(2) 164.312(d): a TOTP second factor for non-privileged accounts
 * @nist IA-2(8) 164.312(d): a code accepted once is refused when replayed in its time step
 * @nist IA-5 164.312(d): TOTP secrets are sealed at rest, enrollment is confirmed by a first code, recovery codes are stored only as hashes
 * @nist AC-7 164.312(d): backoff, lock and disable after repeated failures
 * @nist PS-4 164.308(a)(3)(ii)(C): removeCredential takes a departing user's factor away, with an auth.factor.removed event
 * @evidence security events (auth.factor.enrolled, auth.totp.succeeded, auth.totp.failed, auth.totp.replayed, auth.locked, auth.recovery-code.used, auth.factor.removed) without secrets or codes
 * @appResponsibility Proof identities before enrollment; require MFA on every path to ePHI; monitor lockout events; handle recovery through a verified support process.
 * @appResponsibility When access ends, call removeCredential as part of your termination procedure, and write the events to your audit log.
 * @config issuer, window (±1 step default, ±2 maximum), throttle (backoff, lock, disable at 100 failures), sealer
 * @verifiedBy packages/mfa/test/authenticator.test.ts
 * @verifiedBy packages/mfa/test/verifier.test.ts
 * @verifiedBy packages/mfa/test/vectors.test.ts
 * @throws {MfaConfigError} (code `ERR_MFA_CONFIG`) on an unknown option (here or in `throttle`), an
 *   invalid window or throttle policy;
 *   {TypeError}/{RangeError} on options of the wrong type or range (and when `events` holds
 *   something that is not a function).
 * @example
 * ```ts
 * const mfa = createTotpAuthenticator({ store, sealer: await createAesGcmSealer(key), issuer: 'Acme Clinic' })
 * const e = await mfa.beginEnrollment(user.id, user.email)
 * // render e.qrSvg.reveal(), then:
 * const r = await mfa.confirmEnrollment(user.id, e.credentialId, req.body.code)
 * ```
 */
export function createTotpAuthenticator(options: TotpAuthenticatorOptions): TotpAuthenticator {
  const f = resolveFactor(options)
  const { store, verifier } = f
  return {
    beginEnrollment: (userId: string, account: string) => beginEnrollment(f, userId, account),
    confirmEnrollment: (userId: string, credentialId: string, code: unknown) =>
      confirmEnrollment(f, userId, credentialId, code),
    async verify(userId: string, code: unknown) {
      checkUser(userId)
      const active = (await readRecord(store, userId)).active
      if (active === undefined) return { valid: false, reason: 'not-enrolled' } as const
      return checkCode(f, userId, active, code, false)
    },
    async isEnrolled(userId: string): Promise<boolean> {
      checkUser(userId)
      return (await readRecord(store, userId)).active !== undefined
    },
    async status(userId: string): Promise<ThrottleStatus> {
      checkUser(userId)
      return verifier.status(userThrottle(userId))
    },
    async resetLockout(userId: string): Promise<void> {
      checkUser(userId)
      await verifier.reset(userThrottle(userId))
    },
    async removeCredential(userId: string): Promise<void> {
      checkUser(userId)
      await updateRecord(store, userId, () => ({}))
      await factorEvent(f, 'auth.factor.removed', userId, 'totp')
    },
    async generateRecoveryCodes(userId: string): Promise<string[]> {
      checkUser(userId)
      const codes = await issueRecoveryCodes(store, f.hasher(), userId, 10, f.random)
      await factorEvent(f, 'auth.factor.enrolled', userId, 'recovery-codes', {
        counts: { remaining: codes.length },
      })
      return codes
    },
    redeemRecoveryCode: (userId: string, code: unknown) => redeem(f, userId, code),
    async remainingRecoveryCodes(userId: string): Promise<number> {
      checkUser(userId)
      return remainingRecoveryCodes(store, userId)
    },
  }
}

/** `TotpAuthenticator.beginEnrollment`: a new sealed secret, pending until confirmed. */
async function beginEnrollment(f: Factor, userId: string, account: string): Promise<TotpEnrollment> {
  checkUser(userId)
  const credentialId = bytesToBase64url(f.random(16))
  const secret = generateTotpSecret(f.secretBytes, f.random)
  try {
    const sealed = await f.sealer.encrypt(secret, totpSealContext(userId, credentialId))
    const now = f.clock.now()
    const expiresAt = now + f.pendingTtlMs
    const uri = uriFor(secret, f.options.issuer, account, f.options)
    const pending = { id: credentialId, sealed: bytesToBase64url(sealed), createdAt: now, expiresAt }
    await updateRecord(f.store, userId, (r) => ({ ...r, pending }))
    return {
      credentialId,
      manualKey: Secret.of(secretToBase32(secret)),
      uri: Secret.of(uri),
      qrSvg: Secret.of(qrSvg(uri)),
      qrPngDataUrl: Secret.of(await qrPngDataUrl(uri)),
      expiresAt,
    }
  } finally {
    secret.fill(0)
  }
}

/** `TotpAuthenticator.confirmEnrollment`: a first valid code turns the pending credential active. */
async function confirmEnrollment(
  f: Factor,
  userId: string,
  credentialId: string,
  code: unknown,
): Promise<TotpVerifyResult | TotpUserFailure> {
  checkUser(userId)
  assertString(credentialId, 'credentialId', 256)
  const pending = (await readRecord(f.store, userId)).pending
  if (pending === undefined || pending.id !== credentialId || pending.expiresAt <= f.clock.now())
    return { valid: false, reason: 'no-pending-enrollment' } as const
  const result = await checkCode(f, userId, pending, code, true)
  if (!result.valid) return result
  const done = await updateRecord(f.store, userId, (r) => {
    if (r.pending?.id !== credentialId) return undefined
    const { expiresAt: _, ...active } = r.pending
    return { active }
  })
  if (done === undefined) return { valid: false, reason: 'no-pending-enrollment' } as const
  await factorEvent(f, 'auth.factor.enrolled', userId, 'totp', { credentialId })
  return result
}

/** `TotpAuthenticator.redeemRecoveryCode`, with its `auth.recovery-code.used` event. */
async function redeem(f: Factor, userId: string, code: unknown): Promise<RecoveryRedeemResult> {
  checkUser(userId)
  const r = await redeemRecoveryCode(f.store, f.hasher(), userId, code, f.clock.now(), f.policy)
  if (f.emitter.active) {
    const type = 'auth.recovery-code.used'
    await f.emitter.emit(
      r.valid
        ? { type, ...fields(f, userId), outcome: 'success', counts: { remaining: r.remaining } }
        : { type, ...fields(f, userId), outcome: 'failure', code: r.reason },
    )
  }
  return r
}
