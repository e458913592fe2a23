import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { describeAdapterConformance } from '../../http/test/support/conformance.js'
import { cookieHeader, login, startApp, type TestApp } from './support/app.js'

// Express's final handler answers an unrouted path itself (its own Cache-Control directives and
// CSP `default-src 'none'`); the sign-out route is behind requireSession (CSRF-protected); the
// test app answers a create with 201.
describeAdapterConformance('express', startApp, {
  promotePath: '/promote',
  cacheControl: /^no-store/,
  logoutCsrf: true,
  createdStatus: 201,
  notFoundCsp: "default-src 'none'",
})

describe('@safeguards/express specifics: a streamed body', () => {
  let app: TestApp
  beforeEach(async () => {
    app = await startApp()
  })
  afterEach(async () => app.close())
  const req = (path: string, c: Record<string, string>) =>
    fetch(`${app.base}${path}`, { headers: { cookie: cookieHeader(c) } })

  it('audit write failure → 503 audit_unavailable, no data even from a streamed body', async () => {
    const c = await login(app.base, 'u-nurse')
    app.auditDown.value = true
    const res = await req('/patients/p1/stream', c)
    const text = await res.text()
    expect([res.status, JSON.parse(text)]).toEqual([
      503,
      { error: 'unavailable', reason: 'audit_unavailable' },
    ])
    expect(text).not.toContain('HbA1c')
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains')
  })

  it('a streamed body is released whole once the record is written', async () => {
    const c = await login(app.base, 'u-nurse')
    const res = await req('/patients/p1/stream', c)
    expect([res.status, await res.text()]).toEqual([200, 'HbA1c 7.9'])
  })
})
