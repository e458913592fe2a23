/**
 * The server and client profiles on real sockets: what a server built with tlsServerOptions()
 * refuses (TLS 1.1, ChaCha20, CBC, renegotiation), session tickets and their rotation, mutual TLS
 * accepted and refused, HTTP/2, and the configuration errors.
 */
import { constants } from 'node:crypto'
import { createSecureServer, connect as h2connect } from 'node:http2'
import type { Readable } from 'node:stream'
import { type ConnectionOptions, connect, createServer, type Server, type TLSSocket } from 'node:tls'
import { manualClock } from '@safeguards/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createTicketKeyRotator,
  mtlsClientOptions,
  mtlsServerOptions,
  PROFILE_CIPHERS,
  SERVER_SECURE_OPTIONS,
  TransportConfigError,
  tlsClientOptions,
  tlsServerOptions,
} from '../src/index.js'
import { makePki, type Pki, requireOpenssl } from './support/pki.js'

let pki: Pki
beforeAll(() => {
  requireOpenssl()
  pki = makePki()
}, 60_000)
afterAll(() => pki?.cleanup())

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}
const close = (server: { close(cb: () => void): unknown }): Promise<void> =>
  new Promise((resolve) => server.close(() => resolve()))
/** Everything a stream (a TLS socket, an HTTP/2 response) gives until its end, as UTF-8 text. */
const readText = (stream: Readable): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = ''
    stream.setEncoding('utf8')
    stream.on('data', (c: string) => {
      text += c
    })
    stream.once('end', () => resolve(text))
    stream.once('error', reject)
  })

type Outcome = { ok: true; socket: TLSSocket } | { ok: false; code: string }

/** Connects with `options` and resolves once the handshake ended either way. */
function attempt(port: number, options: ConnectionOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...options })
    socket.once('secureConnect', () => resolve({ ok: true, socket }))
    socket.once('error', (e: Error & { code?: string }) => resolve({ ok: false, code: e.code ?? e.message }))
  })
}

