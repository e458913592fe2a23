/**
 * A Fastify 5 plugin for the three checks every PHI route needs: a valid session (automatic
 * logoff), an access decision with a reason (RBAC), and an audit record per request, written
 * before the response leaves (fail closed: no audit record, no data). The record is a core
 * `SafeguardEvent` (`record.accessed`, `access.denied` or `access.emergency.used`) emitted to
 * `auditSink(log, …)` of `@safeguards/audit-log` as a critical sink: the sink's table codes it.
 *
 * It is wrapped with `fastify-plugin`, so its request decorators and its audit hook reach the
 * whole app; the session and access checks are hooks the app attaches where it wants them, to an
 * encapsulated context (`api.addHook('onRequest', api.requireSession)`) or to one route
 * (`{ preHandler: app.requireAccess('read', …) }`).
 */
import { type AuditLog, auditSink, type Pseudonymizer } from '@safeguards/audit-log'
import { type Clock, createEmitter, isSafeguardsError, systemClock } from '@safeguards/core'
import type { AccessRequest, Decision, DecisionPoint, Subject } from '@safeguards/rbac'
import type { Session, SessionManager } from '@safeguards/session'
import type {
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  onRequestAsyncHookHandler,
  preHandlerAsyncHookHandler,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
} from 'fastify'
import fp from 'fastify-plugin'
import { type AuthnFailure, requestRecord } from './audit-event.js'
import { clearedSessionCookie, readCookie } from './cookie.js'

/** What an access check decides on, besides the subject (from the session) and the action. */
export type AccessTarget = Omit<AccessRequest, 'subject' | 'action'>

/** The preHandler hook `requireAccess` returns, typed for the route's params, query and body. */
export type AccessHook<R extends RouteGenericInterface = RouteGenericInterface> = preHandlerAsyncHookHandler<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  R
>

declare module 'fastify' {
  interface FastifyRequest {
    /** The validated session, once `requireSession` has run on this route; otherwise null. */
    session: Session | null
    /** The RBAC subject built from the session (user id, tenant, roles); otherwise null. */
    subject: Subject | null
    /** The access decision, once a `requireAccess` hook has run on this route; otherwise null. */
    decision: Decision | null
  }

  interface FastifyInstance {
    /**
     * An `onRequest` hook: 401 without a valid session (missing, forged, idle- or absolute-expired,
     * revoked), 503 when the session store is down; otherwise sets `request.session` and
     * `request.subject`. HIPAA: 164.312(a)(2)(iii) automatic logoff, 164.312(d) authentication.
     */
    requireSession: onRequestAsyncHookHandler
    /**
     * A `preHandler` hook that asks the policy decision point; 403 with the decision's reason code
     * (never the policy). HIPAA: 164.312(a)(1) access control, 164.502(b) minimum necessary.
     */
    requireAccess<R extends RouteGenericInterface = RouteGenericInterface>(
      action: string,
      target: (request: FastifyRequest<R>) => AccessTarget,
    ): AccessHook<R>
  }

  interface FastifyContextConfig {
    /**
     * `false` on polling routes (a notification badge, a "time left" probe): their requests do not
     * count as user activity, so they cannot keep an idle session alive. Default true.
     */
    sessionActivity?: boolean
  }
}

/** Options of the plugin. */
export interface SafeguardsPluginOptions {
  /** The session manager (`createSessionManager`; a Redis store when there is more than one process). */
  sessions: SessionManager
  /** The compiled policy (`compilePolicy`). */
  pdp: DecisionPoint
  /** The audit log every request is recorded in (through `auditSink`, critical). */
  log: AuditLog
  /** Keyed pseudonyms for patient ids, so that the audit log holds no patient identifier. */
  pseudonymizer: Pseudonymizer
  /** The audit source (`source.observer`): this application's name. */
  observer: string
  /** The clock of the records' time (default the system clock). */
  clock?: Clock
  /** The tenant the subject's roles are held in. */
  tenant: string | ((session: Session) => string)
  /** The subject's roles (from your directory); may be async. */
  roles: (session: Session) => readonly string[] | Promise<readonly string[]>
  /** The session cookie's name. Default `__Host-sid`. */
  cookie?: string
  /** Whether a request counts as user activity, on top of the route's `sessionActivity` config. */
  activity?: (request: FastifyRequest) => boolean
  /** The patient a request concerns when no access check names one (for refused requests). */
  patient?: (request: FastifyRequest) => string | undefined
  /** Called when an audit append fails (the reply is then a 503). Default: logs the error code. */
  onAuditError?: (error: unknown, request: FastifyRequest) => void
}

interface Facts {
  authn?: AuthnFailure
  access?: { action: string; resource: AccessTarget['resource']; decision: Decision }
  patient?: string
}

