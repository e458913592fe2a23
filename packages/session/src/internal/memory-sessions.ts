/**
 * The state of the in-memory session store: the records (private copies), the per-user index and
 * the tombstones of revoked sessions, with the operations on them. Every operation runs to
 * completion synchronously, which is what makes the store atomic.
 *
 * @module
 */
import {
  type CreateResult,
  expiryReason,
  type SessionLimitPolicy,
  type SessionRecord,
  type TouchResult,
} from '../store.js'

const UNKNOWN: TouchResult = Object.freeze({ status: 'unknown' })
const REVOKED: TouchResult = Object.freeze({ status: 'revoked' })

/** Records, the per-user index and tombstones. */
export class MemorySessions {
  readonly #sessions = new Map<string, SessionRecord>() // records are private copies
  readonly #byUser = new Map<string, Set<string>>()
  readonly #tombstones = new Map<string, number>() // id -> expiry

  /** Live records plus tombstones held. */
  get size(): number {
    return this.#sessions.size + this.#tombstones.size
  }

  #unindex(r: SessionRecord): void {
    const set = this.#byUser.get(r.userId)
    if (set === undefined) return
    set.delete(r.id)
    if (set.size === 0) this.#byUser.delete(r.userId)
  }

  #remove(r: SessionRecord): void {
    this.#sessions.delete(r.id)
    this.#unindex(r)
  }

  /** Removes `r` and keeps a tombstone until its absolute deadline. */
  bury(r: SessionRecord, now: number): void {
    this.#remove(r)
    if (r.absoluteExpiresAt > now) this.#tombstones.set(r.id, r.absoluteExpiresAt)
  }

  /** Stores a copy of `r` and indexes it under its user. */
  insert(r: SessionRecord): void {
    this.#sessions.set(r.id, { ...r })
    let set = this.#byUser.get(r.userId)
    if (set === undefined) {
      set = new Set()
      this.#byUser.set(r.userId, set)
    }
    set.add(r.id)
  }

  /** True while `id` has a live tombstone (an expired one is dropped). */
  tombstoned(id: string, now: number): boolean {
    const t = this.#tombstones.get(id)
    if (t === undefined) return false
    if (now < t) return true
    this.#tombstones.delete(id)
    return false
  }

  /** The user's live sessions, oldest first. */
  liveOf(userId: string, now: number): SessionRecord[] {
    const out: SessionRecord[] = []
    for (const id of this.#byUser.get(userId) ?? []) {
      const r = this.#sessions.get(id) as SessionRecord
      if (expiryReason(r, now) === null) out.push(r)
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
  }

  /** Deletes expired sessions and tombstones; returns how many entries were removed. */
  sweep(now: number): number {
    let n = 0
    for (const r of this.#sessions.values()) {
      if (expiryReason(r, now) !== null) {
        this.#remove(r)
        n++
      }
    }
    for (const [id, t] of this.#tombstones) {
      if (now >= t) {
        this.#tombstones.delete(id)
        n++
      }
    }
    return n
  }

  /** The state of `id` at `now`; an expired record is removed as it is reported. */
  check(id: string, now: number): TouchResult {
    const r = this.#sessions.get(id)
    if (r === undefined) return this.tombstoned(id, now) ? REVOKED : UNKNOWN
    const reason = expiryReason(r, now)
    if (reason !== null) {
      this.#remove(r) // reported once; later touches see `unknown`
      return { status: 'expired', reason, record: r }
    }
    return { status: 'active', record: r }
  }

  /** Inserts `record` under the per-user cap: refused, or the oldest live sessions evicted. */
  create(record: SessionRecord, max: number, onLimit: SessionLimitPolicy, now: number): CreateResult {
    const live = this.liveOf(record.userId, now)
    const evicted: SessionRecord[] = []
    if (live.length >= max) {
      if (onLimit === 'reject') return { created: false }
      for (const r of live.slice(0, live.length - max + 1)) {
        this.bury(r, now)
        evicted.push(r)
      }
    }
    this.insert(record)
    return { created: true, evicted }
  }

  /** Revokes the user's sessions but `exceptId`; returns those that were live. */
  revokeUser(userId: string, now: number, exceptId?: string): SessionRecord[] {
    const out: SessionRecord[] = []
    for (const id of [...(this.#byUser.get(userId) ?? [])]) {
      if (id === exceptId) continue
      const r = this.#sessions.get(id) as SessionRecord
      if (expiryReason(r, now) === null) out.push(r)
      this.bury(r, now)
    }
    return out
  }

  /** Replaces the session's app data (a new record object); the session must be active. */
  update(id: string, data: string | undefined, now: number): TouchResult {
    const res = this.check(id, now)
    if (res.status !== 'active') return res
    const next: SessionRecord = { ...res.record }
    if (data === undefined) delete (next as { data?: string }).data
    else (next as { data?: string }).data = data
    this.#sessions.set(id, next)
    return { status: 'active', record: next }
  }
}
