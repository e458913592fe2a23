import { Readable } from 'node:stream'
import { HttpConfigError } from '@safeguards/http'
import Fastify from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { expectUnavailable } from '../../http/test/support/conformance.js'
import { safeguards } from '../src/index.js'
import { CSRF_COOKIE, cookieHeader, type FastifyTestApp, login, startApp } from './support/app.js'

let t: FastifyTestApp
afterEach(async () => t?.close())

const get = (path: string, c: Record<string, string> = {}) =>
  fetch(`${t.base}${path}`, { headers: { cookie: cookieHeader(c) } })

describe('Fastify specifics', () => {
  it('a handler error is a 500 with the security headers, audited once with its status', async () => {
    t = await startApp({
      extra: (app) =>
        app.get('/boom', { onRequest: app.requireSession }, async () => {
          throw new Error('boom')
        }),
    })
    const c = await login(t.base, 'u-nurse')
    const before = t.audited.length
    const res = await get('/boom', c)
    expect(res.status).toBe(500)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(t.audited.length).toBe(before + 1)
    expect(t.audited.at(-1)).toMatchObject({ outcomeCode: '500', details: { event: 'record.accessed' } })
  })

  it('404s are audited without a route pattern, with the security headers', async () => {
    t = await startApp()
    const res = await get('/nothing-here?mrn=123')
    expect(res.status).toBe(404)
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    const last = t.audited.at(-1)
    expect(last?.entities?.[0]?.what).toBe('unmatched')
    expect(JSON.stringify(last)).not.toContain('mrn')
  })

  it('audit down: a streamed body is destroyed, the handler headers and cookies dropped, the security headers kept', async () => {
    let destroyed = false
    t = await startApp({
      extra: (app) =>
        app.get('/stream', { onRequest: app.requireSession }, async (_request, reply) => {
          const body = new Readable({ read() {} })
          body.on('close', () => {
            destroyed = true
          })
          body.push('HbA1c 7.9')
          body.push(null)
          return reply.header('x-patient-name', 'Jane').header('set-cookie', 'a=b').send(body)
        }),
    })
    const c = await login(t.base, 'u-nurse')
    const ok = await get('/stream', c)
    expect([ok.status, await ok.text()]).toEqual([200, 'HbA1c 7.9'])
    t.auditDown.value = true
    const res = await get('/stream', c)
    await expectUnavailable(res, 'audit_unavailable')
    expect(res.headers.get('x-patient-name')).toBeNull()
    expect(res.headers.getSetCookie()).toEqual([])
    expect(destroyed).toBe(true)
  })

  it('requireAccess without requireSession fails closed (401 session_absent), the handler never runs', async () => {
    let ran = false
    t = await startApp({
      extra: (app) =>
        app.get(
          '/forgot',
          {
            preHandler: app.requireAccess('read', () => ({
              resource: { type: 'Observation', tenant: 'clinic-a' },
            })),
          },
          async () => {
            ran = true
            return {}
          },
        ),
    })
    const c = await login(t.base, 'u-nurse')
    const res = await get('/forgot', c)
    expect([res.status, await res.json()]).toEqual([
      401,
      { error: 'unauthenticated', reason: 'session_absent' },
    ])
    expect(ran).toBe(false)
  })

  it('the handler never runs after a refusal by requireSession or CSRF', async () => {
    let ran = 0
    t = await startApp({
      extra: (app) =>
        app.post('/write', { onRequest: app.requireSession }, async () => {
          ran++
          return {}
        }),
    })
    expect((await fetch(`${t.base}/write`, { method: 'POST' })).status).toBe(401)
    const c = await login(t.base, 'u-nurse')
    const res = await fetch(`${t.base}/write`, { method: 'POST', headers: { cookie: cookieHeader(c) } })
    expect([res.status, ((await res.json()) as { reason: string }).reason]).toEqual([403, 'csrf_missing'])
    expect(ran).toBe(0)
    const ok = await fetch(`${t.base}/write`, {
      method: 'POST',
      headers: { cookie: cookieHeader(c), 'x-csrf-token': c[CSRF_COOKIE] as string },
    })
    expect([ok.status, ran]).toEqual([200, 1])
  })

  it('the sign-in sets the CSRF cookie beside the session cookie; the login is audited with the user', async () => {
    t = await startApp()
    const c = await login(t.base, 'u-nurse')
    expect(c[CSRF_COOKIE]).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/)
    expect(t.audited.at(-1)).toMatchObject({ agents: [{ who: 'u-nurse' }], entities: [{ what: '/login' }] })
  })

  it('refuses unknown, missing and malformed options at registration', async () => {
    for (const bad of [
      { nope: 1 },
      {},
      { sessions: {}, pdp: {}, subject: () => ({}), log: {}, observer: 'x', csrfKey: 'k' },
    ]) {
      const app = Fastify()
      app.register(safeguards, bad as never)
      await expect(app.ready()).rejects.toBeInstanceOf(HttpConfigError)
      await app.close()
    }
  })
})
