/**
 * The Fastify 5 plugin: the request pipeline of `@safeguards/http` in Fastify's idiom.
 *
 * - `app.requireSession` (an `onRequest` hook): the `__Host-` session cookie resolved, 401 with
 *   the reason or 503 when the store is down; then CSRF for state-changing methods.
 * - `app.requireAccess(action, target)` (a `preHandler` hook): the compiled policy's decision,
 *   403 with the reason code, obligations enforced (an emergency access is audited as such).
 * - An `onSend` hook on every reply of the app (routes, refusals, 404s, errors): the security
 *   headers, then one audit record appended before the payload is released; when the append
 *   fails, the payload, its headers and its cookies are dropped and a 503 `audit_unavailable`
 *   goes out instead (fail closed).
 * - `reply.signIn`, `reply.rotateSession`, `reply.signOut`, `reply.throttleSignIn`, and the
 *   idle-watcher routes (a status poll that does not extend the session, and a keep-alive).
 *
 * Register it once, at the root, before the routes it protects (hooks apply to the routes
 * registered after them). A `reply.hijack()`ed response bypasses `onSend`: do not hijack PHI routes.
 *
 * @module
 */
import { isSafeguardsError } from '@safeguards/core'
import {
  checkAccess,
  createCsrf,
  createRequestAudit,
  createSignInThrottle,
  type HttpReply,
  HttpThrottleStoreError,
  idleStatus,
  keepAlive,
  type RefusalReason,
  refusal,
  resolveSession,
  rotateSession,
  securityHeaders,
  signIn,
  signOut,
} from '@safeguards/http'
import type { Decision, Resource } from '@safeguards/rbac'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { checkOptions } from './internal/check-options.js'
import type { SafeguardsOptions } from './options.js'
import type { AccessHook, AccessTarget, RequireAccessOptions, RotateOptions, SignInOptions } from './types.js'

/** What the audit record of a request needs, gathered by the hooks. Never holds content. */
interface RequestState {
  token?: string | undefined
  refused?: RefusalReason
  access?: { action: string; resource: Resource; decision: Decision }
}

const STATE = Symbol('safeguards.state')
type WithState = { [STATE]: RequestState | null }
const stateOf = (request: FastifyRequest): RequestState => {
  const r = request as unknown as WithState
  let s = r[STATE]
  if (s === null || s === undefined) {
    s = {}
    r[STATE] = s
  }
  return s
}

/** Sends a reply of the neutral core, keeping its reason code (if any) for the audit record. */
function sendReply(reply: FastifyReply, out: HttpReply): FastifyReply {
  if ('reason' in out) stateOf(reply.request).refused = out.reason as RefusalReason
  return reply.code(out.status).headers(out.headers).send(out.body)
}

/** Releases a payload that will not be sent (a stream would otherwise stay open). */
function discard(payload: unknown): void {
  if (typeof payload === 'object' && payload !== null && 'destroy' in payload) {
    const destroy = (payload as { destroy: unknown }).destroy
    if (typeof destroy === 'function') destroy.call(payload)
  }
}

