/**
 * Sign-in throttling for the password step (NIST SP 800-63B rev 4 §3.2.2 rate limiting; OWASP
 * Authentication Cheat Sheet "Account lockout" and Credential Stuffing Prevention): failures are
 * counted per account and per source address in a sliding window; past the limit the key is
 * locked for `lockoutMs`, and the refusal says when to retry (`Retry-After`). As in
 * `@safeguards/mfa`'s throttle, an attempt is counted *before* the password is checked and a
 * success forgives the account's count, so parallel guesses cannot slip past the limit and a
 * crash mid-check errs towards counting. A refusal is a return value; a store failure throws.
 *
 * @module
 */
import { assertKnownOptions, type Clock, systemClock } from '@safeguards/core'
import { HttpConfigError, HttpThrottleStoreError } from './errors.js'
import { type HttpRefusal, refusal } from './reply.js'

/** One limit: at most `limit` attempts per `windowMs`; past it, locked for `lockoutMs`. */
export interface ThrottleRule {
  limit: number
  windowMs: number
  lockoutMs: number
}

/** What a store reports for one key after a hit. */
export interface ThrottleHit {
  /** Attempts in the window, this one included (when it was counted). */
  readonly count: number
  /** When the lock ends (ms since the epoch), or 0 when not locked. */
  readonly lockedUntil: number
}

/**
 * Where attempts are counted. The memory store serves one process; a shared store (Redis,
 * PostgreSQL) implements the same three calls atomically per key.
 */
export interface ThrottleStore {
  /**
   * Atomically: drop the key's attempts older than `now - rule.windowMs`; if locked at `now`,
   * return the lock without counting; else count one at `now`, and when the count exceeds
   * `rule.limit` lock until `now + rule.lockoutMs`.
   */
  hit(key: string, now: number, rule: ThrottleRule): Promise<ThrottleHit>
  /** Forgets the key (a successful sign-in forgives the account). */
  reset(key: string): Promise<void>
}

/** What {@link SignInThrottle.attempt} decided. */
export type ThrottleOutcome =
  | { readonly allowed: true }
  | {
      readonly allowed: false
      readonly reason: 'signin_throttled_account' | 'signin_throttled_address'
      /** Whole seconds until a retry can succeed (the `Retry-After` value). */
      readonly retryAfterSeconds: number
      /** 429 with `Retry-After`. */
      readonly reply: HttpRefusal
    }

/** Options of {@link createSignInThrottle}. */
export interface SignInThrottleOptions {
  /** Default {@link createMemoryThrottleStore}(). */
  store?: ThrottleStore
  /** Per account (default 5 per 15 min, locked 15 min). */
  account?: Partial<ThrottleRule>
  /** Per source address (default 50 per 15 min, locked 15 min: a shared NAT has many users). */
  address?: Partial<ThrottleRule>
  clock?: Clock
}

/** The throttle. */
export interface SignInThrottle {
  /** Counts an attempt before the password is checked; refuses when either key is locked. */
  attempt(account: string, address: string): Promise<ThrottleOutcome>
  /** Records a successful sign-in: the account's count is forgiven (the address's is not). */
  succeeded(account: string): Promise<void>
}

const MIN15 = 15 * 60_000
/** The default per-account rule. */
export const DEFAULT_ACCOUNT_RULE: Readonly<ThrottleRule> = Object.freeze({
  limit: 5,
  windowMs: MIN15,
  lockoutMs: MIN15,
})
/** The default per-address rule. */
export const DEFAULT_ADDRESS_RULE: Readonly<ThrottleRule> = Object.freeze({
  limit: 50,
  windowMs: MIN15,
  lockoutMs: MIN15,
})

function ruleOf(partial: Partial<ThrottleRule> | undefined, base: ThrottleRule, what: string): ThrottleRule {
  const rule = { ...base, ...partial }
  for (const [k, v] of Object.entries(rule))
    if (!Number.isSafeInteger(v) || v < 1 || v > 365 * 86_400_000)
      throw new HttpConfigError(`"${what}.${k}" must be a positive integer`)
  return rule
}

const KNOWN: ReadonlySet<string> = new Set(['store', 'account', 'address', 'clock'])

