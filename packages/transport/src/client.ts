/**
 * TLS client options for `tls.connect`, `https.request` / `https.Agent` and `http2.connect`
 * following NIST SP 800-52 Rev. 2 section 4 (clients), and the client half of mutual TLS. The
 * server's certificate is always verified (§4.5): these options never turn `rejectUnauthorized`
 * off and never replace `checkServerIdentity`.
 *
 * @module
 */
import { constants } from 'node:crypto'
import type { ConnectionOptions } from 'node:tls'
import { assertKnownOptions } from '@safeguards/core'
import { TransportConfigError } from './errors.js'
import { type Pem, pemList, pemText } from './internal/pem.js'
import { DEFAULT_GROUPS, PROFILE_CIPHERS } from './profile.js'

/** Options of {@link tlsClientOptions}. */
export interface TlsClientProfileOptions {
  /**
   * Trust only these CAs (a private CA), instead of Node's bundled public roots. Node's `ca`
   * replaces the roots, it does not add to them: to add, pass `[...tls.rootCertificates, mine]`.
   */
  ca?: Pem | readonly Pem[]
  /** The name to send (SNI) and to check the certificate against, when it differs from the host. */
  servername?: string
  /** Key-exchange groups, preferred first (default `X25519:P-256:P-384`). */
  groups?: string
}

const CLIENT_KEYS: ReadonlySet<string> = new Set(['ca', 'servername', 'groups'])
const MTLS_CLIENT_KEYS: ReadonlySet<string> = new Set([...CLIENT_KEYS, 'key', 'cert'])

const configError = (message: string): TransportConfigError => new TransportConfigError(message)

function clientProfile(options: TlsClientProfileOptions): ConnectionOptions {
  if (
    options.servername !== undefined &&
    (typeof options.servername !== 'string' || options.servername === '')
  )
    throw new TransportConfigError('"servername" must be a non-empty string')
  const out: ConnectionOptions = {
    minVersion: 'TLSv1.2', // §4.1: TLS 1.2 shall be supported, earlier versions should not be offered
    maxVersion: 'TLSv1.3', // §4.1: TLS 1.3 should be supported (offered first)
    ciphers: PROFILE_CIPHERS, // §4.3.1: ECDHE + AES-GCM for TLS 1.2; AES-GCM/CCM for TLS 1.3
    ecdhCurve: options.groups ?? DEFAULT_GROUPS, // §4.3.1 and §4.4 supported groups
    secureOptions: constants.SSL_OP_NO_COMPRESSION | constants.SSL_OP_NO_RENEGOTIATION, // §4.7 null compression; §4.4 (RFC 5746) and no renegotiation at all
    rejectUnauthorized: true, // §4.5.1: the server's path is validated to a trust anchor; a failure ends the handshake
  }
  if (options.ca !== undefined) out.ca = pemList(options.ca, 'ca') // §4.5.2: the trust anchor store
  if (options.servername !== undefined) out.servername = options.servername // §4.4 SNI; §4.5 the name checked
  return out
}

/**
 * TLS options for a client following NIST SP 800-52r2 §4: TLS 1.2 minimum and 1.3 offered, ECDHE
 * with AES-GCM for TLS 1.2, no compression, no renegotiation, and the server's certificate chain
 * and name always verified (against Node's public roots, or `ca` alone when given).
 *
 * @param options - `ca` (private trust anchors), `servername`, `groups`.
 * @throws {TransportConfigError} on an unknown option, an empty `servername` or a `ca` that is not PEM.
 *
 * @hipaa 164.312(e)(1) supports
 * @hipaa 164.312(e)(2)(ii) implements
 * @nist SC-8 164.312(e)(1)
 * @nist SC-8 164.312(e)(2)(ii)
 * @nist SC-13 164.312(e)(2)(ii)
 * @evidence the options object (minVersion, ciphers, secureOptions, rejectUnauthorized)
 * @appResponsibility Send PHI to other systems only through clients built with these options.
 * @verifiedBy packages/transport/test/server-options.test.ts
 *
 * @example
 * ```ts
 * import { request } from 'node:https'
 * import { connect } from 'node:http2'
 * import { tlsClientOptions } from '@safeguards/transport'
 *
 * request({ ...tlsClientOptions(), host: 'fhir.example.org', path: '/Patient/1' }).end()
 * const session = connect('https://fhir.example.org', tlsClientOptions())
 * session.close()
 * ```
 */
export function tlsClientOptions(options: TlsClientProfileOptions = {}): ConnectionOptions {
  assertKnownOptions(options, CLIENT_KEYS, configError)
  return clientProfile(options)
}

/** Options of {@link mtlsClientOptions}: the client's key and certificate, and the pinned CA. */
export interface MtlsClientProfileOptions extends TlsClientProfileOptions {
  /** The client's private key, PEM. */
  key: Pem
  /** The client's certificate (then intermediates), PEM. */
  cert: Pem
  /** The private CA that issued the server's certificate: the only trust anchor (pinned). */
  ca: Pem | readonly Pem[]
}

/**
 * {@link tlsClientOptions} for a service calling another service over mutual TLS (NIST SP
 * 800-52r2 §4.2, client keys and certificates): presents `key`/`cert`, and trusts only `ca`, the
 * private CA pinned for this connection, never the public roots.
 *
 * @throws {TransportConfigError} when `key`, `cert` or `ca` is missing, or an option is unknown.
 *
 * @hipaa 164.312(e)(1) supports
 * @hipaa 164.312(d) supports
 * @nist SC-8 164.312(e)(1)
 * @nist IA-3 164.312(d): the calling service proves its identity with a certificate from the pinned CA
 * @evidence the options (key, cert, ca) and the handshake the server accepts
 * @appResponsibility Keep each service's private key in a secret store and renew its certificate.
 * @verifiedBy packages/transport/test/server-options.test.ts
 *
 * @example
 * ```ts
 * import { connect } from 'node:tls'
 * import { mtlsClientOptions } from '@safeguards/transport'
 *
 * declare const key: string, cert: string, servicesCa: string
 * const socket = connect({ ...mtlsClientOptions({ key, cert, ca: servicesCa }), host: 'billing.internal', port: 8443 })
 * socket.end()
 * ```
 */
export function mtlsClientOptions(options: MtlsClientProfileOptions): ConnectionOptions {
  assertKnownOptions(options, MTLS_CLIENT_KEYS, configError)
  if (options.key === undefined) throw new TransportConfigError('"key" is required')
  if (options.cert === undefined) throw new TransportConfigError('"cert" is required')
  if (options.ca === undefined) throw new TransportConfigError('"ca" is required (the pinned CA)')
  return {
    ...clientProfile(options),
    key: pemText(options.key, 'key'), // §4.2: the client's key
    cert: pemText(options.cert, 'cert'), // §4.2.1: the client's certificate
  }
}
