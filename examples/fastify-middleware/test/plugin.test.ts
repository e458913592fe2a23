import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AuditLog,
  createPseudonymizer,
  openAuditLog,
  openFileStore,
  type Pseudonymizer,
  verifyLog,
} from '@safeguards/audit-log'
import { manualClock, randomBytes } from '@safeguards/core'
import { compilePolicy, type DecisionPoint } from '@safeguards/rbac'
import { createSessionManager, generateToken, type SessionManager } from '@safeguards/session'
import { createRedisSessionStore } from '@safeguards/session-redis'
import Fastify, { type FastifyInstance } from 'fastify'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  clearedSessionCookie,
  readCookie,
  type SafeguardsPluginOptions,
  safeguardsPlugin,
  sessionCookie,
} from '../src/index.js'

const MIN = 60_000
const COOKIE = '__Host-sid'
const clock = manualClock(Date.UTC(2026, 10, 22, 9, 0, 0))
const directory: Record<string, string[]> = { 'u-17': ['nurse'], 'u-3': ['front_desk'] }
const careTeam: Record<string, string[]> = { 'u-17': ['p-1'] }
let dir: string
let log: AuditLog
let sessions: SessionManager
let pdp: DecisionPoint
let pseudonymizer: Pseudonymizer
let app: FastifyInstance
let base: string
/** Requests sent to `app`: each must leave exactly one audit record. */
let sent = 0

/** The clinic app: public login, logout and health routes, and an /api context behind sessions. */
async function clinicApp(options: SafeguardsPluginOptions): Promise<FastifyInstance> {
  const fastify = Fastify()
  await fastify.register(safeguardsPlugin, options)
  fastify.get('/health', async (request) => ({ ok: true, session: request.session !== null }))
  fastify.post<{ Body: { user: string } }>('/login', async (request, reply) => {
    // Stand-in for password + MFA: the point here is the cookie and session fixation defence.
    if (!(request.body.user in directory)) return reply.code(401).send({ error: 'unauthenticated' })
    const { token } = await options.sessions.create(request.body.user, {
      previousToken: readCookie(request.headers.cookie, COOKIE) ?? null,
    })
    return reply.header('set-cookie', sessionCookie(COOKIE, token)).code(204).send()
  })
  fastify.post('/logout', async (request, reply) => {
    const token = readCookie(request.headers.cookie, COOKIE)
    if (token !== undefined) await options.sessions.revoke(token)
    return reply.header('set-cookie', clearedSessionCookie(COOKIE)).code(204).send()
  })
  await fastify.register(
    async (api) => {
      api.addHook('onRequest', api.requireSession)
      api.get<{ Params: { patient: string }; Headers: { 'x-emergency-access'?: string } }>(
        '/patients/:patient/observations',
        {
          // The route's generic types `request.params` and `request.headers` in the callback.
          preHandler: api.requireAccess('read', (request) => ({
            resource: { type: 'Observation', tenant: 'clinic-a', patient: request.params.patient },
            ...(request.headers['x-emergency-access']
              ? { emergencyAccess: request.headers['x-emergency-access'] }
              : {}),
          })),
        },
        async () => ({ observations: [{ code: 'HbA1c', value: 7.9 }] }),
      )
      api.get('/session/time-left', { config: { sessionActivity: false } }, async (request) =>
        request.session === null ? {} : options.sessions.timeLeft(request.session),
      )
    },
    { prefix: '/api' },
  )
  return fastify
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sg-fastify-'))
  log = await openAuditLog({ store: await openFileStore({ dir, stream: 'api' }), clock })
  sessions = createSessionManager({ clock })
  pseudonymizer = createPseudonymizer(randomBytes(32), { keyId: 'k2026' })
  pdp = compilePolicy(
    {
      version: 1,
      relationships: ['careTeam'],
      roles: [{ id: 'nurse' }, { id: 'front_desk' }],
      rules: [
        {
          id: 'nurse-read-care-team',
          effect: 'allow',
          roles: ['nurse'],
          actions: ['read'],
          resources: ['Observation'],
          when: { relation: 'careTeam' },
        },
      ],
      emergencyAccess: {
        roles: ['nurse'],
        actions: ['read'],
        resources: ['Observation'],
        reasonCodes: ['clinical-emergency'],
      },
    },
    {
      clock,
      resolvers: {
        careTeam: (r) => careTeam[r.subject.id]?.includes(r.resource.patient ?? '') ?? false,
      },
    },
  )
  app = await clinicApp({
    sessions,
    pdp,
    log,
    pseudonymizer,
    observer: 'clinic-api',
    clock,
    tenant: 'clinic-a',
    roles: (s) => directory[s.userId] ?? [],
    patient: (request) => (request.params as { patient?: string }).patient,
  })
  base = await app.listen({ port: 0, host: '127.0.0.1' })
})

