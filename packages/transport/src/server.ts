/**
 * TLS server options for `node:tls`, `node:https` and `node:http2` that follow NIST SP 800-52
 * Rev. 2 section 3 (servers), and mutual TLS for service-to-service calls (§3.5). Every option is
 * set explicitly, so a test can assert it and a Node upgrade that changes a default changes
 * nothing here. Each line cites the paragraph it follows.
 *
 * @module
 */
import { constants } from 'node:crypto'
import type { TlsOptions } from 'node:tls'
import { assertKnownOptions } from '@safeguards/core'
import { TransportConfigError } from './errors.js'
import { type Pem, pemList, pemText } from './internal/pem.js'
import { DEFAULT_GROUPS, PROFILE_CIPHERS, SESSION_TIMEOUT_SECONDS } from './profile.js'

/**
 * The `secureOptions` bits of the profile:
 * - `SSL_OP_NO_RENEGOTIATION`: SP 800-52r2 §3.4.1.1 asks for secure renegotiation (RFC 5746) when
 *   renegotiation is used; we refuse it altogether (TLS 1.3 removed it), so a client's
 *   renegotiation gets a `no_renegotiation` alert. The RFC 5746 extension is still advertised.
 * - `SSL_OP_NO_COMPRESSION`: SP 800-52r2 §3.7, null compression only (CRIME). OpenSSL 3 already
 *   builds without it; set so that it is assertable.
 * - `SSL_OP_CIPHER_SERVER_PREFERENCE`: SP 800-52r2 §3.3.1, the server's order of suites wins.
 */
export const SERVER_SECURE_OPTIONS: number =
  constants.SSL_OP_NO_RENEGOTIATION |
  constants.SSL_OP_NO_COMPRESSION |
  constants.SSL_OP_CIPHER_SERVER_PREFERENCE

/** What {@link tlsServerOptions} needs: the server's key and certificate chain, in PEM. */
export interface TlsServerProfileOptions {
  /** The private key, PEM. */
  key: Pem
  /** The certificate, then its intermediates, PEM. */
  cert: Pem
  /** Key-exchange groups, preferred first (default `X25519:P-256:P-384`; `P-256:P-384` for FIPS). */
  groups?: string
  /** Resumption lifetime in seconds, 0 to 86400 (default 300). */
  sessionTimeout?: number
}

const SERVER_KEYS: ReadonlySet<string> = new Set(['key', 'cert', 'groups', 'sessionTimeout'])

function configError(message: string): TransportConfigError {
  return new TransportConfigError(message)
}

function checkServer(options: TlsServerProfileOptions, known: ReadonlySet<string>, name: string): void {
  if (typeof options !== 'object' || options === null) throw new TypeError(`"${name}" expected an object`)
  assertKnownOptions(options, known, configError)
  if (options.key === undefined) throw new TransportConfigError('"key" is required')
  if (options.cert === undefined) throw new TransportConfigError('"cert" is required')
  const t = options.sessionTimeout
  if (t !== undefined && (!Number.isSafeInteger(t) || t < 0 || t > 86_400))
    throw new TransportConfigError('"sessionTimeout" must be an integer number of seconds in [0, 86400]')
  if (options.groups !== undefined && !/^[A-Za-z0-9_-]+(:[A-Za-z0-9_-]+)*$/.test(options.groups))
    throw new TransportConfigError('"groups" must be a colon-separated list of group names')
}

function serverProfile(options: TlsServerProfileOptions): TlsOptions {
  return {
    key: pemText(options.key, 'key'),
    cert: pemText(options.cert, 'cert'),
    minVersion: 'TLSv1.2', // §3.1: TLS 1.2 shall be supported, versions before it shall not
    maxVersion: 'TLSv1.3', // §3.1: TLS 1.3 should be supported; OpenSSL picks 1.3 whenever both sides offer it
    ciphers: PROFILE_CIPHERS, // §3.3.1.1 (TLS 1.2: ECDHE + AES-GCM only) and §3.3.1.2 (TLS 1.3: AES-GCM, AES-CCM)
    honorCipherOrder: true, // §3.3.1: the server chooses, strongest first
    ecdhCurve: options.groups ?? DEFAULT_GROUPS, // §3.3.1 and §3.4.1 supported groups: NIST curves (and X25519)
    secureOptions: SERVER_SECURE_OPTIONS, // §3.4.1.1 no renegotiation, §3.7 no compression, §3.3.1 server order
    sessionTimeout: options.sessionTimeout ?? SESSION_TIMEOUT_SECONDS, // §3.6 resumption lifetime (tickets stay on; rotate their keys with createTicketKeyRotator)
  }
}

