/**
 * checkTls against real peers on 127.0.0.1: `openssl s_server` configured badly in one way each,
 * and a Node HTTPS server built with tlsServerOptions() and securityHeaders(), which must pass.
 */
import { createServer as createHttpsServer, type Server } from 'node:https'
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net'
import { manualClock } from '@safeguards/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  checkTls,
  securityHeaders,
  type TlsCheckResult,
  TransportUnreachableError,
  tlsServerOptions,
} from '../src/index.js'
import { makePki, openssl, type Peer, type Pki, withPeer as peerOf, requireOpenssl } from './support/pki.js'

let pki: Pki
beforeAll(() => {
  requireOpenssl() // throws: a machine without openssl fails these tests, it never skips them
  pki = makePki()
}, 60_000)
afterAll(() => pki?.cleanup())

const codes = (r: TlsCheckResult): string[] => r.findings.map((f) => f.code)

const withPeer = (name: string, args: string[], run: (peer: Peer) => Promise<void>): Promise<void> =>
  peerOf(pki, name, args, run)

/** A generous per-handshake limit: the machine is shared, and a slow handshake must not read as no answer. */
const SLOW_MACHINE_MS = 10_000

/** s_server -www answers GET only, so the HEAD for HSTS is left out for these peers. */
const check = (port: number, extra: Parameters<typeof checkTls>[2] = {}): Promise<TlsCheckResult> =>
  checkTls('127.0.0.1', port, {
    servername: 'localhost',
    ca: pki.caCert,
    http: false,
    timeoutMs: SLOW_MACHINE_MS,
    ...extra,
  })

