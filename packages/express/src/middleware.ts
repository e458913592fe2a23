/**
 * Express 5 middleware over `@safeguards/http`: `safeguards(options)` returns the handlers an app
 * mounts. `middleware()` goes first (security headers, `req.safeguards`, the response held until
 * its audit record is written); `requireSession()` answers 401/503 with the reason and checks
 * CSRF on unsafe methods; `requireAccess(action, resource)` answers 403 with the decision's
 * reason; `throttleSignIn(account)` guards the password step; `idleStatus()` and `keepAlive()`
 * are the idle watcher's endpoints.
 *
 * @module
 */
import type { AuditLog, Pseudonymizer } from '@safeguards/audit-log'
import type { Clock } from '@safeguards/core'
import {
  type AccessOutcome,
  type CookieOptions,
  checkAccess,
  createCsrf,
  createRequestAudit,
  createSignInThrottle,
  type HttpReply,
  HttpThrottleStoreError,
  idleStatus as idleStatusReply,
  keepAlive as keepAliveReply,
  type RefusalReason,
  refusal,
  resolveSession,
  rotateSession,
  type SecurityHeadersOptions,
  type SignInThrottle,
  type SignInThrottleOptions,
  securityHeaders,
  signIn,
  signOut,
} from '@safeguards/http'
import type { DecisionPoint, Resource, Subject } from '@safeguards/rbac'
import type { Session, SessionManager } from '@safeguards/session'
import type { Request, RequestHandler, Response } from 'express'
import { holdResponse } from './internal/hold.js'
import type { RequestSafeguards } from './types.js'

/** Options of {@link safeguards}. */
export interface SafeguardsOptions {
  /** The session manager. */
  sessions: SessionManager
  /** Where the per-request audit records go (required: every request is recorded). */
  audit: {
    log: Pick<AuditLog, 'append'>
    /** This service's id, for example `ehr-api`. */
    observer: string
    pseudonymize?: Pseudonymizer
    /** The patient a request concerns, when the access check's resource does not name one. */
    patient?: (req: Request) => string | undefined
    onError?: (error: unknown) => void
  }
  /** The compiled policy, for `requireAccess`. */
  policy?: DecisionPoint
  /** Who the session's user is to the policy (roles, tenant), for `requireAccess`. */
  subject?: (session: Session, req: Request) => Subject
  /** Obligation ids the app fulfils itself (besides the emergency-access audit). */
  fulfils?: readonly string[]
  /** The emergency grant a request invokes (default: the `x-emergency-access` header). */
  emergencyGrant?: (req: Request) => string | undefined
  /** CSRF (signed double-submit): a secret of at least 32 bytes, or `false` for a token-only API. */
  csrf: { key: Uint8Array } | false
  /** The sign-in throttle, or its options. */
  throttle?: SignInThrottle | SignInThrottleOptions
  /** `securityHeaders` options, or `false` when a proxy sets them. */
  headers?: SecurityHeadersOptions | false
  /** The session cookie (default `__Host-sg-session`, `SameSite=Lax`). */
  cookie?: CookieOptions
  clock?: Clock
}

/** The handlers {@link safeguards} returns. */
export interface Safeguards {
  /** Mount first: headers, `req.safeguards`, the response held for its audit record. */
  middleware(): RequestHandler
  /** 401/503 without a live session; CSRF on unsafe methods. `activity: false` for polls. */
  requireSession(options?: { activity?: boolean }): RequestHandler
  /** 403 unless the policy allows `action` on the resource. After `requireSession`. */
  requireAccess(action: string, resource: (req: Request) => Resource): RequestHandler
  /** 429 with Retry-After when the account or the address is locked; counts the attempt. */
  throttleSignIn(account: (req: Request) => string): RequestHandler
  /** The idle watcher's poll: the remaining time, the session untouched. */
  idleStatus(): RequestHandler
  /** The idle watcher's keep-alive: extends the idle deadline; a POST, so it needs the CSRF header. */
  keepAlive(): RequestHandler
}

interface State {
  refused: RefusalReason | undefined
  access: { action: string; resource: Resource; outcome: AccessOutcome } | undefined
  token: string | undefined
  account: string | undefined
}

const STATE: unique symbol = Symbol('safeguards')
type WithState = Request & { [STATE]?: State }

function send(res: Response, reply: HttpReply): void {
  res.status(reply.status).set(reply.headers).send(reply.body)
}

function stateOf(req: Request): State {
  const s = (req as WithState)[STATE]
  if (s === undefined) throw new TypeError('mount safeguards(...).middleware() before the other handlers')
  return s
}

