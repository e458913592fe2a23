/**
 * `@safeguards/session`: an idle-session manager for HIPAA automatic logoff (164.312(a)(2)(iii)).
 *
 * @packageDocumentation
 */
export type {
  AccessTokenAlgorithm,
  AccessTokenClaims,
  AccessTokenKeys,
  AccessTokenOptions,
  AccessTokens,
} from './access-token.js'
export { createAccessTokens } from './access-token.js'
export type { SessionErrorCode } from './errors.js'
export {
  ReauthRequiredError,
  SessionConfigError,
  SessionDataError,
  SessionLimitError,
  SessionStoreUnavailableError,
} from './errors.js'
export type {
  ActivityEvent,
  ActivityTarget,
  IdleWatcher,
  IdleWatcherOptions,
  RemainingTime,
  SignOutReason,
  Timers,
} from './idle-watcher.js'
export { createIdleWatcher } from './idle-watcher.js'
export type {
  CreateOptions,
  IssuedSession,
  RotateOptions,
  Session,
  SessionManager,
  SessionManagerOptions,
  SessionResolution,
  SessionTimeLeft,
  ValidateOptions,
} from './manager.js'
export { createSessionManager } from './manager.js'
export type { MemorySessionStore, MemoryStoreOptions } from './memory-store.js'
export { createMemoryStore } from './memory-store.js'
export type { RoleTimeouts, SessionPolicy, SessionPolicyOptions } from './policy.js'
export {
  DEFAULT_ABSOLUTE_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_SESSIONS_PER_USER,
  parsePolicy,
  timeoutsFor,
} from './policy.js'
export type {
  SessionDataIssue,
  SessionDataOf,
  SessionDataOptions,
  SessionDataResult,
  SessionDataSchema,
} from './session-data.js'
export { DEFAULT_SESSION_DATA_MAX_BYTES } from './session-data.js'
export type { CreateResult, SessionLimitPolicy, SessionRecord, SessionStore, TouchResult } from './store.js'
export { expiryReason, idleExpiresAt } from './store.js'
export { generateToken, sessionIdOf, TOKEN_BYTES } from './token.js'