/**
 * Creates a sign-in throttle.
 *
 * HIPAA: 164.308(a)(5)(ii)(C) log-in monitoring, 164.312(d) person or entity authentication.
 *
 * @hipaa 164.308(a)(5)(ii)(C) implements
 * @hipaa 164.312(d) supports
 * @nist AC-7 164.308(a)(5)(ii)(C): failed password attempts are limited per account and per address in a sliding window, with a timed lockout and Retry-After
 * @appResponsibility Call attempt() before every password check and succeeded() after a good one; behind several instances, use a shared ThrottleStore.
 * @verifiedBy packages/http/test/throttle.test.ts
 * @throws {HttpConfigError} on an unknown option or a rule value that is not a positive integer.
 * @example
 * ```ts
 * const throttle = createSignInThrottle()
 * const t = await throttle.attempt(email, req.socket.remoteAddress ?? 'unknown')
 * if (!t.allowed) return send(t.reply) // 429, Retry-After
 * if (await passwords.verify(hash, password)) await throttle.succeeded(email)
 * ```
 */
export function createSignInThrottle(options: SignInThrottleOptions = {}): SignInThrottle {
  assertKnownOptions(options, KNOWN, (m) => new HttpConfigError(m))
  const store = options.store ?? createMemoryThrottleStore()
  const clock = options.clock ?? systemClock
  const accountRule = ruleOf(options.account, DEFAULT_ACCOUNT_RULE, 'account')
  const addressRule = ruleOf(options.address, DEFAULT_ADDRESS_RULE, 'address')
  const call = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f()
    } catch (e) {
      throw new HttpThrottleStoreError('the sign-in throttle store failed', { cause: e })
    }
  }
  return {
    async attempt(account: string, address: string): Promise<ThrottleOutcome> {
      if (typeof account !== 'string' || typeof address !== 'string')
        throw new TypeError('"account" and "address" expected strings')
      const now = clock.now()
      const [a, b] = await call(() =>
        Promise.all([
          store.hit(`a:${account}`, now, accountRule),
          store.hit(`i:${address}`, now, addressRule),
        ]),
      )
      const until = Math.max(a.lockedUntil, b.lockedUntil)
      if (until <= now) return { allowed: true }
      const reason = a.lockedUntil > now ? 'signin_throttled_account' : 'signin_throttled_address'
      const retryAfterSeconds = Math.max(1, Math.ceil((until - now) / 1000))
      return {
        allowed: false,
        reason,
        retryAfterSeconds,
        reply: refusal(429, reason, { 'retry-after': String(retryAfterSeconds) }),
      }
    },
    async succeeded(account: string): Promise<void> {
      await call(() => store.reset(`a:${account}`))
    },
  }
}

/**
 * The in-memory throttle store (one process). At most `maxKeys` keys are kept; past that the
 * oldest key is dropped (a flood of distinct keys cannot exhaust memory).
 *
 * @throws {HttpConfigError} when `maxKeys` is not a positive integer.
 * @example
 * ```ts
 * createSignInThrottle({ store: createMemoryThrottleStore({ maxKeys: 10_000 }) })
 * ```
 */
export function createMemoryThrottleStore(options: { maxKeys?: number } = {}): ThrottleStore {
  const maxKeys = options.maxKeys ?? 100_000
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1)
    throw new HttpConfigError('"maxKeys" must be a positive integer')
  const keys = new Map<string, { hits: number[]; lockedUntil: number }>()
  return {
    async hit(key: string, now: number, rule: ThrottleRule): Promise<ThrottleHit> {
      let s = keys.get(key)
      if (s === undefined) {
        if (keys.size >= maxKeys) keys.delete(keys.keys().next().value as string)
        s = { hits: [], lockedUntil: 0 }
        keys.set(key, s)
      }
      if (s.lockedUntil > now) return { count: s.hits.length, lockedUntil: s.lockedUntil }
      const from = now - rule.windowMs
      s.hits = s.hits.filter((t) => t > from)
      s.hits.push(now)
      if (s.hits.length > rule.limit) s.lockedUntil = now + rule.lockoutMs
      return { count: s.hits.length, lockedUntil: s.lockedUntil > now ? s.lockedUntil : 0 }
    },
    async reset(key: string): Promise<void> {
      keys.delete(key)
    },
  }
}
