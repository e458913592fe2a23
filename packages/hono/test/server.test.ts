import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { describeAdapterConformance } from '../../http/test/support/conformance.js'
import { csrfProtection, guard, idleStatus, keepAlive, session } from '../src/index.js'
import { CSRF_COOKIE, cookieHeader, login, startApp, type TestApp } from './support/app.js'

describeAdapterConformance('hono', startApp, {
  promotePath: '/patients/p1/observations/promote',
  cacheControl: /^no-store/,
  keepAliveCsrf: true,
})

describe('Hono specifics', () => {
  let app: TestApp
  beforeEach(async () => {
    app = await startApp()
  })
  afterEach(async () => {
    await app.close()
  })

  const get = (path: string, cookies: Record<string, string> = {}, headers: Record<string, string> = {}) =>
    fetch(`${app.base}${path}`, { headers: { cookie: cookieHeader(cookies), ...headers } })
  const post = (path: string, cookies: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${app.base}${path}`, { method: 'POST', headers: { cookie: cookieHeader(cookies), ...headers } })
  const csrfHeader = (c: Record<string, string>) => ({ 'x-csrf-token': c[CSRF_COOKIE] as string })

  it('a handler that throws is answered 500, audited, with the security headers', async () => {
    const before = app.audited.length
    const res = await get('/boom')
    expect(res.status).toBe(500)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(app.audited.length).toBe(before + 1)
  })

  it('audit down on a rotation: 503, no new cookie, and the 503 carries the security headers', async () => {
    const c = await login(app.base, 'u-nurse')
    app.auditDown.value = true
    const res = await post('/patients/p1/observations/promote', c, csrfHeader(c))
    expect(res.status).toBe(503)
    expect(res.headers.getSetCookie()).toEqual([])
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains')
  })

  it('refuses a non-manager, a non-decision point, a non-csrf at mount time', () => {
    expect(() => session({} as never)).toThrow(TypeError)
    expect(() => guard({} as never, () => ({}) as never)).toThrow(TypeError)
    expect(() => csrfProtection({} as never)).toThrow(TypeError)
    for (const handler of [idleStatus, keepAlive])
      for (const manager of [undefined, {}])
        expect(() => handler(manager as never, { csrf: false })).toThrow(
          '"manager" expected a session manager',
        )
  })
})
