import type { TotpParameters } from '../totp.js'
import { totpUri } from '../uri.js'

/** The enrollment URI with the authenticator's parameters. */
export function uriFor(secret: Uint8Array, issuer: string, account: string, p: TotpParameters): string {
  return totpUri({
    secret,
    issuer,
    account,
    ...(p.algorithm === undefined ? {} : { algorithm: p.algorithm }),
    ...(p.digits === undefined ? {} : { digits: p.digits }),
    ...(p.period === undefined ? {} : { period: p.period }),
  })
}
