/**
 * Password policy under NIST SP 800-63B rev 4 §3.1.1.2 (memorized secret verifiers):
 * - at least 15 characters when the password is the only factor, at least 8 when it is used with
 *   MFA; at least 64 characters allowed (we allow 128 by default);
 * - no composition rules (no "one upper, one digit, one symbol"), no periodic expiry;
 * - Unicode accepted and normalised (NFKC) before checking and hashing, length counted in code
 *   points;
 * - compared against a blocklist of common, expected or compromised values (shipped), repetitive
 *   or sequential strings, and context-specific words (service name, username, e-mail).
 * Oversized input (over 1 KiB of UTF-8 by default) is refused before any other work.
 *
 * @module
 */
import { hasLoneSurrogate, utf8Encode } from '@safeguards/core'
import { commonPasswords } from './blocklist.js'
import { DEFAULT_MAX_PASSWORD_BYTES } from './normalize.js'

/** Why a password is refused. */
export type PasswordProblemCode =
  | 'too-short'
  | 'too-long'
  | 'too-large'
  | 'invalid-text'
  | 'blocklisted'
  | 'repetitive'
  | 'context'

/** One reason a password is refused, with a message safe to show the user. */
export interface PasswordProblem {
  code: PasswordProblemCode
  message: string
}

/** Options of {@link checkPasswordPolicy}. */
export interface PasswordPolicyOptions {
  /** True when the account also has a second factor: the minimum drops from 15 to 8. */
  mfa?: boolean
  /** Context words to refuse: username, e-mail, service name, the user's name. */
  context?: readonly string[]
  /** Override the minimum length (at least 8; default 15, or 8 with `mfa`). */
  minLength?: number
  /** Maximum length in code points (at least 64; default 128). */
  maxLength?: number
  /** Byte cap after NFKC (default 1024). */
  maxBytes?: number
  /** An extra blocklist check (for example a k-anonymity breach lookup done beforehand), given the NFKC text. */
  isBlocked?: (normalized: string) => boolean
}

/** The verdict of {@link checkPasswordPolicy}. */
export interface PasswordPolicyResult {
  ok: boolean
  problems: PasswordProblem[]
}

