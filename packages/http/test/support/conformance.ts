/**
 * The conformance suite every adapter of `@safeguards/http` runs over real HTTP: session cookie,
 * CSRF, access guard, one audit record per request (fail closed), security headers, the
 * idle-watcher endpoints and the sign-in throttle. A plain function that calls describe/it; each
 * package passes a factory that starts its app (on port 0, with the fixtures of fixtures.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CSRF_COOKIE, SESSION_COOKIE, type ThrottleStore } from '../../src/index.js'
import { callJson, cookieHeader, cookiesOf, login, PASSWORD, postLogin, type TestApp } from './fixtures.js'

/** Starts the adapter's app; `throttleStore` replaces the sign-in throttle's store. */
export type StartApp = (options?: { throttleStore?: ThrottleStore }) => Promise<TestApp>

/** Where an adapter legitimately differs from the reference app. */
export interface ConformanceOptions {
  /** The POST that rotates the session to admin (default `/patients/p1/observations?promote=1`). */
  promotePath?: string
  /** The Cache-Control of a refusal and a 404 (default exactly `no-store`). */
  cacheControl?: string | RegExp
  /** The keep-alive POST is CSRF-protected: the suite sends the header with it. */
  keepAliveCsrf?: boolean
  /** The polls are audited with the refusal reason as the outcome code (default true). */
  pollsAuditReason?: boolean
  /** The sign-out POST is CSRF-protected: the suite sends the header with it. */
  logoutCsrf?: boolean
  /** What the CSP of a 404 contains (default `frame-ancestors 'none'`); the framework may write its own. */
  notFoundCsp?: string
  /** The status of an allowed create (default 200). */
  createdStatus?: number
}

type Cookies = Record<string, string>
type Reason = { reason: string }

/** The app of the running test (see {@link withApp}) and a JSON request to it. */
export interface AppContext {
  readonly app: TestApp
  /** `callJson` on the app: a request with the cookies, its status and JSON body. */
  call(
    path: string,
    cookies: Cookies,
    method?: string,
  ): Promise<{ status: number; body: Record<string, unknown> }>
}

/** Starts a fresh app before each test of the enclosing describe and closes it after. */
export function withApp(start: StartApp): AppContext {
  let app: TestApp
  beforeEach(async () => {
    app = await start()
  })
  afterEach(async () => app.close())
  return {
    get app(): TestApp {
      return app
    },
    call: (path, cookies, method = 'GET') => callJson(app.base, path, cookies, method),
  }
}

/**
 * Asserts the fail-closed answer: 503 `{ error: 'unavailable', reason }` with none of the record's
 * data (`HbA1c`) and the security headers kept. Returns the body text.
 */
export async function expectUnavailable(res: Response, reason: string): Promise<string> {
  const text = await res.text()
  expect([res.status, JSON.parse(text)]).toEqual([503, { error: 'unavailable', reason }])
  expect(text).not.toContain('HbA1c')
  expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains')
  return text
}

/** Registers the whole suite for one adapter. */
export function describeAdapterConformance(name: string, start: StartApp, o: ConformanceOptions = {}): void {
  describe(`${name}: conformance`, () => {
    const ctx = withApp(start)
    describeServer(ctx, o)
    describeIdle(ctx, o)
  })
  describeThrottle(name, start)
}

const csrfHeader = (c: Cookies) => ({ 'x-csrf-token': c[CSRF_COOKIE] as string })