afterAll(async () => {
  await app?.close()
  await log?.close()
  rmSync(dir, { recursive: true, force: true })
})

function call(
  path: string,
  init: { token?: string; method?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  sent++
  const headers: Record<string, string> = { ...init.headers }
  if (init.token !== undefined) headers.cookie = `theme=dark; ${COOKIE}=${init.token}`
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  return fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  })
}

/** Logs in over HTTP and returns the token from the `Set-Cookie` header. */
async function login(user: string, previousToken?: string): Promise<string> {
  const res = await call('/login', {
    method: 'POST',
    body: { user },
    ...(previousToken ? { token: previousToken } : {}),
  })
  expect(res.status).toBe(204)
  const setCookie = res.headers.get('set-cookie') ?? ''
  expect(setCookie).toMatch(/; Path=\/; HttpOnly; Secure; SameSite=Strict$/)
  const token = readCookie(setCookie.split(';')[0], COOKIE)
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
  return token as string
}

const OBS = '/api/patients/p-1/observations'

describe('fastify plugin', () => {
  it('reads one cookie out of many and writes hardened ones', () => {
    expect(readCookie('a=1; __Host-sid=abc; b=2', COOKIE)).toBe('abc')
    expect(readCookie('x__Host-sid=abc', COOKIE)).toBeUndefined()
    expect(readCookie(`${COOKIE}=`, COOKIE)).toBeUndefined()
    expect(readCookie(undefined, COOKIE)).toBeUndefined()
    expect(clearedSessionCookie(COOKIE)).toContain('Max-Age=0')
  })

  it('401 without a session, with a forged one, and after the idle timeout', async () => {
    expect((await call(OBS)).status).toBe(401)
    const forged = await call(OBS, { token: 'forged-token' })
    expect(forged.status).toBe(401)
    expect(forged.headers.get('set-cookie')).toBe(clearedSessionCookie(COOKIE))
    const token = await login('u-17')
    expect((await call(OBS, { token })).status).toBe(200)
    clock.advance(15 * MIN)
    const res = await call(OBS, { token })
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({ error: 'unauthenticated' })
  })

  it('polling routes (sessionActivity: false) do not keep a session alive', async () => {
    const token = await login('u-17')
    clock.advance(10 * MIN)
    const poll = await call('/api/session/time-left', { token })
    expect(poll.status).toBe(200)
    expect(((await poll.json()) as { idleRemainingMs: number }).idleRemainingMs).toBe(5 * MIN)
    clock.advance(5 * MIN)
    expect((await call('/api/session/time-left', { token })).status).toBe(401)
  })

  it('login rotates the presented token; logout revokes it', async () => {
    const first = await login('u-17')
    const second = await login('u-17', first)
    expect(second).not.toBe(first)
    expect((await call(OBS, { token: first })).status).toBe(401)
    expect((await call(OBS, { token: second })).status).toBe(200)
    expect((await call('/logout', { method: 'POST', token: second })).status).toBe(204)
    expect((await call(OBS, { token: second })).status).toBe(401)
  })

  it('keeps the session check inside its encapsulated context', async () => {
    const res = await call('/health')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true, session: false })
  })

  it('200 for an allowed access, 403 with the reason otherwise', async () => {
    const nurse = await login('u-17')
    const ok = await call(OBS, { token: nurse })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ observations: [{ code: 'HbA1c', value: 7.9 }] })
    const other = await call('/api/patients/p-2/observations', { token: nurse })
    expect(other.status).toBe(403)
    expect(await other.json()).toEqual({ error: 'forbidden', reason: 'no_matching_allow' })
    const desk = await login('u-3')
    expect((await call(OBS, { token: desk })).status).toBe(403)
  })

  it('honours an emergency-access grant and records it', async () => {
    const nurse = await login('u-17')
    const grant = pdp.emergency.grant({
      subject: { id: 'u-17', tenant: 'clinic-a', roles: ['nurse'] },
      patient: 'p-2',
      actions: ['read'],
      reasonCode: 'clinical-emergency',
      justification: 'Unresponsive patient in the ED; no care-team assignment yet.',
      minutes: 30,
    })
    const res = await call('/api/patients/p-2/observations', {
      token: nurse,
      headers: { 'x-emergency-access': grant.id },
    })
    expect(res.status).toBe(200)
  })

  it('audits 404s too, with no route pattern', async () => {
    expect((await call('/nothing-here?mrn=123')).status).toBe(404)
  })

  it('appends one verifiable record per request: decisions with reasons, no tokens, no patient ids', async () => {
    const records: { event: Record<string, unknown> }[] = []
    const store = await openFileStore({ dir, readOnly: true })
    for await (const r of store.read(0)) records.push(JSON.parse(new TextDecoder().decode(r.bytes)))
    await store.close()
    expect(records).toHaveLength(sent)
    type Rec = {
      type: string
      subtype?: string[]
      outcome: number
      outcomeCode?: string
      agents: { who: string; purposeOfUse?: string[] }[]
      entities?: { what: string }[]
      details: Record<string, string | number>
    }
    const events = records.map((r) => r.event as unknown as Rec)
    const p1 = pseudonymizer.pseudonym('p-1')
    const p2 = pseudonymizer.pseudonym('p-2')
    const emitter = '@safeguards-examples/fastify-middleware'
    // A refusal by the access check: access.denied (FHIR rest read, minor failure 4, the reason).
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'rest',
        subtype: ['read'],
        action: 'R',
        outcome: 4,
        outcomeCode: 'no_matching_allow',
        agents: [{ requestor: true, who: 'u-3' }],
        patient: p1,
        entities: [{ what: 'Observation', type: '2', role: '4' }],
        details: { event: 'access.denied', emitter, tenant: 'clinic-a', 'counts.status': 403 },
      }),
    )
    // An allowed read: record.accessed, success, the decision's reason.
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'rest',
        subtype: ['read'],
        outcome: 0,
        outcomeCode: 'allow',
        agents: [{ requestor: true, who: 'u-17' }],
        patient: p1,
        details: { event: 'record.accessed', emitter, tenant: 'clinic-a', 'counts.status': 200 },
      }),
    )
    // No session: access.denied on the route pattern, no actor but the emitter.
    expect(events).toContainEqual(
      expect.objectContaining({
        outcome: 4,
        outcomeCode: 'no_session',
        agents: [{ requestor: true, who: emitter }],
        patient: p1,
        entities: [{ what: '/api/patients/:patient/observations', type: '2', role: '4' }],
        details: { event: 'access.denied', emitter, 'counts.status': 401 },
      }),
    )
    expect(events.filter((e) => e.outcomeCode === 'invalid_session').length).toBeGreaterThanOrEqual(4)
    // The emergency read: its audit:emergency-access obligation met with a BTG record.
    const emergency = events.find((e) => e.details.event === 'access.emergency.used')
    expect(emergency).toMatchObject({
      type: 'rest',
      subtype: ['read'],
      outcome: 0,
      outcomeCode: 'emergency_access',
      agents: [{ requestor: true, who: 'u-17', purposeOfUse: ['BTG'] }],
      patient: p2,
      details: { 'counts.status': 200 },
    })
    expect(emergency?.details.grantId).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(events).toContainEqual(
      expect.objectContaining({
        outcome: 8,
        outcomeCode: '404',
        entities: [{ what: 'unmatched', type: '2', role: '4' }],
        details: { event: 'record.accessed', emitter, 'counts.status': 404 },
      }),
    )
    expect(events).toContainEqual(
      expect.objectContaining({
        subtype: ['create'],
        action: 'C',
        outcome: 0,
        outcomeCode: '204',
        entities: [{ what: '/login', type: '2', role: '4' }],
      }),
    )
    // Nothing in the file is a token or a raw patient id.
    const file = readdirSync(join(dir, 'segments'))
      .map((name) => readFileSync(join(dir, 'segments', name), 'utf8'))
      .join('')
    expect(file).toContain(p1)
    expect(file).not.toContain('forged-token')
    expect(file).not.toMatch(/"p-[12]"/)
    expect(file).not.toContain('__Host-sid')
    expect(file).not.toContain('mrn')
    const report = await verifyLog(await openFileStore({ dir, readOnly: true }))
    expect(report.records).toBe(records.length)
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([])
  })
})

