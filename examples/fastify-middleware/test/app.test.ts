import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPseudonymizer, openAuditLog, openFileStore, verifyLog } from '@safeguards/audit-log'
import { manualClock, randomBytes } from '@safeguards/core'
import { compilePolicy } from '@safeguards/rbac'
import { createSessionManager } from '@safeguards/session'
import { createRedisSessionStore } from '@safeguards/session-redis'
import type { FastifyInstance } from 'fastify'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp, type ClinicOptions } from '../src/index.js'

const MIN = 60_000
const clock = manualClock(Date.UTC(2026, 10, 22, 9, 0, 0))
const roles: Record<string, string[]> = { 'u-17': ['nurse'], 'u-3': ['front_desk'] }
const careTeam: Record<string, string[]> = { 'u-17': ['p-1'] }
const pdp = compilePolicy(
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
    resolvers: { careTeam: (r) => careTeam[r.subject.id]?.includes(r.resource.patient ?? '') ?? false },
  },
)
const pseudonymize = createPseudonymizer(randomBytes(32), { keyId: 'k2026' })
const directory: ClinicOptions['directory'] = {
  rolesOf: (u) => roles[u] ?? [],
  verify: (u, p) => u in roles && p === 'pw',
}
let dir: string
let app: FastifyInstance
let base: string

async function start(options: Partial<ClinicOptions> = {}): Promise<{ app: FastifyInstance; base: string }> {
  const a = await buildApp({
    sessions: createSessionManager({ clock }),
    pdp,
    log: await openAuditLog({ store: await openFileStore({ dir, stream: 'api' }), clock }),
    pseudonymize,
    csrfKey: randomBytes(32),
    directory,
    clock,
    ...options,
  })
  return { app: a, base: await a.listen({ port: 0, host: '127.0.0.1' }) }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sg-fastify-'))
  ;({ app, base } = await start())
})
afterAll(async () => {
  await app?.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Logs in over HTTP; returns the Cookie header value. */
async function login(user: string): Promise<string> {
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password: 'pw' }),
  })
  expect(res.status).toBe(204)
  return res.headers
    .getSetCookie()
    .map((l) => l.split(';')[0])
    .join('; ')
}
const get = (path: string, cookie = '', headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { headers: { cookie, ...headers } })
const reasonOf = async (res: Response) => ((await res.json()) as { reason?: string }).reason

const OBS = '/api/patients/p-1/observations'

describe('the clinic app on @safeguards/fastify', () => {
  it('401 with the reason without a session and after the idle timeout; /health is public', async () => {
    expect(await reasonOf(await get(OBS))).toBe('session_absent')
    const c = await login('u-17')
    expect((await get(OBS, c)).status).toBe(200)
    clock.advance(15 * MIN)
    const res = await get(OBS, c)
    expect([res.status, await reasonOf(res)]).toEqual([401, 'session_idle'])
    expect((await get('/health')).status).toBe(200)
  })

  it('403 with the policy reason; an emergency grant is honoured and audited as BTG', async () => {
    const c = await login('u-17')
    const other = await get('/api/patients/p-2/observations', c)
    expect([other.status, await reasonOf(other)]).toEqual([403, 'no_matching_allow'])
    const grant = pdp.emergency.grant({
      subject: { id: 'u-17', tenant: 'clinic-a', roles: ['nurse'] },
      patient: 'p-2',
      actions: ['read'],
      reasonCode: 'clinical-emergency',
      justification: 'Unresponsive patient in the ED; no care-team assignment yet.',
      minutes: 30,
    })
    const res = await get('/api/patients/p-2/observations', c, { 'x-emergency-access': grant.id })
    expect(res.status).toBe(200)
  })

  it('logout needs the CSRF token, then revokes the session', async () => {
    const c = await login('u-17')
    const bare = await fetch(`${base}/api/logout`, { method: 'POST', headers: { cookie: c } })
    expect(await reasonOf(bare)).toBe('csrf_missing')
    const csrf = /__Host-sg-csrf=([^;]+)/.exec(c)?.[1] as string
    const out = await fetch(`${base}/api/logout`, {
      method: 'POST',
      headers: { cookie: c, 'x-csrf-token': csrf },
    })
    expect(out.status).toBe(204)
    expect(await reasonOf(await get(OBS, c))).toBe('session_revoked')
  })

  it('the audit file verifies, holds the BTG record and pseudonyms, never a token or a raw patient id', async () => {
    const events: { event: Record<string, unknown> }[] = []
    const store = await openFileStore({ dir, readOnly: true })
    for await (const r of store.read(0)) events.push(JSON.parse(new TextDecoder().decode(r.bytes)))
    await store.close()
    const text = JSON.stringify(events)
    expect(text).toContain(pseudonymize.pseudonym('p-1'))
    expect(text).not.toMatch(/"p-[12]"/)
    expect(text).not.toContain('__Host-sg-session')
    const btg = events.find(
      (e) => (e.event.details as Record<string, unknown>).event === 'access.emergency.used',
    )
    expect(btg?.event.agents).toEqual([expect.objectContaining({ who: 'u-17', purposeOfUse: ['BTG'] })])
    const report = await verifyLog(await openFileStore({ dir, readOnly: true }))
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([])
  })
})

describe('failing closed', () => {
  it('503 session_store_unavailable when Redis cannot be reached', async () => {
    const client = createClient({ url: 'redis://127.0.0.1:1' })
    const sessions = createSessionManager({ clock, store: createRedisSessionStore({ client }) })
    const down = await start({ sessions })
    try {
      const res = await fetch(`${down.base}${OBS}`, {
        headers: { cookie: `__Host-sg-session=${'A'.repeat(43)}` },
      })
      expect([res.status, await reasonOf(res)]).toEqual([503, 'session_store_unavailable'])
    } finally {
      await down.app.close()
    }
  })

  it('503 audit_unavailable, no data and no cookie, when the audit log cannot be written', async () => {
    const d = mkdtempSync(join(tmpdir(), 'sg-fastify-audit-'))
    const broken = await openAuditLog({ store: await openFileStore({ dir: d, stream: 'api' }), clock })
    await broken.close() // every append now throws
    const errors: unknown[] = []
    const a = await start({ log: broken, onAuditError: (e) => errors.push(e) })
    try {
      const res = await fetch(`${a.base}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'u-17', password: 'pw' }),
      })
      expect([res.status, await reasonOf(res)]).toEqual([503, 'audit_unavailable'])
      expect(res.headers.getSetCookie()).toEqual([])
      expect(errors[0]).toMatchObject({ code: 'ERR_EVENT_SINK', cause: { code: 'ERR_AUDIT_CLOSED' } })
    } finally {
      await a.app.close()
      rmSync(d, { recursive: true, force: true })
    }
  })
})
