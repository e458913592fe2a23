import { mkdtempSync, rmSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AuditLog, openAuditLog, openFileStore, verifyLog } from '@safeguards/audit-log'
import { manualClock } from '@safeguards/core'
import { compilePolicy } from '@safeguards/rbac'
import { createSessionManager, type SessionManager } from '@safeguards/session'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditRequests, readCookie, requireAccess, requireSession, SOURCE } from '../src/index.js'

const MIN = 60_000
const clock = manualClock(Date.UTC(2026, 10, 22, 9, 0, 0))
let dir: string
let server: Server
let base: string
let log: AuditLog
let sessions: SessionManager
const audited: Promise<unknown>[] = []

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sg-express-'))
  log = await openAuditLog({ store: await openFileStore({ dir, stream: 'api' }), clock })
  const origAppend = log.append.bind(log)
  log.append = (e) => {
    const p = origAppend(e)
    audited.push(p)
    return p
  }
  sessions = createSessionManager({ clock })
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
  const app = express()
  app.use(
    auditRequests(log, {
      observer: 'clinic-api',
      clock,
      patient: (req) => (typeof req.params.patient === 'string' ? req.params.patient : undefined),
    }),
  )
  app.use('/api', requireSession(sessions, { tenant: 'clinic-a', roles: (s) => roles[s.userId] ?? [] }))
  app.get(
    '/api/patients/:patient/observations',
    requireAccess(pdp, 'read', (req) => ({
      type: 'Observation',
      tenant: 'clinic-a',
      patient: String(req.params.patient),
    })),
    (_req, res) => {
      res.json({ observations: [{ code: 'HbA1c', value: 7.9 }] })
    },
  )
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

const get = (path: string, token?: string) =>
  fetch(`${base}${path}`, token ? { headers: { cookie: `theme=dark; sid=${token}` } } : {})

describe('express middleware', () => {
  it('reads one cookie out of many', () => {
    expect(readCookie('a=1; sid=abc; b=2', 'sid')).toBe('abc')
    expect(readCookie('xsid=abc', 'sid')).toBeUndefined()
    expect(readCookie(undefined, 'sid')).toBeUndefined()
  })

  it('401 without a session, with a forged one, and after the idle timeout', async () => {
    expect((await get('/api/patients/p-1/observations')).status).toBe(401)
    expect((await get('/api/patients/p-1/observations', 'forged-token')).status).toBe(401)
    const { token } = await sessions.create('u-17')
    expect((await get('/api/patients/p-1/observations', token)).status).toBe(200)
    clock.advance(15 * MIN)
    const res = await get('/api/patients/p-1/observations', token)
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({ error: 'unauthenticated' })
  })

  it('200 for an allowed role, 403 with the reason otherwise', async () => {
    const nurse = await sessions.create('u-17')
    const ok = await get('/api/patients/p-1/observations', nurse.token)
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ observations: [{ code: 'HbA1c', value: 7.9 }] })
    const desk = await sessions.create('u-3')
    const no = await get('/api/patients/p-1/observations', desk.token)
    expect(no.status).toBe(403)
    const body = (await no.json()) as { error: string; reason: string }
    expect(body.error).toBe('forbidden')
    expect(body.reason).toBe('no_matching_allow')
  })

  it('appends one verifiable audit event per request, refusals included, without tokens', async () => {
    await Promise.all(audited)
    const records: { event: Record<string, unknown> }[] = []
    const store = await openFileStore({ dir, readOnly: true })
    for await (const r of store.read(0)) records.push(JSON.parse(new TextDecoder().decode(r.bytes)))
    await store.close()
    expect(records).toHaveLength(audited.length)
    expect(records.length).toBeGreaterThanOrEqual(6)
    const codes = records.map((r) => r.event.outcomeCode)
    expect(codes).toEqual(
      expect.arrayContaining(['allow', 'no_session', 'invalid_session', 'no_matching_allow']),
    )
    const denied = records.find((r) => r.event.outcomeCode === 'no_matching_allow')?.event
    expect(denied).toMatchObject({
      type: 'rest',
      subtype: ['read'],
      action: 'R',
      outcome: 4,
      agents: [{ who: 'u-3', requestor: true }],
      patient: 'p-1',
      entities: [{ what: 'Observation', type: '2', role: '4' }],
      details: { event: 'access.denied', emitter: SOURCE, tenant: 'clinic-a', 'counts.status': 403 },
    })
    const read = records.find((r) => r.event.outcomeCode === 'allow')?.event
    expect(read).toMatchObject({
      outcome: 0,
      agents: [{ who: 'u-17', requestor: true }],
      details: { event: 'record.accessed', emitter: SOURCE, tenant: 'clinic-a', 'counts.status': 200 },
    })
    const json = JSON.stringify(records)
    expect(json).not.toContain('forged-token')
    const report = await verifyLog(await openFileStore({ dir, readOnly: true }))
    expect(report.records).toBe(records.length)
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([])
  })

  it('503 instead of the data when the audit record cannot be written', async () => {
    const errors: unknown[] = []
    const failing = express()
    failing.use(
      auditRequests(
        { append: () => Promise.reject(new Error('audit store down')) },
        { observer: 'clinic-api', onError: (e) => errors.push(e) },
      ),
    )
    failing.get('/data', (_req, res) => {
      res.json({ observations: [{ code: 'HbA1c', value: 7.9 }] })
    })
    const s = await new Promise<Server>((resolve) => {
      const srv = failing.listen(0, '127.0.0.1', () => resolve(srv))
    })
    try {
      const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/data`)
      expect(res.status).toBe(503)
      const text = await res.text()
      expect(JSON.parse(text)).toEqual({ error: 'audit_unavailable' })
      expect(text).not.toContain('HbA1c')
      expect(errors).toMatchObject([{ code: 'ERR_EVENT_SINK' }])
    } finally {
      await new Promise((r) => s.close(r))
    }
  })
})