describe('fastify plugin, failing closed', () => {
  it('503 when the session store is unreachable, and the refusal is audited', async () => {
    // A Redis client that never connected: every command fails, as when Redis is down.
    const client = createClient({ url: 'redis://127.0.0.1:1' })
    const down = createSessionManager({ clock, store: createRedisSessionStore({ client }) })
    const d = mkdtempSync(join(tmpdir(), 'sg-fastify-store-'))
    const auditLog = await openAuditLog({ store: await openFileStore({ dir: d, stream: 'api' }), clock })
    const fastify = await clinicApp({
      sessions: down,
      pdp,
      log: auditLog,
      pseudonymizer,
      observer: 'clinic-api',
      tenant: 'clinic-a',
      roles: () => [],
    })
    try {
      const res = await fastify.inject({ url: OBS, cookies: { [COOKIE]: generateToken(randomBytes) } })
      expect(res.statusCode).toBe(503)
      expect(res.json()).toEqual({ error: 'session_store_unavailable' })
      const store = await openFileStore({ dir: d, readOnly: true })
      const events: { event: { outcome: number; outcomeCode: string; details: Record<string, unknown> } }[] =
        []
      for await (const r of store.read(0)) events.push(JSON.parse(new TextDecoder().decode(r.bytes)))
      await store.close()
      expect(
        events.map((e) => [e.event.outcome, e.event.outcomeCode, e.event.details['counts.status']]),
      ).toEqual([[4, 'session_store_unavailable', 503]])
    } finally {
      await fastify.close()
      await auditLog.close()
      rmSync(d, { recursive: true, force: true })
    }
  })

  it('503 instead of the data when the audit record cannot be written', async () => {
    const d = mkdtempSync(join(tmpdir(), 'sg-fastify-audit-'))
    const broken = await openAuditLog({ store: await openFileStore({ dir: d, stream: 'api' }), clock })
    await broken.close() // every append now throws AuditClosedError
    const errors: unknown[] = []
    const own = createSessionManager({ clock })
    const fastify = await clinicApp({
      sessions: own,
      pdp,
      log: broken,
      pseudonymizer,
      observer: 'clinic-api',
      tenant: 'clinic-a',
      roles: (s) => directory[s.userId] ?? [],
      onAuditError: (e) => errors.push(e),
    })
    try {
      const { token } = await own.create('u-17')
      const res = await fastify.inject({ url: OBS, cookies: { [COOKIE]: token } })
      expect(res.statusCode).toBe(503)
      expect(res.json()).toEqual({ error: 'audit_unavailable' })
      expect(res.body).not.toContain('HbA1c')
      expect(errors).toHaveLength(1)
      // The critical audit sink failed: EventSinkError, caused by the closed log.
      expect(errors[0]).toMatchObject({ code: 'ERR_EVENT_SINK', cause: { code: 'ERR_AUDIT_CLOSED' } })
    } finally {
      await fastify.close()
      rmSync(d, { recursive: true, force: true })
    }
  })
})
