/**
 * securityHeaders(): the defaults a scanner expects, the HSTS rules (one year or more, preload only
 * with includeSubDomains), CSP merging, and the record served by a real node:http server.
 */
import { createServer } from 'node:http'
import { describe, expect, it } from 'vitest'
import { HSTS_MIN_MAX_AGE, securityHeaders, TransportConfigError } from '../src/index.js'

describe('securityHeaders', () => {
  it('gives the scanner-expected defaults, with no-store for PHI', () => {
    const h = securityHeaders()
    expect(h).toEqual({
      'strict-transport-security': 'max-age=63072000; includeSubDomains',
      'cache-control': 'no-store, max-age=0',
      pragma: 'no-cache',
      'content-security-policy':
        "default-src 'self'; base-uri 'self'; font-src 'self'; form-action 'self'; img-src 'self' data:; object-src 'none'; script-src 'self'; script-src-attr 'none'; style-src 'self'; upgrade-insecure-requests; frame-ancestors 'none'",
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'permissions-policy':
        'accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'x-dns-prefetch-control': 'off',
      'x-permitted-cross-domain-policies': 'none',
    })
    expect(Object.isFrozen(h)).toBe(true)
  })

  it('HSTS: preload-ready on request, never under one year, preload only with subdomains', () => {
    expect(securityHeaders({ hsts: { preload: true } })['strict-transport-security']).toBe(
      'max-age=63072000; includeSubDomains; preload',
    )
    expect(securityHeaders({ hsts: { maxAge: HSTS_MIN_MAX_AGE } })['strict-transport-security']).toBe(
      'max-age=31536000; includeSubDomains',
    )
    expect(() => securityHeaders({ hsts: { maxAge: HSTS_MIN_MAX_AGE - 1 } })).toThrow(TransportConfigError)
    expect(() => securityHeaders({ hsts: { preload: true, includeSubDomains: false } })).toThrow(
      /includeSubDomains/,
    )
    expect(() => securityHeaders({ hsts: { maxage: 1 } as never })).toThrow(/did you mean "maxAge"/)
    expect(securityHeaders({ hsts: false })['strict-transport-security']).toBeUndefined()
  })

  it('non-PHI responses may be cached; framing by the same origin; a custom CSP', () => {
    const h = securityHeaders({
      phi: false,
      frameAncestors: 'self',
      contentSecurityPolicy: { 'img-src': ["'self'", 'https://cdn.example.org'], 'connect-src': ["'self'"] },
      crossOriginEmbedderPolicy: 'require-corp',
      referrerPolicy: 'same-origin',
    })
    expect(h['cache-control']).toBeUndefined()
    expect(h['x-frame-options']).toBe('SAMEORIGIN')
    expect(h['content-security-policy']).toContain("img-src 'self' https://cdn.example.org")
    expect(h['content-security-policy']).toContain("connect-src 'self'")
    expect(h['content-security-policy']).toMatch(/frame-ancestors 'self'$/)
    expect(h['cross-origin-embedder-policy']).toBe('require-corp')
    expect(h['referrer-policy']).toBe('same-origin')
    expect(securityHeaders({ contentSecurityPolicy: false })['content-security-policy']).toBeUndefined()
    expect(() => securityHeaders({ contentSecurityPolicy: { 'img-src': ['a; script-src *'] } })).toThrow(
      TransportConfigError,
    )
    expect(() => securityHeaders({ contentSecurityPolicy: 'a\r\nSet-Cookie: x' })).toThrow(
      TransportConfigError,
    )
    expect(() => securityHeaders({ frameAncestors: 'all' as never })).toThrow(TransportConfigError)
  })

  it('is a plain record a Node server sends as is', async () => {
    const headers = securityHeaders()
    const server = createServer((_req, res) => res.writeHead(200, headers).end('{}'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    const res = await fetch(`http://127.0.0.1:${port}/`)
    expect(res.headers.get('cache-control')).toBe('no-store, max-age=0')
    expect(res.headers.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    await res.arrayBuffer()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
})
