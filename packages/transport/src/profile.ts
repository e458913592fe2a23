/**
 * The TLS profile every option of this package is built from, each value beside the paragraph of
 * NIST SP 800-52 Rev. 2 ("Guidelines for the Selection, Configuration, and Use of Transport Layer
 * Security (TLS) Implementations", August 2019) it follows. Section 3 is the server's part,
 * section 4 the client's; where our profile is stricter than the guideline, the comment says so.
 *
 * @module
 */

/** A TLS protocol version, as Node names it. */
export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'

/** Every version `checkTls` probes, oldest first. */
export const TLS_VERSIONS: readonly TlsVersion[] = Object.freeze(['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'])

/**
 * TLS 1.3 suites we allow, strongest first. SP 800-52r2 §3.3.1.2 (servers) and §4.3.1 (clients):
 * the TLS 1.3 suites built on AES-GCM and AES-CCM. `TLS_CHACHA20_POLY1305_SHA256` is left out (not
 * an approved algorithm), and so is `TLS_AES_128_CCM_8_SHA256` (8-byte tag). Listing them by name
 * matters: without a `TLS_*` name Node keeps its default TLS 1.3 list, ChaCha20 included.
 */
export const TLS13_SUITES: readonly string[] = Object.freeze([
  'TLS_AES_256_GCM_SHA384',
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_128_CCM_SHA256',
])

/**
 * TLS 1.2 suites we allow (OpenSSL names), strongest first. SP 800-52r2 §3.3.1.1: prefer ephemeral
 * ECDHE key exchange (forward secrecy) and AEAD (GCM) modes; the guideline still permits CBC and
 * static-RSA suites, our profile does not (they fall to padding-oracle and key-compromise attacks).
 * ECDSA suites first for ECDSA certificates, RSA suites for RSA certificates (§3.3.1.1 lists both).
 */
export const TLS12_SUITES: readonly string[] = Object.freeze([
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
])

/**
 * The key-exchange groups, preferred first. SP 800-52r2 §3.3.1 and §3.4.1 (supported groups):
 * NIST curves P-256 and P-384; X25519 is allowed by the guideline's reference to SP 800-186 and
 * is offered first because it is fast and constant-time. Pass `groups: 'P-256:P-384'` for a FIPS
 * deployment.
 */
export const DEFAULT_GROUPS = 'X25519:P-256:P-384'

/**
 * How long a session may be resumed, in seconds. SP 800-52r2 §3.6 (session resumption): the
 * guideline leaves the lifetime to the operator; five minutes limits what one stolen ticket
 * key unlocks.
 */
export const SESSION_TIMEOUT_SECONDS = 300

/**
 * How often the session-ticket keys are replaced, by default: 12 hours. SP 800-52r2 §3.6: a
 * resumed session reuses the master secret, so the key that encrypts tickets is as sensitive as
 * the sessions it protects; rotating it bounds the exposure of recorded traffic to one period.
 */
export const TICKET_KEY_ROTATION_MS: number = 12 * 60 * 60 * 1000

/** The `ciphers` string of the profile: the TLS 1.3 names, then the TLS 1.2 ones. */
export const PROFILE_CIPHERS: string = [...TLS13_SUITES, ...TLS12_SUITES].join(':')
