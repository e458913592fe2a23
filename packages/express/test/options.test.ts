/**
 * The options and helpers of `safeguards(...)` that the shared conformance suite does not vary:
 * each case builds its own small Express app on the fixtures and talks to it over real HTTP.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CSRF_COOKIE, createSignInThrottle, HttpThrottleStoreError, SESSION_COOKIE } from '@safeguards/http'
import express, { type ErrorRequestHandler } from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { type Safeguards, type SafeguardsOptions, safeguards } from '../src/index.js'
import * as fx from './support/app.js'

const servers: Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r))
})

type Deps = ReturnType<typeof fx.appDeps>

/** An app with `middleware()`, JSON bodies, a sign-in route and whatever `routes` adds. */
async function serve(
  more: Partial<SafeguardsOptions> & {
    noMiddleware?: boolean
    without?: readonly ('policy' | 'subject' | 'throttle')[]
    audited?: Pick<SafeguardsOptions['audit'], 'pseudonymize' | 'onError'>
  },
  routes: (app: express.Express, sg: Safeguards, deps: Deps) => void,
): Promise<{ base: string; deps: Deps; errors: string[] }> {
  const deps = fx.appDeps()
  const { noMiddleware, without = [], audited, ...options } = more
  const all: SafeguardsOptions = {
    sessions: deps.sessions,
    audit: { log: deps.log, observer: 'test-api', ...audited },
    policy: deps.pdp,
    subject: (s) => ({ id: s.userId, tenant: 'clinic-a', roles: fx.rolesOf(s) }),
    csrf: { key: fx.CSRF_KEY },
    throttle: { account: fx.throttleRules().account },
    clock: deps.clock,
    ...options,
  }
  for (const key of without) delete all[key]
  const sg = safeguards(all)
  const app = express()
  if (noMiddleware !== true) app.use(sg.middleware())
  app.use(express.json())
  fx.mountLogin(app, sg)
  routes(app, sg, deps)
  const errors: string[] = []
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    errors.push(err instanceof Error ? err.message : String(err))
    res.status(500).json({ error: 'internal' })
  }
  app.use(onError)
  const server = await new Promise<Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s))
  })
  servers.push(server)
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, deps, errors }
}

const signInAs = async (base: string, user: string, password = fx.PASSWORD, role?: string) =>
  fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password, ...(role ? { role } : {}) }),
  })

const post = (base: string, path: string, c: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { cookie: fx.cookieHeader(c), ...headers } })

