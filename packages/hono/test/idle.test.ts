import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { cookieHeader, login, startApp, type TestApp } from './support/app.js'

let app: TestApp
beforeEach(async () => {
  app = await startApp()
})
afterEach(async () => app.close())

const call = async (path: string, c: Record<string, string>, method = 'GET') => {
  const res = await fetch(`${app.base}${path}`, { method, headers: { cookie: cookieHeader(c) } })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe('the poll endpoint and the audit', () => {
  it('a poll is audited under its route and names the user; the poll after the end names the reason', async () => {
    const c = await login(app.base, 'u-nurse')
    await call('/session/status', c)
    expect(app.audited.at(-1)?.agents?.[0]?.who).toBe('u-nurse')
    app.clock.advance(60_000)
    await call('/session/status', c)
    expect(app.audited.at(-1)?.outcomeCode).toBe('session_idle')
  })

  it('a malformed or absent bearer token is refused like a cookie (authorization mode)', async () => {
    const { Hono } = await import('hono')
    const { session: mw } = await import('../src/index.js')
    const h = new Hono().use(mw(app.sessions, { from: 'authorization' })).get('/', (c) => c.text('ok'))
    const reason = async (init: RequestInit) =>
      ((await (await h.request('/', init)).json()) as { reason: string }).reason
    expect(await reason({})).toBe('session_absent')
    expect(await reason({ headers: { authorization: 'Bearer a;b=c' } })).toBe('session_unknown')
    expect(await reason({ headers: { authorization: `Bearer ${'A'.repeat(43)}` } })).toBe('session_unknown')
  })
})
