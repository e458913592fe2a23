/**
 * `@safeguards/fastify`: the Safeguards plugin for Fastify 5. Sessions in a `__Host-` cookie,
 * an access guard from a compiled policy, one fail-closed audit record per request, CSRF,
 * sign-in throttling, idle-watcher routes and security headers, with typed request and reply
 * decorations (declaration merging on `fastify`).
 *
 * @packageDocumentation
 */

export { HttpConfigError, HttpError, type HttpErrorCode, HttpThrottleStoreError } from './errors.js'
export type { SafeguardsOptions } from './options.js'
export { safeguards } from './plugin.js'
export type {
  AccessHook,
  AccessTarget,
  RequireAccessOptions,
  RotateOptions,
  SafeguardsTypes,
  SessionData,
  SignInOptions,
} from './types.js'
