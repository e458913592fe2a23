/**
 * Per-request overhead of the full @safeguards/hono stack (security headers, request audit,
 * session from the cookie, CSRF check, policy guard) against a bare Hono handler returning the
 * same JSON, both served by @hono/node-server on 127.0.0.1 and called over real HTTP keep-alive
 * (one connection, one request at a time), in alternating rounds of the same run.
 *
 * Two scenarios: the audit appending to memory (the middleware's own cost), and to a real file
 * audit log (what a deployment pays per request, the append included).
 *
 *   npx tsx --conditions=@safeguards/source scripts/bench/run.ts hono
 */
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import { type AuditLog, openAuditLog, openFileStore } from '@safeguards/audit-log'
import { compilePolicy } from '@safeguards/rbac'
import { createSessionManager } from '@safeguards/session'
import { Hono } from 'hono'
import type { Scenario } from '../../../scripts/bench/types.ts'
import {
  createCsrf,
  csrfProtection,
  guard,
  requestAudit,
  type SafeguardsEnv,
  securityHeaders,
  session,
  signIn,
} from '../src/index.js'

type Server = ReturnType<typeof serve>
const DATA = { observations: [{ code: 'HbA1c', value: 7.9 }] }
const PATH = '/api/patients/p1/observations'

const listen = (
  fetch: (r: Request) => Response | Promise<Response>,
): Promise<{ server: Server; url: string }> =>
  new Promise((resolve) => {
    const server = serve({ fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) =>
      resolve({ server, url: `http://127.0.0.1:${info.port}` }),
    )
  })

const close = (s: Server | undefined): Promise<void> =>
  new Promise((r) => {
    if (s === undefined) return r()
    s.close(() => r())
    ;(s as { closeAllConnections?: () => void }).closeAllConnections?.()
  })

/** The full stack; returns its server, URL and the cookie of a signed-in nurse. */
async function full(log: Pick<AuditLog, 'append'>) {
  const sessions = createSessionManager()
  const pdp = compilePolicy({
    version: 1,
    tenants: ['clinic-a'],
    roles: [{ id: 'nurse' }],
    rules: [{ id: 'r', effect: 'allow', roles: ['nurse'], actions: ['read'], resources: ['Observation'] }],
  })
  const csrf = createCsrf(new Uint8Array(32).fill(7))
  const app = new Hono<SafeguardsEnv>()
  app.use(securityHeaders(), requestAudit(log, { observer: 'bench' }))
  app.post('/login', async (c) => {
    await signIn(c, sessions, 'u-nurse', { role: 'nurse', csrf })
    return c.json({ ok: true })
  })
  app.use('/api/*', session(sessions), csrfProtection(csrf))
  app.get(
    '/api/patients/:id/observations',
    guard(pdp, (c) => ({
      subject: { id: c.var.session.userId, tenant: 'clinic-a', roles: ['nurse'] },
      action: 'read',
      resource: { type: 'Observation', tenant: 'clinic-a', patient: c.req.param('id') ?? '' },
    })),
    (c) => c.json(DATA),
  )
  const { server, url } = await listen(app.fetch)
  const res = await fetch(`${url}/login`, { method: 'POST' })
  const cookie = res.headers
    .getSetCookie()
    .map((l) => l.split(';')[0])
    .join('; ')
  await res.text()
  return { server, url, cookie }
}

function scenario(
  name: string,
  openLog: () => Promise<{ log: Pick<AuditLog, 'append'>; close(): Promise<void> }>,
): Scenario {
  let ours: { server: Server; url: string; cookie: string } | undefined
  let bare: { server: Server; url: string } | undefined
  let log: { close(): Promise<void> } | undefined
  return {
    name,
    unit: 'req/s',
    timeMs: 4000,
    rounds: 8,
    async setup() {
      const l = await openLog()
      log = l
      ours = await full(l.log)
      const plain = new Hono()
      plain.get('/api/patients/:id/observations', (c) => c.json(DATA))
      bare = await listen(plain.fetch)
    },
    async teardown() {
      await close(ours?.server)
      await close(bare?.server)
      await log?.close()
    },
    ours: {
      name: '@safeguards/hono full stack',
      op: async () => {
        const r = await fetch(`${ours!.url}${PATH}`, { headers: { cookie: ours!.cookie } })
        if (r.status !== 200) throw new Error(`status ${r.status}`)
        await r.arrayBuffer()
      },
    },
    anchor: {
      name: 'bare Hono handler',
      op: async () => {
        const r = await fetch(`${bare!.url}${PATH}`)
        await r.arrayBuffer()
      },
    },
  }
}

const memory = async () => ({
  log: { append: async () => ({}) as never } as unknown as Pick<AuditLog, 'append'>,
  close: async () => undefined,
})

const file = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sg-hono-bench-'))
  const log = await openAuditLog({ store: await openFileStore({ dir, stream: 'bench' }) })
  return {
    log,
    async close() {
      await log.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export default [
  scenario('hono request, audit to memory', memory),
  scenario('hono request, audit to a file log', file),
] satisfies Scenario[]