function describeServer(ctx: { readonly app: TestApp }, o: ConformanceOptions): void {
  const get = (path: string, cookies: Cookies = {}, headers: Record<string, string> = {}) =>
    fetch(`${ctx.app.base}${path}`, { headers: { cookie: cookieHeader(cookies), ...headers } })
  const post = (path: string, cookies: Cookies, headers: Record<string, string> = {}) =>
    fetch(`${ctx.app.base}${path}`, {
      method: 'POST',
      headers: { cookie: cookieHeader(cookies), ...headers },
    })
  const reasonOf = async (res: Response) => ((await res.json()) as Reason).reason
  /** Signs in, turns a dependency off, reads the data: a 503 with the reason (see {@link expectUnavailable}). */
  const failClosed = async (down: 'storeDown' | 'auditDown', reason: string) => {
    const c = await login(ctx.app.base, 'u-nurse')
    ctx.app[down].value = true
    const res = await get('/patients/p1/observations', c)
    return { c, text: await expectUnavailable(res, reason) }
  }

  describe('session cookie over real HTTP', () => {
    it('sign-in sets a __Host- cookie: Secure, HttpOnly, SameSite=Lax, Path=/, no Domain, no Max-Age', async () => {
      const res = await postLogin(ctx.app.base, 'u-nurse')
      const lines = res.headers.getSetCookie()
      const session = lines.find((l) => l.startsWith(`${SESSION_COOKIE}=`)) as string
      expect(session).toMatch(
        /^__Host-sg-session=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Lax$/,
      )
      const csrf = lines.find((l) => l.startsWith(`${CSRF_COOKIE}=`)) as string
      expect(csrf).toMatch(
        /^__Host-sg-csrf=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}; Path=\/; Secure; SameSite=Lax$/,
      )
      expect(csrf).not.toMatch(/HttpOnly|Domain/i)
      const token = (session.split(';')[0] as string).split('=')[1] as string
      expect(await res.text()).not.toContain(token)
    })

    it('401 session_absent without a cookie; the data is never sent', async () => {
      const res = await get('/patients/p1/observations')
      expect(res.status).toBe(401)
      expect(await res.json()).toEqual({ error: 'unauthenticated', reason: 'session_absent' })
    })

    it('401 session_idle at the idle deadline, session_absolute at the absolute one', async () => {
      const { app } = ctx
      const c = await login(app.base, 'u-nurse')
      expect((await get('/patients/p1/observations', c)).status).toBe(200)
      app.clock.advance(60_000)
      expect(await (await get('/patients/p1/observations', c)).json()).toEqual({
        error: 'unauthenticated',
        reason: 'session_idle',
      })
      const d = await login(app.base, 'u-nurse')
      for (let i = 0; i < 10; i++) {
        app.clock.advance(59_000)
        expect((await get('/patients/p1/observations', d)).status).toBe(200)
      }
      app.clock.advance(10_000)
      const res = await get('/patients/p1/observations', d)
      expect([res.status, await reasonOf(res)]).toEqual([401, 'session_absolute'])
    })

    it('401 session_revoked after sign-out; session_unknown for a forged token', async () => {
      const c = await login(ctx.app.base, 'u-nurse')
      const out = await post('/logout', c, o.logoutCsrf ? csrfHeader(c) : {})
      expect(out.status).toBe(204)
      expect(out.headers.getSetCookie()[0]).toMatch(
        /^__Host-sg-session=; Path=\/; Secure; HttpOnly; SameSite=Lax; Max-Age=0$/,
      )
      expect(await reasonOf(await get('/patients/p1/observations', c))).toBe('session_revoked')
      const forged = { [SESSION_COOKIE]: 'A'.repeat(43) }
      expect(await reasonOf(await get('/patients/p1/observations', forged))).toBe('session_unknown')
    })

    it('401 session_cookie_invalid for a duplicated or oversized session cookie', async () => {
      const c = await login(ctx.app.base, 'u-nurse')
      for (const cookie of [
        `${cookieHeader(c)}; ${SESSION_COOKIE}=${'B'.repeat(43)}`,
        `${cookieHeader(c)}; pad=${'x'.repeat(9000)}`,
      ]) {
        const res = await fetch(`${ctx.app.base}/patients/p1/observations`, { headers: { cookie } })
        expect([res.status, await reasonOf(res)]).toEqual([401, 'session_cookie_invalid'])
      }
    })

    it('503 session_store_unavailable when the store is down (fail closed), the token never echoed', async () => {
      const { c, text } = await failClosed('storeDown', 'session_store_unavailable')
      expect(text).not.toContain(c[SESSION_COOKIE] as string)
    })

    it('rotation on privilege change: a new token, the old one revoked at once', async () => {
      const c = await login(ctx.app.base, 'u-nurse')
      const res = await post(o.promotePath ?? '/patients/p1/observations?promote=1', c, csrfHeader(c))
      expect(res.status).toBe(200)
      expect(await res.clone().json()).toMatchObject({ role: 'admin' })
      const next = { ...c, ...cookiesOf(res) }
      expect(next[SESSION_COOKIE]).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(next[SESSION_COOKIE]).not.toBe(c[SESSION_COOKIE])
      expect(next[CSRF_COOKIE]).not.toBe(c[CSRF_COOKIE])
      expect(await reasonOf(await get('/patients/p1/observations', c))).toMatch(/^session_(revoked|unknown)$/)
      // the new session is the admin's: export needs an obligation the app does not fulfil
      const exp = await get('/patients/p1/observations/export', next)
      expect([exp.status, await reasonOf(exp)]).toEqual([403, 'obligation_unfulfilled'])
    })
  })

  describe('CSRF (signed double-submit bound to the session)', () => {
    it('safe methods are exempt; a POST needs the header equal to the cookie', async () => {
      const c = await login(ctx.app.base, 'u-nurse')
      expect((await get('/patients/p1/observations', c)).status).toBe(200)
      const none = await post('/patients/p1/observations', c)
      expect([none.status, await reasonOf(none)]).toEqual([403, 'csrf_missing'])
      const ok = await post('/patients/p1/observations', c, csrfHeader(c))
      expect(ok.status).toBe(o.createdStatus ?? 200)
    })

    it('refuses a forged token, a token of another session, and a header that differs from the cookie', async () => {
      const c = await login(ctx.app.base, 'u-nurse')
      const other = await login(ctx.app.base, 'u-nurse')
      const forged = `${'A'.repeat(22)}.${'B'.repeat(43)}`
      for (const [cookies, header] of [
        [{ ...c, [CSRF_COOKIE]: forged }, forged],
        [{ ...c, [CSRF_COOKIE]: other[CSRF_COOKIE] as string }, other[CSRF_COOKIE] as string],
        [c, other[CSRF_COOKIE] as string],
      ] as const) {
        const res = await post('/patients/p1/observations', cookies, { 'x-csrf-token': header })
        expect([res.status, await reasonOf(res)]).toEqual([403, 'csrf_invalid'])
      }
    })
  })

  describe('access guard and obligations', () => {
    it('403 with the decision reason, audited as access.denied', async () => {
      const c = await login(ctx.app.base, 'u-desk')
      const res = await get('/patients/p1/observations', c)
      expect([res.status, await res.json()]).toEqual([
        403,
        { error: 'forbidden', reason: 'no_matching_allow' },
      ])
      const last = ctx.app.audited.at(-1)
      expect(last?.outcome).not.toBe(0)
      expect(last?.outcomeCode).toBe('no_matching_allow')
      expect(last?.details?.event).toBe('access.denied')
      expect(last?.entities?.[0]?.what).toBe('Observation')
    })

    it('an emergency access is allowed and audited as such: BTG purpose of use, the grant id', async () => {
      const c = await login(ctx.app.base, 'u-desk')
      const grant = ctx.app.pdp.emergency.grant({
        subject: { id: 'u-desk', tenant: 'clinic-a', roles: ['front_desk'] },
        patient: 'p1',
        actions: ['read'],
        reasonCode: 'emergency',
        justification: 'Patient unresponsive, chart needed now.',
        minutes: 10,
      })
      const res = await get('/patients/p1/observations', c, { 'x-emergency-access': grant.id })
      expect(res.status).toBe(200)
      const last = ctx.app.audited.at(-1)
      expect(last?.agents?.[0]?.purposeOfUse).toEqual(['BTG'])
      expect(last?.details?.event).toBe('access.emergency.used')
      expect(JSON.stringify(last)).toContain(grant.id)
      expect(last?.patient).toBe('p1')
    })
  })

  describe('one audit record per request, before the response, fail closed', () => {
    it('every request, allowed or refused, is recorded once, under the route pattern, never the path', async () => {
      const c = await login(ctx.app.base, 'u-nurse')
      const before = ctx.app.audited.length
      await get('/patients/p-secret-7/observations', c)
      await get('/patients/p-secret-7/observations')
      const records = ctx.app.audited.slice(before)
      expect(records).toHaveLength(2)
      expect(JSON.stringify(records[0]?.entities)).toContain('Observation')
      const text = JSON.stringify(records)
      expect(text).toContain('/patients/:patient/observations')
      expect(text).not.toContain('/patients/p-secret-7/')
      expect(records[1]?.details?.event).toBe('access.denied')
      expect(records[1]?.outcomeCode).toBe('session_absent')
    })

    it('audit write failure → 503 audit_unavailable with none of the data and no cookie', async () => {
      await failClosed('auditDown', 'audit_unavailable')
      const login2 = await postLogin(ctx.app.base, 'u-nurse')
      expect(login2.status).toBe(503)
      expect(login2.headers.getSetCookie()).toEqual([])
    })
  })

  describe('security headers', () => {
    it('are on every response, refusals included', async () => {
      const frameAncestors = "frame-ancestors 'none'"
      for (const [res, csp] of [
        [await get('/patients/p1/observations'), frameAncestors],
        [await get('/nowhere'), o.notFoundCsp ?? frameAncestors],
      ] as const) {
        expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains')
        const cache = o.cacheControl ?? 'no-store'
        if (typeof cache === 'string') expect(res.headers.get('cache-control')).toBe(cache)
        else expect(res.headers.get('cache-control')).toMatch(cache)
        expect(res.headers.get('x-content-type-options')).toBe('nosniff')
        expect(res.headers.get('content-security-policy')).toContain(csp)
      }
    })
  })
}

