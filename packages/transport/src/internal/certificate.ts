/**
 * What the checker reads from the server's certificate chain on an open socket: trust (from
 * OpenSSL's verification against the given trust store), the name check (done here: Node skips it
 * once the chain failed), key type and size, signature algorithm, validity against the injected
 * clock.
 *
 * @module
 */

import { X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'
import { type DetailedPeerCertificate, rootCertificates, type TLSSocket } from 'node:tls'
import type { CertificateReport, KeyInfo } from '../result.js'
import { signatureAlgorithm } from './der.js'

const CURVE_BITS: Readonly<Record<string, number>> = {
  prime256v1: 256,
  secp384r1: 384,
  secp521r1: 521,
  secp224r1: 224,
  secp192r1: 192,
  prime192v1: 192,
  secp256k1: 256,
}

/**
 * Verification codes the checker judges itself rather than as "untrusted": time (with its own
 * clock) and the name (Node reports a name mismatch as `authorizationError` once the chain is good).
 */
const JUDGED_ELSEWHERE: ReadonlySet<string> = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

function keyInfo(x: X509Certificate): KeyInfo {
  const k = x.publicKey
  const type = k.asymmetricKeyType ?? 'unknown'
  const d = k.asymmetricKeyDetails ?? {}
  const curve = typeof d.namedCurve === 'string' ? d.namedCurve : null
  let bits: number | null = typeof d.modulusLength === 'number' ? d.modulusLength : null
  if (curve !== null) bits = CURVE_BITS[curve] ?? null
  if (type === 'ed25519') bits = 256
  if (type === 'ed448') bits = 448
  return { type, bits, curve }
}

const iso = (text: string): string => new Date(text).toISOString()

/** The presented chain, leaf first, stopping where an issuer repeats (a root points to itself). */
function chainOf(socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = []
  const seen = new Set<string>()
  let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true)
  while (c?.raw !== undefined && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256)
    out.push(new X509Certificate(c.raw))
    c = c.issuerCertificate
  }
  return out
}

/**
 * Whether `chain` (leaf first) leads to one of `anchors` by issuer names and signatures, dates
 * aside. OpenSSL reports only its last verification error, so for an expired certificate it says
 * `CERT_HAS_EXPIRED` even when the chain is also untrusted: this walk decides trust in that case.
 */
function anchored(chain: readonly X509Certificate[], anchors: readonly X509Certificate[]): boolean {
  for (const [i, cert] of chain.entries()) {
    if (anchors.some((a) => a.fingerprint256 === cert.fingerprint256)) return true
    if (anchors.some((a) => cert.checkIssued(a) && cert.verify(a.publicKey))) return true
    const next = chain[i + 1]
    if (next === undefined || !cert.checkIssued(next) || !cert.verify(next.publicKey)) return false
  }
  return false
}

/** Reads the certificate report from a socket that completed its handshake. */
export function certificateReport(
  socket: TLSSocket,
  name: string,
  anchors: readonly string[] | undefined,
  now: number,
): CertificateReport | null {
  const chain = chainOf(socket)
  const leaf = chain[0]
  if (leaf === undefined) return null
  const error = socket.authorizationError === null ? null : String(socket.authorizationError)
  const trusted =
    socket.authorized ||
    (error !== null &&
      JUDGED_ELSEWHERE.has(error) &&
      anchored(
        chain,
        (anchors ?? rootCertificates).map((pem) => new X509Certificate(pem)),
      ))
  const trustStore = anchors === undefined ? 'default' : 'given'
  const hostnameMatch =
    isIP(name) !== 0 ? leaf.checkIP(name) !== undefined : leaf.checkHost(name) !== undefined
  const validTo = Date.parse(leaf.validTo)
  return {
    trusted,
    trustError: trusted ? null : error,
    trustStore,
    name,
    hostnameMatch,
    key: keyInfo(leaf),
    signatureAlgorithm: signatureAlgorithm(leaf.raw),
    validFrom: iso(leaf.validFrom),
    validTo: iso(leaf.validTo),
    daysToExpiry: Math.floor((validTo - now) / 86_400_000),
    chain: chain.map((x) => ({
      subject: x.subject.replaceAll('\n', ', '),
      issuer: x.issuer.replaceAll('\n', ', '),
      fingerprint256: x.fingerprint256,
      key: keyInfo(x),
      signatureAlgorithm: signatureAlgorithm(x.raw),
      validFrom: iso(x.validFrom),
      validTo: iso(x.validTo),
    })),
  }
}
