/**
 * Emergency-access grants on Redis, shared by every app instance: one hash `<prefix>grants` (grant
 * id → `version|json`), compare-and-set and insert as Lua scripts (atomic on the server), and a
 * change counter `<prefix>version` that every change increments. Each instance polls the counter
 * (default every 50 ms) and reloads the grants when it moves, so another instance sees a grant, a
 * revocation or a review within about one poll interval; a full reload every few seconds covers
 * anything else (a restored backup, a hand edit).
 *
 * Structural client: node-redis (`redis`/`@redis/client` v5 or v6) clients fit as they are; the
 * app owns the connection (TLS, auth, reconnects). One Redis primary (standalone or Sentinel); on
 * Redis Cluster, put a hash tag in the prefix (`{clinic}:rbac:`) so both keys share a slot.
 *
 * Fail closed: when no poll has succeeded for `maxStalenessMs`, `get` answers `undefined` (a
 * decision then finds no grant and denies); the async registry methods throw
 * `ERR_RBAC_EMERGENCY_STORE_UNAVAILABLE` when Redis does not answer within `commandTimeoutMs`.
 * Listing (pending reviews) keeps the last view. An entry that is not a well-formed grant never
 * grants.
 *
 * HIPAA: 164.312(a)(2)(ii) emergency access procedure; 164.312(b) audit controls (grants survive
 * restarts and await review); 164.308(a)(1)(ii)(D) information system activity review.
 *
 * @module
 */
import { type EmergencyGrant, isEmergencyGrant } from './emergency-access.js'
import type { SharedEmergencyStore } from './emergency-shared.js'
import { EmergencyStoreUnavailableError } from './errors.js'
import { deepFreeze } from './internal/deep-freeze.js'
import { sharedView } from './internal/shared-view.js'

/**
 * The one method the store needs from a Redis client: node-redis (`redis`/`@redis/client` v5 or
 * v6) clients have it as they are. For another client, adapt it in a line, for example ioredis:
 * `{ sendCommand: ([cmd, ...args]) => ioredis.call(cmd, ...args) }`.
 */
export interface GrantRedisClient {
  /** Sends one command, for example `['GET', 'key']`, and resolves with the RESP reply. */
  sendCommand(args: ReadonlyArray<string>): Promise<unknown>
}

/** Options of {@link openRedisEmergencyStore}. */
export interface RedisEmergencyStoreOptions {
  /** A connected client (the application owns the connection). */
  client: GrantRedisClient
  /** Key prefix, for example `clinic:rbac:`. Default `sg:rbac:`. 1–100 printable ASCII characters. */
  prefix?: string
  /** How often the change counter is read, ms (default 50: another instance sees a grant within ~100 ms). */
  pollIntervalMs?: number
  /** Full reload interval, ms (default 5000), whether or not the counter moved. */
  resyncIntervalMs?: number
  /** `get` fails closed when no poll has succeeded for this long, ms (default the larger of 1000 and 4 polls). */
  maxStalenessMs?: number
  /** Per-command timeout, ms (default 2000); a timeout is `ERR_RBAC_EMERGENCY_STORE_UNAVAILABLE`. */
  commandTimeoutMs?: number
  /** The clock for staleness (default `Date.now`). */
  clock?: { now(): number }
}

// KEYS: grants, version. ARGV: id, json. Reply {1} when stored, {0, current} when the id exists.
const INSERT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then return {0, cur} end
redis.call('HSET', KEYS[1], ARGV[1], '1|' .. ARGV[2])
redis.call('INCR', KEYS[2])
return {1}`

// KEYS: grants, version. ARGV: id, expected version, next version, json. Reply {1} when stored,
// else {0} (no such grant) or {0, current} (another change came first).
const UPDATE = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {0} end
if string.sub(cur, 1, string.len(ARGV[2]) + 1) ~= ARGV[2] .. '|' then return {0, cur} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3] .. '|' .. ARGV[4])
redis.call('INCR', KEYS[2])
return {1}`

// KEYS: version, grants. Reply {counter, {id, entry, ...}}, read atomically.
const SNAPSHOT = `return {redis.call('GET', KEYS[1]) or '0', redis.call('HGETALL', KEYS[2])}`

type Script = { readonly source: string; sha: string | null }