/**
 * TLS options for a server (`tls.createServer`, `https.createServer`, `http2.createSecureServer`)
 * following NIST SP 800-52r2 §3: TLS 1.2 minimum and 1.3 preferred, ECDHE with AES-GCM only for
 * TLS 1.2, the AES-GCM/CCM suites for TLS 1.3 (no ChaCha20), no renegotiation, no compression, a
 * five-minute resumption lifetime. Session tickets stay on with Node's random keys; attach a
 * {@link createTicketKeyRotator} to the server to replace them every 12 hours. HTTP/2's suite
 * requirements (RFC 9113 §9.2.2) are met by the same list.
 *
 * @param options - `key` and `cert` (PEM); optional `groups` and `sessionTimeout`.
 * @returns a fresh options object; spread it and add your own options (`ALPNProtocols`, ...).
 * @throws {TransportConfigError} when `key` or `cert` is missing, an option is unknown or out of range.
 * @throws {TypeError} when `options` is not an object or a PEM is neither a string nor bytes.
 *
 * @hipaa 164.312(e)(1) supports
 * @hipaa 164.312(e)(2)(i) supports
 * @hipaa 164.312(e)(2)(ii) implements
 * @nist SC-8 164.312(e)(1)
 * @nist SC-8 164.312(e)(2)(i)
 * @nist SC-8 164.312(e)(2)(ii)
 * @nist SC-13 164.312(e)(2)(ii)
 * @nist SC-23 164.312(e)(1): TLS authenticates the session end to end: no renegotiation, short resumption lifetime
 * @evidence the options object itself (minVersion, ciphers, ecdhCurve, secureOptions, sessionTimeout), and `safeguards transit check` against the running server
 * @appResponsibility Serve PHI only over these listeners; keep the private key out of the repository; renew certificates before they expire.
 * @config groups, sessionTimeout
 * @verifiedBy packages/transport/test/server-options.test.ts
 * @verifiedBy packages/transport/test/check-tls.test.ts
 *
 * @example
 * ```ts
 * import { createServer } from 'node:https'
 * import { readFileSync } from 'node:fs'
 * import { createTicketKeyRotator, tlsServerOptions } from '@safeguards/transport'
 *
 * const server = createServer(
 *   tlsServerOptions({ key: readFileSync('server.key'), cert: readFileSync('server.crt') }),
 *   (req, res) => res.end('ok'),
 * )
 * createTicketKeyRotator().attach(server).start()
 * server.listen(8443)
 * ```
 */
export function tlsServerOptions(options: TlsServerProfileOptions): TlsOptions {
  checkServer(options, SERVER_KEYS, 'options')
  return serverProfile(options)
}

/** What {@link mtlsServerOptions} needs: the server's own key and certificate, and the client CA. */
export interface MtlsServerProfileOptions extends TlsServerProfileOptions {
  /** The CA (or CAs) that issue client certificates. Only these are trusted: the public roots are not. */
  clientCa: Pem | readonly Pem[]
}

const MTLS_SERVER_KEYS: ReadonlySet<string> = new Set([...SERVER_KEYS, 'clientCa'])

/**
 * {@link tlsServerOptions} plus mutual TLS for service-to-service calls (NIST SP 800-52r2 §3.5):
 * a client certificate is required (`requestCert`), a connection without one, or with one the
 * pinned CA did not issue, is refused during the handshake (`rejectUnauthorized`), and only
 * `clientCa` is trusted (`ca` replaces the public root store, §3.5.2 trust anchor store). Which
 * client may do what stays with the application: read `socket.getPeerX509Certificate()`.
 *
 * @throws {TransportConfigError} when `clientCa` (or `key`, `cert`) is missing or an option is unknown.
 * @throws {TypeError} when a PEM is neither a string nor bytes.
 *
 * @hipaa 164.312(e)(1) supports
 * @hipaa 164.312(d) supports
 * @nist SC-8 164.312(e)(1)
 * @nist IA-3 164.312(d): services authenticate each other with certificates from a pinned private CA
 * @evidence the options (requestCert, rejectUnauthorized, ca) and the refused handshake of a client without a certificate
 * @appResponsibility Run the private CA, issue one certificate per service, and authorize each service by its certificate subject.
 * @verifiedBy packages/transport/test/server-options.test.ts
 *
 * @example
 * ```ts
 * import { createServer } from 'node:https'
 * import { mtlsServerOptions } from '@safeguards/transport'
 *
 * declare const key: string, cert: string, servicesCa: string
 * const server = createServer(mtlsServerOptions({ key, cert, clientCa: servicesCa }), (req, res) => {
 *   res.end('hello, authenticated service')
 * })
 * ```
 */
export function mtlsServerOptions(options: MtlsServerProfileOptions): TlsOptions {
  checkServer(options, MTLS_SERVER_KEYS, 'options')
  if (options.clientCa === undefined) throw new TransportConfigError('"clientCa" is required')
  return {
    ...serverProfile(options),
    requestCert: true, // §3.5: the server requests a client certificate
    rejectUnauthorized: true, // §3.5.1: a missing or unverifiable client certificate ends the handshake
    ca: pemList(options.clientCa, 'clientCa'), // §3.5.2: the trust anchors are the pinned CA only
  }
}