function describeIdle(ctx: { readonly app: TestApp }, o: ConformanceOptions): void {
  const call = async (path: string, c: Cookies, method = 'GET') => {
    const headers: Record<string, string> = { cookie: cookieHeader(c) }
    if (o.keepAliveCsrf && method === 'POST' && c[CSRF_COOKIE] !== undefined)
      headers['x-csrf-token'] = c[CSRF_COOKIE]
    const res = await fetch(`${ctx.app.base}${path}`, { method, headers })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  describe('idle-watcher endpoints over real HTTP', () => {
    it('the status poll reports the remaining time and does not extend the session', async () => {
      const { app } = ctx
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
      const { app } = ctx
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

    if (o.keepAliveCsrf)
      it('the keep-alive needs the CSRF header, and a refused one does not extend the session', async () => {
        const { app } = ctx
        const c = await login(app.base, 'u-nurse')
        app.clock.advance(50_000)
        expect(await callJson(app.base, '/session/keep-alive', c, 'POST')).toEqual({
          status: 403,
          body: { error: 'forbidden', reason: 'csrf_missing' },
        })
        expect((await call('/session/status', c)).body.idleRemainingMs).toBe(10_000)
      })

    it('503 when the store is down; 401 session_absent without a cookie', async () => {
      const { app } = ctx
      const c = await login(app.base, 'u-nurse')
      const before = app.audited.length
      app.storeDown.value = true
      expect((await call('/session/status', c)).status).toBe(503)
      expect((await call('/session/keep-alive', {}, 'POST')).body.reason).toBe('session_absent')
      if (o.pollsAuditReason ?? true)
        expect(app.audited.slice(before).map((e) => e.outcomeCode)).toEqual([
          'session_store_unavailable',
          'session_absent',
        ])
    })
  })
}

function describeThrottle(name: string, start: StartApp): void {
  describe(`${name}: sign-in throttle over real HTTP`, () => {
    let app: TestApp | undefined
    afterEach(async () => app?.close())

    it('429 with Retry-After after the limit, even with the right password; a wrong password is a plain 401', async () => {
      app = await start()
      for (let i = 0; i < 3; i++) expect((await postLogin(app.base, 'u-nurse', 'wrong')).status).toBe(401)
      const res = await postLogin(app.base, 'u-nurse', PASSWORD)
      expect(res.status).toBe(429)
      expect(res.headers.get('retry-after')).toBe('120')
      expect(await res.json()).toEqual({ error: 'too_many_requests', reason: 'signin_throttled_account' })
    })

    it('503 throttle_store_unavailable when the shared store is down', async () => {
      app = await start({
        throttleStore: { hit: () => Promise.reject(new Error('down')), reset: () => Promise.resolve() },
      })
      const res = await postLogin(app.base, 'u-nurse', PASSWORD)
      expect([res.status, await res.json()]).toEqual([
        503,
        { error: 'unavailable', reason: 'throttle_store_unavailable' },
      ])
      expect(res.headers.getSetCookie()).toEqual([])
    })
  })
}