const SEQUENCES = [
  'abcdefghijklmnopqrstuvwxyz',
  '0123456789',
  'qwertyuiopasdfghjklzxcvbnm',
  'qwertzuiop',
  'azertyuiop',
]
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const TRAILING = /[\d\s!@#$%^&*()_+=.,?~-]+$/u

function isRepetitive(lower: string): boolean {
  const cps = Array.from(lower)
  if (cps.length === 0) return false
  // One short unit repeated: "aaaaaaaa", "abababab", "abcabcabc".
  for (let unit = 1; unit <= 3 && unit < cps.length; unit++) {
    let repeated = true
    for (let i = unit; i < cps.length; i++) {
      if (cps[i] !== cps[i - unit]) {
        repeated = false
        break
      }
    }
    if (repeated) return true
  }
  // The whole password is a run of a common sequence, forwards or backwards.
  for (const seq of SEQUENCES) {
    const rev = [...seq].reverse().join('')
    if (lower.length >= 4 && (seq.includes(lower) || rev.includes(lower))) return true
  }
  return false
}

function contextTokens(context: readonly string[]): { whole: string[]; tokens: string[] } {
  const whole: string[] = []
  const tokens: string[] = []
  for (const value of context) {
    if (typeof value !== 'string' || value.length === 0 || value.length > 1024) continue
    const v = value.normalize('NFKC').toLowerCase()
    whole.push(v)
    const at = v.lastIndexOf('@')
    const parts =
      at > 0
        ? [
            v.slice(0, at),
            ...v
              .slice(at + 1)
              .split('.')
              .slice(0, -1),
          ]
        : [v]
    for (const part of parts) {
      if (Array.from(part).length >= 4) tokens.push(part)
      for (const t of part.split(/[^\p{L}\p{N}]+/u)) if (Array.from(t).length >= 4) tokens.push(t)
    }
  }
  return { whole, tokens }
}

/**
 * Checks a new password against the NIST SP 800-63B rev 4 policy. Returns every problem found
 * (not only the first), so the UI can explain them at once. Use it when a password is set or
 * changed, never at login.
 *
 * HIPAA: 164.308(a)(5)(ii)(D) password management ("procedures for creating, changing, and
 * safeguarding passwords").
 *
 * @hipaa 164.308(a)(5)(ii)(D) supports
 * @nist IA-5(1) 164.308(a)(5)(ii)(D): length, blocklist and context-word checks when a password is created or changed (SP 800-63B)
 * @evidence { ok, problems } codes per NIST SP 800-63B rev 4 (length, blocklist, context words)
 * @appResponsibility Show the problems to users without echoing the password; pass the user's context words.
 * @verifiedBy packages/password/test/policy.test.ts
 * @throws {TypeError} when `password` is not a string or an option has the wrong type.
 * @throws {RangeError} when `minLength` is below 8 or `maxLength` below 64.
 * @example
 * ```ts
 * const { ok, problems } = checkPasswordPolicy(pw, { mfa: true, context: [username, email, 'Acme Clinic'] })
 * if (!ok) return reply.code(400).send({ problems })
 * ```
 */
export function checkPasswordPolicy(
  password: string,
  options: PasswordPolicyOptions = {},
): PasswordPolicyResult {
  if (typeof password !== 'string') throw new TypeError('"password" expected a string')
  const minLength = options.minLength ?? (options.mfa === true ? 8 : 15)
  const maxLength = options.maxLength ?? 128
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_PASSWORD_BYTES
  if (typeof minLength !== 'number' || !Number.isSafeInteger(minLength))
    throw new TypeError('"minLength" expected an integer')
  if (typeof maxLength !== 'number' || !Number.isSafeInteger(maxLength))
    throw new TypeError('"maxLength" expected an integer')
  if (minLength < 8) throw new RangeError('"minLength" must be at least 8 (NIST SP 800-63B)')
  if (maxLength < 64 || maxLength < minLength)
    throw new RangeError('"maxLength" must be at least 64 and minLength')
  const problems: PasswordProblem[] = []
  // Refuse oversized input before normalising or scanning it.
  if (password.length > maxBytes) {
    return { ok: false, problems: [{ code: 'too-large', message: `Use at most ${maxBytes} bytes.` }] }
  }
  if (hasLoneSurrogate(password) || CONTROL.test(password)) {
    return {
      ok: false,
      problems: [{ code: 'invalid-text', message: 'The password contains characters that cannot be used.' }],
    }
  }
  const normalized = password.normalize('NFKC')
  if (utf8Encode(normalized).length > maxBytes) {
    return { ok: false, problems: [{ code: 'too-large', message: `Use at most ${maxBytes} bytes.` }] }
  }
  const length = Array.from(normalized).length
  if (length < minLength)
    problems.push({ code: 'too-short', message: `Use at least ${minLength} characters.` })
  if (length > maxLength) problems.push({ code: 'too-long', message: `Use at most ${maxLength} characters.` })
  const lower = normalized.toLowerCase()
  const list = commonPasswords()
  const base = lower.replace(TRAILING, '')
  if (list.has(lower) || (base.length >= 4 && list.has(base)) || options.isBlocked?.(normalized) === true) {
    problems.push({
      code: 'blocklisted',
      message: 'This password is too common or has appeared in a data breach.',
    })
  }
  if (
    isRepetitive(lower) ||
    (base.length >= 1 && base.length < lower.length && isRepetitive(base) && base.length * 2 >= lower.length)
  ) {
    problems.push({ code: 'repetitive', message: 'Avoid repeated or sequential characters.' })
  }
  const { whole, tokens } = contextTokens(options.context ?? [])
  if (whole.includes(lower) || whole.includes(base) || tokens.some((t) => lower.includes(t))) {
    problems.push({ code: 'context', message: 'Do not use your name, username, e-mail or the service name.' })
  }
  return { ok: problems.length === 0, problems }
}
