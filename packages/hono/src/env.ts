/**
 * The context variables the middleware set, typed: give the app `SafeguardsEnv` (or merge
 * `SafeguardsVariables` into its own `Variables`) and `c.var.session` is a `Session` under
 * strict TypeScript, with no cast and no declaration of the app's own.
 *
 * @module
 */
import type { RefusalReason } from '@safeguards/http'
import type { Decision, Resource } from '@safeguards/rbac'
import type { Session } from '@safeguards/session'

/** The access check a {@link guard} ran, kept for the request's audit record. */
export interface AccessFacts {
  readonly action: string
  readonly resource: Resource
  readonly decision: Decision
}

/**
 * The variables set on the Hono context. Each is set only by the middleware named; read them in
 * handlers that run after it (before it, or when it refused, they are `undefined` at runtime).
 *
 * @example
 * ```ts
 * import type { SafeguardsVariables } from '@safeguards/hono'
 * import { Hono } from 'hono'
 *
 * type User = { id: string; role: string }
 * const app = new Hono<{ Variables: SafeguardsVariables & { user: User } }>()
 * ```
 */
export interface SafeguardsVariables<D = unknown> {
  /** The live session, set by {@link session} (and by {@link signIn} / {@link rotateSession}). */
  session: Session<D>
  /** The access decision, set by {@link guard} whether it allowed or refused. */
  access: AccessFacts
  /** Why the request was refused, set by the middleware that refused it (for the audit record). */
  refused: RefusalReason
}

/**
 * The Hono `Env` of an app using these middleware.
 *
 * @example
 * ```ts
 * import type { SafeguardsEnv } from '@safeguards/hono'
 * import { Hono } from 'hono'
 *
 * const app = new Hono<SafeguardsEnv>()
 * app.get('/me', (c) => c.json({ user: c.var.session.userId }))
 * ```
 */
export interface SafeguardsEnv<D = unknown> {
  Variables: SafeguardsVariables<D>
}
