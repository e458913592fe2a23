/**
 * What the middleware adds to Express's `Request`, by declaration merging: importing
 * `@safeguards/express` anywhere in the app types `req.session` and `req.safeguards` in every
 * handler, under strict TypeScript.
 *
 * @module
 */
import type { AccessOutcome, RefusalReason } from '@safeguards/http'
import type { Resource } from '@safeguards/rbac'
import type { CreateOptions, Session } from '@safeguards/session'

/** Per-request helpers and state, on `req.safeguards`. */
export interface RequestSafeguards {
  /** Signs the user in: a fresh session and its cookies (CSRF cookie included); forgives the throttled account. */
  signIn(userId: string, options?: CreateOptions<unknown>): Promise<Session>
  /** On a privilege change: a new token and cookies, the old token revoked. False when no live session. */
  rotate(options?: { role?: string | null; reauthenticated?: boolean }): Promise<boolean>
  /** Revokes the session and clears its cookie. */
  signOut(): Promise<void>
  /** Why a check refused the request, if one did. */
  readonly refused: RefusalReason | undefined
  /** The access check that ran, if any. */
  readonly access:
    | { readonly action: string; readonly resource: Resource; readonly outcome: AccessOutcome }
    | undefined
}

declare global {
  namespace Express {
    interface Request {
      /** The live session, set by `requireSession` (or `signIn`); `null` or `undefined` when there is none. */
      session?: Session | null
      /** Set by the `safeguards(...)` middleware on every request. */
      safeguards: RequestSafeguards
    }
  }
}