function requestHelpers<D>(
  req: Request,
  res: Response,
  state: State,
  deps: {
    sessions: SessionManager<D>
    csrf: ReturnType<typeof createCsrf> | null
    throttle: SignInThrottle
    cookie?: CookieOptions
  },
): RequestSafeguards {
  const cookieOpt = deps.cookie ? { cookie: deps.cookie } : {}
  const setCookies = (lines: readonly string[], session: Session): void => {
    const csrfLine = deps.csrf ? [deps.csrf.cookie(deps.csrf.issue(session.id))] : []
    res.append('set-cookie', [...lines, ...csrfLine])
  }
  return {
    get refused() {
      return state.refused
    },
    get access() {
      return state.access
    },
    async signIn(userId, options = {}) {
      const issued = await signIn(deps.sessions, userId, req.headers, {
        ...(options as object),
        ...cookieOpt,
      })
      if (state.account !== undefined) await deps.throttle.succeeded(state.account)
      setCookies(issued.setCookie, issued.session as Session)
      req.session = issued.session as Session
      return issued.session as Session
    },
    async rotate(options = {}) {
      if (state.token === undefined) return false
      const next = await rotateSession(deps.sessions, state.token, { ...options, ...cookieOpt })
      if (next === null) return false
      setCookies(next.setCookie, next.session as Session)
      req.session = next.session as Session
      return true
    },
    async signOut() {
      res.append('set-cookie', await signOut(deps.sessions, req.headers, cookieOpt))
      req.session = null
      state.token = undefined
    },
  }
}

/**
 * Creates the Express middleware set.
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff, 164.312(a)(1) access control, 164.312(b) audit
 * controls, 164.312(d) person or entity authentication, 164.308(a)(5)(ii)(C) log-in monitoring.
 *
 * @hipaa 164.312(a)(2)(iii) supports
 * @hipaa 164.312(a)(1) supports
 * @hipaa 164.312(b) supports
 * @hipaa 164.312(d) supports
 * @hipaa 164.308(a)(5)(ii)(C) supports
 * @nist AC-12 164.312(a)(2)(iii): requireSession refuses every request once the session's idle or absolute deadline passed (401 with the reason)
 * @nist AU-2 164.312(b)
 * @appResponsibility Mount middleware() before every route, requireSession on every route that serves PHI, and requireAccess on every route that reads or changes a record.
 * @verifiedBy packages/express/test/express.test.ts
 * @throws {HttpConfigError} when the CSRF key is shorter than 32 bytes or a cookie option is invalid.
 * @throws {TransportConfigError} when the `headers` options are invalid.
 * @example
 * ```ts
 * const sg = safeguards({ sessions, audit: { log, observer: 'ehr-api' }, policy, subject, csrf: { key } })
 * app.use(sg.middleware())
 * app.get('/patients/:id/observations', sg.requireSession(), sg.requireAccess('read', (req) => ({ type: 'Observation', tenant: 't1' })), handler)
 * ```
 */
export function safeguards(options: SafeguardsOptions): Safeguards {
  const d = resolveContext(options)
  const { sessions, cookieOpt } = d
  return {
    middleware: () => (req, res, next) => {
      res.set(d.headers)
      const state: State = { refused: undefined, access: undefined, token: undefined, account: undefined }
      ;(req as WithState)[STATE] = state
      req.safeguards = requestHelpers(req, res, state, {
        sessions,
        csrf: d.csrf,
        throttle: d.throttle,
        ...cookieOpt,
      })
      holdResponse(res, () => d.audit.finish(factsOf(options, req, res, state)), d.headers)
      next()
    },
    requireSession: (o = {}) => requireSession(d, o),
    requireAccess: (action, resourceOf) => requireAccess(d, action, resourceOf),
    throttleSignIn: (accountOf) => throttleSignIn(d, accountOf),
    idleStatus: () => async (req, res) => {
      const reply = await idleStatusReply(sessions, req.headers, cookieOpt)
      if ('reason' in reply) stateOf(req).refused = reply.reason as RefusalReason
      send(res, reply)
    },
    keepAlive: () => {
      // Extending the session is a state change: the CSRF token is checked first, on a peek that
      // does not itself extend it (as Fastify's keep-alive route does).
      const peek = requireSession(d, { activity: false })
      return (req, res, next) =>
        peek(req, res, () => {
          keepAliveReply(sessions, req.headers, cookieOpt).then((reply) => {
            if ('reason' in reply) stateOf(req).refused = reply.reason as RefusalReason
            send(res, reply)
          }, next)
        })
    },
  }
}

