/**
 * The session store contract. A store keeps {@link SessionRecord}s keyed by the token's SHA-256
 * (never the token), enforces both deadlines atomically, never creates a record on touch
 * ("touch-if-exists", the fix for express-session #632/#2530-style resurrection), and keeps a
 * tombstone for every revoked session until its absolute deadline, so a request that started
 * before a logout cannot bring the session back when it finishes.
 *
 * `@safeguards/session` ships an in-memory store ({@link createMemoryStore}); `@safeguards/session-redis`
 * shares sessions between app instances. A store throws {@link SessionStoreUnavailableError}
 * when it cannot answer; the manager then fails closed.
 *
 * @module
 */

/** One stored session. Timestamps are ms since the epoch on the manager's clock. */
export interface SessionRecord {
  /** SHA-256 of the token, hex (64 characters). The token itself is never stored. */
  readonly id: string
  /** The user this session authenticates. */
  readonly userId: string
  /** The role whose timeouts apply, or `null` for the defaults. */
  readonly role: string | null
  /** When the session (its first token) was created at login. */
  readonly createdAt: number
  /** The last authentication or reauthentication. */
  readonly authAt: number
  /** The last real user activity; the idle deadline is this plus {@link idleTimeoutMs}. */
  readonly lastActivityAt: number
  /** Idle timeout in ms. */
  readonly idleTimeoutMs: number
  /** The absolute deadline (ms since the epoch); no activity moves it. */
  readonly absoluteExpiresAt: number
  /**
   * The app's session data as JSON text, already validated and size-capped by the manager;
   * absent when the session carries none. Stores keep it opaque, drop it with the session, and
   * return it from `touch` and `replace`/`update` (other methods may omit it).
   */
  readonly data?: string
}

/** Why a touch or replace did not return an active session. */
export type TouchResult =
  | { readonly status: 'active'; readonly record: SessionRecord }
  | { readonly status: 'expired'; readonly reason: 'idle' | 'absolute'; readonly record: SessionRecord }
  | { readonly status: 'revoked' }
  | { readonly status: 'unknown' }

/** What `create` does when the user already has the maximum number of sessions. */
export type SessionLimitPolicy = 'evict-oldest' | 'reject'

/** The outcome of {@link SessionStore.create}. */
export type CreateResult =
  | { readonly created: true; readonly evicted: readonly SessionRecord[] }
  | { readonly created: false }

/**
 * A session store. Every method is atomic with respect to every other on the same store, across
 * all app instances that share it.
 */
export interface SessionStore {
  /**
   * Inserts `record`. If the user already has `max` live sessions, evicts the oldest (revoking
   * them, with tombstones) or refuses, per `onLimit`.
   */
  create(record: SessionRecord, max: number, onLimit: SessionLimitPolicy, now: number): Promise<CreateResult>
  /**
   * Checks `id` at `now`: unknown, revoked (tombstone), expired (then deleted: reported once), or
   * active. When active and `activity` is true, moves `lastActivityAt` forward to `now` (never
   * back). Never creates a record. May answer synchronously (the in-memory store does, which
   * saves a promise on the hottest path). The caller copies the returned record before keeping it.
   */
  touch(id: string, now: number, activity: boolean): TouchResult | Promise<TouchResult>
  /**
   * Replaces the active session `oldId` with `next` (rotation): `oldId` is revoked with a
   * tombstone and `next` inserted, in one step, only if `oldId` is active at `now`. Returns the
   * status of `oldId` (its record when active).
   */
  replace(oldId: string, next: SessionRecord, now: number): Promise<TouchResult>
  /** Revokes `id` (deletes it and leaves a tombstone). Returns the record, or `null` if it was not live. */
  revoke(id: string, now: number): Promise<SessionRecord | null>
  /** Revokes every live session of `userId` except `exceptId`. Returns the revoked records. */
  revokeUser(userId: string, now: number, exceptId?: string): Promise<readonly SessionRecord[]>
  /** The live (unexpired, unrevoked) sessions of `userId`, oldest first. Does not touch them. */
  list(userId: string, now: number): Promise<readonly SessionRecord[]>
  /** True when `id` was revoked and its tombstone is still there (used by the stateless mode). */
  isRevoked(id: string, now: number): Promise<boolean>
  /**
   * Replaces the data of the active session `id` (`undefined` removes it), only if it is active
   * at `now`; never creates a record and does not move `lastActivityAt`. Returns the status of
   * `id`, with the updated record when active. Optional for stores written before session data:
   * a manager configured with `data` refuses a store without it.
   */
  update?(id: string, data: string | undefined, now: number): Promise<TouchResult>
}

/**
 * The idle deadline of a record: last activity plus the idle timeout.
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff.
 *
 * @throws never (pure arithmetic on the record).
 * @example
 * ```ts
 * idleExpiresAt(record) // record.lastActivityAt + record.idleTimeoutMs
 * ```
 */
export function idleExpiresAt(record: SessionRecord): number {
  return record.lastActivityAt + record.idleTimeoutMs
}

/**
 * Classifies `record` at `now`. A session is live while `now < idleDeadline` and
 * `now < absoluteDeadline`: at the deadline itself it is over. Stores use it so that every store
 * draws the boundary at the same millisecond.
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff.
 *
 * @throws never.
 * @example
 * ```ts
 * expiryReason(record, record.absoluteExpiresAt) // 'absolute'
 * ```
 */
export function expiryReason(record: SessionRecord, now: number): 'idle' | 'absolute' | null {
  if (now >= record.absoluteExpiresAt) return 'absolute'
  if (now >= idleExpiresAt(record)) return 'idle'
  return null
}
