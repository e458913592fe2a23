/**
 * The result of `checkTls` (format `transit-check/1`): what was measured, the findings and the
 * verdict. Plain JSON: `JSON.stringify(result)` is the `--json` output of `safeguards transit
 * check` and what an evidence report signs.
 *
 * @module
 */
import type { TlsFinding, TlsVerdict } from './findings.js'
import type { TlsVersion } from './profile.js'

/** A certificate's public key: type and strength. */
export interface KeyInfo {
  /** `rsa`, `rsa-pss`, `ec`, `ed25519`, `ed448`, `dsa`, ... */
  type: string
  /** Modulus length for RSA and DSA, field size for EC. */
  bits: number | null
  /** The named curve for EC keys (`prime256v1`, `secp384r1`, ...). */
  curve: string | null
}

/** One certificate of the chain the server presented. */
export interface ChainCertificate {
  subject: string
  issuer: string
  fingerprint256: string
  key: KeyInfo
  signatureAlgorithm: string | null
  validFrom: string
  validTo: string
}

/** The leaf certificate and what was checked about it. */
export interface CertificateReport {
  /** The chain verified to a trust anchor of the store used (expiry is judged separately). */
  trusted: boolean
  /** OpenSSL's verification code when not trusted (`DEPTH_ZERO_SELF_SIGNED_CERT`, ...), else null. */
  trustError: string | null
  /** `default` (Node's root store) or `given` (the CA passed to the check). */
  trustStore: 'default' | 'given'
  /** The name the certificate was checked against (the servername, else the host). */
  name: string
  /** The name (or IP) is in the certificate. */
  hostnameMatch: boolean
  /** Leaf key. */
  key: KeyInfo
  /** Leaf signature algorithm. */
  signatureAlgorithm: string | null
  /** ISO 8601. */
  validFrom: string
  /** ISO 8601. */
  validTo: string
  /** Whole days from the check to `validTo` (negative once expired). */
  daysToExpiry: number
  /** The presented chain, leaf first. */
  chain: ChainCertificate[]
}

/** What the HEAD request found. */
export interface HstsResult {
  /** `present`, `missing`, `not-http` (the service does not speak HTTP/1.1), or `inconclusive` (no answer in time). */
  status: 'present' | 'missing' | 'not-http' | 'inconclusive'
  /** The HTTP status code, when the service answered HTTP. */
  httpStatus?: number
  /** The header value, when present. */
  header?: string
  /** Its `max-age` in seconds (0 when missing or malformed). */
  maxAge?: number
  /** Whether it has `includeSubDomains`. */
  includeSubDomains?: boolean
  /** Whether it has `preload`. */
  preload?: boolean
}

/** How a protocol version fared: the server completed a handshake, refused it, or did not answer in time. */
export type ProtocolStatus = 'accepted' | 'rejected' | 'inconclusive'

/** One cipher suite the server accepted. */
export interface SuiteInfo {
  /** IANA name (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`). */
  name: string
  /** OpenSSL name (`ECDHE-RSA-AES128-GCM-SHA256`). */
  openssl: string
  /** Ephemeral key exchange (always for TLS 1.3). */
  forwardSecrecy: boolean
  /** Authenticated encryption (GCM, CCM, ChaCha20-Poly1305). */
  aead: boolean
  /** The key-exchange group or DH size negotiated (`X25519`, `DH 1024`), when the server used one. */
  group: string | null
}

/** The HSTS result of the HEAD request, or `skipped` when the check was told not to send it. */
export type HstsReport = HstsResult | { status: 'skipped' }

/** The result of `checkTls`. */
export interface TlsCheckResult {
  /** Always `transit-check/1`. */
  format: 'transit-check/1'
  /** When the check ran (ISO 8601, from the injected clock). */
  checkedAt: string
  /** The runtime that probed (results differ with the OpenSSL version). */
  tool: { node: string; openssl: string }
  /** What was checked: the host as given, the one address every probe went to, the port, the SNI name. */
  target: { host: string; address: string; port: number; servername: string | null }
  /** Each version tried on its own. */
  protocols: Record<TlsVersion, ProtocolStatus>
  /** The suites accepted at each accepted version, in the server's order of preference. */
  suites: Partial<Record<TlsVersion, SuiteInfo[]>>
  /** Suites that cannot be offered from this runtime (its OpenSSL lacks them), so were not tried. */
  untested: string[]
  /** Every accepted suite has forward secrecy (null when no version was accepted). */
  forwardSecrecy: boolean | null
  /** The certificate (null when no handshake completed). */
  certificate: CertificateReport | null
  /** Whether the server stapled an OCSP response (null when no handshake completed). */
  ocsp: { stapled: boolean } | null
  /** HSTS, from one HEAD request. */
  hsts: HstsReport
  /** Every finding, most severe first. */
  findings: TlsFinding[]
  /** `fail` if any finding fails, else `warn` if any warns, else `pass`. */
  verdict: TlsVerdict
}
