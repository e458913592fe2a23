/** A real Express 5 app on @safeguards/express, on an ephemeral port. */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ThrottleStore } from '@safeguards/http'
import express from 'express'
import * as fx from '../../../http/test/support/fixtures.js'
import { type Safeguards, safeguards } from '../../src/index.js'

export * from '../../../http/test/support/fixtures.js'

export interface AppOptions {
  /** Session timeouts (default 60 s idle, 600 s absolute). */
  idleTimeoutMs?: number
  absoluteTimeoutMs?: number
  /** Use the real clock (browser tests). */
  realClock?: boolean
  /** Extra routes (a page for the browser test). */
  extra?: (app: express.Express) => void
  host?: string
  /** Replaces the sign-in throttle's store. */
  throttleStore?: ThrottleStore
}

/**
 * `POST /login` (JSON `{ user, password, role? }`): throttled per account, 401 `bad_credentials`
 * on a wrong password, else signed in (with the role, if given) and answered with the role.
 */
export function mountLogin(app: express.Express, sg: Safeguards): void {
  app.post(
    '/login',
    sg.throttleSignIn((req) => String(req.body?.user)),
    async (req, res) => {
      if (req.body?.password !== fx.PASSWORD) {
        res.status(401).json({ error: 'unauthenticated', reason: 'bad_credentials' })
        return
      }
      const role = typeof req.body?.role === 'string' ? { role: req.body.role } : {}
      const session = await req.safeguards.signIn(String(req.body.user), role)
      res.json({ role: session.role ?? null })
    },
  )
}

export async function startApp(o: AppOptions = {}): Promise<fx.TestApp> {
  const { log, ...deps } = fx.appDeps(o)
  const { clock, sessions, pdp } = deps
  const clockOpt = o.realClock === true ? {} : { clock }
  const sg = safeguards({
    sessions,
    audit: { log, observer: 'test-api' },
    policy: pdp,
    subject: (s) => ({ id: s.userId, tenant: 'clinic-a', roles: fx.rolesOf(s) }),
    csrf: { key: fx.CSRF_KEY },
    throttle: { account: fx.throttleRules().account, ...(o.throttleStore ? { store: o.throttleStore } : {}) },
    headers: { hsts: { maxAge: 31_536_000 } },
    ...clockOpt,
  })
  const app = express()
  app.use(sg.middleware())
  app.use(express.json())
  mountLogin(app, sg)
  app.get('/session/status', sg.idleStatus())
  app.post('/session/keep-alive', sg.keepAlive())
  app.post('/logout', sg.requireSession(), async (req, res) => {
    await req.safeguards.signOut()
    res.status(204).end()
  })
  app.post('/promote', sg.requireSession(), async (req, res) => {
    const ok = await req.safeguards.rotate({ role: 'admin' })
    res.json({ ok, role: req.session?.role })
  })
  const access = (action: string) =>
    sg.requireAccess(action, (req) => ({
      type: 'Observation',
      tenant: 'clinic-a',
      patient: String(req.params.patient),
    }))
  const observations = access('read')
  app.get('/patients/:patient/observations', sg.requireSession(), observations, (_req, res) => {
    res.json({ observations: [{ code: 'HbA1c', value: 7.9 }] })
  })
  app.get('/patients/:patient/observations/export', sg.requireSession(), access('export'), (_req, res) => {
    res.json({ observations: [] })
  })
  app.get('/patients/:patient/stream', sg.requireSession(), observations, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('HbA1c ')
    res.end('7.9')
  })
  app.post('/patients/:patient/observations', sg.requireSession(), access('create'), (_req, res) => {
    res.status(201).json({ ok: true })
  })
  o.extra?.(app)
  let server: Server | undefined
  await new Promise<void>((r) => {
    server = app.listen(0, o.host ?? '127.0.0.1', () => r())
  })
  const port = ((server as Server).address() as AddressInfo).port
  return {
    ...deps,
    base: `http://${o.host ?? '127.0.0.1'}:${port}`,
    close: () => new Promise<void>((r) => server?.close(() => r())),
  }
}