describe('tlsServerOptions', () => {
  it('sets every option of the profile explicitly', () => {
    const o = tlsServerOptions({ key: pki.pem('good.key'), cert: pki.pem('good.pem') })
    expect(o).toMatchObject({
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      honorCipherOrder: true,
      sessionTimeout: 300,
    })
    expect(o.ecdhCurve).toBe('X25519:P-256:P-384')
    expect(o.ciphers).toBe(PROFILE_CIPHERS)
    expect(o.ciphers).not.toMatch(/CHACHA|CBC|SECLEVEL|CCM_8/)
    expect(
      o.ciphers
        ?.split(':')
        .filter((c) => !c.startsWith('TLS_'))
        .every((c) => /^ECDHE-(ECDSA|RSA)-AES(128|256)-GCM-SHA(256|384)$/.test(c)),
    ).toBe(true)
    const bits = o.secureOptions ?? 0
    expect(bits & constants.SSL_OP_NO_RENEGOTIATION).toBeTruthy()
    expect(bits & constants.SSL_OP_NO_COMPRESSION).toBeTruthy()
    expect(bits).toBe(SERVER_SECURE_OPTIONS)
    // the checker's @SECLEVEL=0 never leaks into the profiles
    for (const c of [
      tlsClientOptions(),
      mtlsClientOptions({ key: pki.pem('client.key'), cert: pki.pem('client.pem'), ca: pki.caCert }),
    ]) {
      expect(c).toMatchObject({ minVersion: 'TLSv1.2', rejectUnauthorized: true, ciphers: PROFILE_CIPHERS })
      expect(c.checkServerIdentity).toBeUndefined()
    }
    // bytes read from a file are accepted and decoded once
    const fromBytes = tlsServerOptions({
      key: new TextEncoder().encode(pki.pem('good.key')),
      cert: pki.pem('good.pem'),
    })
    expect(fromBytes.key).toBe(pki.pem('good.key'))
  })

  it('refuses bad configuration with ERR_TRANSPORT_CONFIG', () => {
    const key = pki.pem('good.key')
    const cert = pki.pem('good.pem')
    expect(() => tlsServerOptions({ key, cert, sessionTimout: 5 } as never)).toThrow(
      /did you mean "sessionTimeout"/,
    )
    expect(() => tlsServerOptions({ key } as never)).toThrow(TransportConfigError)
    expect(() => tlsServerOptions({ key, cert, sessionTimeout: -1 })).toThrow(TransportConfigError)
    expect(() => tlsServerOptions({ key: 'not pem', cert })).toThrow(/"key" is not PEM/)
    expect(() => tlsServerOptions({ key, cert, groups: 'P-256; rm' })).toThrow(TransportConfigError)
    expect(() => mtlsServerOptions({ key, cert } as never)).toThrow(/"clientCa" is required/)
    expect(() => tlsClientOptions({ servername: '' })).toThrow(TransportConfigError)
    expect(() => mtlsClientOptions({ key, cert } as never)).toThrow(/pinned CA/)
  })

  describe('on a running server', () => {
    let server: Server
    let port: number
    let client: ReturnType<typeof tlsClientOptions>
    const clock = manualClock(Date.UTC(2026, 11, 7))
    const rotator = createTicketKeyRotator({ clock, intervalMs: 60 * 60_000 })
    beforeAll(async () => {
      server = createServer(tlsServerOptions({ key: pki.pem('good.key'), cert: pki.pem('good.pem') }), (s) =>
        s.end('hello\n'),
      )
      rotator.attach(server)
      port = await listen(server)
      client = tlsClientOptions({ ca: pki.caCert, servername: 'localhost' })
    })
    afterAll(() => close(server))

    it('negotiates TLS 1.3 with a profile client, and TLS 1.2 with ECDHE + GCM when capped at 1.2', async () => {
      const a = await attempt(port, client)
      expect(a.ok && a.socket.getProtocol()).toBe('TLSv1.3')
      expect(a.ok && a.socket.authorized).toBe(true)
      if (a.ok) a.socket.destroy()
      const b = await attempt(port, { ...client, maxVersion: 'TLSv1.2' })
      expect(b.ok && b.socket.getCipher().standardName).toBe('TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384')
      if (b.ok) b.socket.destroy()
    })

    it('refuses TLS 1.1, ChaCha20-only, CBC-only and static-RSA-only clients', async () => {
      const legacy = await attempt(port, {
        ca: pki.caCert,
        minVersion: 'TLSv1.1',
        maxVersion: 'TLSv1.1',
        ciphers: 'ALL:@SECLEVEL=0',
      })
      expect(legacy.ok).toBe(false)
      for (const [min, ciphers] of [
        ['TLSv1.3', 'TLS_CHACHA20_POLY1305_SHA256'] as const,
        ['TLSv1.2', 'ECDHE-RSA-CHACHA20-POLY1305'],
        ['TLSv1.2', 'ECDHE-RSA-AES128-SHA256'],
        ['TLSv1.2', 'AES128-GCM-SHA256'],
      ] as const) {
        const max = min
        const r = await attempt(port, { ca: pki.caCert, minVersion: min, maxVersion: max, ciphers })
        expect({ ciphers, ok: r.ok }).toEqual({ ciphers, ok: false })
      }
    })

    it('refuses renegotiation', async () => {
      const a = await attempt(port, { ...client, maxVersion: 'TLSv1.2' })
      if (!a.ok) throw new Error(a.code)
      const error = await new Promise<Error | null>((resolve) => {
        a.socket.once('error', resolve)
        a.socket.renegotiate({}, (e) => resolve(e ?? null))
      })
      expect(error).not.toBeNull()
      a.socket.destroy()
    })

    it('resumes sessions from tickets until the rotator replaces the keys (injected clock)', async () => {
      const firstSession = async (): Promise<Uint8Array> => {
        const a = await attempt(port, { ...client, maxVersion: 'TLSv1.2' })
        if (!a.ok) throw new Error(a.code)
        const session = a.socket.getSession()
        a.socket.destroy()
        if (session === undefined) throw new Error('no session')
        return session
      }
      const resumed = async (session: Uint8Array): Promise<boolean> => {
        const a = await attempt(port, { ...client, maxVersion: 'TLSv1.2', session: session as never })
        if (!a.ok) throw new Error(a.code)
        const reused = a.socket.isSessionReused()
        a.socket.destroy()
        return reused
      }
      const session = await firstSession()
      expect(await resumed(session)).toBe(true)
      clock.advance(59 * 60_000)
      expect(rotator.rotateIfDue()).toBe(false)
      expect(await resumed(session)).toBe(true)
      clock.advance(60_000)
      expect(rotator.rotateIfDue()).toBe(true)
      expect(rotator.rotations).toBe(1)
      expect(rotator.rotatedAt).toBe(clock.now())
      expect(await resumed(session)).toBe(false) // the old ticket no longer decrypts: full handshake
      expect(await resumed(await firstSession())).toBe(true)
    })
  })

  it('rotator: keys from the injected random source, interval bounds', () => {
    const seen: number[] = []
    const target = { setTicketKeys: (k: Uint8Array) => seen.push(k.length) }
    let n = 0
    const r = createTicketKeyRotator({
      clock: manualClock(0),
      random: (len) => new Uint8Array(len).fill(++n),
    })
    r.attach(target)
    r.rotate()
    expect(seen).toEqual([48, 48])
    expect(() => createTicketKeyRotator({ intervalMs: 59_999 })).toThrow(TransportConfigError)
    expect(() => createTicketKeyRotator({ intervalMs: 86_400_001 })).toThrow(TransportConfigError)
    r.start().stop()
  })

  it('works for node:http2 (the suites meet RFC 9113 §9.2.2)', async () => {
    const server = createSecureServer(
      tlsServerOptions({ key: pki.pem('good.key'), cert: pki.pem('good.pem') }),
      (_req, res) => res.end('h2'),
    )
    const port = await listen(server)
    const session = h2connect(
      `https://127.0.0.1:${port}`,
      tlsClientOptions({ ca: pki.caCert, servername: 'localhost' }),
    )
    const req = session.request({ ':path': '/' })
    req.end()
    expect(await readText(req)).toBe('h2')
    session.close()
    await close(server)
  })
})

