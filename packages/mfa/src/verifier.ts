/**
 * The TOTP verifier: server clock only, a window of ±1 step by default (±2 at most), each time
 * step accepted at most once per credential (atomic compare-and-set in the store), throttling
 * with backoff, lock and disable, and malformed input answered with `{ valid: false }`.
 *
 * @module
 */
import {
  assertInteger,
  assertString,
  type Clock,
  createEmitter,
  type Emitter,
  type EventOptions,
} from '@safeguards/core'
import { MfaConfigError, MfaStoreError } from './errors.js'
import { toClock } from './internal/clock.js'
import { checkOptions } from './internal/options.js'
import { createMemoryStore, type MfaStore } from './store.js'
import {
  beginAttempt,
  readThrottle,
  recordSuccess,
  resetThrottle,
  resolveThrottlePolicy,
  type ThrottlePolicy,
  type ThrottleReason,
  type ThrottleStatus,
} from './throttle.js'
import { checkSecret, isWellFormedCode, matchStep, resolveTotp, type TotpParameters } from './totp.js'

/** Options of {@link createTotpVerifier}. */
export interface TotpVerifierOptions extends TotpParameters, EventOptions {
  /** Where used steps and failure counts live (default: a new in-memory store). */
  store?: MfaStore
  /** The server clock, a `Clock` or `() => ms` (default the system clock). Client-supplied times are never used. */
  now?: Clock | (() => number)
  /** Steps accepted either side of the current one: 0, 1 (default) or 2. */
  window?: number
  /** Throttling policy (defaults: backoff after 5, lock after 10, disabled at 100). */
  throttle?: Partial<ThrottlePolicy>
}

/** Why a code was refused. */
export type TotpFailureReason = 'malformed' | 'invalid' | 'replayed' | ThrottleReason

/** The answer of {@link TotpVerifier.verify}. */
export type TotpVerifyResult =
  | { valid: true; step: number; delta: number }
  | { valid: false; reason: TotpFailureReason; retryAfterMs?: number }

/** Options of one verification. */
export interface TotpVerifyOptions {
  /**
   * The key failures are counted under (default the credential id). Pass the user id so that
   * enrolling a new credential does not reset the count.
   */
  throttleKey?: string
  /** Who is signing in (a user id): the `actor` of the events. Default: none. */
  actor?: string
}

/** A configured TOTP verifier. */
export interface TotpVerifier {
  /**
   * Checks `code` for the credential. Never throws on a bad code: a malformed, wrong, replayed or
   * throttled one resolves to `{ valid: false, reason }` and counts as a failure.
   */
  verify(
    credentialId: string,
    secret: Uint8Array,
    code: unknown,
    options?: TotpVerifyOptions,
  ): Promise<TotpVerifyResult>
  /** The throttle state of a key (a credential id or the `throttleKey` used). */
  status(key: string): Promise<ThrottleStatus>
  /** Clears the failure count and a disabled state (an operator action after identity proofing). */
  reset(key: string): Promise<void>
}

/** @internal the option names of {@link createTotpVerifier}. */
export const VERIFIER_OPTIONS: readonly string[] = [
  'algorithm',
  'digits',
  'period',
  'store',
  'now',
  'window',
  'throttle',
  'events',
  'onSinkError',
] satisfies (keyof TotpVerifierOptions)[]

const stepKey = (credentialId: string): string => `step:${credentialId}`

function parseStep(raw: string | null): number | undefined {
  if (raw === null) return undefined
  const n = Number(raw)
  if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(n))
    throw new MfaStoreError('step record has an unexpected shape')
  return n
}

/** @internal A checked code and the consecutive failures it left (0 after a success). */
export interface CheckedCode {
  readonly result: TotpVerifyResult
  readonly failures: number
  /** False when throttling refused the attempt before its code was looked at. */
  readonly counted: boolean
}

/** @internal The verifier without events: {@link createTotpVerifier} and the authenticator report. */
export interface VerifierCore {
  check(credentialId: string, secret: Uint8Array, code: unknown, throttleKey?: string): Promise<CheckedCode>
  status(key: string): Promise<ThrottleStatus>
  reset(key: string): Promise<void>
  readonly policy: ThrottlePolicy
  readonly clock: Clock
}

const SOURCE = '@safeguards/mfa'

/**
 * @internal Emits what one check found: `auth.totp.succeeded`, `auth.totp.failed` (`code`: the
 * reason), `auth.totp.replayed`, then `auth.locked` when this failure locked or disabled the factor.
 * Call it only when `emitter.active`.
 */
export async function reportCheck(
  emitter: Emitter,
  at: number,
  who: { actor: string | undefined; credentialId: string },
  c: CheckedCode,
  policy: ThrottlePolicy,
): Promise<void> {
  const base = {
    at,
    source: SOURCE,
    ...(who.actor === undefined ? {} : { actor: who.actor }),
    credentialId: who.credentialId,
  }
  const r = c.result
  if (r.valid) return emitter.emit({ type: 'auth.totp.succeeded', ...base, outcome: 'success' })
  const counts = { failures: c.failures }
  const type = r.reason === 'replayed' ? 'auth.totp.replayed' : 'auth.totp.failed'
  await emitter.emit({ type, ...base, outcome: 'failure', code: r.reason, counts })
  if (c.counted && c.failures >= policy.lockAfter) {
    const code = c.failures >= policy.disableAfter ? 'disabled' : 'locked'
    await emitter.emit({ type: 'auth.locked', ...base, outcome: 'success', code, counts })
  }
}

