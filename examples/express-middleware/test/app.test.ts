import { mkdtempSync, rmSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AuditLog, openAuditLog, openFileStore, verifyLog } from '@safeguards/audit-log'
import { manualClock } from '@safeguards/core'
import { compilePolicy } from '@safeguards/rbac'
import { createSessionManager } from '@safeguards/session'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClinicApp } from '../src/index.js'

const MIN = 60_000
const clock = manualClock(Date.UTC(2026, 10, 22, 9, 0, 0))
let dir: string
let server: Server
let base: string
let log: AuditLog
const audited: Promise<unknown>[] = []

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sg-express-'))
  log = await openAuditLog({ store: await openFileStore({ dir, stream: 'api' }), clock })
  const append = log.append.bind(log)
  log.append = (e) => {
    const p = append(e)
    audited.push(p)
    return p
  }
  const pdp = compilePolicy(
    {
      version: 1,
      roles: [{ id: 'nurse' }, { id: 'front_desk' }],
      rules: [
        {
          id: 'nurse-read',
          effect: 'allow',
          roles: ['nurse'],
          actions: ['read'],
          resources: ['Observation'],
        },
      ],
    },
    { clock },
  )
  const roles: Record<string, string[]> = { 'u-17': ['nurse'], 'u-3': ['front_desk'] }
  const app = createClinicApp({
    sessions: createSessionManager({ clock }),
    log,
    pdp,
    csrfKey: new Uint8Array(32).fill(1),
    rolesOf: (u) => roles[u] ?? [],
    checkPassword: async (user, password) => (password === 'pw' && user in roles ? user : null),
    clock,
  })
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve())
  })
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((r) => server?.close(r))
  await log?.close()
  rmSync(dir, { recursive: true, force: true })
})

async function login(user: string): Promise<string> {
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password: 'pw' }),
  })
  expect(res.status).toBe(200)
  return res.headers
    .getSetCookie()
    .map((l) => l.split(';')[0])
    .join('; ')
}
const get = (path: string, cookie?: string) => fetch(`${base}${path}`, cookie ? { headers: { cookie } } : {})

describe('the clinic app on @safeguards/express', () => {
  it('401 without a session, with a forged one, and after the idle timeout, with the reason', async () => {
    expect(await (await get('/api/patients/p-1/observations')).json()).toMatchObject({
      reason: 'session_absent',
    })
    const forged = await get('/api/patients/p-1/observations', `__Host-sg-session=${'A'.repeat(43)}`)
    expect([forged.status, ((await forged.json()) as { reason: string }).reason]).toEqual([
      401,
      'session_unknown',
    ])
    const c = await login('u-17')
    expect((await get('/api/patients/p-1/observations', c)).status).toBe(200)
    clock.advance(15 * MIN)
    const res = await get('/api/patients/p-1/observations', c)
    expect([res.status, await res.json()]).toEqual([
      401,
      { error: 'unauthenticated', reason: 'session_idle' },
    ])
  })

  it('200 for an allowed role, 403 with the reason otherwise', async () => {
    const ok = await get('/api/patients/p-1/observations', await login('u-17'))
    expect([ok.status, await ok.json()]).toEqual([200, { observations: [{ code: 'HbA1c', value: 7.9 }] }])
    const no = await get('/api/patients/p-1/observations', await login('u-3'))
    expect([no.status, await no.json()]).toEqual([403, { error: 'forbidden', reason: 'no_matching_allow' }])
  })

  it('appends one verifiable audit record per request, refusals included, without tokens', async () => {
    await Promise.all(audited)
    const records: { event: Record<string, unknown> }[] = []
    const store = await openFileStore({ dir, readOnly: true })
    for await (const r of store.read(0)) records.push(JSON.parse(new TextDecoder().decode(r.bytes)))
    await store.close()
    expect(records).toHaveLength(audited.length)
    const codes = records.map((r) => r.event.outcomeCode)
    expect(codes).toEqual(
      expect.arrayContaining(['allow', 'session_absent', 'session_unknown', 'no_matching_allow']),
    )
    const denied = records.find((r) => r.event.outcomeCode === 'no_matching_allow')?.event
    expect(denied).toMatchObject({
      outcome: 4,
      agents: [{ who: 'u-3', requestor: true }],
      patient: 'p-1',
      entities: [{ what: 'Observation', type: '2', role: '4' }],
      details: {
        event: 'access.denied',
        emitter: '@safeguards/http',
        tenant: 'clinic-a',
        'counts.status': 403,
      },
    })
    expect(JSON.stringify(records)).not.toContain('A'.repeat(43))
    const report = await verifyLog(await openFileStore({ dir, readOnly: true }))
    expect(report.records).toBe(records.length)
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([])
  })

  it('503 instead of the data when the audit record cannot be written', async () => {
    const errors: unknown[] = []
    const app = createClinicApp({
      sessions: createSessionManager({ clock }),
      log: { append: () => Promise.reject(new Error('audit store down')) },
      pdp: compilePolicy({ version: 1, roles: [{ id: 'nurse' }], rules: [] }),
      csrfKey: new Uint8Array(32).fill(1),
      rolesOf: () => ['nurse'],
      checkPassword: async () => 'u-1',
      onAuditError: (e) => errors.push(e),
    })
    const s = await new Promise<Server>((resolve) => {
      const srv = app.listen(0, '127.0.0.1', () => resolve(srv))
    })
    try {
      const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'u-1', password: 'x' }),
      })
      expect(res.status).toBe(503)
      expect(await res.json()).toEqual({ error: 'unavailable', reason: 'audit_unavailable' })
      expect(res.headers.getSetCookie()).toEqual([])
      expect(errors).toMatchObject([{ code: 'ERR_EVENT_SINK' }])
    } finally {
      await new Promise((r) => s.close(r))
    }
  })
})
