/**
 * Express middleware for the three checks every PHI route needs: a valid session (automatic
 * logoff), an access decision with a reason (RBAC), and an audit record per request, written
 * through `auditSink` (a critical sink) before the response leaves.
 */
import { type AuditLog, auditSink, type Pseudonymizer } from '@safeguards/audit-log'
import { type Clock, createEmitter, type SafeguardEvent, systemClock } from '@safeguards/core'
import type { Decision, DecisionPoint, Resource, Subject } from '@safeguards/rbac'
import type { Session, SessionManager } from '@safeguards/session'
import type { NextFunction, Request, RequestHandler, Response } from 'express'

/** What the middleware attaches to `res.locals`. */
export interface SafeguardsLocals {
  session?: Session
  subject?: Subject
  decision?: { allowed: boolean; reason: string }
  /** Why the session check refused the request. */
  authn?: 'no_session' | 'invalid_session'
  /** The access check that ran: its action, resource and decision. */
  access?: { action: string; resource: Resource; decision: Decision }
}

/** Reads one cookie from the `Cookie` header (no cookie-parser dependency needed). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/**
 * Validates the session cookie; 401 without one or once it has expired (idle or absolute) or
 * been revoked. `activity: false` for background polling routes, so they do not keep a session
 * alive. HIPAA: 164.312(a)(2)(iii) automatic logoff, 164.312(d) person or entity authentication.
 */
export function requireSession(
  sessions: SessionManager,
  options: {
    cookie?: string
    activity?: (req: Request) => boolean
    tenant: string
    roles: (s: Session) => string[]
  },
): RequestHandler {
  const cookie = options.cookie ?? 'sid'
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const token = readCookie(req.headers.cookie, cookie)
      const session = token
        ? await sessions.validate(token, { activity: options.activity?.(req) ?? true })
        : null
      if (!session) {
        ;(res.locals as SafeguardsLocals).authn = token ? 'invalid_session' : 'no_session'
        res.status(401).json({ error: 'unauthenticated' })
        return
      }
      const locals = res.locals as SafeguardsLocals
      locals.session = session
      locals.subject = { id: session.userId, tenant: options.tenant, roles: options.roles(session) }
      next()
    } catch (e) {
      next(e)
    }
  }
}

/**
 * Asks the policy decision point; 403 with the decision's reason (never the policy itself).
 * HIPAA: 164.312(a)(1) access control, 164.502(b) minimum necessary.
 */
export function requireAccess(
  pdp: DecisionPoint,
  action: string,
  resource: (req: Request) => Resource,
): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const locals = res.locals as SafeguardsLocals
    if (!locals.subject) {
      locals.authn = 'no_session'
      res.status(401).json({ error: 'unauthenticated' })
      return
    }
    const target = resource(req)
    const decision = pdp.decide({ subject: locals.subject, action, resource: target })
    locals.decision = { allowed: decision.allowed, reason: decision.reason }
    locals.access = { action, resource: target, decision }
    if (!decision.allowed) {
      res.status(403).json({ error: 'forbidden', reason: decision.reason })
      return
    }
    next()
  }
}

/** The `source` of the events the middleware emits. */
export const SOURCE = '@safeguards-examples/express-middleware'

const VERBS: Readonly<Record<string, string>> = {
  GET: 'read',
  HEAD: 'read',
  POST: 'create',
  PUT: 'update',
  PATCH: 'update',
  DELETE: 'delete',
}

/**
 * The record of one request, in core's vocabulary (the audit sink codes it): `access.denied` for a
 * refusal by the middleware (outcome 4), `access.emergency.used` when the decision relied on an
 * emergency grant (`BTG`), else `record.accessed` with the real outcome and the status as a count.
 */
export function requestRecord(req: Request, res: Response, at: number, patient?: string): SafeguardEvent {
  const locals = res.locals as SafeguardsLocals
  const { access } = locals
  const status = res.statusCode
  const refused = locals.authn !== undefined || (access !== undefined && !access.decision.allowed)
  const emergency = access?.decision.obligations.find((o) => o.id === 'audit:emergency-access')
  const common = {
    at,
    source: SOURCE,
    outcome: status < 400 ? ('success' as const) : ('failure' as const),
    ...(locals.session ? { actor: locals.session.userId } : {}),
    ...(patient ? { subject: patient } : {}),
    code: locals.authn ?? (access && (refused || status < 400) ? access.decision.reason : String(status)),
    counts: { status },
    action: access?.action ?? VERBS[req.method] ?? 'execute',
    resourceType: access?.resource.type ?? (req.route?.path ? String(req.route.path) : 'unmatched'),
    ...(access ? { tenant: access.resource.tenant } : {}),
  }
  if (refused) return { ...common, type: 'access.denied' }
  if (emergency?.grant !== undefined)
    return { ...common, type: 'access.emergency.used', grantId: emergency.grant }
  return { ...common, type: 'record.accessed' }
}

/**
 * Records one access per request through `auditSink(log, …)` (critical) before the response
 * leaves: the response's `end` waits for the record; when it cannot be written the client gets
 * 503 `{ error: 'audit_unavailable' }` instead of the data (fail closed). Who, what (the access
 * check, or the method and route, never the query string or body), the outcome with its reason.
 * Mount it first so refused requests (401/403) are recorded too.
 * HIPAA: 164.312(b) audit controls, 164.308(a)(1)(ii)(D) information system activity review.
 */
export function auditRequests(
  log: Pick<AuditLog, 'append'>,
  options: {
    observer: string
    patient?: (req: Request) => string | undefined
    /** Keyed pseudonyms for patient ids (recommended). */
    pseudonymize?: Pseudonymizer
    onError?: (e: unknown) => void
    clock?: Clock
  },
): RequestHandler {
  const { pseudonymize } = options
  const sink = auditSink(log, { source: options.observer, ...(pseudonymize ? { pseudonymize } : {}) })
  const records = createEmitter({ events: sink })
  const clock = options.clock ?? systemClock
  return (req: Request, res: Response, next: NextFunction) => {
    const end = res.end.bind(res) as (...args: unknown[]) => Response
    res.end = ((...args: unknown[]) => {
      const record = async () => records.emit(requestRecord(req, res, clock.now(), options.patient?.(req)))
      record().then(
        () => end(...args),
        (e: unknown) => {
          options.onError?.(e)
          if (res.headersSent) {
            res.destroy() // a streamed body cannot be withdrawn: cut it
            return
          }
          const body = JSON.stringify({ error: 'audit_unavailable' })
          res
            .status(503)
            .set({ 'content-type': 'application/json; charset=utf-8', 'content-length': `${body.length}` })
          end(body)
        },
      )
      return res
    }) as Response['end']
    next()
  }
}
