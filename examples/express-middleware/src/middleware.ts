/**
 * Express middleware for the three checks every PHI route needs: a valid session (automatic
 * logoff), an access decision with a reason (RBAC), and an audit event per request.
 */
import type { AuditAction, AuditLog, AuditOutcome } from '@safeguards/audit-log'
import type { DecisionPoint, Resource, Subject } from '@safeguards/rbac'
import type { Session, SessionManager } from '@safeguards/session'
import type { NextFunction, Request, RequestHandler, Response } from 'express'

/** What the middleware attaches to `res.locals`. */
export interface SafeguardsLocals {
  session?: Session
  subject?: Subject
  decision?: { allowed: boolean; reason: string }
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
      res.status(401).json({ error: 'unauthenticated' })
      return
    }
    const decision = pdp.decide({ subject: locals.subject, action, resource: resource(req) })
    locals.decision = { allowed: decision.allowed, reason: decision.reason }
    if (!decision.allowed) {
      res.status(403).json({ error: 'forbidden', reason: decision.reason })
      return
    }
    next()
  }
}

const ACTIONS: Record<string, AuditAction> = {
  GET: 'R',
  HEAD: 'R',
  POST: 'C',
  PUT: 'U',
  PATCH: 'U',
  DELETE: 'D',
}

/**
 * Appends one audit event per request once the response is finished: who, what (method and
 * route, never the query string or body), the outcome, and the access decision's reason.
 * Mount it first so refused requests (401/403) are recorded too.
 * HIPAA: 164.312(b) audit controls, 164.308(a)(1)(ii)(D) information system activity review.
 */
export function auditRequests(
  log: AuditLog,
  options: {
    observer: string
    patient?: (req: Request) => string | undefined
    onError?: (e: unknown) => void
  },
): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    res.on('finish', () => {
      const locals = res.locals as SafeguardsLocals
      const outcome: AuditOutcome = res.statusCode < 400 ? 0 : res.statusCode < 500 ? 4 : 8
      const patient = options.patient?.(req)
      log
        .append({
          type: 'rest',
          subtype: [req.method.toLowerCase()],
          action: ACTIONS[req.method] ?? 'E',
          outcome,
          outcomeCode: String(res.statusCode),
          agents: [{ who: locals.session ? `user/${locals.session.userId}` : 'anonymous', requestor: true }],
          source: { observer: options.observer },
          ...(patient ? { patient } : {}),
          details: {
            route: req.route?.path ? String(req.route.path) : req.path,
            ...(locals.decision ? { decision: locals.decision.reason } : {}),
          },
        })
        .catch((e: unknown) => options.onError?.(e))
    })
    next()
  }
}
