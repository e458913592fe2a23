/**
 * The checker's small parsers and its verdict: HOST:PORT targets (IPv6 in brackets), HSTS values
 * (RFC 6797 §6.1), certificate signature algorithms read from DER, and the verdict of findings.
 */
import { describe, expect, it } from 'vitest'
import { finding } from '../src/findings.js'
import { checkTls, fixFor, parseTarget, TLS_FINDINGS, TransportTargetError, verdictOf } from '../src/index.js'
import { signatureAlgorithm } from '../src/internal/der.js'
import { parseHsts } from '../src/internal/hsts.js'

describe('parseTarget', () => {
  it.each([
    ['ehr.example.org:443', { host: 'ehr.example.org', port: 443 }],
    ['127.0.0.1:8443', { host: '127.0.0.1', port: 8443 }],
    ['[::1]:443', { host: '::1', port: 443 }],
    ['[2001:db8::1]:65535', { host: '2001:db8::1', port: 65535 }],
  ])('%s', (text, want) => expect(parseTarget(text)).toEqual(want))

  it.each([
    'ehr.example.org',
    '::1:443',
    '[::1]',
    'host:0',
    'host:65536',
    ':443',
    '[nothost]:1',
    'a b:1',
    'http://x:1',
  ])('refuses %s', (text) => expect(() => parseTarget(text)).toThrow(TransportTargetError))

  it('checkTls refuses a bad port or an empty host before any connection', async () => {
    await expect(checkTls('', 443)).rejects.toBeInstanceOf(TransportTargetError)
    await expect(checkTls('127.0.0.1', 0)).rejects.toBeInstanceOf(TransportTargetError)
    await expect(checkTls('127.0.0.1', 443, { timeoutMs: 5 })).rejects.toThrow(/timeoutMs/)
  })
})

describe('parseHsts', () => {
  it.each([
    ['max-age=31536000; includeSubDomains', { maxAge: 31536000, includeSubDomains: true, preload: false }],
    [
      'max-age="63072000"; includesubdomains; PRELOAD',
      { maxAge: 63072000, includeSubDomains: true, preload: true },
    ],
    ['MAX-AGE=0', { maxAge: 0, includeSubDomains: false, preload: false }],
    ['max-age=abc', { maxAge: 0, includeSubDomains: false, preload: false }],
  ])('%s', (value, want) => expect(parseHsts(value)).toEqual(want))
})

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (b) => Number.parseInt(b, 16))

describe('signatureAlgorithm (DER)', () => {
  // Certificate ::= SEQUENCE { tbs SEQUENCE {}, AlgorithmIdentifier SEQUENCE { OID }, BIT STRING }
  const cert = (oid: string): Uint8Array => {
    const alg = `06${(oid.length / 2).toString(16).padStart(2, '0')}${oid}`
    const algSeq = `30${(alg.length / 2).toString(16).padStart(2, '0')}${alg}`
    const body = `3000${algSeq}030100`
    return hex(`30${(body.length / 2).toString(16).padStart(2, '0')}${body}`)
  }
  it.each([
    ['2a864886f70d01010b', 'sha256WithRSAEncryption'],
    ['2a864886f70d010105', 'sha1WithRSAEncryption'],
    ['2a8648ce3d040302', 'ecdsa-with-SHA256'],
    ['2b6570', 'Ed25519'],
    ['2a0304', '1.2.3.4'],
  ])('%s is %s', (oid, name) => expect(signatureAlgorithm(cert(oid))).toBe(name))

  it('returns null for malformed DER', () => {
    expect(signatureAlgorithm(new Uint8Array())).toBeNull()
    expect(signatureAlgorithm(hex('3005300002'))).toBeNull()
    expect(signatureAlgorithm(hex('30849999999900'))).toBeNull()
  })
})

describe('findings and verdict', () => {
  it('fail beats warn beats pass; info does not count', () => {
    expect(verdictOf([])).toBe('pass')
    expect(verdictOf([finding('NO_OCSP_STAPLE', '')])).toBe('pass')
    expect(verdictOf([finding('NO_OCSP_STAPLE', ''), finding('SUITE_CBC', '')])).toBe('warn')
    expect(verdictOf([finding('SUITE_CBC', ''), finding('PROTO_TLS10', '')])).toBe('fail')
  })

  it('every code has a severity, a reference and a fix', () => {
    for (const [code, f] of Object.entries(TLS_FINDINGS)) {
      expect(['fail', 'warn', 'info']).toContain(f.severity)
      expect(f.ref).not.toBe('')
      expect(fixFor(code as keyof typeof TLS_FINDINGS)).toBe(f.fix)
    }
    expect(TLS_FINDINGS.CERT_EXPIRY_30D.severity).toBe('warn')
    expect(TLS_FINDINGS.CERT_EXPIRY_7D.severity).toBe('fail')
  })
})
