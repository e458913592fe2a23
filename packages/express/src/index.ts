/**
 * `@safeguards/express`: Express 5 middleware over `@safeguards/http`. Importing it types
 * `req.session` and `req.safeguards` in every handler.
 *
 * @packageDocumentation
 */

export type { HttpReply, RefusalReason } from '@safeguards/http'
export { HttpConfigError, HttpError, type HttpErrorCode, HttpThrottleStoreError } from './errors.js'
export type { Safeguards, SafeguardsOptions } from './middleware.js'
export { safeguards } from './middleware.js'
export type { RequestSafeguards } from './types.js'
