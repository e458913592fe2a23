/**
 * Fixtures shared by the reference app (app.ts) and every adapter's test app: the policy, the
 * users, the clock origin, a session store and an audit log that can be switched off, and the
 * cookie/login helpers the conformance suite (conformance.ts) uses over real HTTP.
 */
import type { AuditEvent, AuditLog } from '@safeguards/audit-log'
import { type ManualClock, manualClock } from '@safeguards/core'
import { compilePolicy, type DecisionPoint, type PolicyDocument } from '@safeguards/rbac'
import {
  createMemoryStore,
  createSessionManager,
  type SessionManager,
  type SessionStore,
} from '@safeguards/session'
import type { ThrottleStore } from '../../src/index.js'

export const T0: number = Date.UTC(2026, 10, 23, 10, 0) // a Monday, 10:00
export const PASSWORD = 'correct horse battery staple'

export const POLICY: PolicyDocument = {
  version: 1,
  tenants: ['clinic-a'],
  roles: [{ id: 'nurse' }, { id: 'front_desk' }, { id: 'admin' }],
  rules: [
    { id: 'nurse-read', effect: 'allow', roles: ['nurse'], actions: ['read'], resources: ['Observation'] },
    { id: 'nurse-write', effect: 'allow', roles: ['nurse'], actions: ['create'], resources: ['Observation'] },
    {
      id: 'admin-export',
      effect: 'allow',
      roles: ['admin'],
      actions: ['export'],
      resources: ['Observation'],
      obligations: ['notify:privacy-officer'],
    },
  ],
  emergencyAccess: {
    roles: ['front_desk'],
    actions: ['read'],
    resources: ['Observation'],
    reasonCodes: ['emergency'],
  },
}

/** The key of the CSRF tokens. */
export const CSRF_KEY: Uint8Array = new Uint8Array(32).fill(7)

/** The sign-in throttle's rules (3 per account, 6 per address a minute), with the store if given. */
type Rule = { limit: number; windowMs: number; lockoutMs: number }
export const throttleRules = (
  store?: ThrottleStore,
): { account: Rule; address: Rule; store?: ThrottleStore } => ({
  account: { limit: 3, windowMs: 60_000, lockoutMs: 120_000 },
  address: { limit: 6, windowMs: 60_000, lockoutMs: 300_000 },
  ...(store ? { store } : {}),
})

/** The roles of the test users; a session rotated to `admin` has the admin role. */
export const ROLES: Record<string, string[]> = { 'u-nurse': ['nurse'], 'u-desk': ['front_desk'] }

/** The roles of a session's user. */
export const rolesOf = (s: { userId: string; role?: string | null }): string[] =>
  s.role === 'admin' ? ['admin'] : (ROLES[s.userId] ?? [])

/** What every test app returns: its base URL, its handles and the failure switches. */
export interface TestApp {
  base: string
  clock: ManualClock
  sessions: SessionManager
  pdp: DecisionPoint
  /** The audit events appended, in order. */
  audited: AuditEvent[]
  /** Make the next audit appends fail. */
  auditDown: { value: boolean }
  storeDown: { value: boolean }
  close(): Promise<void>
}

/** A memory session store whose every call fails while `down.value` is true. */
export function switchableStore(down: { value: boolean }): SessionStore {
  const inner = createMemoryStore()
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver)
      if (typeof v !== 'function') return v
      return (...args: unknown[]) =>
        down.value
          ? Promise.reject(new Error('ECONNREFUSED'))
          : (v as (...a: unknown[]) => unknown).apply(target, args)
    },
  }) as SessionStore
}

/** A fake audit log: appends land in `audited`; every append fails while `down.value` is true. */
export function fakeLog(audited: AuditEvent[], down: { value: boolean }): Pick<AuditLog, 'append'> {
  return {
    async append(e: AuditEvent) {
      if (down.value) throw new Error('disk full')
      audited.push(e)
      return {} as never
    },
  } as unknown as Pick<AuditLog, 'append'>
}

/** What a test app is built from: the handles of {@link TestApp} and the fake audit log. */
export interface AppDeps extends Omit<TestApp, 'base' | 'close'> {
  log: Pick<AuditLog, 'append'>
}

/**
 * The clock (at T0), the session manager on a switchable store (60 s idle, 600 s absolute unless
 * told), the compiled policy and the fake audit log. `realClock` leaves the sessions on the real clock.
 */
export function appDeps(
  o: { idleTimeoutMs?: number; absoluteTimeoutMs?: number; realClock?: boolean } = {},
): AppDeps {
  const clock = manualClock(T0)
  const storeDown = { value: false }
  const auditDown = { value: false }
  const sessions = createSessionManager({
    ...(o.realClock === true ? {} : { clock }),
    store: switchableStore(storeDown),
    idleTimeoutMs: o.idleTimeoutMs ?? 60_000,
    absoluteTimeoutMs: o.absoluteTimeoutMs ?? 600_000,
  })
  const audited: AuditEvent[] = []
  const log = fakeLog(audited, auditDown)
  return { clock, sessions, pdp: compilePolicy(POLICY, { clock }), audited, auditDown, storeDown, log }
}

/** Cookies from a response's Set-Cookie headers, as `name=value` pairs for a Cookie header. */
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

/** A request with the cookies; its status and JSON body. */
export async function callJson(
  base: string,
  path: string,
  cookies: Record<string, string>,
  method = 'GET',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, { method, headers: { cookie: cookieHeader(cookies) } })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

/** POSTs the sign-in form (JSON, with its content type). */
export const postLogin = (base: string, user: string, password: string = PASSWORD): Promise<Response> =>
  fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
  })

/** Signs in over HTTP and returns the cookies. */
export async function login(base: string, user: string): Promise<Record<string, string>> {
  const res = await postLogin(base, user)
  if (res.status !== 200) throw new Error(`login ${res.status}`)
  return cookiesOf(res)
}
