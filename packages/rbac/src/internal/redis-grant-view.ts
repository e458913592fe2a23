/**
 * The local view of the Redis emergency store: every grant, read at open, reloaded when the
 * store's change counter moves (polled) and on every resync, and updated at once by this
 * instance's own commits and fetches. Decisions read it synchronously; it answers nothing once no
 * poll has succeeded for `maxStalenessMs` (fail closed).
 *
 * Redis layout under the prefix P: `P grants` HASH id → `version|json`; `P version` the change
 * counter, incremented by every stored change.
 *
 * @module
 */
import { type EmergencyGrant, isEmergencyGrant } from '../emergency-access.js'
import { deepFreeze } from './deep-freeze.js'
import { GrantView, type VersionedGrant } from './grant-view.js'
import { type GrantCommands, unexpected } from './redis-grant-commands.js'

/** Parses `version|json`; undefined unless it is a well-formed grant with this id. */
function parseEntry(id: string, entry: unknown): VersionedGrant | undefined {
  if (typeof entry !== 'string') return undefined
  const bar = entry.indexOf('|')
  const version = Number(entry.slice(0, bar))
  if (bar < 1 || !Number.isSafeInteger(version) || version < 1) return undefined
  let g: unknown
  try {
    g = deepFreeze(JSON.parse(entry.slice(bar + 1)))
  } catch {
    return undefined
  }
  if (!isEmergencyGrant(g) || g.id !== id) return undefined
  return { grant: g, version }
}

/** The view of one store and the reads and writes that keep it. */
export class RedisGrantView {
  /** The grants and their versions (`view.grants` is what decisions read). */
  readonly view: GrantView = new GrantView()
  /** When the last successful poll or reload started (clock ms). */
  freshAt: number = Number.NEGATIVE_INFINITY
  /** When the last full reload was due (clock ms). */
  resyncAt: number = Number.NEGATIVE_INFINITY
  /** The change counter of the last reload. */
  #seen: string | null = null
  // Single-grant changes (commit, fetch) are numbered, so that a reload read before one does not
  // undo it in the view (the moved counter then brings the next reload).
  #changes = 0
  readonly #changedAt = new Map<string, number>()
  /** One reload at a time, so that an older snapshot never lands after a newer one. */
  #reloading: Promise<void> = Promise.resolve()
  readonly #redis: GrantCommands
  readonly #grantsKey: string
  readonly #versionKey: string
  readonly #clock: { now(): number }
  readonly #resyncMs: number

  constructor(redis: GrantCommands, prefix: string, clock: { now(): number }, resyncMs: number) {
    this.#redis = redis
    this.#grantsKey = `${prefix}grants`
    this.#versionKey = `${prefix}version`
    this.#clock = clock
    this.#resyncMs = resyncMs
  }

  /** Applies one stored entry (`undefined`: none) to the view; the grant, if well-formed. */
  #put(id: string, entry: unknown): EmergencyGrant | undefined {
    return this.view.put(id, parseEntry(id, entry)) // missing, hand-edited or corrupted: never grants
  }

  #putChange(id: string, entry: unknown): EmergencyGrant | undefined {
    this.#changedAt.set(id, ++this.#changes)
    return this.#put(id, entry)
  }

  async #reload(): Promise<void> {
    const started = this.#clock.now()
    const before = this.#changes
    const [counter, flat] = await this.#redis.run(
      'reload',
      this.#redis.snapshot,
      [this.#versionKey, this.#grantsKey],
      [],
    )
    if (typeof counter !== 'string' || !Array.isArray(flat) || flat.length % 2 !== 0)
      throw unexpected('reload')
    const changedAt = this.#changedAt
    const stored = new Set<string>()
    for (let i = 0; i < flat.length; i += 2) {
      const id = flat[i]
      if (typeof id !== 'string') continue
      stored.add(id)
      if ((changedAt.get(id) ?? 0) <= before) this.#put(id, flat[i + 1])
    }
    const grants = this.view.grants
    for (const id of grants.keys())
      if (!stored.has(id) && (changedAt.get(id) ?? 0) <= before) grants.delete(id)
    for (const [id, at] of changedAt) if (at <= before) changedAt.delete(id)
    this.#seen = counter
    this.freshAt = started
  }

  /** Reloads every grant, after any reload in progress. */
  load(): Promise<void> {
    const reload = (): Promise<void> => this.#reload()
    const p = this.#reloading.then(reload, reload)
    this.#reloading = p.catch(() => {})
    return p
  }

  /** One poll: a full reload when a resync is due or the change counter moved. */
  async poll(): Promise<void> {
    const started = this.#clock.now()
    if (started - this.resyncAt >= this.#resyncMs) {
      this.resyncAt = started
      return this.load()
    }
    const counter = await this.#redis.send('poll', ['GET', this.#versionKey])
    if ((counter === null ? '0' : counter) !== this.#seen) return this.load()
    this.freshAt = started
  }

  /** Reads one grant from Redis into the view. */
  async fetch(id: string): Promise<EmergencyGrant | undefined> {
    if (typeof id !== 'string') return undefined
    return this.#putChange(id, await this.#redis.send('fetch', ['HGET', this.#grantsKey, id]))
  }

  /** Stores `next` if the stored grant is still `expected` (null: a new grant); the view follows. */
  async commit(next: EmergencyGrant, expected: EmergencyGrant | null): Promise<boolean> {
    const redis = this.#redis
    const keys = [this.#grantsKey, this.#versionKey]
    const json = JSON.stringify(next)
    const version = expected === null ? 0 : (this.view.versionOf(expected) ?? -1)
    const reply =
      expected === null
        ? await redis.run('commit', redis.insert, keys, [next.id, json])
        : await redis.run('commit', redis.update, keys, [next.id, String(version), String(version + 1), json])
    if (reply[0] === 1) {
      this.#putChange(next.id, `${version + 1}|${json}`)
      return true
    }
    this.#putChange(next.id, reply[1] ?? undefined)
    return false
  }
}