const safeguards: FastifyPluginAsync<SafeguardsPluginOptions> = async (fastify, options) => {
  const { sessions, pdp, log, pseudonymizer, observer, tenant } = options
  const clock = options.clock ?? systemClock
  const records = createEmitter({ events: auditSink(log, { source: observer, pseudonymize: pseudonymizer }) })
  const cookie = options.cookie ?? '__Host-sid'
  const tenantOf = typeof tenant === 'string' ? () => tenant : tenant
  const onAuditError =
    options.onAuditError ??
    ((error: unknown, request: FastifyRequest) => {
      request.log.error({ code: isSafeguardsError(error) ? error.code : 'unknown' }, 'audit append failed')
    })
  // Per-request notes the audit hook reads; a WeakMap, so nothing is left behind.
  const facts = new WeakMap<FastifyRequest, Facts>()
  const note = (request: FastifyRequest): Facts => {
    const known = facts.get(request)
    if (known !== undefined) return known
    const f: Facts = {}
    facts.set(request, f)
    return f
  }
  const refuse = (request: FastifyRequest, reply: FastifyReply, authn: AuthnFailure): FastifyReply => {
    note(request).authn = authn
    if (authn === 'session_store_unavailable')
      return reply.code(503).send({ error: 'session_store_unavailable' })
    if (authn === 'invalid_session') reply.header('set-cookie', clearedSessionCookie(cookie))
    return reply.code(401).send({ error: 'unauthenticated' })
  }

  fastify.decorateRequest('session', null)
  fastify.decorateRequest('subject', null)
  fastify.decorateRequest('decision', null)

  const requireSession: onRequestAsyncHookHandler = async (request, reply) => {
    const token = readCookie(request.headers.cookie, cookie)
    if (token === undefined) return refuse(request, reply, 'no_session')
    const activity =
      request.routeOptions.config.sessionActivity !== false && (options.activity?.(request) ?? true)
    let session: Session | null
    try {
      session = await sessions.validate(token, { activity })
    } catch (e) {
      if (isSafeguardsError(e, 'ERR_SESSION_STORE_UNAVAILABLE'))
        return refuse(request, reply, 'session_store_unavailable')
      throw e
    }
    if (session === null) return refuse(request, reply, 'invalid_session')
    request.session = session
    request.subject = { id: session.userId, tenant: tenantOf(session), roles: await options.roles(session) }
  }
  fastify.decorate('requireSession', requireSession)

  fastify.decorate(
    'requireAccess',
    <R extends RouteGenericInterface>(
      action: string,
      target: (request: FastifyRequest<R>) => AccessTarget,
    ): AccessHook<R> =>
      async (request, reply) => {
        // Without a session there is no subject: fail closed (the route forgot requireSession).
        if (request.subject === null) return refuse(request, reply, 'no_session')
        const t = target(request)
        const decision = pdp.decide({ ...t, subject: request.subject, action })
        request.decision = decision
        const f = note(request)
        f.access = { action, resource: t.resource, decision }
        if (t.resource.patient) f.patient = t.resource.patient
        if (!decision.allowed) return forbid(reply, decision)
      },
  )

  // onSend runs for every reply (handlers, 401/403 from hooks, 404, errors) before the payload is
  // written: the record is appended first, and a failed append replaces the payload with a 503.
  fastify.addHook('onSend', async (request, reply, payload) => {
    const f = facts.get(request) ?? {}
    try {
      const patient = f.patient ?? options.patient?.(request)
      await records.emit(
        requestRecord({
          at: clock.now(),
          method: request.method,
          route: request.routeOptions.url,
          status: reply.statusCode,
          userId: request.session?.userId,
          authn: f.authn,
          access: f.access,
          patient,
        }),
      )
      return payload
    } catch (e) {
      onAuditError(e, request)
      discard(payload)
      reply.code(503).removeHeader('content-length').type('application/json; charset=utf-8')
      return JSON.stringify({ error: 'audit_unavailable' })
    }
  })
}

/** 403 with the decision's reason code, never the policy or the rules. */
function forbid(reply: FastifyReply, decision: Decision): FastifyReply {
  return reply.code(403).send({ error: 'forbidden', reason: decision.reason })
}

/** Releases a payload that will not be sent (a stream would otherwise stay open). */
function discard(payload: unknown): void {
  if (typeof payload === 'object' && payload !== null && 'destroy' in payload) {
    const destroy = (payload as { destroy: unknown }).destroy
    if (typeof destroy === 'function') destroy.call(payload)
  }
}

/**
 * The plugin. Register it once, at the root, before the routes it protects:
 * `await app.register(safeguardsPlugin, { sessions, pdp, log, pseudonymizer, observer, tenant, roles })`.
 */
export const safeguardsPlugin: FastifyPluginAsync<SafeguardsPluginOptions> = fp(safeguards, {
  fastify: '5.x',
  name: '@safeguards-examples/fastify-middleware',
})
