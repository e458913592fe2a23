/**
 * A real node:http server built on the neutral core: the reference for what an adapter does.
 * Every response gets the security headers, and is held until the request's audit record is
 * appended (503 with no data when that fails).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  type AccessOutcome,
  CSRF_COOKIE,
  checkAccess,
  createCsrf,
  createRequestAudit,
  createSignInThrottle,
  type HttpReply,
  HttpThrottleStoreError,
  idleStatus,
  jsonReply,
  keepAlive,
  type RefusalReason,
  refusal,
  resolveSession,
  rotateSession,
  securityHeaders,
  signIn,
  signOut,
  type ThrottleOutcome,
  type ThrottleStore,
} from '../../src/index.js'

import { appDeps, CSRF_KEY, PASSWORD, rolesOf, type TestApp, throttleRules } from './fixtures.js'

export {
  cookieHeader,
  cookiesOf,
  login,
  PASSWORD,
  POLICY,
  T0,
  type TestApp,
} from './fixtures.js'

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = ''
  for await (const chunk of req) text += String(chunk)
  return text.length === 0 ? {} : (JSON.parse(text) as Record<string, unknown>)
}

/** Starts the server on an ephemeral port. */
export async function startApp(options: { throttleStore?: ThrottleStore } = {}): Promise<TestApp> {
  const deps = appDeps()
  const { clock, sessions, pdp, log } = deps
  const audit = createRequestAudit(log, { observer: 'test-api', clock })
  const csrf = createCsrf(CSRF_KEY)
  const throttle = createSignInThrottle({ clock, ...throttleRules(options.throttleStore) })
  const headers = securityHeaders({ hsts: { maxAge: 31_536_000 } })

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const method = req.method ?? 'GET'
    let route: string | undefined
    let actor: string | undefined
    let refused: RefusalReason | undefined
    let access:
      | {
          action: string
          resource: { type: string; tenant: string; patient: string }
          outcome: AccessOutcome
        }
      | undefined
    const setCookie: string[] = []
    const handle = async (): Promise<HttpReply> => {
      if (method === 'POST' && url.pathname === '/login') {
        route = '/login'
        const { user, password } = await body(req)
        let t: ThrottleOutcome
        try {
          t = await throttle.attempt(String(user), req.socket.remoteAddress ?? 'unknown')
        } catch (e) {
          if (e instanceof HttpThrottleStoreError) return refusal(503, 'throttle_store_unavailable')
          throw e
        }
        if (!t.allowed) return t.reply
        if (password !== PASSWORD)
          return jsonReply(401, { error: 'unauthenticated', reason: 'bad_credentials' })
        await throttle.succeeded(String(user))
        const issued = await signIn(sessions, String(user), req.headers)
        setCookie.push(...issued.setCookie, csrf.cookie(csrf.issue(issued.session.id)))
        return jsonReply(200, { ok: true, idle: sessions.timeLeft(issued.session) })
      }
      if (url.pathname === '/session/status') return idleStatus(sessions, req.headers)
      if (url.pathname === '/session/keep-alive') {
        // Extending the session is a state change: CSRF first, on a peek that does not extend it.
        const peek = await resolveSession(sessions, req.headers, { activity: false })
        if (!peek.ok) return peek.reply
        const check = csrf.verify(method, req.headers, peek.session.id)
        return check.ok ? keepAlive(sessions, req.headers) : check.reply
      }
      if (method === 'POST' && url.pathname === '/logout') {
        setCookie.push(await signOut(sessions, req.headers))
        return { status: 204, headers: {}, body: '' }
      }
      const m = /^\/patients\/([\w-]+)\/observations(\/export)?$/.exec(url.pathname)
      if (m === null) return jsonReply(404, { error: 'not_found' })
      route = m[2] ? '/patients/:patient/observations/export' : '/patients/:patient/observations'
      const s = await resolveSession(sessions, req.headers)
      if (!s.ok) {
        refused = s.reason
        return s.reply
      }
      actor = s.session.userId
      const check = csrf.verify(method, req.headers, s.session.id)
      if (!check.ok) {
        refused = check.reason
        return check.reply
      }
      if (method === 'POST' && m[2] === undefined && url.searchParams.get('promote') === '1') {
        const next = await rotateSession(sessions, s.token, { role: 'admin' })
        if (next === null) return refusal(401, 'session_unknown')
        setCookie.push(...next.setCookie, csrf.cookie(csrf.issue(next.session.id)))
        return jsonReply(200, { role: next.session.role })
      }
      const action = m[2] ? 'export' : method === 'POST' ? 'create' : 'read'
      const resource = { type: 'Observation', tenant: 'clinic-a', patient: String(m[1]) }
      const grant = req.headers['x-emergency-access']
      const roles = rolesOf(s.session)
      const outcome = checkAccess(
        pdp,
        {
          subject: { id: s.session.userId, tenant: 'clinic-a', roles },
          action,
          resource,
          ...(typeof grant === 'string' ? { emergencyAccess: grant } : {}),
        },
        {},
      )
      access = { action, resource, outcome }
      if (!outcome.ok) {
        refused = outcome.reason
        return outcome.reply
      }
      return jsonReply(200, { observations: [{ code: 'HbA1c', value: 7.9 }] })
    }
    let reply: HttpReply
    try {
      reply = await handle()
    } catch {
      reply = jsonReply(500, { error: 'internal' })
    }
    // The adapter contract: the response is held until the audit record is appended.
    const failed = await audit.finish({
      method,
      route,
      status: reply.status,
      actor,
      refused,
      ...(access
        ? { access: { action: access.action, resource: access.resource, decision: access.outcome.decision } }
        : {}),
      ...(access ? { patient: access.resource.patient } : {}),
    })
    const out = failed ?? reply
    res.writeHead(out.status, {
      ...headers,
      ...out.headers,
      ...(failed === null && setCookie.length > 0 ? { 'set-cookie': setCookie } : {}),
    })
    res.end(out.body)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { ...deps, base, close: () => new Promise<void>((r) => server.close(() => r())) }
}

export { CSRF_COOKIE }
