/**
 * `@safeguards/transport`: transmission security (HIPAA 164.312(e)). TLS server and client options
 * that follow NIST SP 800-52r2 for `node:tls`, `node:https` and `node:http2`, mutual TLS,
 * session-ticket key rotation, HTTP security headers, and `checkTls`, an endpoint checker with a
 * pass / warn / fail verdict and reason codes.
 *
 * @packageDocumentation
 */

export type { CheckTlsOptions } from './check-tls.js'
export { checkTls, fixFor, parseTarget } from './check-tls.js'
export type { MtlsClientProfileOptions, TlsClientProfileOptions } from './client.js'
export { mtlsClientOptions, tlsClientOptions } from './client.js'
export type { TransportErrorCode } from './errors.js'
export {
  TransportConfigError,
  TransportError,
  TransportTargetError,
  TransportUnreachableError,
} from './errors.js'
export type { FindingSeverity, TlsFinding, TlsFindingCode, TlsVerdict } from './findings.js'
export { TLS_FINDINGS, verdictOf } from './findings.js'
export type { HstsOptions, SecurityHeaders, SecurityHeadersOptions } from './headers.js'
export { DEFAULT_CSP, HSTS_DEFAULT_MAX_AGE, HSTS_MIN_MAX_AGE, securityHeaders } from './headers.js'
export type { Pem } from './internal/pem.js'
export type { TlsVersion } from './profile.js'
export {
  DEFAULT_GROUPS,
  PROFILE_CIPHERS,
  SESSION_TIMEOUT_SECONDS,
  TICKET_KEY_ROTATION_MS,
  TLS_VERSIONS,
  TLS12_SUITES,
  TLS13_SUITES,
} from './profile.js'
export type {
  CertificateReport,
  ChainCertificate,
  HstsReport,
  HstsResult,
  KeyInfo,
  ProtocolStatus,
  SuiteInfo,
  TlsCheckResult,
} from './result.js'
export type { MtlsServerProfileOptions, TlsServerProfileOptions } from './server.js'
export { mtlsServerOptions, SERVER_SECURE_OPTIONS, tlsServerOptions } from './server.js'
export type { TicketKeyRotator, TicketKeyRotatorOptions, TicketKeyTarget } from './ticket-keys.js'
export { createTicketKeyRotator, TICKET_KEYS_LENGTH } from './ticket-keys.js'
