import { CSRF_COOKIE, SESSION_COOKIE } from '@safeguards/http'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { cookieHeader, cookiesOf, login, PASSWORD, startApp, type TestApp } from './support/app.js'

let app: TestApp
beforeEach(async () => {
  app = await startApp()
})
afterEach(async () => app.close())

const req = (path: string, c: Record<string, string> = {}, init: RequestInit = {}) =>
  fetch(`${app.base}${path}`, {
    ...init,
    headers: { cookie: cookieHeader(c), ...(init.headers as Record<string, string> | undefined) },
  })
const reasonOf = async (res: Response) => [res.status, ((await res.json()) as { reason?: string }).reason]
const withCsrf = (c: Record<string, string>) => ({ 'x-csrf-token': c[CSRF_COOKIE] as string })

describe('@safeguards/express over a real Express 5 server', () => {
  it('sign-in: __Host- session cookie (Secure, HttpOnly, SameSite=Lax, Path=/) and the CSRF cookie', async () => {
    const res = await fetch(`${app.base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'u-nurse', password: PASSWORD }),
    })
    expect(res.status).toBe(200)
    const lines = res.headers.getSetCookie()
    expect(lines[0]).toMatch(/^__Host-sg-session=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Lax$/)
    expect(lines[1]).toMatch(
      /^__Host-sg-csrf=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}; Path=\/; Secure; SameSite=Lax$/,
    )
  })

  it('401 with the reason: absent, idle, revoked, unknown, a duplicated cookie', async () => {
    expect(await reasonOf(await req('/patients/p1/observations'))).toEqual([401, 'session_absent'])
    const c = await login(app.base, 'u-nurse')
    expect((await req('/patients/p1/observations', c)).status).toBe(200)
    app.clock.advance(60_000)
    expect(await reasonOf(await req('/patients/p1/observations', c))).toEqual([401, 'session_idle'])
    const d = await login(app.base, 'u-nurse')
    expect((await req('/logout', d, { method: 'POST', headers: withCsrf(d) })).status).toBe(204)
    expect(await reasonOf(await req('/patients/p1/observations', d))).toEqual([401, 'session_revoked'])
    expect(
      await reasonOf(await req('/patients/p1/observations', { [SESSION_COOKIE]: 'A'.repeat(43) })),
    ).toEqual([401, 'session_unknown'])
    const e = await login(app.base, 'u-nurse')
    const dup = { cookie: `${cookieHeader(e)}; ${SESSION_COOKIE}=${'B'.repeat(43)}` }
    expect(await reasonOf(await fetch(`${app.base}/patients/p1/observations`, { headers: dup }))).toEqual([
      401,
      'session_cookie_invalid',
    ])
  })

  it('401 session_absolute at the absolute deadline', async () => {
    const c = await login(app.base, 'u-nurse')
    for (let i = 0; i < 10; i++) {
      app.clock.advance(59_000)
      expect((await req('/patients/p1/observations', c)).status).toBe(200)
    }
    app.clock.advance(10_000)
    expect(await reasonOf(await req('/patients/p1/observations', c))).toEqual([401, 'session_absolute'])
  })

  it('503 when the session store is down, without the token in the body', async () => {
    const c = await login(app.base, 'u-nurse')
    app.storeDown.value = true
    const res = await req('/patients/p1/observations', c)
    const text = await res.text()
    expect([res.status, JSON.parse(text).reason]).toEqual([503, 'session_store_unavailable'])
    expect(text).not.toContain(c[SESSION_COOKIE] as string)
  })

  it('CSRF: a POST without the token is 403 csrf_missing, a forged one csrf_invalid, the right one passes', async () => {
    const c = await login(app.base, 'u-nurse')
    expect(await reasonOf(await req('/patients/p1/observations', c, { method: 'POST' }))).toEqual([
      403,
      'csrf_missing',
    ])
    const forged = `${'A'.repeat(22)}.${'B'.repeat(43)}`
    expect(
      await reasonOf(
        await req(
          '/patients/p1/observations',
          { ...c, [CSRF_COOKIE]: forged },
          { method: 'POST', headers: { 'x-csrf-token': forged } },
        ),
      ),
    ).toEqual([403, 'csrf_invalid'])
    expect((await req('/patients/p1/observations', c, { method: 'POST', headers: withCsrf(c) })).status).toBe(
      201,
    )
  })

  it('rotation on privilege change: new cookies, the old token revoked', async () => {
    const c = await login(app.base, 'u-nurse')
    const res = await req('/promote', c, { method: 'POST', headers: withCsrf(c) })
    expect(await res.clone().json()).toEqual({ ok: true, role: 'admin' })
    const next = cookiesOf(res)
    expect(next[SESSION_COOKIE]).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(next[SESSION_COOKIE]).not.toBe(c[SESSION_COOKIE])
    expect(next[CSRF_COOKIE]).not.toBe(c[CSRF_COOKIE])
    expect((await reasonOf(await req('/patients/p1/observations', c)))[0]).toBe(401)
    expect(await reasonOf(await req('/patients/p1/observations', next))).toEqual([403, 'no_matching_allow'])
  })

  it('403 with the reason; an emergency access is allowed and audited with BTG', async () => {
    const c = await login(app.base, 'u-desk')
    expect(await reasonOf(await req('/patients/p1/observations', c))).toEqual([403, 'no_matching_allow'])
    expect(app.audited.at(-1)?.outcomeCode).toBe('no_matching_allow')
    const grant = app.pdp.emergency.grant({
      subject: { id: 'u-desk', tenant: 'clinic-a', roles: ['front_desk'] },
      patient: 'p1',
      actions: ['read'],
      reasonCode: 'emergency',
      justification: 'Patient unresponsive, chart needed now.',
      minutes: 10,
    })
    const res = await req('/patients/p1/observations', c, { headers: { 'x-emergency-access': grant.id } })
    expect(res.status).toBe(200)
    const last = app.audited.at(-1)
    expect(last?.agents[0]?.purposeOfUse).toEqual(['BTG'])
    expect(last?.details?.event).toBe('access.emergency.used')
    expect(last?.patient).toBe('p1')
  })

  it('one audit record per request, with the route pattern, never the path', async () => {
    const c = await login(app.base, 'u-nurse')
    const n = app.audited.length
    await req('/patients/p-secret-42/observations', c)
    expect(app.audited.length).toBe(n + 1)
    expect(JSON.stringify(app.audited.at(-1)?.entities)).toContain('Observation')
  })

  it('audit write failure → 503 audit_unavailable, no data (even a streamed body), no cookie', async () => {
    const c = await login(app.base, 'u-nurse')
    app.auditDown.value = true
    for (const path of ['/patients/p1/observations', '/patients/p1/stream']) {
      const res = await req(path, c)
      const text = await res.text()
      expect([res.status, JSON.parse(text)]).toEqual([
        503,
        { error: 'unavailable', reason: 'audit_unavailable' },
      ])
      expect(text).not.toContain('HbA1c')
      expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains')
    }
    const l = await fetch(`${app.base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'u-nurse', password: PASSWORD }),
    })
    expect(l.status).toBe(503)
    expect(l.headers.getSetCookie()).toEqual([])
  })

  it('a streamed body is released whole once the record is written', async () => {
    const c = await login(app.base, 'u-nurse')
    const res = await req('/patients/p1/stream', c)
    expect([res.status, await res.text()]).toEqual([200, 'HbA1c 7.9'])
  })

  it('sign-in throttle: 429 with Retry-After after 3 failures, even with the right password', async () => {
    const attempt = (password: string) =>
      fetch(`${app.base}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'u-nurse', password }),
      })
    for (let i = 0; i < 3; i++) expect((await attempt('wrong')).status).toBe(401)
    const res = await attempt(PASSWORD)
    expect(res.headers.get('retry-after')).toBe('120')
    expect(await reasonOf(res)).toEqual([429, 'signin_throttled_account'])
  })

  it('idle watcher: the status poll does not extend the session, the keep-alive does', async () => {
    const c = await login(app.base, 'u-nurse')
    app.clock.advance(30_000)
    expect(await (await req('/session/status', c)).json()).toEqual({
      idleRemainingMs: 30_000,
      absoluteRemainingMs: 570_000,
      remainingMs: 30_000,
    })
    app.clock.advance(29_000)
    const alive = await req('/session/keep-alive', c, { method: 'POST' })
    expect(((await alive.json()) as { idleRemainingMs: number }).idleRemainingMs).toBe(60_000)
    app.clock.advance(59_999)
    expect((await req('/session/status', c)).status).toBe(200)
    app.clock.advance(1)
    expect(await reasonOf(await req('/session/status', c))).toEqual([401, 'session_idle'])
  })

  it('security headers on every response, refusals and 404s included', async () => {
    for (const res of [await req('/patients/p1/observations'), await req('/nowhere')]) {
      expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains')
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('cache-control')).toMatch(/^no-store/)
    }
  })
})
