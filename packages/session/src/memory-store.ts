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
import {
  type CreateResult,
  expiryReason,
  type SessionLimitPolicy,
  type SessionRecord,
  type SessionStore,
  type TouchResult,
} from './store.js'

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

const UNKNOWN: TouchResult = Object.freeze({ status: 'unknown' })
const REVOKED: TouchResult = Object.freeze({ status: 'revoked' })

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
  const sessions = new Map<string, SessionRecord>() // records are private copies
  const byUser = new Map<string, Set<string>>()
  const tombstones = new Map<string, number>() // id -> expiry
  let sinceSweep = 0

  const unindex = (r: SessionRecord): void => {
    const set = byUser.get(r.userId)
    if (set === undefined) return
    set.delete(r.id)
    if (set.size === 0) byUser.delete(r.userId)
  }
  const remove = (r: SessionRecord): void => {
    sessions.delete(r.id)
    unindex(r)
  }
  const bury = (r: SessionRecord, now: number): void => {
    remove(r)
    if (r.absoluteExpiresAt > now) tombstones.set(r.id, r.absoluteExpiresAt)
  }
  const insert = (r: SessionRecord): void => {
    sessions.set(r.id, { ...r })
    let set = byUser.get(r.userId)
    if (set === undefined) {
      set = new Set()
      byUser.set(r.userId, set)
    }
    set.add(r.id)
  }
  const tombstoned = (id: string, now: number): boolean => {
    const t = tombstones.get(id)
    if (t === undefined) return false
    if (now < t) return true
    tombstones.delete(id)
    return false
  }
  const liveOf = (userId: string, now: number): SessionRecord[] => {
    const out: SessionRecord[] = []
    for (const id of byUser.get(userId) ?? []) {
      const r = sessions.get(id) as SessionRecord
      if (expiryReason(r, now) === null) out.push(r)
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
  }
  const sweep = (now: number): number => {
    let n = 0
    for (const r of sessions.values()) {
      if (expiryReason(r, now) !== null) {
        remove(r)
        n++
      }
    }
    for (const [id, t] of tombstones) {
      if (now >= t) {
        tombstones.delete(id)
        n++
      }
    }
    return n
  }
  const check = (id: string, now: number): TouchResult => {
    const r = sessions.get(id)
    if (r === undefined) return tombstoned(id, now) ? REVOKED : UNKNOWN
    const reason = expiryReason(r, now)
    if (reason !== null) {
      remove(r) // reported once; later touches see `unknown`
      return { status: 'expired', reason, record: r }
    }
    return { status: 'active', record: r }
  }

  const store: MemorySessionStore = {
    get size(): number {
      return sessions.size + tombstones.size
    },
    sweep,
    async create(
      record: SessionRecord,
      max: number,
      onLimit: SessionLimitPolicy,
      now: number,
    ): Promise<CreateResult> {
      if (++sinceSweep >= 1024 || sessions.size + tombstones.size >= maxEntries) {
        sinceSweep = 0
        sweep(now)
      }
      if (sessions.size + tombstones.size >= maxEntries)
        throw new SessionStoreUnavailableError('create (store full)')
      const live = liveOf(record.userId, now)
      const evicted: SessionRecord[] = []
      if (live.length >= max) {
        if (onLimit === 'reject') return { created: false }
        for (const r of live.slice(0, live.length - max + 1)) {
          bury(r, now)
          evicted.push(r)
        }
      }
      insert(record)
      return { created: true, evicted }
    },
    touch(id: string, now: number, activity: boolean): TouchResult {
      const res = check(id, now)
      if (res.status !== 'active' || !activity || res.record.lastActivityAt >= now)
        return res
        // Records are private to the store and copied by the manager, so update in place.
      ;(res.record as { lastActivityAt: number }).lastActivityAt = now
      return res
    },
    async replace(oldId: string, next: SessionRecord, now: number): Promise<TouchResult> {
      const res = check(oldId, now)
      if (res.status !== 'active') return res
      bury(res.record, now)
      insert(next)
      return res
    },
    async revoke(id: string, now: number): Promise<SessionRecord | null> {
      const res = check(id, now)
      if (res.status !== 'active') return null
      bury(res.record, now)
      return res.record
    },
    async revokeUser(userId: string, now: number, exceptId?: string): Promise<readonly SessionRecord[]> {
      const out: SessionRecord[] = []
      for (const id of [...(byUser.get(userId) ?? [])]) {
        if (id === exceptId) continue
        const r = sessions.get(id) as SessionRecord
        if (expiryReason(r, now) === null) out.push(r)
        bury(r, now)
      }
      return out
    },
    async list(userId: string, now: number): Promise<readonly SessionRecord[]> {
      return liveOf(userId, now)
    },
    async isRevoked(id: string, now: number): Promise<boolean> {
      return tombstoned(id, now)
    },
    async update(id: string, data: string | undefined, now: number): Promise<TouchResult> {
      const res = check(id, now)
      if (res.status !== 'active') return res
      const next: SessionRecord = { ...res.record }
      if (data === undefined) delete (next as { data?: string }).data
      else (next as { data?: string }).data = data
      sessions.set(id, next)
      return { status: 'active', record: next }
    },
  }
  return store
}