const plugin: FastifyPluginAsync<SafeguardsOptions> = async (fastify, options) => {
  checkOptions(options)
  const { sessions, cookie, clock } = options
  const cookieOpt = cookie === undefined ? {} : { cookie }
  const csrf = createCsrf(options.csrfKey, options.csrf)
  const throttle = createSignInThrottle({ ...(clock ? { clock } : {}), ...options.throttle })
  const onError =
    options.onAuditError ??
    ((e: unknown) =>
      fastify.log.error({ code: isSafeguardsError(e) ? e.code : 'unknown' }, 'audit append failed'))
  const audit = createRequestAudit(options.log, {
    observer: options.observer,
    onError,
    ...(options.pseudonymize ? { pseudonymize: options.pseudonymize } : {}),
    ...(clock ? { clock } : {}),
  })
  const headers = Object.entries(securityHeaders(options.headers))

  fastify.decorateRequest('session', null)
  fastify.decorateRequest('subject', null)
  fastify.decorateRequest('decision', null)
  fastify.decorateRequest(STATE as unknown as string, null)
  fastify.addHook('onRequest', async (request) => {
    ;(request as unknown as WithState)[STATE] = {}
  })

  fastify.addHook('onSend', async (request, reply, payload) =>
    auditOnSend(audit, headers, request, reply, payload),
  )

  // An async hook that sent a reply must return it, or Fastify would go on to the handler.
  const requireSession = async (
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply | undefined> => {
    const activity = request.routeOptions.config.sessionActivity !== false
    const out = await resolveSession(sessions, request.headers, { activity, ...cookieOpt })
    if (!out.ok) return sendReply(reply, out.reply)
    request.session = out.session
    stateOf(request).token = out.token
    const check = csrf.verify(request.method, request.headers, out.session.id)
    return check.ok ? undefined : sendReply(reply, check.reply)
  }
  fastify.decorate('requireSession', requireSession)
  fastify.decorate(
    'requireAccess',
    (action: string, target: (request: FastifyRequest) => AccessTarget, opts: RequireAccessOptions = {}) =>
      accessHook(options, action, target, opts),
  )

  decorateReply(fastify, options, csrf, throttle)
  if (options.idleRoutes !== false) registerIdleRoutes(fastify, options, csrf)
}

/**
 * The `onSend` hook: the security headers, then the audit record of the request. When the record
 * cannot be written, fail closed: none of the handler's body, headers or cookies leave.
 */
async function auditOnSend(
  audit: ReturnType<typeof createRequestAudit>,
  headers: readonly [string, string][],
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): Promise<unknown> {
  for (const [k, v] of headers) if (!reply.hasHeader(k)) reply.header(k, v)
  const st = stateOf(request)
  const failed = await audit.finish({
    method: request.method,
    route: request.routeOptions.url,
    status: reply.statusCode,
    actor: request.session?.userId,
    refused: st.refused,
    access: st.access,
    patient: st.access?.resource.patient,
  })
  if (failed === null) return payload
  discard(payload)
  for (const k of Object.keys(reply.getHeaders())) reply.removeHeader(k)
  reply.code(failed.status).headers(Object.fromEntries(headers)).headers(failed.headers)
  return failed.body
}

/** `requireAccess(action, target)`: a hook that asks the decision point (403 with its reason). */
function accessHook(
  options: SafeguardsOptions,
  action: string,
  target: (request: FastifyRequest) => AccessTarget,
  opts: RequireAccessOptions,
): AccessHook {
  if (typeof action !== 'string' || typeof target !== 'function')
    throw new TypeError('requireAccess(action, target) expected a string and a function')
  const { pdp } = options
  const emergencyHeader = options.emergencyHeader ?? 'x-emergency-access'
  const fulfils = [...(options.fulfils ?? []), ...(opts.fulfils ?? [])]
  const hook = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const session = request.session
    // No session: the route forgot requireSession. Fail closed.
    if (session === null) return sendReply(reply, refusal(401, 'session_absent'))
    const t = target(request)
    const subject = request.subject ?? (await options.subject(session, request))
    request.subject = subject
    const grant = emergencyHeader === false ? undefined : request.headers[emergencyHeader]
    const req =
      t.emergencyAccess === undefined && typeof grant === 'string'
        ? { ...t, emergencyAccess: grant, subject, action }
        : { ...t, subject, action }
    const out = checkAccess(pdp, req, { fulfils })
    request.decision = out.decision
    stateOf(request).access = { action, resource: t.resource, decision: out.decision }
    return out.ok ? undefined : sendReply(reply, out.reply)
  }
  return hook as AccessHook
}

type Csrf = ReturnType<typeof createCsrf>
type Throttle = ReturnType<typeof createSignInThrottle>

