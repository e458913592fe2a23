/**
 * The in-memory session store: the embedded default, for a single process (development, tests,
 * single-instance deployments). Bounded (`maxEntries`), swept lazily, atomic because every
 * operation runs to completion synchronously before its promise resolves. For more than one app
 * instance use `@safeguards/session-redis`.
 *
 * @module
 */
import { assertInteger } from '@safeguards/core'
import { SessionStoreUnavailableError } from './errors.js'
import { MemorySessions } from './internal/memory-sessions.js'
import type { CreateResult, SessionLimitPolicy, SessionRecord, SessionStore, TouchResult } from './store.js'

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Maximum sessions plus tombstones held (default 100,000); `create` fails closed beyond it. */
  maxEntries?: number
}

/** The in-memory store, with a {@link MemorySessionStore.sweep} for expired entries. */
export interface MemorySessionStore extends SessionStore {
  /** Deletes expired sessions and tombstones; returns how many entries were removed. */
  sweep(now: number): number
  /** Number of live records plus tombstones held. */
  readonly size: number
}

/**
 * Creates an in-memory store.
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff (deadlines enforced on every touch).
 *
 * @throws {TypeError} or {RangeError} when `maxEntries` is not a positive integer.
 * @example
 * ```ts
 * const sessions = createSessionManager({ store: createMemoryStore({ maxEntries: 10_000 }) })
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemorySessionStore {
  const maxEntries = options.maxEntries ?? 100_000
  assertInteger(maxEntries, 'maxEntries', 1)
  const m = new MemorySessions()
  let sinceSweep = 0
  return {
    get size(): number {
      return m.size
    },
    sweep: (now: number): number => m.sweep(now),
    async create(
      record: SessionRecord,
      max: number,
      onLimit: SessionLimitPolicy,
      now: number,
    ): Promise<CreateResult> {
      if (++sinceSweep >= 1024 || m.size >= maxEntries) {
        sinceSweep = 0
        m.sweep(now)
      }
      if (m.size >= maxEntries) throw new SessionStoreUnavailableError('create (store full)')
      return m.create(record, max, onLimit, now)
    },
    touch(id: string, now: number, activity: boolean): TouchResult {
      const res = m.check(id, now)
      if (res.status !== 'active' || !activity || res.record.lastActivityAt >= now)
        return res
        // Records are private to the store and copied by the manager, so update in place.
      ;(res.record as { lastActivityAt: number }).lastActivityAt = now
      return res
    },
    async replace(oldId: string, next: SessionRecord, now: number): Promise<TouchResult> {
      const res = m.check(oldId, now)
      if (res.status !== 'active') return res
      m.bury(res.record, now)
      m.insert(next)
      return res
    },
    async revoke(id: string, now: number): Promise<SessionRecord | null> {
      const res = m.check(id, now)
      if (res.status !== 'active') return null
      m.bury(res.record, now)
      return res.record
    },
    revokeUser: async (userId: string, now: number, exceptId?: string): Promise<readonly SessionRecord[]> =>
      m.revokeUser(userId, now, exceptId),
    list: async (userId: string, now: number): Promise<readonly SessionRecord[]> => m.liveOf(userId, now),
    isRevoked: async (id: string, now: number): Promise<boolean> => m.tombstoned(id, now),
    update: async (id: string, data: string | undefined, now: number): Promise<TouchResult> =>
      m.update(id, data, now),
  }
}