describe('mutual TLS', () => {
  let server: Server
  let port: number
  beforeAll(async () => {
    server = createServer(
      mtlsServerOptions({ key: pki.pem('good.key'), cert: pki.pem('good.pem'), clientCa: pki.caCert }),
      (s) => {
        s.end(`hello ${s.getPeerX509Certificate()?.subject ?? '?'}\n`)
      },
    )
    port = await listen(server)
  })
  afterAll(() => close(server))

  it('accepts a client whose certificate the pinned CA issued', async () => {
    const a = await attempt(
      port,
      mtlsClientOptions({
        key: pki.pem('client.key'),
        cert: pki.pem('client.pem'),
        ca: pki.caCert,
        servername: 'localhost',
      }),
    )
    if (!a.ok) throw new Error(a.code)
    expect(await readText(a.socket)).toBe('hello CN=client\n')
  })

  it('refuses a client without a certificate, and one from another CA', async () => {
    for (const options of [
      tlsClientOptions({ ca: pki.caCert, servername: 'localhost' }),
      mtlsClientOptions({
        key: pki.pem('stranger.key'),
        cert: pki.pem('stranger.pem'),
        ca: pki.caCert,
        servername: 'localhost',
      }),
    ]) {
      // in TLS 1.3 the server's refusal (an alert, then close) arrives after the client's side of
      // the handshake completed: refused means the handler never ran, so no byte of its answer came
      const a = await attempt(port, options)
      const answer = a.ok ? await readText(a.socket).catch(() => '') : ''
      expect(answer).toBe('')
    }
  })

  it('the client trusts only the pinned CA: a server certificate from another CA is refused', async () => {
    const other = createServer(
      tlsServerOptions({ key: pki.pem('stranger.key'), cert: pki.pem('stranger.pem') }),
      (s) => s.end(),
    )
    const p = await listen(other)
    const a = await attempt(
      p,
      mtlsClientOptions({
        key: pki.pem('client.key'),
        cert: pki.pem('client.pem'),
        ca: pki.caCert,
        servername: 'stranger.service.test',
      }),
    )
    expect(a.ok).toBe(false)
    await close(other)
  })
})
