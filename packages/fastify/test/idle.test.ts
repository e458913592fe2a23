import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CSRF_COOKIE, cookieHeader, login, startApp, type TestApp } from './support/app.js'

let app: TestApp
beforeEach(async () => {
  app = await startApp()
})
afterEach(async () => app.close())

const call = async (path: string, c: Record<string, string>, method = 'GET', csrf = true) => {
  const headers: Record<string, string> = { cookie: cookieHeader(c) }
  if (csrf && c[CSRF_COOKIE] !== undefined) headers['x-csrf-token'] = c[CSRF_COOKIE]
  const res = await fetch(`${app.base}${path}`, { method, headers })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe('idle-watcher routes over real HTTP', () => {
  it('the status poll reports the remaining time and does not extend the session', async () => {
    const c = await login(app.base, 'u-nurse')
    app.clock.advance(20_000)
    expect(await call('/session/status', c)).toEqual({
      status: 200,
      body: { idleRemainingMs: 40_000, absoluteRemainingMs: 580_000, remainingMs: 40_000 },
    })
    app.clock.advance(39_999)
    expect((await call('/session/status', c)).body.idleRemainingMs).toBe(1)
    app.clock.advance(1) // the polls did not move the idle deadline
    expect(await call('/session/status', c)).toEqual({
      status: 401,
      body: { error: 'unauthenticated', reason: 'session_idle' },
    })
  })

  it('the keep-alive extends the idle deadline (not the absolute one)', async () => {
    const c = await login(app.base, 'u-nurse')
    app.clock.advance(50_000)
    expect((await call('/session/keep-alive', c, 'POST')).body).toEqual({
      idleRemainingMs: 60_000,
      absoluteRemainingMs: 550_000,
      remainingMs: 60_000,
    })
    app.clock.advance(50_000)
    expect((await call('/session/status', c)).body.idleRemainingMs).toBe(10_000)
  })

  it('the keep-alive needs the CSRF header, and a refused one does not extend the session', async () => {
    const c = await login(app.base, 'u-nurse')
    app.clock.advance(50_000)
    expect(await call('/session/keep-alive', c, 'POST', false)).toEqual({
      status: 403,
      body: { error: 'forbidden', reason: 'csrf_missing' },
    })
    expect((await call('/session/status', c)).body.idleRemainingMs).toBe(10_000)
  })

  it('503 when the store is down; 401 session_absent without a cookie; each poll audited', async () => {
    const c = await login(app.base, 'u-nurse')
    const before = app.audited.length
    app.storeDown.value = true
    expect((await call('/session/status', c)).status).toBe(503)
    expect((await call('/session/keep-alive', {}, 'POST')).body.reason).toBe('session_absent')
    expect(app.audited.slice(before).map((e) => e.outcomeCode)).toEqual([
      'session_store_unavailable',
      'session_absent',
    ])
  })
})
