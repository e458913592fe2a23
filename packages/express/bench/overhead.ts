/**
 * Per-request overhead of the full @safeguards/express stack (security headers, the response
 * held for its audit record, session resolution with a cookie, an access decision, one audit
 * record appended to an in-memory log) against a bare Express 5 handler returning the same JSON,
 * both over real HTTP on loopback through one keep-alive node:http client connection each. The
 * runner alternates rounds (ours, bare, ours, …) in the same process.
 */
import { Agent, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AuditLog } from '@safeguards/audit-log'
import { compilePolicy } from '@safeguards/rbac'
import { createSessionManager } from '@safeguards/session'
import express from 'express'
import type { Scenario } from '../../../scripts/bench/types.ts'
import { safeguards } from '../src/index.js'

const BODY = { observations: [{ code: 'HbA1c', value: 7.9 }] }

interface Target {
  port: number
  agent: Agent
  cookie: string
  server: Server
}

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve) => {
    const s: Server = app.listen(0, '127.0.0.1', () => resolve(s))
  })
}

function get(t: Target): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: t.port,
        path: '/patients/p1/observations',
        agent: t.agent,
        headers: { cookie: t.cookie },
      },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`))
        res.resume()
        res.on('end', () => resolve())
      },
    )
    req.on('error', reject)
    req.end()
  })
}

async function bare(): Promise<Target> {
  const app = express()
  app.get('/patients/:patient/observations', (_req, res) => {
    res.json(BODY)
  })
  const server = await listen(app)
  return {
    server,
    port: (server.address() as AddressInfo).port,
    agent: new Agent({ keepAlive: true, maxSockets: 1 }),
    cookie: '',
  }
}

async function full(): Promise<Target> {
  const sessions = createSessionManager()
  const records: unknown[] = []
  const log = {
    async append(e: unknown) {
      records.push(e)
      if (records.length > 10_000) records.length = 0
      return {} as never
    },
  } as unknown as Pick<AuditLog, 'append'>
  const policy = compilePolicy({
    version: 1,
    roles: [{ id: 'nurse' }],
    rules: [
      { id: 'nurse-read', effect: 'allow', roles: ['nurse'], actions: ['read'], resources: ['Observation'] },
    ],
  })
  const sg = safeguards({
    sessions,
    audit: { log, observer: 'bench' },
    policy,
    subject: (s) => ({ id: s.userId, tenant: 't', roles: ['nurse'] }),
    csrf: { key: new Uint8Array(32).fill(3) },
  })
  const app = express()
  app.use(sg.middleware())
  app.get(
    '/patients/:patient/observations',
    sg.requireSession(),
    sg.requireAccess('read', (req) => ({
      type: 'Observation',
      tenant: 't',
      patient: String(req.params.patient),
    })),
    (_req, res) => {
      res.json(BODY)
    },
  )
  const server = await listen(app)
  const { token } = await sessions.create('u-1')
  return {
    server,
    port: (server.address() as AddressInfo).port,
    agent: new Agent({ keepAlive: true, maxSockets: 1 }),
    cookie: `__Host-sg-session=${token}`,
  }
}

let ours: Target | undefined
let anchor: Target | undefined

const scenarios: Scenario[] = [
  {
    name: 'express: GET with the full @safeguards/express stack vs a bare Express handler (keep-alive, loopback)',
    unit: 'req/s',
    ours: { name: '@safeguards/express', op: () => get(ours as Target) },
    anchor: { name: 'bare Express 5 handler', op: () => get(anchor as Target) },
    target: { text: 'informational: per-request overhead = 1/ours - 1/bare' },
    async setup() {
      ours = await full()
      anchor = await bare()
    },
    async teardown() {
      for (const t of [ours, anchor]) {
        t?.agent.destroy()
        await new Promise((r) => t?.server.close(r))
      }
    },
  },
]

export default scenarios
