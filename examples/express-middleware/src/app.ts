/**
 * A thin Express 5 app on `@safeguards/express`: sign-in with throttling, session checks with
 * CSRF, an access check per route, one audit record per request, and the idle watcher's
 * endpoints. Everything security-related is the package's; this file is the app's routes.
 */
import type { AuditLog } from '@safeguards/audit-log'
import type { Clock } from '@safeguards/core'
import { safeguards } from '@safeguards/express'
import type { DecisionPoint } from '@safeguards/rbac'
import type { SessionManager } from '@safeguards/session'
import express, { type Express } from 'express'

/** What the app needs from its environment. */
export interface ClinicDeps {
  sessions: SessionManager
  log: Pick<AuditLog, 'append'>
  pdp: DecisionPoint
  /** The CSRF secret (32 bytes or more, from a secret store). */
  csrfKey: Uint8Array
  /** Roles of a user, from the directory. */
  rolesOf: (userId: string) => string[]
  /** Checks a password; the user id, or null. */
  checkPassword: (user: string, password: string) => Promise<string | null>
  clock?: Clock
  onAuditError?: (e: unknown) => void
}

/** The clinic's Express app. */
export function createClinicApp(deps: ClinicDeps): Express {
  const sg = safeguards({
    sessions: deps.sessions,
    audit: {
      log: deps.log,
      observer: 'clinic-api',
      ...(deps.onAuditError ? { onError: deps.onAuditError } : {}),
    },
    policy: deps.pdp,
    subject: (s) => ({ id: s.userId, tenant: 'clinic-a', roles: deps.rolesOf(s.userId) }),
    csrf: { key: deps.csrfKey },
    ...(deps.clock ? { clock: deps.clock } : {}),
  })
  const app = express()
  app.use(sg.middleware())
  app.use(express.json())
  app.post(
    '/login',
    sg.throttleSignIn((req) => String(req.body?.user)),
    async (req, res) => {
      const userId = await deps.checkPassword(String(req.body?.user), String(req.body?.password))
      if (userId === null) {
        res.status(401).json({ error: 'unauthenticated' })
        return
      }
      const session = await req.safeguards.signIn(userId)
      res.json({ idle: deps.sessions.timeLeft(session) })
    },
  )
  app.post('/logout', sg.requireSession(), async (req, res) => {
    await req.safeguards.signOut()
    res.status(204).end()
  })
  app.get('/session/status', sg.idleStatus())
  app.post('/session/keep-alive', sg.keepAlive())
  app.get(
    '/api/patients/:patient/observations',
    sg.requireSession(),
    sg.requireAccess('read', (req) => ({
      type: 'Observation',
      tenant: 'clinic-a',
      patient: String(req.params.patient),
    })),
    (_req, res) => {
      res.json({ observations: [{ code: 'HbA1c', value: 7.9 }] })
    },
  )
  return app
}