function decorateReply(
  fastify: FastifyInstance,
  options: SafeguardsOptions,
  csrf: Csrf,
  throttle: Throttle,
): void {
  const { sessions, cookie } = options
  const cookieOpt = cookie === undefined ? {} : { cookie }
  fastify.decorateReply('refuse', function (this: FastifyReply, out: HttpReply) {
    return sendReply(this, out)
  })
  fastify.decorateReply('signIn', async function (this: FastifyReply, userId: string, o: SignInOptions = {}) {
    const { account, ...create } = o
    const issued = await signIn(sessions, userId, this.request.headers, { ...create, ...cookieOpt })
    await throttle.succeeded(account ?? userId)
    this.request.session = issued.session
    stateOf(this.request).token = undefined
    this.header('set-cookie', [...issued.setCookie, csrf.cookie(csrf.issue(issued.session.id))])
    return issued.session
  })
  fastify.decorateReply('rotateSession', async function (this: FastifyReply, o: RotateOptions = {}) {
    const st = stateOf(this.request)
    if (st.token === undefined) return null
    const next = await rotateSession(sessions, st.token, { ...o, ...cookieOpt })
    if (next === null) return null
    st.token = undefined // the old token is dead; the new one lives only in the cookie
    this.request.session = next.session
    this.header('set-cookie', [...next.setCookie, csrf.cookie(csrf.issue(next.session.id))])
    return next.session
  })
  fastify.decorateReply('signOut', async function (this: FastifyReply) {
    this.header('set-cookie', await signOut(sessions, this.request.headers, cookieOpt))
    stateOf(this.request).token = undefined
  })
  fastify.decorateReply('throttleSignIn', async function (this: FastifyReply, account: string) {
    try {
      const t = await throttle.attempt(account, this.request.ip)
      if (t.allowed) return true
      sendReply(this, t.reply)
    } catch (e) {
      if (!(e instanceof HttpThrottleStoreError)) throw e
      sendReply(this, refusal(503, 'throttle_store_unavailable'))
    }
    return false
  })
}

function registerIdleRoutes(fastify: FastifyInstance, options: SafeguardsOptions, csrf: Csrf): void {
  const { sessions, cookie } = options
  const cookieOpt = cookie === undefined ? {} : { cookie }
  const paths = options.idleRoutes === false ? {} : (options.idleRoutes ?? {})
  // The poll is not user activity: it reads the remaining time without moving the idle deadline.
  fastify.get(paths.status ?? '/session/status', async (request, reply) =>
    sendReply(reply, await idleStatus(sessions, request.headers, cookieOpt)),
  )
  // The keep-alive extends the session: a state change, so the CSRF token is checked first (on
  // a peek that does not itself extend it).
  fastify.post(paths.keepAlive ?? '/session/keep-alive', async (request, reply) => {
    const peek = await resolveSession(sessions, request.headers, { activity: false, ...cookieOpt })
    if (!peek.ok) return sendReply(reply, peek.reply)
    request.session = peek.session
    const check = csrf.verify(request.method, request.headers, peek.session.id)
    if (!check.ok) return sendReply(reply, check.reply)
    return sendReply(reply, await keepAlive(sessions, request.headers, cookieOpt))
  })
}

/**
 * The Safeguards plugin for Fastify 5 (wrapped with `fastify-plugin`: its hooks and decorations
 * reach the whole app). Register it once, at the root, before the routes it protects.
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff and 164.312(d) authentication (sessions),
 * 164.312(a)(1) access control and 164.312(a)(2)(ii) emergency access (the guard),
 * 164.312(b) audit controls (one record per request before its response, fail closed),
 * 164.312(c)(1) integrity (CSRF), 164.308(a)(5)(ii)(D) password management (sign-in throttle),
 * 164.312(e)(1) transmission security (security headers).
 *
 * @hipaa 164.312(b) implements
 * @hipaa 164.312(a)(2)(iii) implements
 * @hipaa 164.312(a)(1) supports
 * @hipaa 164.312(d) supports
 * @nist AU-2 164.312(b): one audit record per Fastify request, appended in onSend before the payload leaves
 * @nist AU-5 164.312(b): a failed audit append replaces the reply with 503 audit_unavailable, no body, no Set-Cookie
 * @nist AC-12 164.312(a)(2)(iii): requireSession refuses ended sessions with 401 and the reason; the idle poll does not extend them
 * @nist AC-3 164.312(a)(1): requireAccess decides every guarded route with the compiled policy, 403 with the reason
 * @evidence Fastify plugin tested over real HTTP: reason codes, rotation, CSRF, BTG audit, fail-closed audit
 * @verifiedBy packages/fastify/test/server.test.ts
 * @throws {HttpConfigError} at registration, for an unknown, missing or malformed option.
 * @example
 * ```ts
 * await app.register(safeguards, { sessions, pdp, log, observer: 'ehr-api', csrfKey, subject })
 * ```
 */
export const safeguards: FastifyPluginAsync<SafeguardsOptions> = fp(plugin, {
  fastify: '5.x',
  name: '@safeguards/fastify',
})
