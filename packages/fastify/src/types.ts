/**
 * The request and reply additions of the plugin, declared on Fastify's interfaces (declaration
 * merging), so that `request.session`, `reply.signIn(…)` and `app.requireAccess(…)` type-check
 * under strict TypeScript as soon as `@safeguards/fastify` is imported.
 *
 * @module
 */
import type { HttpReply } from '@safeguards/http'
import type { AccessRequest, Decision, Subject } from '@safeguards/rbac'
import type { CreateOptions, Session } from '@safeguards/session'
import type {
  onRequestAsyncHookHandler,
  preHandlerAsyncHookHandler,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
} from 'fastify'

/**
 * Augment this interface to type the session's app data everywhere (`request.session.data`):
 * `declare module '@safeguards/fastify' { interface SafeguardsTypes { sessionData: { tenant: string } } }`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: an augmentation point for apps.
export interface SafeguardsTypes {}

/** The session's app data: `SafeguardsTypes['sessionData']` when an app declares it, else `unknown`. */
export type SessionData = SafeguardsTypes extends { sessionData: infer D } ? D : unknown

/** What an access check decides on besides the subject (from the session) and the action. */
export type AccessTarget = Omit<AccessRequest, 'subject' | 'action'>

/** Options of `app.requireAccess`. */
export interface RequireAccessOptions {
  /** Obligation ids this route fulfils itself (besides the emergency-access audit record). */
  fulfils?: readonly string[]
}

/** The preHandler hook `app.requireAccess` returns, typed for the route's params, query and body. */
export type AccessHook<R extends RouteGenericInterface = RouteGenericInterface> = preHandlerAsyncHookHandler<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  R
>

/** Options of `reply.signIn`. */
export type SignInOptions = CreateOptions<SessionData> & {
  /** The account name the throttle counted (default the user id); its failures are forgiven. */
  account?: string
}

/** Options of `reply.rotateSession`. */
export interface RotateOptions {
  /** The new role (`null` drops it). */
  role?: string | null
  /** True after a reauthentication (the session manager's `reauthenticate`). */
  reauthenticated?: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The live session, once `requireSession` (or `reply.signIn`) ran on this request; else null. */
    session: Session<SessionData> | null
    /** The access subject built from the session, once `requireAccess` ran; else null. */
    subject: Subject | null
    /** The access decision, once `requireAccess` ran; else null. */
    decision: Decision | null
  }

  interface FastifyReply {
    /**
     * Signs `userId` in: a fresh session (the one the client held is revoked: no fixation), the
     * `__Host-` session cookie and a CSRF cookie bound to it, and the throttle's count forgiven.
     */
    signIn(userId: string, options?: SignInOptions): Promise<Session<SessionData>>
    /**
     * Rotates the request's session on a privilege change: a new token and CSRF cookie, the old
     * token dead at once. `null` when the request has no live session.
     */
    rotateSession(options?: RotateOptions): Promise<Session<SessionData> | null>
    /** Revokes the request's session (if any) and deletes its cookie. */
    signOut(): Promise<void>
    /**
     * Counts a password attempt for `account` and the client address (`request.ip`). `true`: go
     * on and check the password. `false`: the 429 (or 503 when the throttle store is down) was sent.
     */
    throttleSignIn(account: string): Promise<boolean>
    /** Sends a refusal or reply of `@safeguards/http` as is, its reason code kept for the audit. */
    refuse(reply: HttpReply): FastifyReply
  }

  interface FastifyInstance {
    /**
     * An `onRequest` hook: 401 with the reason without a live session (absent, idle, absolute,
     * revoked, unknown, a bad cookie), 503 when the store is down, 403 `csrf_missing` /
     * `csrf_invalid` for a state-changing request without the session's CSRF token; else sets
     * `request.session`.
     */
    requireSession: onRequestAsyncHookHandler
    /**
     * A `preHandler` hook deciding `action` on what `target` names with the compiled policy: 403
     * with the decision's reason code, or `obligation_unfulfilled`; else sets `request.decision`.
     */
    requireAccess<R extends RouteGenericInterface = RouteGenericInterface>(
      action: string,
      target: (request: FastifyRequest<R>) => AccessTarget,
      options?: RequireAccessOptions,
    ): AccessHook<R>
  }

  interface FastifyContextConfig {
    /**
     * `false` on polling routes: their requests do not count as user activity, so they cannot
     * keep an idle session alive. Default true.
     */
    sessionActivity?: boolean
  }
}