describe('@safeguards/express options', () => {
  it('headers: false sends no security headers; the default sends them', async () => {
    const route = (app: express.Express) => app.get('/x', (_req, res) => void res.json({}))
    const off = await serve({ headers: false }, route)
    const on = await serve({}, route)
    expect((await fetch(`${off.base}/x`)).headers.get('x-content-type-options')).toBeNull()
    expect((await fetch(`${on.base}/x`)).headers.get('x-content-type-options')).toBe('nosniff')
  })

  it('csrf: false (a token-only API): no CSRF cookie at sign-in, POSTs need no header', async () => {
    const { base } = await serve({ csrf: false }, (app, sg) => {
      app.post('/session/keep-alive', sg.keepAlive())
      app.post('/act', sg.requireSession(), (_req, res) => void res.json({ ok: true }))
    })
    const res = await signInAs(base, 'u-nurse')
    const c = fx.cookiesOf(res)
    expect(Object.keys(c)).toEqual([SESSION_COOKIE])
    expect((await post(base, '/act', c)).status).toBe(200)
    expect((await post(base, '/session/keep-alive', c)).status).toBe(200)
  })

  it('cookie: the session cookie takes the name and SameSite given, and is read back by that name', async () => {
    const cookie = { name: '__Host-ehr', sameSite: 'Strict' } as const
    const { base } = await serve({ cookie }, (app, sg) => {
      app.get('/me', sg.requireSession(), (req, res) => void res.json({ user: req.session?.userId }))
    })
    const res = await signInAs(base, 'u-nurse')
    const line = res.headers.getSetCookie().find((l) => l.startsWith('__Host-ehr='))
    expect(line).toMatch(/; SameSite=Strict/)
    expect(
      await (await fetch(`${base}/me`, { headers: { cookie: fx.cookieHeader(fx.cookiesOf(res)) } })).json(),
    ).toEqual({ user: 'u-nurse' })
  })

  it('the injected clock drives the audit time and the throttle window', async () => {
    const { base, deps } = await serve({}, () => {})
    for (let i = 0; i < 3; i++) expect((await signInAs(base, 'u-nurse', 'wrong')).status).toBe(401)
    expect((await signInAs(base, 'u-nurse', 'wrong')).status).toBe(429)
    deps.clock.advance(180_001) // past the window and the lockout, on the injected clock only
    expect((await signInAs(base, 'u-nurse', 'wrong')).status).toBe(401)
    expect(deps.audited.at(-1)?.occurred).toBe(new Date(deps.clock.now()).toISOString())
  })

  it('a throttle passed in ready-made is the one used', async () => {
    const throttle = createSignInThrottle({ account: { limit: 1, windowMs: 60_000, lockoutMs: 60_000 } })
    const { base } = await serve({ throttle }, () => {})
    expect((await signInAs(base, 'u-nurse', 'wrong')).status).toBe(401)
    expect((await signInAs(base, 'u-nurse', 'wrong')).status).toBe(429)
  })

  it("a successful sign-in forgives the account's earlier failures", async () => {
    const { base } = await serve({}, () => {})
    for (let i = 0; i < 2; i++) await signInAs(base, 'u-nurse', 'wrong')
    expect((await signInAs(base, 'u-nurse')).status).toBe(200)
    for (let i = 0; i < 2; i++) expect((await signInAs(base, 'u-nurse', 'wrong')).status).toBe(401)
  })

  it('a throttle that fails with anything but its store error is a server error, not a 503', async () => {
    const failing = (e: Error) => ({ ...createSignInThrottle(), attempt: () => Promise.reject(e) })
    const bug = await serve({ throttle: failing(new TypeError('bug')) }, () => {})
    expect((await signInAs(bug.base, 'u-nurse')).status).toBe(500)
    expect(bug.errors).toEqual(['bug'])
    const down = await serve({ throttle: failing(new HttpThrottleStoreError('down')) }, () => {})
    const res = await signInAs(down.base, 'u-nurse')
    expect([res.status, await res.json()]).toEqual([
      503,
      { error: 'unavailable', reason: 'throttle_store_unavailable' },
    ])
    expect(down.deps.audited.at(-1)?.outcomeCode).toBe('throttle_store_unavailable')
  })

  it('without a throttle option the default throttle guards the sign-in (5 failures per account)', async () => {
    const { base } = await serve({ without: ['throttle'] }, () => {})
    expect((await signInAs(base, 'u-desk')).status).toBe(200)
    for (let i = 0; i < 5; i++) expect((await signInAs(base, 'u-nurse', 'wrong')).status).toBe(401)
    expect((await signInAs(base, 'u-nurse')).status).toBe(429)
  })

  it('audit: patients are pseudonymised when asked; a failed write reaches onError and answers 503', async () => {
    const errors: unknown[] = []
    const pseudonymize = { keyId: 'k1', pseudonym: (id: string) => `ps-${id}` }
    const { base, deps } = await serve(
      { audited: { pseudonymize, onError: (e) => errors.push(e) } },
      (app, sg) => {
        const read = sg.requireAccess('read', (req) => ({
          type: 'Observation',
          tenant: 'clinic-a',
          patient: String(req.params.patient),
        }))
        app.get('/patients/:patient/o', sg.requireSession(), read, (_req, res) => void res.json({}))
      },
    )
    const c = fx.cookiesOf(await signInAs(base, 'u-nurse'))
    const read = () => fetch(`${base}/patients/p1/o`, { headers: { cookie: fx.cookieHeader(c) } })
    expect((await read()).status).toBe(200)
    expect(deps.audited.at(-1)?.patient).toBe('ps-p1')
    deps.auditDown.value = true
    expect((await read()).status).toBe(503)
    expect(errors).toHaveLength(1)
  })
})

