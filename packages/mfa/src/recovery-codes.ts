/**
 * Recovery codes: 10 single-use codes of 20 Crockford base32 characters, `XXXX-XXXX-XXXX-XXXX-XXXX`.
 * The first group is a public selector (so redeeming costs one hash, not ten); the other 16
 * characters carry 80 random bits. Only argon2id hashes are stored; each code works once
 * (compare-and-set), and attempts are throttled like TOTP codes.
 *
 * @module
 */
import { assertInteger, type RandomSource, randomBytes } from '@safeguards/core'
import { MfaStoreError } from './errors.js'
import { casUpdate } from './internal/cas.js'
import type { MfaStore } from './store.js'
import { beginAttempt, recordSuccess, type ThrottlePolicy, type ThrottleReason } from './throttle.js'

/** The hashing a recovery-code store needs (`createPasswordHasher()` from `@safeguards/password` fits). */
export interface RecoveryCodeHasher {
  hash(code: string): Promise<string>
  verify(hash: string, code: string): Promise<{ valid: boolean }>
  /** Same cost as `verify`, always false: keeps unknown selectors as slow as known ones. */
  dummyVerify?(code: string): Promise<{ valid: boolean }>
}

/** The answer of redeeming a recovery code. */
export type RecoveryRedeemResult =
  | { valid: true; remaining: number }
  | { valid: false; reason: 'malformed' | 'invalid' | 'replayed' | ThrottleReason; retryAfterMs?: number }

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ' // Crockford base32
const SELECTOR = 4
const BODY = 16 // 16 × 5 = 80 bits
const LENGTH = SELECTOR + BODY

interface Entry {
  s: string
  h: string
  u: number | null
}

function chars(random: RandomSource, n: number): string {
  const bytes = random(n)
  if (!(bytes instanceof Uint8Array) || bytes.length !== n)
    throw new TypeError('"random" returned the wrong length')
  let out = ''
  // 256 is a multiple of 32, so `b & 31` is uniform.
  for (const b of bytes) out += ALPHABET[b & 31]
  return out
}

/** @internal canonical form (20 characters) or undefined when malformed. */
export function normalizeRecoveryCode(input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length > 64) return undefined
  const s = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1')
  if (s.length !== LENGTH) return undefined
  for (const c of s) if (!ALPHABET.includes(c)) return undefined
  return s
}

const format = (code: string): string => code.match(/.{4}/g)?.join('-') ?? code
const recoveryKey = (userId: string): string => `recovery:${userId}`

function parse(raw: string | null): Entry[] {
  if (raw === null) return []
  try {
    const v = JSON.parse(raw) as { codes: Entry[] }
    if (!Array.isArray(v.codes)) throw new Error('shape')
    for (const e of v.codes) {
      if (typeof e.s !== 'string' || typeof e.h !== 'string' || !(e.u === null || typeof e.u === 'number'))
        throw new Error('shape')
    }
    return v.codes
  } catch (cause) {
    throw new MfaStoreError('recovery-code record has an unexpected shape', { cause })
  }
}

/** @internal */
export async function issueRecoveryCodes(
  store: MfaStore,
  hasher: RecoveryCodeHasher,
  userId: string,
  count: number,
  random: RandomSource = randomBytes,
): Promise<string[]> {
  assertInteger(count, 'count', 1, 32)
  const codes: string[] = []
  const selectors = new Set<string>()
  while (codes.length < count) {
    const selector = chars(random, SELECTOR)
    if (selectors.has(selector)) continue
    selectors.add(selector)
    codes.push(selector + chars(random, BODY))
  }
  const entries: Entry[] = []
  for (const code of codes) entries.push({ s: code.slice(0, SELECTOR), h: await hasher.hash(code), u: null })
  const next = JSON.stringify({ codes: entries })
  await casUpdate(store, recoveryKey(userId), 'recovery-code', () => ({ result: undefined, next }))
  return codes.map(format)
}

/** @internal */
export async function redeemRecoveryCode(
  store: MfaStore,
  hasher: RecoveryCodeHasher,
  userId: string,
  input: unknown,
  now: number,
  policy: ThrottlePolicy,
): Promise<RecoveryRedeemResult> {
  const throttleKey = `recovery:${userId}`
  const attempt = await beginAttempt(store, throttleKey, now, policy)
  if (!attempt.allowed)
    return { valid: false, reason: attempt.status.blocked, retryAfterMs: attempt.status.retryAfterMs }
  const code = normalizeRecoveryCode(input)
  if (code === undefined) return { valid: false, reason: 'malformed' }
  const selector = code.slice(0, SELECTOR)
  const entry = parse(await store.get(recoveryKey(userId))).find((e) => e.s === selector)
  if (entry === undefined) {
    await hasher.dummyVerify?.(code)
    return { valid: false, reason: 'invalid' }
  }
  if (!(await hasher.verify(entry.h, code)).valid) return { valid: false, reason: 'invalid' }
  const result = await casUpdate<RecoveryRedeemResult>(store, recoveryKey(userId), 'recovery-code', (raw) => {
    const entries = parse(raw)
    const current = entries.find((e) => e.s === selector && e.h === entry.h)
    // Regenerated meanwhile (old code no longer listed) or already used: refuse.
    if (current === undefined) return { result: { valid: false, reason: 'invalid' } }
    if (current.u !== null) return { result: { valid: false, reason: 'replayed' } }
    current.u = now
    const remaining = entries.filter((e) => e.u === null).length
    return { result: { valid: true, remaining }, next: JSON.stringify({ codes: entries }) }
  })
  if (result.valid) await recordSuccess(store, throttleKey, policy, attempt.counted)
  return result
}

/** @internal */
export async function remainingRecoveryCodes(store: MfaStore, userId: string): Promise<number> {
  return parse(await store.get(recoveryKey(userId))).filter((e) => e.u === null).length
}
