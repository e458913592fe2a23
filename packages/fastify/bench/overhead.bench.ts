/**
 * Per-request overhead of the full plugin stack (security headers, session cookie resolved,
 * access decided by a compiled policy, one audit record appended in onSend before the reply
 * leaves) against a bare Fastify handler returning the same JSON, both over real HTTP keep-alive
 * (`fetch`, one request at a time) in the same run, in alternating rounds. The audit log is an
 * in-memory append, so the figure is the adapter's cost, not a disk's.
 */
import type { AuditEvent, AuditLog } from '@safeguards/audit-log'
import { compilePolicy } from '@safeguards/rbac'
import { createSessionManager } from '@safeguards/session'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Scenario } from '../../../scripts/bench/types.ts'
import { cookieHeader, cookiesOf, PASSWORD, POLICY } from '../../http/test/support/app.js'
import { safeguards } from '../src/index.js'

const DATA = { observations: [{ code: 'HbA1c', value: 7.9 }] }
let ours: FastifyInstance
let bare: FastifyInstance
let oursUrl = ''
let bareUrl = ''
let cookie = ''

async function setup(): Promise<void> {
  bare = Fastify()
  bare.get('/patients/:patient/observations', async () => DATA)
  bareUrl = `${await bare.listen({ port: 0, host: '127.0.0.1' })}/patients/p1/observations`

  ours = Fastify()
  const records: AuditEvent[] = []
  const log: Pick<AuditLog, 'append'> = {
    async append(e: AuditEvent) {
      if (records.push(e) > 10_000) records.length = 0
      return {} as never
    },
  }
  await ours.register(safeguards, {
    sessions: createSessionManager({ idleTimeoutMs: 3_600_000 }),
    pdp: compilePolicy(POLICY),
    log,
    observer: 'bench',
    csrfKey: new Uint8Array(32).fill(7),
    subject: (s) => ({ id: s.userId, tenant: 'clinic-a', roles: ['nurse'] }),
  })
  ours.post('/login', async (_request, reply) => {
    await reply.signIn('u-nurse')
    return { ok: true }
  })
  ours.register(async (api) => {
    api.addHook('onRequest', api.requireSession)
    api.get<{ Params: { patient: string } }>(
      '/patients/:patient/observations',
      {
        preHandler: api.requireAccess<{ Params: { patient: string } }>('read', (request) => ({
          resource: { type: 'Observation', tenant: 'clinic-a', patient: request.params.patient },
        })),
      },
      async () => DATA,
    )
  })
  const base = await ours.listen({ port: 0, host: '127.0.0.1' })
  oursUrl = `${base}/patients/p1/observations`
  const res = await fetch(`${base}/login`, { method: 'POST', body: PASSWORD })
  cookie = cookieHeader(cookiesOf(res))
  const check = await fetch(oursUrl, { headers: { cookie } })
  if (check.status !== 200) throw new Error(`bench app answered ${check.status}`)
}

const call = async (url: string, headers: Record<string, string>): Promise<void> => {
  const res = await fetch(url, { headers })
  await res.arrayBuffer()
}

const scenarios: Scenario[] = [
  {
    name: 'fastify: session + access + audit + headers per request (HTTP keep-alive)',
    unit: 'req/s',
    ours: { name: '@safeguards/fastify plugin', op: () => call(oursUrl, { cookie }) },
    anchor: { name: 'bare Fastify handler', op: () => call(bareUrl, {}) },
    setup,
    teardown: async () => {
      await ours.close()
      await bare.close()
    },
    timeMs: 4000,
    rounds: 8,
  },
]
export default scenarios
