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
import type { SharedEmergencyStore } from './emergency-shared.js'
import { GrantCommands } from './internal/redis-grant-commands.js'
import { RedisGrantView } from './internal/redis-grant-view.js'
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
  const grants = new RedisGrantView(new GrantCommands(client, timeoutMs), prefix, clock, resyncMs)

  await grants.load()
  grants.resyncAt = clock.now()
  let closed = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const schedule = (): void => {
    if (closed) return
    timer = setTimeout(() => {
      grants
        .poll()
        .catch(() => {}) // freshAt stays where it was: `get` fails closed after maxStalenessMs
        .finally(schedule)
    }, pollMs)
    // Node's timer must not keep the process alive (the browser's is a number: nothing to do).
    if (typeof timer === 'object') (timer as unknown as { unref(): void }).unref()
  }
  schedule()

  return {
    ...sharedView(grants.view.grants, () => clock.now() - grants.freshAt <= maxStaleness),
    commit: (next, expected) => grants.commit(next, expected),
    fetch: (id) => grants.fetch(id),
    refresh(): Promise<void> {
      grants.resyncAt = clock.now()
      return grants.load()
    },
    async close(): Promise<void> {
      closed = true
      clearTimeout(timer)
    },
  }
}

function positive(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new TypeError(`"${name}" expected an integer`)
  if (value < 1) throw new RangeError(`"${name}" expected a positive integer`)
  return value
}
