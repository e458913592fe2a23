import { describe, expect, it } from 'vitest'
import {
  describeAdapterConformance,
  expectUnavailable,
  withApp,
} from '../../http/test/support/conformance.js'
import { cookieHeader, login, startApp } from './support/app.js'

// Express's final handler answers an unrouted path itself (its own Cache-Control directives and
// CSP `default-src 'none'`); the sign-out route is behind requireSession (CSRF-protected), like
// the keep-alive; the test app answers a create with 201.
describeAdapterConformance('express', startApp, {
  promotePath: '/promote',
  keepAliveCsrf: true,
  cacheControl: /^no-store/,
  logoutCsrf: true,
  createdStatus: 201,
  notFoundCsp: "default-src 'none'",
})

describe('@safeguards/express specifics: a streamed body', () => {
  const ctx = withApp(startApp)
  const req = (path: string, c: Record<string, string>) =>
    fetch(`${ctx.app.base}${path}`, { headers: { cookie: cookieHeader(c) } })

  it('audit write failure → 503 audit_unavailable, no data even from a streamed body', async () => {
    const c = await login(ctx.app.base, 'u-nurse')
    ctx.app.auditDown.value = true
    await expectUnavailable(await req('/patients/p1/stream', c), 'audit_unavailable')
  })

  it('a streamed body is released whole once the record is written', async () => {
    const c = await login(ctx.app.base, 'u-nurse')
    const res = await req('/patients/p1/stream', c)
    expect([res.status, await res.text()]).toEqual([200, 'HbA1c 7.9'])
  })
})
