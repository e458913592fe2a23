/**
 * TOTP codes (RFC 6238, built on HOTP, RFC 4226) through otplib 13's functional API with the
 * Node crypto plugin (synchronous HMAC from `node:crypto`).
 *
 * @module
 */
import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node'
import { assertBytes, assertInteger } from '@safeguards/core'
import { createGuardrails, generateSync, verifySync } from 'otplib'

/** HMAC algorithms of RFC 6238, spelled as in `otpauth://` URIs. */
export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512'

/** The parameters shared by an authenticator app and the server. */
export interface TotpParameters {
  /** Default `SHA1` (what every authenticator app supports). */
  algorithm?: TotpAlgorithm
  /** 6 to 8 (default 6). */
  digits?: number
  /** Seconds per step, 15 to 120 (default 30). */
  period?: number
}

/** Options of {@link totpCode}. */
export interface TotpCodeOptions extends TotpParameters {
  /** The shared secret (raw bytes, 16 to 128). */
  secret: Uint8Array
  /** Milliseconds since the Unix epoch. */
  time: number
}

/** @internal resolved parameters */
export interface ResolvedTotp {
  algorithm: 'sha1' | 'sha256' | 'sha512'
  digits: 6 | 7 | 8
  period: number
}

const crypto = new NodeCryptoPlugin()
/** Our secret limits, 16 to 128 bytes (otplib caps at 64 by default; 128 is SHA-512's block size). */
const MIN_SECRET = 16
const MAX_SECRET = 128
const guardrails = createGuardrails({ MIN_SECRET_BYTES: MIN_SECRET, MAX_SECRET_BYTES: MAX_SECRET })
const ALGORITHMS = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' } as const

/** @internal */
export function resolveTotp(p: TotpParameters = {}): ResolvedTotp {
  const algorithm = p.algorithm ?? 'SHA1'
  if (!Object.hasOwn(ALGORITHMS, algorithm))
    throw new RangeError('"algorithm" expected SHA1, SHA256 or SHA512')
  const digits = p.digits ?? 6
  const period = p.period ?? 30
  assertInteger(digits, 'digits', 6, 8)
  assertInteger(period, 'period', 15, 120)
  return { algorithm: ALGORITHMS[algorithm], digits: digits as 6 | 7 | 8, period }
}

/** @internal refuses a secret that is not 16 to 128 bytes (TypeError, RangeError). */
export function checkSecret(secret: unknown): asserts secret is Uint8Array {
  assertBytes(secret, 'secret')
  if (secret.length < MIN_SECRET || secret.length > MAX_SECRET)
    throw new RangeError('"secret" expected 16 to 128 bytes')
}

/**
 * Computes the TOTP code for `time`.
 *
 * HIPAA: 164.312(d) person or entity authentication.
 *
 * @throws {TypeError} when `secret` is not a Uint8Array or `time` not an integer.
 * @throws {RangeError} when `digits` ∉ 6..8, `period` ∉ 15..120, the algorithm is unknown, the
 *   secret is shorter than 16 or longer than 128 bytes, or `time` is negative.
 * @example
 * ```ts
 * totpCode({ secret: utf8Encode('12345678901234567890'), time: 59_000, digits: 8 }) // '94287082'
 * ```
 */
export function totpCode(options: TotpCodeOptions): string {
  const p = resolveTotp(options)
  checkSecret(options.secret)
  assertInteger(options.time, 'time', 0)
  return generateSync({
    secret: options.secret,
    epoch: Math.floor(options.time / 1000),
    algorithm: p.algorithm,
    digits: p.digits,
    period: p.period,
    crypto,
    guardrails,
  })
}

/** @internal true when `code` is exactly `digits` ASCII digits (no spaces, no full-width digits). */
export function isWellFormedCode(code: unknown, digits: number): code is string {
  if (typeof code !== 'string' || code.length !== digits) return false
  for (let i = 0; i < code.length; i++) {
    const c = code.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}

/** @internal matches a well-formed code in ±window steps after `afterStep`; returns its step. */
export function matchStep(
  secret: Uint8Array,
  code: string,
  timeMs: number,
  window: number,
  afterStep: number | undefined,
  p: ResolvedTotp,
): number | undefined {
  checkSecret(secret)
  const epoch = Math.floor(timeMs / 1000)
  const current = Math.floor(epoch / p.period)
  // otplib refuses an afterTimeStep beyond the window; then nothing in the window is usable.
  if (afterStep !== undefined && afterStep >= current + window) return undefined
  const r = verifySync({
    secret,
    token: code,
    epoch,
    algorithm: p.algorithm,
    digits: p.digits,
    period: p.period,
    epochTolerance: window * p.period,
    ...(afterStep !== undefined && afterStep >= 0 ? { afterTimeStep: afterStep } : {}),
    crypto,
    guardrails,
  })
  return r.valid ? (r as { timeStep: number }).timeStep : undefined
}
