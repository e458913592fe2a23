/**
 * The few bytes of DER the checker reads itself: a certificate's outer `signatureAlgorithm`
 * (RFC 5280 §4.1.1.2), which `X509Certificate` exposes only from Node 24.9. A TLV reader over
 * `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }`.
 *
 * @module
 */

interface Tlv {
  tag: number
  start: number
  end: number
}

function tlv(bytes: Uint8Array, at: number): Tlv | null {
  if (at + 2 > bytes.length) return null
  const tag = bytes[at] as number
  let len = bytes[at + 1] as number
  let start = at + 2
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0 || n > 4 || start + n > bytes.length) return null
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + (bytes[start + i] as number)
    start += n
  }
  const end = start + len
  return end > bytes.length ? null : { tag, start, end }
}

function oidText(bytes: Uint8Array, t: Tlv): string {
  const parts: number[] = []
  let v = 0
  for (let i = t.start; i < t.end; i++) {
    const b = bytes[i] as number
    v = v * 128 + (b & 0x7f)
    if ((b & 0x80) === 0) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80)
      else parts.push(v)
      v = 0
    }
  }
  return parts.join('.')
}

/** Signature algorithm names by OID (RFC 4055, RFC 5758, RFC 8410; PKCS #1). */
const SIGNATURE_OIDS: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
}

/** Algorithms no longer acceptable for certificate signatures (SP 800-131A: SHA-1, MD5). */
export const WEAK_SIGNATURES: ReadonlySet<string> = new Set([
  'md5WithRSAEncryption',
  'sha1WithRSAEncryption',
  'ecdsa-with-SHA1',
  'dsa-with-SHA1',
])

/** The certificate's signature algorithm name (or its OID when unknown), or null when the DER is malformed. */
export function signatureAlgorithm(der: Uint8Array): string | null {
  const cert = tlv(der, 0)
  if (cert === null || cert.tag !== 0x30) return null
  const tbs = tlv(der, cert.start)
  if (tbs === null || tbs.tag !== 0x30) return null
  const alg = tlv(der, tbs.end)
  if (alg === null || alg.tag !== 0x30) return null
  const oid = tlv(der, alg.start)
  if (oid === null || oid.tag !== 0x06) return null
  const text = oidText(der, oid)
  return SIGNATURE_OIDS[text] ?? text
}
