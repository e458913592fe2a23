/**
 * Throttling of failed attempts (NIST SP 800-63B rev 4 §3.2.2 rate limiting): exponential
 * backoff after a few consecutive failures, a timed lock after more, and the authenticator
 * disabled after 100 consecutive failures until an operator resets it.
 *
 * Every attempt is counted as a failure *before* the code is checked (atomically, by
 * compare-and-set), and a success resets the count. So parallel guesses cannot slip past the
 * limit, and a crash mid-check errs towards counting.
 *
 * @module
 */
import { assertInteger } from '@safeguards/core'
import { MfaConfigError, MfaStoreError } from './errors.js'
import { casUpdate } from './internal/cas.js'
import { checkOptions } from './internal/options.js'
import type { MfaStore } from './store.js'

/** The throttling policy. */
export interface ThrottlePolicy {
  /** Consecutive failures before backoff starts (default 5). */
  backoffAfter: number
  /** First backoff delay in ms, doubled per further failure (default 1000). */
  baseDelayMs: number
  /** Longest backoff delay in ms (default 60 000). */
  maxDelayMs: number
  /** Consecutive failures that lock the credential for `lockMs` after each further failure (default 10). */
  lockAfter: number
  /** Lock duration in ms (default 15 minutes). */
  lockMs: number
  /** Consecutive failures that disable the credential until reset (default and maximum 100). */
  disableAfter: number
}

/**
 * The default policy: backoff after 5, 15-minute locks after 10, disabled at 100.
 *
 * HIPAA: 164.308(a)(5)(ii)(C) log-in monitoring.
 *
 * @example
 * ```ts
 * createTotpVerifier({ throttle: { ...DEFAULT_THROTTLE_POLICY, lockMs: 30 * 60_000 } })
 * ```
 */
export const DEFAULT_THROTTLE_POLICY: Readonly<ThrottlePolicy> = Object.freeze({
  backoffAfter: 5,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  lockAfter: 10,
  lockMs: 15 * 60_000,
  disableAfter: 100,
})

/** Why an attempt was refused before its code was checked. */
export type ThrottleReason = 'throttled' | 'locked' | 'disabled'

/** The state of one throttle key (what `status` reports). */
export interface ThrottleStatus {
  /** Consecutive failures so far. */
  failures: number
  /** Whether an attempt now would be refused, and why. */
  blocked: ThrottleReason | null
  /** Milliseconds until the next attempt is allowed (0 when allowed; Infinity when disabled). */
  retryAfterMs: number
}

/** @internal */
export function resolveThrottlePolicy(p: Partial<ThrottlePolicy> = {}): ThrottlePolicy {
  checkOptions(p, Object.keys(DEFAULT_THROTTLE_POLICY))
  const policy = { ...DEFAULT_THROTTLE_POLICY, ...p }
  for (const [k, v] of Object.entries(policy)) assertInteger(v, k, 0, 365 * 24 * 3600 * 1000)
  if (policy.disableAfter < 1 || policy.disableAfter > 100)
    throw new MfaConfigError(
      '"disableAfter" must be 1 to 100 (NIST SP 800-63B caps consecutive failures at 100)',
    )
  if (!(policy.backoffAfter <= policy.lockAfter && policy.lockAfter <= policy.disableAfter))
    throw new MfaConfigError('throttle thresholds must satisfy backoffAfter ≤ lockAfter ≤ disableAfter')
  return policy
}

interface State {
  f: number
  t: number
}

function parse(raw: string | null): State {
  if (raw === null) return { f: 0, t: 0 }
  let v: unknown
  try {
    v = JSON.parse(raw)
  } catch {
    throw new MfaStoreError('throttle record is not valid JSON')
  }
  const s = v as State
  if (
    typeof s !== 'object' ||
    s === null ||
    !Number.isSafeInteger(s.f) ||
    s.f < 0 ||
    !Number.isSafeInteger(s.t)
  )
    throw new MfaStoreError('throttle record has an unexpected shape')
  return s
}

function delayFor(failures: number, p: ThrottlePolicy): number {
  if (failures < p.backoffAfter) return 0
  if (failures < p.lockAfter) return Math.min(p.baseDelayMs * 2 ** (failures - p.backoffAfter), p.maxDelayMs)
  return p.lockMs
}

function status(s: State, now: number, p: ThrottlePolicy): ThrottleStatus {
  if (s.f >= p.disableAfter)
    return { failures: s.f, blocked: 'disabled', retryAfterMs: Number.POSITIVE_INFINITY }
  const wait = s.t + delayFor(s.f, p) - now
  if (wait > 0)
    return { failures: s.f, blocked: s.f >= p.lockAfter ? 'locked' : 'throttled', retryAfterMs: wait }
  return { failures: s.f, blocked: null, retryAfterMs: 0 }
}

const throttleKey = (key: string): string => `throttle:${key}`

/** @internal reads the throttle state of `key`. */
export async function readThrottle(
  store: MfaStore,
  key: string,
  now: number,
  p: ThrottlePolicy,
): Promise<ThrottleStatus> {
  return status(parse(await store.get(throttleKey(key))), now, p)
}

/** @internal The answer of {@link beginAttempt}: refused with the key's status, or allowed. */
export type Attempt =
  | { readonly allowed: false; readonly status: ThrottleStatus & { blocked: ThrottleReason } }
  | { readonly allowed: true; readonly counted: number }

/**
 * @internal Atomically refuses the attempt if `key` is throttled, else counts it as a failure in
 * advance; `counted` is the failure count this attempt wrote (for {@link recordSuccess}).
 */
export async function beginAttempt(
  store: MfaStore,
  key: string,
  now: number,
  p: ThrottlePolicy,
): Promise<Attempt> {
  return casUpdate<Attempt>(store, throttleKey(key), 'throttle', (raw) => {
    const s = parse(raw)
    const st = status(s, now, p)
    if (st.blocked !== null) return { result: { allowed: false, status: { ...st, blocked: st.blocked } } }
    const counted = s.f + 1
    return { result: { allowed: true, counted }, next: JSON.stringify({ f: counted, t: now }) }
  })
}

/**
 * @internal A success of the attempt that counted `counted`: the consecutive-failure count goes
 * back to zero. The attempt that reaches `disableAfter` is itself checked, so when it succeeds the
 * count resets too; but when other attempts failed meanwhile and disabled the key, it stays
 * disabled (only an operator reset lifts that).
 */
export async function recordSuccess(
  store: MfaStore,
  key: string,
  p: ThrottlePolicy,
  counted: number,
): Promise<void> {
  return casUpdate(store, throttleKey(key), 'throttle', (raw) => {
    if (raw === null) return { result: undefined }
    const failures = parse(raw).f
    // Disabled by other failures since this attempt counted: only an operator reset lifts that.
    if (failures > counted && failures >= p.disableAfter) return { result: undefined }
    return { result: undefined, next: null }
  })
}

/** @internal Operator reset after identity proofing. */
export async function resetThrottle(store: MfaStore, key: string): Promise<void> {
  return casUpdate(store, throttleKey(key), 'throttle', (raw) =>
    raw === null ? { result: undefined } : { result: undefined, next: null },
  )
}
