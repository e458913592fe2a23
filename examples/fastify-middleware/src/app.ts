/**
 * The clinic API on `@safeguards/fastify`: the plugin does sessions, CSRF, the access guard, the
 * audit record of every request and the security headers; the app supplies its policy, its
 * directory and its routes. Public `/health` and `/login`; everything under `/api` needs a session.
 */
import type { AuditLog, Pseudonymizer } from '@safeguards/audit-log'
import type { Clock } from '@safeguards/core'
import { safeguards } from '@safeguards/fastify'
import type { DecisionPoint } from '@safeguards/rbac'
import type { SessionManager } from '@safeguards/session'
import Fastify, { type FastifyInstance } from 'fastify'

/** What the app needs from its surroundings. */
export interface ClinicOptions {
  sessions: SessionManager
  pdp: DecisionPoint
  log: Pick<AuditLog, 'append'>
  pseudonymize: Pseudonymizer
  csrfKey: Uint8Array
  /** The user directory: roles by user id, and the password check (a stand-in for yours). */
  directory: { rolesOf(userId: string): string[]; verify(userId: string, password: string): boolean }
  clock?: Clock
  onAuditError?: (error: unknown) => void
}

/** Builds the app (not listening). */
export async function buildApp(options: ClinicOptions): Promise<FastifyInstance> {
  const { directory } = options
  const app = Fastify()
  await app.register(safeguards, {
    sessions: options.sessions,
    pdp: options.pdp,
    log: options.log,
    observer: 'clinic-api',
    pseudonymize: options.pseudonymize,
    csrfKey: options.csrfKey,
    subject: (s) => ({ id: s.userId, tenant: 'clinic-a', roles: directory.rolesOf(s.userId) }),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.onAuditError ? { onAuditError: options.onAuditError } : {}),
  })
  app.get('/health', async () => ({ ok: true }))
  app.post<{ Body: { user: string; password: string } }>('/login', async (request, reply) => {
    const { user, password } = request.body
    if (!(await reply.throttleSignIn(user))) return reply
    if (!directory.verify(user, password)) return reply.code(401).send({ error: 'unauthenticated' })
    await reply.signIn(user)
    return reply.code(204).send()
  })
  await app.register(
    async (api) => {
      api.addHook('onRequest', api.requireSession)
      type R = { Params: { patient: string } }
      api.get<R>(
        '/patients/:patient/observations',
        {
          preHandler: api.requireAccess<R>('read', (request) => ({
            resource: { type: 'Observation', tenant: 'clinic-a', patient: request.params.patient },
          })),
        },
        async () => ({ observations: [{ code: 'HbA1c', value: 7.9 }] }),
      )
      api.post('/logout', async (_request, reply) => {
        await reply.signOut()
        return reply.code(204).send()
      })
    },
    { prefix: '/api' },
  )
  return app
}
