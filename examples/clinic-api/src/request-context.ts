/**
 * The request being served, for the audit records its operations write: the packages that emit
 * events (the password hasher, the TOTP verifier, the session manager) never see the request, so
 * the clinic keeps the caller's address in an `AsyncLocalStorage` for the length of each request,
 * and the audit sink's `network` hook reads it back when an event is recorded. A failed sign-in is
 * then recorded with the address it came from (FHIR `agent.network`, type 2: IP address), which is
 * what the monitor's `password-spray` detector groups failed sign-ins by.
 *
 * The address is the TCP peer's, never a client-supplied header (`X-Forwarded-For` is not trusted:
 * anyone can write it). An IP address is an identifier, allowed in audit records; it is not PHI.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { AuditNetwork } from '@safeguards/audit-log'
import type { Context, Next } from 'hono'

/** What the clinic knows of the request being served. */
export interface RequestContext {
  /** The remote address of the TCP connection (absent when the app is called without a server). */
  readonly address?: string
}

/** The per-request context of one clinic: a middleware that sets it, and the sink's `network` hook. */
export interface RequestContexts {
  /** Runs the rest of the request inside its context. */
  middleware(c: Context, next: Next): Promise<void>
  /** The network access point of the request in progress, or `undefined` outside a request. */
  network(): AuditNetwork | undefined
}

/** The TCP peer's address (`@hono/node-server` passes the Node request as `c.env.incoming`). */
function remoteAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined
  return env?.incoming?.socket?.remoteAddress
}

/** Creates the request context of one clinic. */
export function requestContexts(): RequestContexts {
  const storage = new AsyncLocalStorage<RequestContext>()
  return {
    middleware(c, next) {
      const address = remoteAddress(c)
      return storage.run(address === undefined ? {} : { address }, next)
    },
    network() {
      const address = storage.getStore()?.address
      return address === undefined ? undefined : { address, type: '2' }
    },
  }
}
