/**
 * The reference app of `@safeguards/http` (packages/http/test/support/app.ts), rebuilt on the
 * Hono middleware and served by `@hono/node-server` on an ephemeral port: the same routes, policy,
 * clock, failing store and failing audit log, so the same cases run over real HTTP.
 */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { ThrottleStore } from '@safeguards/http'
import { Hono } from 'hono'
import {
  appDeps,
  CSRF_KEY,
  PASSWORD,
  rolesOf,
  type TestApp,
  throttleRules,
} from '../../../http/test/support/fixtures.js'
import {
  createCsrf,
  createSignInThrottle,
  csrfProtection,
  guard,
  idleStatus,
  keepAlive,
  requestAudit,
  rotateSession,
  type SafeguardsEnv,
  securityHeaders,
  session,
  signIn,
  signInThrottle,
  signOut,
} from '../../src/index.js'

export { CSRF_COOKIE } from '@safeguards/http'
export * from '../../../http/test/support/fixtures.js'

/** The app, not yet served. */
export async function buildApp(options: { throttleStore?: ThrottleStore } = {}) {
  const { log, ...deps } = appDeps()
  const { clock, sessions, pdp } = deps
  const csrf = createCsrf(CSRF_KEY)
  const throttle = createSignInThrottle({ clock, ...throttleRules(options.throttleStore) })
  const account = async (c: { req: { json(): Promise<unknown> } }) =>
    String(((await c.req.json().catch(() => ({}))) as { user?: unknown }).user ?? '')

  const app = new Hono<SafeguardsEnv>()
  app.use(
    securityHeaders({ hsts: { maxAge: 31_536_000 } }),
    requestAudit(log, { observer: 'test-api', clock }),
  )
  app.post('/login', signInThrottle(throttle, { account }), async (c) => {
    const { user, password } = (await c.req.json()) as { user: string; password: string }
    if (password !== PASSWORD) return c.json({ error: 'unauthenticated', reason: 'bad_credentials' }, 401)
    await throttle.succeeded(user)
    const s = await signIn(c, sessions, user, { csrf })
    return c.json({ ok: true, idle: sessions.timeLeft(s) })
  })
  app.get('/session/status', idleStatus(sessions))
  app.post('/session/keep-alive', keepAlive(sessions, { csrf }))
  app.post('/logout', async (c) => {
    await signOut(c, sessions)
    return c.body(null, 204)
  })
  app.use('/patients/*', session(sessions), csrfProtection(csrf))
  app.post('/patients/:patient/observations/promote', async (c) => {
    const next = await rotateSession(c, { role: 'admin', csrf })
    return next ? c.json({ role: next.role }) : c.json({ error: 'unauthenticated' }, 401)
  })
  const observations = (action: string) =>
    guard(pdp, (c) => {
      const s = c.var.session
      return {
        subject: {
          id: s.userId,
          tenant: 'clinic-a',
          roles: rolesOf(s),
        },
        action,
        resource: { type: 'Observation', tenant: 'clinic-a', patient: c.req.param('patient') ?? '' },
      }
    })
  const data = () => ({ observations: [{ code: 'HbA1c', value: 7.9 }] })
  app.get('/patients/:patient/observations', observations('read'), (c) => c.json(data()))
  app.post('/patients/:patient/observations', observations('create'), (c) => c.json(data()))
  app.get('/patients/:patient/observations/export', observations('export'), (c) => c.json(data()))
  app.onError((_e, c) => c.json({ error: 'internal' }, 500))
  app.get('/boom', () => {
    throw new Error('handler failed')
  })
  return { app, ...deps }
}

/** Serves {@link buildApp} on 127.0.0.1, port 0. */
export async function startApp(options: { throttleStore?: ThrottleStore } = {}): Promise<TestApp> {
  const built = await buildApp(options)
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
    (resolve) => {
      const server = serve({ fetch: built.app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) =>
        resolve({ server, port: info.port }),
      )
    },
  )
  const { app: _app, ...rest } = built
  return {
    ...rest,
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r())
        ;(server as { closeAllConnections?: () => void }).closeAllConnections?.()
      }),
  }
}
