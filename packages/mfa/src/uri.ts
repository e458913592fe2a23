/**
 * `otpauth://totp/` URIs (the Google Authenticator key URI format) through otplib.
 *
 * @module
 */
import { assertString } from '@safeguards/core'
import { generateURI } from 'otplib'
import { secretToBase32 } from './secret.js'
import { resolveTotp, type TotpParameters } from './totp.js'

/** Options of {@link totpUri}. */
export interface TotpUriOptions extends TotpParameters {
  /** The secret (raw bytes). */
  secret: Uint8Array
  /** The service name shown in the app, e.g. `Acme Clinic`. No colon. */
  issuer: string
  /** The account name shown in the app, e.g. the user's e-mail. No colon. */
  account: string
}

/**
 * Builds the `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=…&digits=…&period=…`
 * URI that authenticator apps scan. It contains the secret: treat it as one.
 *
 * HIPAA: 164.312(d) person or entity authentication.
 *
 * @throws {TypeError} / {RangeError} on a bad secret, parameters, or an issuer or account that is
 *   empty, longer than 256 characters or contains a colon.
 * @example
 * ```ts
 * totpUri({ secret, issuer: 'Acme Clinic', account: 'jane@acme.org' })
 * // 'otpauth://totp/Acme%20Clinic:jane%40acme.org?secret=…&issuer=Acme%20Clinic&algorithm=SHA1&digits=6&period=30'
 * ```
 */
export function totpUri(options: TotpUriOptions): string {
  const p = resolveTotp(options)
  for (const name of ['issuer', 'account'] as const) {
    const v = options[name]
    assertString(v, name, 256)
    if (v.length === 0 || v.includes(':'))
      throw new RangeError(`"${name}" must be non-empty and contain no colon`)
  }
  return generateURI({
    issuer: options.issuer,
    label: options.account,
    secret: secretToBase32(options.secret),
    algorithm: p.algorithm,
    digits: p.digits,
    period: p.period,
  })
}
