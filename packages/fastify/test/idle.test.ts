import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { cookieHeader, login, startApp, type TestApp } from './support/app.js'

// The shared idle cases run in server.test.ts (the conformance suite); this is Fastify's own.
let app: TestApp
beforeEach(async () => {
  app = await startApp()
})
afterEach(async () => app.close())

const call = async (path: string, c: Record<string, string>, method = 'GET') => {
  const res = await fetch(`${app.base}${path}`, { method, headers: { cookie: cookieHeader(c) } })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe('idle-watcher routes over real HTTP', () => {
  it('the keep-alive needs the CSRF header, and a refused one does not extend the session', async () => {
    const c = await login(app.base, 'u-nurse')
    app.clock.advance(50_000)
    expect(await call('/session/keep-alive', c, 'POST')).toEqual({
      status: 403,
      body: { error: 'forbidden', reason: 'csrf_missing' },
    })
    expect((await call('/session/status', c)).body.idleRemainingMs).toBe(10_000)
  })
})