/** What the handlers share: the options and the parts built from them once. */
interface Context {
  readonly options: SafeguardsOptions
  readonly sessions: SessionManager
  readonly headers: Record<string, string>
  readonly audit: ReturnType<typeof createRequestAudit>
  readonly csrf: ReturnType<typeof createCsrf> | null
  readonly throttle: SignInThrottle
  readonly grantOf: (req: Request) => string | undefined
  readonly cookieOpt: { cookie?: CookieOptions }
}

/** Builds the security headers, request audit, CSRF and sign-in throttle (see `@throws` above). */
function resolveContext(options: SafeguardsOptions): Context {
  const { sessions, cookie } = options
  const headers = options.headers === false ? {} : securityHeaders(options.headers)
  const audit = createRequestAudit(options.audit.log, {
    observer: options.audit.observer,
    ...(options.audit.pseudonymize ? { pseudonymize: options.audit.pseudonymize } : {}),
    ...(options.audit.onError ? { onError: options.audit.onError } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  })
  const csrf = options.csrf === false ? null : createCsrf(options.csrf.key)
  const throttle =
    options.throttle !== undefined && 'attempt' in options.throttle
      ? options.throttle
      : createSignInThrottle({
          ...(options.throttle as SignInThrottleOptions | undefined),
          ...(options.clock ? { clock: options.clock } : {}),
        })
  const grantOf = options.emergencyGrant ?? ((req: Request) => req.get('x-emergency-access'))
  return { options, sessions, headers, audit, csrf, throttle, grantOf, cookieOpt: cookie ? { cookie } : {} }
}

/** Answers with a refusal, keeping its reason for the audit record. */
function refuse(res: Response, state: State, reason: RefusalReason, reply: HttpReply): void {
  state.refused = reason
  send(res, reply)
}

/** The facts of the audit record of a finished request. */
function factsOf(options: SafeguardsOptions, req: Request, res: Response, state: State) {
  const route = req.route?.path === undefined ? undefined : `${req.baseUrl}${String(req.route.path)}`
  const a = state.access
  const patient = a?.resource.patient ?? options.audit.patient?.(req)
  return {
    method: req.method,
    route,
    status: res.statusCode,
    actor: req.session?.userId,
    refused: state.refused,
    ...(a ? { access: { action: a.action, resource: a.resource, decision: a.outcome.decision } } : {}),
    patient,
  }
}

/** `requireSession`: 401/503 with the reason, then CSRF on unsafe methods. */
function requireSession(d: Context, o: { activity?: boolean }): RequestHandler {
  return async (req, res, next) => {
    const state = stateOf(req)
    const out = await resolveSession(d.sessions, req.headers, {
      activity: o.activity !== false,
      ...d.cookieOpt,
    })
    if (!out.ok) return refuse(res, state, out.reason, out.reply)
    req.session = out.session
    state.token = out.token
    if (d.csrf !== null) {
      const check = d.csrf.verify(req.method, req.headers, out.session.id)
      if (!check.ok) return refuse(res, state, check.reason, check.reply)
    }
    next()
  }
}

/** `requireAccess`: the decision point's answer for this request (403 with its reason). */
function requireAccess(d: Context, action: string, resourceOf: (req: Request) => Resource): RequestHandler {
  return (req, res, next) => {
    const state = stateOf(req)
    const { policy, subject, fulfils } = d.options
    if (policy === undefined || subject === undefined)
      throw new TypeError('requireAccess needs the "policy" and "subject" options')
    if (req.session === undefined || req.session === null)
      return refuse(res, state, 'session_absent', refusal(401, 'session_absent'))
    const resource = resourceOf(req)
    const grant = d.grantOf(req)
    const outcome = checkAccess(
      policy,
      {
        subject: subject(req.session, req),
        action,
        resource,
        ...(grant ? { emergencyAccess: grant } : {}),
      },
      fulfils ? { fulfils } : {},
    )
    state.access = { action, resource, outcome }
    if (!outcome.ok) return refuse(res, state, outcome.reason, outcome.reply)
    next()
  }
}

/** `throttleSignIn`: refuses a throttled account or address (503 when the throttle store is down). */
function throttleSignIn(d: Context, accountOf: (req: Request) => string): RequestHandler {
  return async (req, res, next) => {
    const state = stateOf(req)
    const account = accountOf(req)
    try {
      const t = await d.throttle.attempt(account, req.ip ?? req.socket.remoteAddress ?? 'unknown')
      if (!t.allowed) return refuse(res, state, t.reason, t.reply)
    } catch (e) {
      if (!(e instanceof HttpThrottleStoreError)) throw e
      return refuse(res, state, 'throttle_store_unavailable', refusal(503, 'throttle_store_unavailable'))
    }
    state.account = account
    next()
  }
}