/** @internal Builds the checks of {@link createTotpVerifier} from validated options. */
export function createVerifierCore(options: TotpVerifierOptions): VerifierCore {
  const params = resolveTotp(options)
  const clock = toClock(options.now)
  const store = options.store ?? createMemoryStore({ clock })
  const window = options.window ?? 1
  assertInteger(window, 'window', 0, Number.MAX_SAFE_INTEGER)
  if (window > 2) throw new MfaConfigError('"window" must be at most 2 steps')
  const policy = resolveThrottlePolicy(options.throttle)
  const checkKey = (k: string, name: string): void => {
    assertString(k, name, 256)
    if (k.length === 0) throw new RangeError(`"${name}" must not be empty`)
  }

  return {
    policy,
    clock,
    async check(
      credentialId: string,
      secret: Uint8Array,
      code: unknown,
      throttleKey?: string,
    ): Promise<CheckedCode> {
      checkKey(credentialId, 'credentialId')
      checkSecret(secret)
      const key = throttleKey ?? credentialId
      checkKey(key, 'throttleKey')
      const now = clock.now()
      const attempt = await beginAttempt(store, key, now, policy)
      if (!attempt.allowed) {
        const { blocked, retryAfterMs, failures } = attempt.status
        return { result: { valid: false, reason: blocked, retryAfterMs }, failures, counted: false }
      }
      const failed = (reason: TotpFailureReason): CheckedCode => ({
        result: { valid: false, reason },
        failures: attempt.counted,
        counted: true,
      })
      if (!isWellFormedCode(code, params.digits)) return failed('malformed')
      for (let round = 0; round < 64; round++) {
        const raw = await store.get(stepKey(credentialId))
        const last = parseStep(raw)
        const step = matchStep(secret, code, now, window, last, params)
        if (step === undefined) {
          // Distinguish a reused code from a wrong one (for audit), without accepting it.
          const replayed =
            last !== undefined && matchStep(secret, code, now, window, undefined, params) !== undefined
          return failed(replayed ? 'replayed' : 'invalid')
        }
        if (await store.compareAndSet(stepKey(credentialId), raw, String(step))) {
          await recordSuccess(store, key, policy, attempt.counted)
          const delta = step - Math.floor(now / 1000 / params.period)
          return { result: { valid: true, step, delta }, failures: 0, counted: true }
        }
        // Lost a race: another request moved the step; re-read and decide again.
      }
      throw new MfaStoreError('step update did not converge')
    },
    async status(key: string): Promise<ThrottleStatus> {
      checkKey(key, 'key')
      return readThrottle(store, key, clock.now(), policy)
    },
    async reset(key: string): Promise<void> {
      checkKey(key, 'key')
      await resetThrottle(store, key)
    },
  }
}

/**
 * Creates a TOTP verifier.
 *
 * HIPAA: supports 164.312(d) person or entity authentication (failures are counted and
 * throttled; reasons can be audited).
 *
 * @hipaa 164.312(d) supports
 * @nist IA-2(8) 164.312(d): a code accepted once is refused when replayed in its time step
 * @nist AC-7 164.312(d): backoff, lock and disable after repeated failures
 * @evidence { valid, reason } per attempt: replayed, malformed, locked, disabled
 * @appResponsibility Keep server clocks synchronized (NTP).
 * @verifiedBy packages/mfa/test/verifier.test.ts
 * @throws {MfaConfigError} (code `ERR_MFA_CONFIG`) on an unknown option (here or in `throttle`), when
 *   `window` is above 2 or when the throttle policy is invalid; {TypeError}/{RangeError} on parameters of the wrong type or range.
 * @example
 * ```ts
 * const verifier = createTotpVerifier({ store: createRedisStore({ client }) })
 * const r = await verifier.verify(credentialId, secret, req.body.code, { throttleKey: userId })
 * if (!r.valid) return reply.code(401).send({ error: 'invalid code' })
 * ```
 */
export function createTotpVerifier(options: TotpVerifierOptions = {}): TotpVerifier {
  checkOptions(options, VERIFIER_OPTIONS)
  const core = createVerifierCore(options)
  const emitter = createEmitter(options)
  return {
    async verify(
      credentialId: string,
      secret: Uint8Array,
      code: unknown,
      opts: TotpVerifyOptions = {},
    ): Promise<TotpVerifyResult> {
      const c = await core.check(credentialId, secret, code, opts.throttleKey)
      // The hot path: no event is built when nothing listens.
      if (emitter.active)
        await reportCheck(emitter, core.clock.now(), { actor: opts.actor, credentialId }, c, core.policy)
      return c.result
    },
    status: (key: string): Promise<ThrottleStatus> => core.status(key),
    reset: (key: string): Promise<void> => core.reset(key),
  }
}