describe('checkTls against openssl s_server', () => {
  it('fails a server that accepts TLS 1.0 (probed with @SECLEVEL=0), and lists its suites', async () => {
    await withPeer('good', ['-tls1', '-cipher', 'ALL:@SECLEVEL=0'], async (peer) => {
      const r = await check(peer.port)
      expect(r.protocols).toEqual({
        TLSv1: 'accepted',
        'TLSv1.1': 'rejected',
        'TLSv1.2': 'rejected',
        'TLSv1.3': 'rejected',
      })
      expect(r.verdict).toBe('fail')
      expect(codes(r)).toContain('PROTO_TLS10')
      expect(codes(r)).toContain('NO_TLS13')
      expect(r.suites.TLSv1?.map((s) => s.name)).toContain('TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA')
      expect(r.findings[0]?.severity).toBe('fail') // most severe first
    })
  })

  it('warns on a TLS 1.2 server that offers only a CBC suite (ECDHE-RSA-AES128-SHA256)', async () => {
    await withPeer('good', ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-SHA256'], async (peer) => {
      const r = await check(peer.port)
      expect(r.protocols['TLSv1.2']).toBe('accepted')
      expect(r.protocols['TLSv1.3']).toBe('rejected')
      expect(r.suites['TLSv1.2']).toEqual([
        {
          name: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
          openssl: 'ECDHE-RSA-AES128-SHA256',
          forwardSecrecy: true,
          aead: false,
          group: expect.any(String),
        },
      ])
      expect(r.forwardSecrecy).toBe(true)
      expect(codes(r).sort()).toEqual(['NO_OCSP_STAPLE', 'NO_TLS13', 'SUITE_CBC'])
      expect(r.verdict).toBe('warn')
      expect(r.certificate).toMatchObject({
        trusted: true,
        hostnameMatch: true,
        key: { type: 'rsa', bits: 2048 },
      })
      expect(r.certificate?.signatureAlgorithm).toBe('ecdsa-with-SHA256') // the test CA is EC P-256
    })
  })

  it('fails static RSA key exchange (AES128-GCM-SHA256): no forward secrecy', async () => {
    await withPeer('good', ['-tls1_2', '-cipher', 'AES128-GCM-SHA256'], async (peer) => {
      const r = await check(peer.port)
      expect(r.suites['TLSv1.2']?.map((s) => s.name)).toEqual(['TLS_RSA_WITH_AES_128_GCM_SHA256'])
      expect(r.forwardSecrecy).toBe(false)
      expect(codes(r)).toContain('SUITE_NO_FS')
      expect(r.verdict).toBe('fail')
    })
  })

  it('fails an expired certificate (issued for January 2024 by openssl ca)', async () => {
    await withPeer('expired', [], async (peer) => {
      const r = await check(peer.port)
      expect(r.certificate?.validTo).toBe('2024-02-01T00:00:00.000Z')
      expect(r.certificate?.daysToExpiry).toBeLessThan(0)
      expect(r.certificate?.trusted).toBe(true) // the chain is good: the date is the problem
      expect(codes(r)).toContain('CERT_EXPIRED')
      expect(r.verdict).toBe('fail')
    })
  })

  it('an expired certificate from an untrusted CA is both expired and untrusted (OpenSSL reports only the expiry)', async () => {
    await withPeer('expired-stranger', [], async (peer) => {
      const r = await check(peer.port)
      expect(r.certificate?.trusted).toBe(false)
      expect(codes(r)).toEqual(expect.arrayContaining(['CERT_EXPIRED', 'CERT_UNTRUSTED']))
    })
  })

  it('fails a self-signed certificate, which is trusted once given as the CA', async () => {
    await withPeer('self', [], async (peer) => {
      const r = await check(peer.port)
      expect(r.certificate).toMatchObject({
        trusted: false,
        trustError: 'DEPTH_ZERO_SELF_SIGNED_CERT',
        trustStore: 'given',
      })
      expect(codes(r)).toContain('CERT_UNTRUSTED')
      const pinned = await check(peer.port, { ca: pki.pem('self.pem') })
      expect(pinned.certificate?.trusted).toBe(true)
      expect(codes(pinned)).not.toContain('CERT_UNTRUSTED')
    })
  })

  it('fails a certificate for the wrong host name, without calling the chain untrusted', async () => {
    await withPeer('wrong-host', [], async (peer) => {
      const r = await check(peer.port)
      expect(r.certificate).toMatchObject({ trusted: true, hostnameMatch: false, name: 'localhost' })
      expect(codes(r)).toContain('CERT_HOSTNAME')
      expect(codes(r)).not.toContain('CERT_UNTRUSTED')
      expect(r.verdict).toBe('fail')
    })
  })

  it('warns when the certificate expires within 30 days, and fails within 7 (injected clock)', async () => {
    await withPeer('soon', ['-cipher', 'ECDHE-RSA-AES128-GCM-SHA256'], async (peer) => {
      const r = await check(peer.port)
      expect(r.certificate?.daysToExpiry).toBeGreaterThanOrEqual(18)
      expect(codes(r)).toContain('CERT_EXPIRY_30D')
      const expiry = Date.parse(r.certificate?.validTo ?? '')
      const at = (ms: number) => check(peer.port, { clock: manualClock(ms) })
      const sevenDays = await at(expiry - 7 * 86_400_000) // exactly 7 days left: warn, not fail
      expect(codes(sevenDays)).toContain('CERT_EXPIRY_30D')
      const lastWeek = await at(expiry - 7 * 86_400_000 + 1)
      expect(codes(lastWeek)).toContain('CERT_EXPIRY_7D')
      expect(lastWeek.verdict).toBe('fail')
      expect(lastWeek.checkedAt).toBe(new Date(expiry - 7 * 86_400_000 + 1).toISOString())
    })
  })

  it('sees a stapled OCSP response (openssl ocsp, served with s_server -status_file)', async () => {
    openssl(
      [
        'ocsp',
        '-index',
        'index.txt',
        '-CA',
        'ca.pem',
        '-rsigner',
        'ca.pem',
        '-rkey',
        'ca.key',
        '-issuer',
        'ca.pem',
        '-cert',
        'good.pem',
        '-ndays',
        '1',
        '-respout',
        'good.ocsp.der',
      ],
      pki.dir,
    )
    await withPeer('good', ['-status_file', 'good.ocsp.der'], async (peer) => {
      const r = await check(peer.port)
      expect(r.ocsp).toEqual({ stapled: true })
      expect(codes(r)).not.toContain('NO_OCSP_STAPLE')
    })
  })

  it('trusts nothing it was not given: a CA-signed server is untrusted against the default store', async () => {
    await withPeer('good', [], async (peer) => {
      const r = await checkTls('127.0.0.1', peer.port, { servername: 'localhost', http: false })
      expect(r.certificate).toMatchObject({ trusted: false, trustStore: 'default' })
    })
  })
})

