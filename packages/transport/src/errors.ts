/**
 * Typed errors of `@safeguards/transport`. A server that accepts TLS 1.0 or shows an expired
 * certificate is not an error: it is a finding in the {@link TlsCheckResult} of `checkTls`. These
 * are misuse (an option outside the profile, a malformed target) and an endpoint that cannot be
 * reached at all.
 *
 * HIPAA: 164.312(b) audit controls (stable codes; messages name options and targets, never PHI).
 *
 * @module
 */
import { CodedError, type ErrorCategory } from '@safeguards/core'

/** The error codes raised by `@safeguards/transport`. Stable: match on them, never on messages. */
export type TransportErrorCode = 'ERR_TRANSPORT_CONFIG' | 'ERR_TRANSPORT_TARGET' | 'ERR_TRANSPORT_UNREACHABLE'

/**
 * Base class of every error this package throws on purpose.
 *
 * @example
 * ```ts
 * if (e instanceof TransportError) console.error(e.code)
 * ```
 */
export class TransportError<C extends TransportErrorCode = TransportErrorCode> extends CodedError<C> {}

/**
 * An option would weaken the profile or is malformed: an HSTS `max-age` under one year, `preload`
 * without `includeSubDomains`, a ticket-key interval outside 1 min to 24 h, a key or certificate
 * missing, an unknown option name. The message names the option, never a key.
 *
 * @example
 * ```ts
 * securityHeaders({ hsts: { maxAge: 300 } }) // throws TransportConfigError (ERR_TRANSPORT_CONFIG)
 * ```
 */
export class TransportConfigError extends TransportError<'ERR_TRANSPORT_CONFIG'> {
  static override readonly code = 'ERR_TRANSPORT_CONFIG'
  static override readonly category: ErrorCategory = 'invalid-argument'
}

/**
 * A `checkTls` target is malformed: an empty host, a port outside 1..65535, a `HOST:PORT` string
 * without a port, an IPv6 address without brackets.
 *
 * @example
 * ```ts
 * parseTarget('example.org') // throws TransportTargetError (ERR_TRANSPORT_TARGET)
 * ```
 */
export class TransportTargetError extends TransportError<'ERR_TRANSPORT_TARGET'> {
  static override readonly code = 'ERR_TRANSPORT_TARGET'
  static override readonly category: ErrorCategory = 'invalid-argument'
}

/**
 * The endpoint could not be reached: the name does not resolve, or no TCP connection could be
 * made to the address (refused, or no answer within `timeoutMs`). A server that answers but
 * refuses every TLS version is reachable: that is a `fail` verdict, not this error.
 *
 * @example
 * ```ts
 * await checkTls('127.0.0.1', 9) // throws TransportUnreachableError (ERR_TRANSPORT_UNREACHABLE)
 * ```
 */
export class TransportUnreachableError extends TransportError<'ERR_TRANSPORT_UNREACHABLE'> {
  static override readonly code = 'ERR_TRANSPORT_UNREACHABLE'
  static override readonly category: ErrorCategory = 'unavailable'
}
