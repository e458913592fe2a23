import { describe, expect, it } from 'vitest'
import { withApp } from '../../http/test/support/conformance.js'
import { login, startApp } from './support/app.js'

const ctx = withApp(startApp)

describe('the poll endpoint and the audit', () => {
  it('a poll is audited under its route and names the user; the poll after the end names the reason', async () => {
    const c = await login(ctx.app.base, 'u-nurse')
    await ctx.call('/session/status', c)
    expect(ctx.app.audited.at(-1)?.agents?.[0]?.who).toBe('u-nurse')
    ctx.app.clock.advance(60_000)
    await ctx.call('/session/status', c)
    expect(ctx.app.audited.at(-1)?.outcomeCode).toBe('session_idle')
  })

  it('the keep-alive needs a CSRF choice at mount time; csrf: false serves a token-only API', async () => {
    const { Hono } = await import('hono')
    const { keepAlive } = await import('../src/index.js')
    const { sessions, clock } = ctx.app
    expect(() => keepAlive(sessions, {} as never)).toThrow(/"csrf" expected/)
    expect(() => keepAlive(sessions, { csrf: {} as never })).toThrow(TypeError)
    const h = new Hono().post('/alive', keepAlive(sessions, { csrf: false, from: 'authorization' }))
    const { token } = await sessions.create('u-nurse')
    clock.advance(50_000)
    const res = await h.request('/alive', { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    expect([res.status, ((await res.json()) as { idleRemainingMs: number }).idleRemainingMs]).toEqual([
      200, 60_000,
    ])
  })

  it('a malformed or absent bearer token is refused like a cookie (authorization mode)', async () => {
    const { Hono } = await import('hono')
    const { session: mw } = await import('../src/index.js')
    const h = new Hono().use(mw(ctx.app.sessions, { from: 'authorization' })).get('/', (c) => c.text('ok'))
    const reason = async (init: RequestInit) =>
      ((await (await h.request('/', init)).json()) as { reason: string }).reason
    expect(await reason({})).toBe('session_absent')
    expect(await reason({ headers: { authorization: 'Bearer a;b=c' } })).toBe('session_unknown')
    expect(await reason({ headers: { authorization: `Bearer ${'A'.repeat(43)}` } })).toBe('session_unknown')
  })
})
