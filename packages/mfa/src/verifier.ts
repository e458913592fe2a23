/**
 * The TOTP verifier: server clock only, a window of ±1 step by default (±2 at most), each time
 * step accepted at most once per credential (atomic compare-and-set in the store), throttling
 * with backoff, lock and disable, and malformed input answered with `{ valid: false }`.
 *
 * @module
 */
import { assertInteger, assertString, type Clock } from '@safeguards/core'
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
export interface TotpVerifierOptions extends TotpParameters {
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
] satisfies (keyof TotpVerifierOptions)[]

const stepKey = (credentialId: string): string => `step:${credentialId}`

function parseStep(raw: string | null): number | undefined {
  if (raw === null) return undefined
  const n = Number(raw)
  if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(n))
    throw new MfaStoreError('step record has an unexpected shape')
  return n
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
    async verify(
      credentialId: string,
      secret: Uint8Array,
      code: unknown,
      opts: TotpVerifyOptions = {},
    ): Promise<TotpVerifyResult> {
      checkKey(credentialId, 'credentialId')
      checkSecret(secret)
      const key = opts.throttleKey ?? credentialId
      checkKey(key, 'throttleKey')
      const now = clock.now()
      const attempt = await beginAttempt(store, key, now, policy)
      if (!attempt.allowed)
        return { valid: false, reason: attempt.status.blocked, retryAfterMs: attempt.status.retryAfterMs }
      if (!isWellFormedCode(code, params.digits)) return { valid: false, reason: 'malformed' }
      for (let round = 0; round < 64; round++) {
        const raw = await store.get(stepKey(credentialId))
        const last = parseStep(raw)
        const step = matchStep(secret, code, now, window, last, params)
        if (step === undefined) {
          // Distinguish a reused code from a wrong one (for audit), without accepting it.
          const replayed =
            last !== undefined && matchStep(secret, code, now, window, undefined, params) !== undefined
          return { valid: false, reason: replayed ? 'replayed' : 'invalid' }
        }
        if (await store.compareAndSet(stepKey(credentialId), raw, String(step))) {
          await recordSuccess(store, key, policy, attempt.counted)
          return { valid: true, step, delta: step - Math.floor(now / 1000 / params.period) }
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
