/** A real Express 5 app on @safeguards/express, on an ephemeral port. */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AuditEvent, AuditLog } from '@safeguards/audit-log'
import { type ManualClock, manualClock } from '@safeguards/core'
import { compilePolicy, type DecisionPoint, type PolicyDocument } from '@safeguards/rbac'
import {
  createMemoryStore,
  createSessionManager,
  type SessionManager,
  type SessionStore,
} from '@safeguards/session'
import express from 'express'
import { safeguards } from '../../src/index.js'

export const T0: number = Date.UTC(2026, 10, 23, 10, 0) // a Monday, 10:00
export const PASSWORD = 'correct horse battery staple'
export const POLICY: PolicyDocument = {
  version: 1,
  tenants: ['clinic-a'],
  roles: [{ id: 'nurse' }, { id: 'front_desk' }, { id: 'admin' }],
  rules: [
    { id: 'nurse-read', effect: 'allow', roles: ['nurse'], actions: ['read'], resources: ['Observation'] },
    { id: 'nurse-write', effect: 'allow', roles: ['nurse'], actions: ['create'], resources: ['Observation'] },
  ],
  emergencyAccess: {
    roles: ['front_desk'],
    actions: ['read'],
    resources: ['Observation'],
    reasonCodes: ['emergency'],
  },
}
const ROLES: Record<string, string[]> = { 'u-nurse': ['nurse'], 'u-desk': ['front_desk'] }

export interface TestApp {
  base: string
  clock: ManualClock
  sessions: SessionManager
  pdp: DecisionPoint
  audited: AuditEvent[]
  auditDown: { value: boolean }
  storeDown: { value: boolean }
  close(): Promise<void>
}

export interface AppOptions {
  /** Session timeouts (default 60 s idle, 600 s absolute). */
  idleTimeoutMs?: number
  absoluteTimeoutMs?: number
  /** Use the real clock (browser tests). */
  realClock?: boolean
  /** Extra routes (a page for the browser test). */
  extra?: (app: express.Express) => void
  host?: string
}

export async function startApp(o: AppOptions = {}): Promise<TestApp> {
  const clock = manualClock(T0)
  const storeDown = { value: false }
  const auditDown = { value: false }
  const inner = createMemoryStore()
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver)
      if (typeof v !== 'function') return v
      return (...args: unknown[]) =>
        storeDown.value
          ? Promise.reject(new Error('ECONNREFUSED'))
          : (v as (...a: unknown[]) => unknown).apply(target, args)
    },
  }) as SessionStore
  const clockOpt = o.realClock === true ? {} : { clock }
  const sessions = createSessionManager({
    ...clockOpt,
    store,
    idleTimeoutMs: o.idleTimeoutMs ?? 60_000,
    absoluteTimeoutMs: o.absoluteTimeoutMs ?? 600_000,
  })
  const pdp = compilePolicy(POLICY, { clock })
  const audited: AuditEvent[] = []
  const log = {
    async append(e: AuditEvent) {
      if (auditDown.value) throw new Error('disk full')
      audited.push(e)
      return {} as never
    },
  } as unknown as Pick<AuditLog, 'append'>
  const sg = safeguards({
    sessions,
    audit: { log, observer: 'test-api' },
    policy: pdp,
    subject: (s) => ({
      id: s.userId,
      tenant: 'clinic-a',
      roles: s.role === 'admin' ? ['admin'] : (ROLES[s.userId] ?? []),
    }),
    csrf: { key: new Uint8Array(32).fill(7) },
    throttle: { account: { limit: 3, windowMs: 60_000, lockoutMs: 120_000 } },
    headers: { hsts: { maxAge: 31_536_000 } },
    ...clockOpt,
  })
  const app = express()
  app.use(sg.middleware())
  app.use(express.json())
  app.post(
    '/login',
    sg.throttleSignIn((req) => String(req.body?.user)),
    async (req, res) => {
      if (req.body?.password !== PASSWORD) {
        res.status(401).json({ error: 'unauthenticated', reason: 'bad_credentials' })
        return
      }
      const session = await req.safeguards.signIn(String(req.body.user))
      res.json({ idle: sessions.timeLeft(session) })
    },
  )
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
  const observations = sg.requireAccess('read', (req) => ({
    type: 'Observation',
    tenant: 'clinic-a',
    patient: String(req.params.patient),
  }))
  app.get('/patients/:patient/observations', sg.requireSession(), observations, (_req, res) => {
    res.json({ observations: [{ code: 'HbA1c', value: 7.9 }] })
  })
  app.get('/patients/:patient/stream', sg.requireSession(), observations, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('HbA1c ')
    res.end('7.9')
  })
  app.post(
    '/patients/:patient/observations',
    sg.requireSession(),
    sg.requireAccess('create', (req) => ({
      type: 'Observation',
      tenant: 'clinic-a',
      patient: String(req.params.patient),
    })),
    (_req, res) => {
      res.status(201).json({ ok: true })
    },
  )
  o.extra?.(app)
  let server: Server | undefined
  await new Promise<void>((r) => {
    server = app.listen(0, o.host ?? '127.0.0.1', () => r())
  })
  const port = ((server as Server).address() as AddressInfo).port
  return {
    base: `http://${o.host ?? '127.0.0.1'}:${port}`,
    clock,
    sessions,
    pdp,
    audited,
    auditDown,
    storeDown,
    close: () => new Promise<void>((r) => server?.close(() => r())),
  }
}

export function cookiesOf(res: Response): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of res.headers.getSetCookie()) {
    const pair = line.split(';')[0] as string
    const eq = pair.indexOf('=')
    out[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return out
}

export const cookieHeader = (c: Record<string, string>): string =>
  Object.entries(c)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ')

export async function login(base: string, user: string): Promise<Record<string, string>> {
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password: PASSWORD }),
  })
  if (res.status !== 200) throw new Error(`login ${res.status}`)
  return cookiesOf(res)
}
