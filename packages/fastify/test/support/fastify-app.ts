/**
 * The reference app of `@safeguards/http`'s tests (packages/http/test/support/app.ts) on Fastify
 * with the plugin: same policy, users, clock, failure switches and routes (fixtures.ts).
 */
import type { ThrottleStore } from '@safeguards/http'
import { jsonReply } from '@safeguards/http'
import Fastify, { type FastifyInstance } from 'fastify'
import * as fx from '../../../http/test/support/fixtures.js'
import { type SafeguardsOptions, safeguards } from '../../src/index.js'

export interface FastifyTestApp extends fx.TestApp {
  app: FastifyInstance
}

/** Starts the app on an ephemeral port; `extra` registers more routes before it listens. */
export async function startFastifyApp(
  options: {
    throttleStore?: ThrottleStore
    extra?: (app: FastifyInstance) => void
    plugin?: Partial<SafeguardsOptions>
  } = {},
): Promise<FastifyTestApp> {
  const { log, ...deps } = fx.appDeps()
  const { clock, sessions, pdp } = deps
  const app = Fastify()
  await app.register(safeguards, {
    sessions,
    pdp,
    log,
    observer: 'test-api',
    clock,
    csrfKey: fx.CSRF_KEY,
    headers: { hsts: { maxAge: 31_536_000 } },
    subject: (s) => ({
      id: s.userId,
      tenant: 'clinic-a',
      roles: fx.rolesOf(s),
    }),
    throttle: fx.throttleRules(options.throttleStore),
    onAuditError: () => {},
    ...options.plugin,
  })

  app.post('/login', async (request, reply) => {
    const body = (typeof request.body === 'string' ? JSON.parse(request.body) : request.body) as {
      user: string
      password: string
    }
    if (!(await reply.throttleSignIn(body.user))) return reply
    if (body.password !== fx.PASSWORD)
      return reply.code(401).send({ error: 'unauthenticated', reason: 'bad_credentials' })
    const session = await reply.signIn(body.user)
    return { ok: true, idle: sessions.timeLeft(session) }
  })
  app.post('/logout', async (_request, reply) => {
    await reply.signOut()
    return reply.code(204).send()
  })
  app.setNotFoundHandler(async (_request, reply) => reply.refuse(jsonReply(404, { error: 'not_found' })))
  app.register(async (api) => {
    api.addHook('onRequest', api.requireSession)
    type R = { Params: { patient: string } }
    const target = (request: { params: { patient: string } }) => ({
      resource: { type: 'Observation', tenant: 'clinic-a', patient: request.params.patient },
    })
    api.get<R>(
      '/patients/:patient/observations',
      { preHandler: api.requireAccess<R>('read', target) },
      async () => ({ observations: [{ code: 'HbA1c', value: 7.9 }] }),
    )
    api.post<R & { Querystring: { promote?: string } }>(
      '/patients/:patient/observations',
      { preHandler: api.requireAccess<R>('create', target) },
      async (request, reply) => {
        if (request.query.promote !== '1') return { observations: [{ code: 'HbA1c', value: 7.9 }] }
        // A privilege change: the session rotates (a new token and CSRF cookie).
        const next = await reply.rotateSession({ role: 'admin' })
        return next === null ? reply.code(401).send() : { role: next.role }
      },
    )
    api.get<R>(
      '/patients/:patient/observations/export',
      { preHandler: api.requireAccess<R>('export', target) },
      async () => ({ observations: [] }),
    )
  })
  options.extra?.(app)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  return { ...deps, app, base: address, close: () => app.close() }
}