describe('checkTls against a Node server built with tlsServerOptions()', () => {
  let server: Server
  let port: number
  beforeAll(async () => {
    const headers = securityHeaders()
    server = createHttpsServer(
      tlsServerOptions({ key: pki.pem('good-ec.key'), cert: pki.pem('good-ec.pem') }),
      (_req, res) => {
        res.writeHead(200, headers).end('ok')
      },
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('passes: TLS 1.2 and 1.3 only, ECDHE + AES-GCM only, good certificate, HSTS of two years', async () => {
    const r = await checkTls('127.0.0.1', port, {
      servername: 'localhost',
      ca: pki.caCert,
      timeoutMs: SLOW_MACHINE_MS,
    })
    expect(r.verdict).toBe('pass')
    expect(r.protocols).toEqual({
      TLSv1: 'rejected',
      'TLSv1.1': 'rejected',
      'TLSv1.2': 'accepted',
      'TLSv1.3': 'accepted',
    })
    expect(r.suites['TLSv1.3']?.map((s) => s.name)).toEqual([
      'TLS_AES_256_GCM_SHA384',
      'TLS_AES_128_GCM_SHA256',
      'TLS_AES_128_CCM_SHA256',
    ]) // no ChaCha20, in the server's order
    expect(r.suites['TLSv1.2']?.map((s) => s.name)).toEqual([
      'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
      'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
    ])
    expect(r.forwardSecrecy).toBe(true)
    expect(r.untested).toEqual(expect.arrayContaining(['SSLv2', 'SSLv3'])) // Node's OpenSSL cannot speak them
    expect(r.certificate).toMatchObject({
      trusted: true,
      hostnameMatch: true,
      key: { type: 'ec', curve: 'prime256v1', bits: 256 },
      signatureAlgorithm: 'ecdsa-with-SHA256',
    })
    expect(r.certificate?.chain.length).toBeGreaterThanOrEqual(1)
    expect(r.hsts).toMatchObject({
      status: 'present',
      httpStatus: 200,
      maxAge: 63_072_000,
      includeSubDomains: true,
    })
    expect(r.ocsp).toEqual({ stapled: false })
    expect(codes(r)).toEqual(['NO_OCSP_STAPLE']) // info only
    expect(r.target).toEqual({ host: '127.0.0.1', address: '127.0.0.1', port, servername: 'localhost' })
    expect(JSON.parse(JSON.stringify(r))).toEqual(r) // plain JSON
  })
})

describe('checkTls reachability', () => {
  it('throws TransportUnreachableError for a closed port', async () => {
    const probe = createTcpServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as { port: number }).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    await expect(checkTls('127.0.0.1', port, { timeoutMs: 1000 })).rejects.toBeInstanceOf(
      TransportUnreachableError,
    )
  })

  it('reports a server that accepts TCP but never answers TLS as inconclusive (a warning), not as refusing', async () => {
    const sockets: import('node:net').Socket[] = []
    const blackhole: TcpServer = createTcpServer((s) => sockets.push(s))
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve))
    const port = (blackhole.address() as { port: number }).port
    try {
      const r = await checkTls('127.0.0.1', port, { timeoutMs: 300 })
      expect(Object.values(r.protocols)).toEqual([
        'inconclusive',
        'inconclusive',
        'inconclusive',
        'inconclusive',
      ])
      expect(codes(r)).toContain('INCONCLUSIVE')
      expect(codes(r)).not.toContain('NO_TLS') // no answer is not a refusal
      expect(r.verdict).toBe('warn')
      expect(r.certificate).toBeNull()
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => blackhole.close(() => resolve()))
    }
  })
})
