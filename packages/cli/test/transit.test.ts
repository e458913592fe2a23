/**
 * `safeguards transit check` against real peers on 127.0.0.1: a Node HTTPS server built with
 * tlsServerOptions() and securityHeaders() (pass, exit 0), `openssl s_server` accepting TLS 1.0
 * (fail, exit 1) or offering only a CBC suite (warn, exit 0), a closed port (exit 2).
 */
import { createServer, type Server } from 'node:https'
import { createServer as createTcpServer } from 'node:net'
import { join } from 'node:path'
import { securityHeaders, tlsServerOptions } from '@safeguards/transport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makePki, type Pki, requireOpenssl, withPeer } from '../../transport/test/support/pki.js'
import { runCli } from '../src/index.js'
import { fakeIO } from './helpers.js'

let pki: Pki
let server: Server
let port: number
let ca: string
beforeAll(async () => {
  requireOpenssl() // a missing openssl fails the suite, it never skips it
  pki = makePki()
  ca = join(pki.dir, 'ca.pem')
  const headers = securityHeaders()
  server = createServer(
    tlsServerOptions({ key: pki.pem('good-ec.key'), cert: pki.pem('good-ec.pem') }),
    (_q, res) => res.writeHead(200, headers).end(),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as { port: number }).port
}, 60_000)
afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()))
  pki?.cleanup()
})

/** `transit check` of an s_server peer (which answers GET only, so no HEAD for HSTS). */
const checkArgv = (peerPort: number, extra: string[]): string[] => [
  'transit',
  'check',
  `127.0.0.1:${peerPort}`,
  '--servername',
  'localhost',
  '--ca',
  ca,
  '--no-http',
  '--timeout',
  '10000', // a loaded machine must not turn a slow handshake into 'inconclusive'
  ...extra,
]

describe('safeguards transit check', () => {
  it('passes the Node server built with tlsServerOptions(): exit 0 and a readable report', async () => {
    const f = fakeIO()
    expect(
      await runCli(
        [
          'transit',
          'check',
          `127.0.0.1:${port}`,
          '--servername',
          'localhost',
          '--ca',
          ca,
          '--timeout',
          '10000',
        ],
        f.io,
      ),
    ).toBe(0)
    const out = f.stdout()
    expect(out).toContain('protocols: TLSv1 rejected, TLSv1.1 rejected, TLSv1.2 accepted, TLSv1.3 accepted')
    expect(out).toContain(
      'TLSv1.3 suites: TLS_AES_256_GCM_SHA384, TLS_AES_128_GCM_SHA256, TLS_AES_128_CCM_SHA256',
    )
    expect(out).toContain('forward secrecy: yes')
    expect(out).toMatch(
      /certificate: CN=good-ec; trusted by the given store; names localhost; ec prime256v1; ecdsa-with-SHA256/,
    )
    expect(out).toContain('HSTS: max-age=63072000; includeSubDomains')
    expect(out).toContain('INFO NO_OCSP_STAPLE')
    expect(out).toMatch(/verdict: pass\n$/)
  })

  it('fails a server that accepts TLS 1.0: exit 1, and --json prints the transit-check/1 document', async () => {
    await withPeer(pki, 'good', ['-tls1', '-cipher', 'ALL:@SECLEVEL=0'], async (peer) => {
      const f = fakeIO()
      const argv = checkArgv(peer.port, ['--json'])
      expect(await runCli(argv, f.io)).toBe(1)
      const doc = JSON.parse(f.stdout())
      expect(doc).toMatchObject({
        format: 'transit-check/1',
        verdict: 'fail',
        protocols: { TLSv1: 'accepted' },
      })
      expect(doc.findings.map((x: { code: string }) => x.code)).toContain('PROTO_TLS10')
      expect(f.stderr()).toBe('')
    })
  })

  it('warns on a CBC-only TLS 1.2 server: exit 0 with the warning and its fix printed', async () => {
    await withPeer(pki, 'good', ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-SHA256'], async (peer) => {
      const f = fakeIO()
      const argv = checkArgv(peer.port, [])
      expect(await runCli(argv, f.io)).toBe(0)
      expect(f.stdout()).toContain(
        'WARN SUITE_CBC: CBC (non-AEAD) suites accepted: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
      )
      expect(f.stdout()).toContain('fix: offer only AES-GCM suites for TLS 1.2')
      expect(f.stdout()).toMatch(/verdict: warn\n$/)
    })
  })

  it('exit 2 for an unreachable host and for usage errors; 74 for an unreadable --ca', async () => {
    const probe = createTcpServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const closed = (probe.address() as { port: number }).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    const u = fakeIO()
    expect(await runCli(['transit', 'check', `127.0.0.1:${closed}`], u.io)).toBe(2)
    expect(u.stderr()).toMatch(/unreachable: no TCP connection to 127\.0\.0\.1 port \d+ \(ECONNREFUSED\)/)
    const j = fakeIO()
    expect(await runCli(['transit', 'check', `127.0.0.1:${closed}`, '--json'], j.io)).toBe(2)
    expect(JSON.parse(j.stdout())).toMatchObject({ ok: false, error: { category: 'unavailable' } })
    for (const argv of [
      ['transit', 'check'],
      ['transit', 'check', 'example.org'],
      ['transit', 'check', '127.0.0.1:443', '--timeout', 'soon'],
      ['transit', 'check', '127.0.0.1:443', '--timeout', '99999'],
      ['transit', 'check', '::1:443'],
    ]) {
      const f = fakeIO()
      expect(await runCli(argv, f.io), argv.join(' ')).toBe(2)
    }
    const m = fakeIO()
    expect(
      await runCli(['transit', 'check', `127.0.0.1:${port}`, '--ca', join(pki.dir, 'missing.pem')], m.io),
    ).toBe(74)
  })
})
