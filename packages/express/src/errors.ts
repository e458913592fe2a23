/**
 * The errors `@safeguards/express` raises. The adapter adds no code of its own: a refused request is a
 * reply with a reason code, not an exception, and the checks it runs are `@safeguards/http`'s, so
 * it raises that package's errors, re-exported here so that an app catches them from the package
 * it imports. {@link HttpConfigError} (`ERR_HTTP_CONFIG`) when the Express middleware is built with an
 * unknown, missing or malformed option (a CSRF key under 32 bytes, a cookie name without the
 * `__Host-` prefix, a bad throttle rule); {@link HttpThrottleStoreError}
 * (`ERR_HTTP_THROTTLE_STORE`) stays inside the adapter, which answers 503
 * `throttle_store_unavailable` (an attempt that cannot be counted is refused).
 *
 * HIPAA: 164.312(b) audit controls (stable codes; messages name options, never tokens or PHI).
 *
 * @example
 * ```ts
 * import { HttpConfigError } from '@safeguards/express'
 *
 * try { build() } catch (e) { if (e instanceof HttpConfigError) console.error(e.code) }
 * ```
 *
 * @module
 */
export { HttpConfigError, HttpError, type HttpErrorCode, HttpThrottleStoreError } from '@safeguards/http'