/**
 * Opens the shared grant store on Redis: loads every grant once, then polls the change counter.
 *
 * HIPAA: 164.312(a)(2)(ii) emergency access procedure.
 *
 * @hipaa 164.312(a)(2)(ii) supports
 * @nist AC-3 164.312(a)(2)(ii)
 * @nist AC-6(9) 164.312(a)(2)(ii): a grant made on any instance is honoured by all and stays pending review across restarts
 * @evidence the Redis hash of grants: every grant with its revocation and review, shared by all instances
 * @appResponsibility Run Redis with persistence (AOF, appendfsync everysec or always), authentication and TLS on a private network; limit the app's ACL to its prefix; review pending grants.
 * @config prefix, pollIntervalMs, resyncIntervalMs, maxStalenessMs, commandTimeoutMs
 * @verifiedBy packages/rbac/test/emergency-shared-redis.test.ts
 * @throws {TypeError} when `client` has no `sendCommand`, or `prefix` is not a string.
 * @throws {RangeError} when `prefix` or a duration is out of range.
 * @throws {EmergencyStoreUnavailableError} when the first load fails (`ERR_RBAC_EMERGENCY_STORE_UNAVAILABLE`).
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * import { compilePolicy, openRedisEmergencyStore } from '@safeguards/rbac'
 *
 * const client = await createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).connect()
 * const emergencyStore = await openRedisEmergencyStore({ client, prefix: 'clinic:rbac:' })
 * const pdp = compilePolicy(policy, { emergencyStore })
 * const grant = await pdp.emergency.grantAsync(request) // honoured by every instance
 * ```
 */