describe('@safeguards/express request helpers', () => {
  it('signIn passes its options to the session (the role)', async () => {
    const { base } = await serve({}, () => {})
    expect(await (await signInAs(base, 'u-nurse', fx.PASSWORD, 'admin')).json()).toEqual({ role: 'admin' })
  })

  it('rotate: false without a session on the request, false once it ended, true when rotated', async () => {
    const { base, deps } = await serve({}, (app, sg) => {
      app.post(
        '/rotate-bare',
        async (req, res) => void res.json({ ok: await req.safeguards.rotate({ role: 'admin' }) }),
      )
      app.post('/rotate-ended', sg.requireSession(), async (req, res) => {
        await deps.sessions.revokeById('u-nurse', req.session?.id as string)
        res.json({ ok: await req.safeguards.rotate({ role: 'admin' }) })
      })
      app.post('/rotate', sg.requireSession(), async (req, res) => {
        res.json({ ok: await req.safeguards.rotate({ role: 'admin' }), role: req.session?.role })
      })
    })
    const fresh = async () => fx.cookiesOf(await signInAs(base, 'u-nurse'))
    const csrf = (c: Record<string, string>) => ({ 'x-csrf-token': c[CSRF_COOKIE] as string })
    const c1 = await fresh()
    expect(await (await post(base, '/rotate-bare', c1, csrf(c1))).json()).toEqual({ ok: false })
    const c2 = await fresh()
    expect(await (await post(base, '/rotate-ended', c2, csrf(c2))).json()).toEqual({ ok: false })
    const c3 = await fresh()
    expect(await (await post(base, '/rotate', c3, csrf(c3))).json()).toEqual({ ok: true, role: 'admin' })
  })

  it('refused and access report what the guards decided', async () => {
    const { base } = await serve({}, (app, sg) => {
      const read = sg.requireAccess('read', (req) => ({
        type: 'Observation',
        tenant: 'clinic-a',
        patient: String(req.params.patient),
      }))
      app.get('/patients/:patient/peek', sg.requireSession(), read, (req, res) => {
        const a = req.safeguards.access
        res.json({ refused: req.safeguards.refused ?? null, action: a?.action, allowed: a?.outcome.ok })
      })
    })
    const c = fx.cookiesOf(await signInAs(base, 'u-nurse'))
    const res = await fetch(`${base}/patients/p1/peek`, { headers: { cookie: fx.cookieHeader(c) } })
    expect(await res.json()).toEqual({ refused: null, action: 'read', allowed: true })
  })

  it('requireAccess without a session answers 401 session_absent; without policy or subject it is a bug (500)', async () => {
    const route = (app: express.Express, sg: Safeguards) =>
      app.get(
        '/r',
        sg.requireAccess('read', () => ({ type: 'Observation', tenant: 'clinic-a' })),
        (_req, res) => res.json({ ok: true }),
      )
    const { base, deps } = await serve({}, route)
    const res = await fetch(`${base}/r`)
    expect([res.status, await res.json()]).toEqual([
      401,
      { error: 'unauthenticated', reason: 'session_absent' },
    ])
    expect(deps.audited.at(-1)?.outcomeCode).toBe('session_absent')
    for (const missing of ['policy', 'subject'] as const) {
      const app = await serve({ without: [missing] }, route)
      expect((await fetch(`${app.base}/r`)).status).toBe(500)
      expect(app.errors).toEqual(['requireAccess needs the "policy" and "subject" options'])
    }
  })

  it('a guard mounted without middleware() fails loudly instead of running unaudited', async () => {
    const { base, errors } = await serve({ noMiddleware: true }, (app, sg) => {
      app.get('/s', sg.requireSession(), (_req, res) => void res.json({ ok: true }))
    })
    expect((await fetch(`${base}/s`)).status).toBe(500)
    expect(errors).toEqual(['mount safeguards(...).middleware() before the other handlers'])
  })
})
