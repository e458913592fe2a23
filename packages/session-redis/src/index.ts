/**
 * `@safeguards/session-redis`: the Redis session store for `@safeguards/session`.
 *
 * @packageDocumentation
 */

export { type SessionErrorCode, SessionStoreUnavailableError } from './errors.js'
export type { RedisCommandClient, RedisSessionStoreOptions } from './redis-store.js'
export { createRedisSessionStore } from './redis-store.js'
