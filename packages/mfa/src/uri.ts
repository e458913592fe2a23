/**
 * `otpauth://totp/` URIs, the Key Uri Format of Google Authenticator
 * (github.com/google/google-authenticator/wiki/Key-Uri-Format), which every authenticator app reads.
 *
 * @module
 */
import { assertString, hasLoneSurrogate } from '@safeguards/core'
import { secretToBase32 } from './secret.js'
import { checkSecret, resolveTotp, type TotpParameters } from './totp.js'

/** Options of {@link totpUri}. */
export interface TotpUriOptions extends TotpParameters {
  /** The secret (raw bytes). */
  secret: Uint8Array
  /** The service name shown in the app, e.g. `Acme Clinic`. No colon. */
  issuer: string
  /** The account name shown in the app, e.g. the user's e-mail. No colon. */
  account: string
}

const ALGORITHM_NAMES = { sha1: 'SHA1', sha256: 'SHA256', sha512: 'SHA512' } as const

/**
 * RFC 3986 percent-encoding of UTF-8, keeping only the unreserved characters (`A-Z a-z 0-9 - . _ ~`)
 * raw: `encodeURIComponent` also leaves `! ' ( ) *` raw, which some apps' parsers mishandle.
 */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/**
 * Builds the `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=…&digits=…&period=…`
 * URI that authenticator apps scan. It contains the secret: treat it as one.
 *
 * Key Uri Format: the label is the issuer, a literal colon and the account; the `issuer` parameter
 * repeats the label's prefix (apps use either); the secret is unpadded base32. `algorithm`,
 * `digits` and `period` are always written, defaults included, because some apps mishandle
 * omitted ones. Issuer and account are percent-encoded as UTF-8 (spaces as `%20`, never `+`).
 *
 * HIPAA: 164.312(d) person or entity authentication.
 *
 * @throws {TypeError} / {RangeError} on a bad secret (not 16 to 128 bytes), parameters, or an issuer or account that is
 *   empty, longer than 256 characters, contains a colon or is not well-formed Unicode.
 * @example
 * ```ts
 * totpUri({ secret, issuer: 'Acme Clinic', account: 'jane@acme.org' })
 * // 'otpauth://totp/Acme%20Clinic:jane%40acme.org?secret=…&issuer=Acme%20Clinic&algorithm=SHA1&digits=6&period=30'
 * ```
 */
export function totpUri(options: TotpUriOptions): string {
  const p = resolveTotp(options)
  checkSecret(options.secret)
  for (const name of ['issuer', 'account'] as const) {
    const v = options[name]
    assertString(v, name, 256)
    if (v.length === 0 || v.includes(':'))
      throw new RangeError(`"${name}" must be non-empty and contain no colon`)
    if (hasLoneSurrogate(v)) throw new RangeError(`"${name}" must be well-formed Unicode`)
  }
  const issuer = encode(options.issuer)
  return (
    `otpauth://totp/${issuer}:${encode(options.account)}` +
    `?secret=${secretToBase32(options.secret)}&issuer=${issuer}` +
    `&algorithm=${ALGORITHM_NAMES[p.algorithm]}&digits=${p.digits}&period=${p.period}`
  )
}
