/**
 * The finding codes of `checkTls`, their severity and the paragraph each one follows. Codes are
 * the contract (evidence reports and alerts match on them); the `detail` text is for people.
 *
 * @module
 */

/** How much a finding weighs: `fail` and `warn` set the verdict, `info` is recorded only. */
export type FindingSeverity = 'fail' | 'warn' | 'info'

/** The verdict of a check: the worst severity among its findings (`info` does not count). */
export type TlsVerdict = 'pass' | 'warn' | 'fail'

/** Every code `checkTls` can report. */
export type TlsFindingCode =
  | 'NO_TLS'
  | 'PROTO_TLS10'
  | 'PROTO_TLS11'
  | 'NO_TLS12'
  | 'NO_TLS13'
  | 'SUITE_WEAK'
  | 'SUITE_NO_FS'
  | 'SUITE_CBC'
  | 'CERT_UNTRUSTED'
  | 'CERT_HOSTNAME'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'CERT_EXPIRY_7D'
  | 'CERT_EXPIRY_30D'
  | 'CERT_WEAK_KEY'
  | 'CERT_WEAK_SIG'
  | 'NO_OCSP_STAPLE'
  | 'HSTS_MISSING'
  | 'HSTS_SHORT'
  | 'INCONCLUSIVE'

/** One finding of a check. */
export interface TlsFinding {
  /** The stable code. */
  code: TlsFindingCode
  /** Its severity (fixed per code, see {@link TLS_FINDINGS}). */
  severity: FindingSeverity
  /** The paragraph it follows (NIST SP 800-52r2, RFC, or our policy). */
  ref: string
  /** One line for people: what was measured (versions, suite names, days), never a secret. */
  detail: string
}

/** Severity, reference and the one-line fix of every finding code. */
export const TLS_FINDINGS: Readonly<
  Record<TlsFindingCode, { severity: FindingSeverity; ref: string; fix: string }>
> = Object.freeze({
  NO_TLS: { severity: 'fail', ref: 'SP 800-52r2 §3.1', fix: 'serve TLS 1.2 and 1.3 on this port' },
  PROTO_TLS10: { severity: 'fail', ref: 'SP 800-52r2 §3.1; RFC 8996', fix: 'set minVersion TLSv1.2' },
  PROTO_TLS11: { severity: 'fail', ref: 'SP 800-52r2 §3.1; RFC 8996', fix: 'set minVersion TLSv1.2' },
  NO_TLS12: {
    severity: 'warn',
    ref: 'SP 800-52r2 §3.1',
    fix: 'also accept TLS 1.2 (the guideline requires it for servers)',
  },
  NO_TLS13: { severity: 'warn', ref: 'SP 800-52r2 §3.1', fix: 'enable TLS 1.3 (maxVersion TLSv1.3)' },
  SUITE_WEAK: {
    severity: 'fail',
    ref: 'SP 800-52r2 §3.3.1',
    fix: 'remove NULL, anonymous, export, RC4, DES and 3DES suites',
  },
  SUITE_NO_FS: {
    severity: 'fail',
    ref: 'SP 800-52r2 §3.3.1.1',
    fix: 'offer only ECDHE suites (no static RSA key exchange)',
  },
  SUITE_CBC: {
    severity: 'warn',
    ref: 'SP 800-52r2 §3.3.1.1 (our policy: AEAD only)',
    fix: 'offer only AES-GCM suites for TLS 1.2',
  },
  CERT_UNTRUSTED: {
    severity: 'fail',
    ref: 'SP 800-52r2 §3.2; §4.5.1',
    fix: 'serve a certificate chain issued by a trusted CA, with its intermediates',
  },
  CERT_HOSTNAME: {
    severity: 'fail',
    ref: 'SP 800-52r2 §4.5; RFC 9110 §4.3.4',
    fix: 'put the host name in the certificate subjectAltName',
  },
  CERT_EXPIRED: {
    severity: 'fail',
    ref: 'SP 800-52r2 §3.2; RFC 5280 §4.1.2.5',
    fix: 'renew the certificate',
  },
  CERT_NOT_YET_VALID: {
    severity: 'fail',
    ref: 'RFC 5280 §4.1.2.5',
    fix: 'check the server clock and the certificate notBefore',
  },
  CERT_EXPIRY_7D: {
    severity: 'fail',
    ref: 'our policy',
    fix: 'renew the certificate now (it expires within 7 days)',
  },
  CERT_EXPIRY_30D: {
    severity: 'warn',
    ref: 'our policy',
    fix: 'renew the certificate (it expires within 30 days)',
  },
  CERT_WEAK_KEY: {
    severity: 'fail',
    ref: 'SP 800-52r2 §3.2.1; SP 800-131A',
    fix: 'use RSA 2048 or more, or ECDSA P-256 or P-384',
  },
  CERT_WEAK_SIG: {
    severity: 'fail',
    ref: 'SP 800-52r2 §3.2.1; SP 800-131A',
    fix: 'reissue the certificate signed with SHA-256 or better',
  },
  NO_OCSP_STAPLE: {
    severity: 'info',
    ref: 'SP 800-52r2 §3.4.1.2',
    fix: 'staple OCSP responses if the CA runs a responder',
  },
  HSTS_MISSING: {
    severity: 'warn',
    ref: 'RFC 6797',
    fix: 'send Strict-Transport-Security (securityHeaders())',
  },
  HSTS_SHORT: {
    severity: 'warn',
    ref: 'RFC 6797; hstspreload.org',
    fix: 'send max-age of at least 31536000 with includeSubDomains',
  },
  INCONCLUSIVE: {
    severity: 'warn',
    ref: 'checker',
    fix: 'run the check again; the server did not answer some probes in time',
  },
})

/** A finding for `code`, with its fixed severity and reference. */
export function finding(code: TlsFindingCode, detail: string): TlsFinding {
  const { severity, ref } = TLS_FINDINGS[code]
  return { code, severity, ref, detail }
}

/** The verdict of a list of findings: `fail` if any fails, else `warn` if any warns, else `pass`. */
export function verdictOf(findings: readonly TlsFinding[]): TlsVerdict {
  if (findings.some((f) => f.severity === 'fail')) return 'fail'
  if (findings.some((f) => f.severity === 'warn')) return 'warn'
  return 'pass'
}