export async function openRedisEmergencyStore(
  options: RedisEmergencyStoreOptions,
): Promise<SharedEmergencyStore> {
  const { client } = options
  if (typeof client?.sendCommand !== 'function')
    throw new TypeError('"client" expected a Redis client with sendCommand')
  const prefix = options.prefix ?? 'sg:rbac:'
  if (typeof prefix !== 'string') throw new TypeError('"prefix" expected a string')
  if (!/^[\x21-\x7e]{1,100}$/.test(prefix))
    throw new RangeError('"prefix" expected 1-100 printable ASCII characters')
  const pollMs = positive(options.pollIntervalMs ?? 50, 'pollIntervalMs')
  const resyncMs = positive(options.resyncIntervalMs ?? 5000, 'resyncIntervalMs')
  const maxStaleness = positive(options.maxStalenessMs ?? Math.max(1000, 4 * pollMs), 'maxStalenessMs')
  const timeoutMs = positive(options.commandTimeoutMs ?? 2000, 'commandTimeoutMs')
  const clock = options.clock ?? { now: () => Date.now() }
  const grantsKey = `${prefix}grants`
  const versionKey = `${prefix}version`
  const scripts = {
    insert: { source: INSERT, sha: null } as Script,
    update: { source: UPDATE, sha: null } as Script,
    snapshot: { source: SNAPSHOT, sha: null } as Script,
  }

  // Every failure is typed; the cause (a NOSCRIPT reply, a closed socket, a timeout) is kept.
  const send = (operation: string, args: string[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const fail = (cause: unknown): void =>
        reject(new EmergencyStoreUnavailableError(`emergency store: ${operation} failed`, { cause }))
      const timer = setTimeout(fail, timeoutMs, new Error('command timed out'))
      ;(timer as unknown as { unref?: () => void }).unref?.()
      const done = (v: unknown): void => {
        clearTimeout(timer)
        resolve(v)
      }
      const failed = (e: unknown): void => {
        clearTimeout(timer)
        fail(e)
      }
      try {
        client.sendCommand(args).then(done, failed)
      } catch (e) {
        failed(e)
      }
    })
  const run = async (
    operation: string,
    script: Script,
    keys: string[],
    argv: string[],
  ): Promise<unknown[]> => {
    for (let attempt = 0; ; attempt++) {
      if (script.sha === null) {
        const sha = await send(operation, ['SCRIPT', 'LOAD', script.source])
        if (typeof sha !== 'string') throw unexpected(operation)
        script.sha = sha
      }
      try {
        const reply = await send(operation, ['EVALSHA', script.sha, String(keys.length), ...keys, ...argv])
        if (!Array.isArray(reply)) throw unexpected(operation)
        return reply
      } catch (e) {
        const cause = (e as { cause?: { message?: unknown } }).cause
        if (attempt > 0 || !String(cause?.message).startsWith('NOSCRIPT')) throw e
        script.sha = null // the server restarted or SCRIPT FLUSH ran: load it again, once
      }
    }
  }

  const view = new Map<string, EmergencyGrant>()
  const versions = new WeakMap<EmergencyGrant, number>()
  let freshAt = Number.NEGATIVE_INFINITY
  let seen: string | null = null
  let resyncAt = Number.NEGATIVE_INFINITY
  let closed = false
  // Single-grant changes (commit, fetch) are numbered, so that a reload read before one does not
  // undo it in the view (the moved counter then brings the next reload).
  let changes = 0
  const changedAt = new Map<string, number>()

  /** Applies one stored entry (`undefined`: none) to the view; the grant, if well-formed. */
  const put = (id: string, entry: unknown): EmergencyGrant | undefined => {
    const g = parseEntry(id, entry)
    if (g === undefined)
      view.delete(id) // missing, hand-edited or corrupted: never grants
    else {
      versions.set(g.grant, g.version)
      view.set(id, g.grant)
    }
    return g?.grant
  }
  const putChange = (id: string, entry: unknown): EmergencyGrant | undefined => {
    changedAt.set(id, ++changes)
    return put(id, entry)
  }
  const reload = async (): Promise<void> => {
    const started = clock.now()
    const before = changes
    const [counter, flat] = await run('reload', scripts.snapshot, [versionKey, grantsKey], [])
    if (typeof counter !== 'string' || !Array.isArray(flat) || flat.length % 2 !== 0)
      throw unexpected('reload')
    const stored = new Set<string>()
    for (let i = 0; i < flat.length; i += 2) {
      const id = flat[i]
      if (typeof id !== 'string') continue
      stored.add(id)
      if ((changedAt.get(id) ?? 0) <= before) put(id, flat[i + 1])
    }
    for (const id of view.keys()) if (!stored.has(id) && (changedAt.get(id) ?? 0) <= before) view.delete(id)
    for (const [id, at] of changedAt) if (at <= before) changedAt.delete(id)
    seen = counter
    freshAt = started
  }
  // One reload at a time, so that an older snapshot never lands after a newer one.
  let reloading: Promise<void> = Promise.resolve()
  const load = (): Promise<void> => {
    const p = reloading.then(reload, reload)
    reloading = p.catch(() => {})
    return p
  }
  const poll = async (): Promise<void> => {
    const started = clock.now()
    if (started - resyncAt >= resyncMs) {
      resyncAt = started
      return load()
    }
    const counter = await send('poll', ['GET', versionKey])
    if ((counter === null ? '0' : counter) !== seen) return load()
    freshAt = started
  }
  const fetch = async (id: string): Promise<EmergencyGrant | undefined> => {
    if (typeof id !== 'string') return undefined
    return putChange(id, await send('fetch', ['HGET', grantsKey, id]))
  }

  await load()
  resyncAt = clock.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  const schedule = (): void => {
    if (closed) return
    timer = setTimeout(() => {
      poll()
        .catch(() => {}) // freshAt stays where it was: `get` fails closed after maxStalenessMs
        .finally(schedule)
    }, pollMs)
    // Node's timer must not keep the process alive (the browser's is a number: nothing to do).
    if (typeof timer === 'object') (timer as unknown as { unref(): void }).unref()
  }
  schedule()

  return {
    ...sharedView(view, () => clock.now() - freshAt <= maxStaleness),
    async commit(next: EmergencyGrant, expected: EmergencyGrant | null): Promise<boolean> {
      const json = JSON.stringify(next)
      const version = expected === null ? 0 : (versions.get(expected) ?? -1)
      const reply =
        expected === null
          ? await run('commit', scripts.insert, [grantsKey, versionKey], [next.id, json])
          : await run(
              'commit',
              scripts.update,
              [grantsKey, versionKey],
              [next.id, String(version), String(version + 1), json],
            )
      if (reply[0] === 1) {
        putChange(next.id, `${version + 1}|${json}`)
        return true
      }
      putChange(next.id, reply[1] ?? undefined)
      return false
    },
    fetch,
    refresh(): Promise<void> {
      resyncAt = clock.now()
      return load()
    },
    async close(): Promise<void> {
      closed = true
      clearTimeout(timer)
    },
  }
}

/** Parses `version|json`; undefined unless it is a well-formed grant with this id. */
function parseEntry(id: string, entry: unknown): { grant: EmergencyGrant; version: number } | undefined {
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

function unexpected(operation: string): EmergencyStoreUnavailableError {
  return new EmergencyStoreUnavailableError(`emergency store: ${operation} (unexpected reply)`)
}

function positive(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new TypeError(`"${name}" expected an integer`)
  if (value < 1) throw new RangeError(`"${name}" expected a positive integer`)
  return value
}
