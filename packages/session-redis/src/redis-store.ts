/**
 * The Redis session store for `@safeguards/session`: many app instances share sessions, and every
 * state change is one atomic Lua script on the server (touch-if-exists with both deadlines,
 * rotation, revocation with tombstones, the per-user index and the concurrent-session cap).
 *
 * Redis holds only SHA-256 hashes of tokens (key names and index members), never a token.
 * Deployment: a single Redis primary (standalone or Sentinel). Redis Cluster is not supported:
 * the scripts touch a user's index and sessions that hash to different slots.
 *
 * @module
 */
import { isNoScript } from '@safeguards/core'
import type { CreateResult, SessionRecord, SessionStore, TouchResult } from '@safeguards/session'
import { SessionStoreUnavailableError } from './errors.js'
import { dataArg, KeyLayout } from './internal/layout.js'
import { compactTouchResult, records, touchResult } from './internal/replies.js'
import { ScriptRunner } from './internal/script-runner.js'

/**
 * The one method the store needs from a Redis client: node-redis (`redis`/`@redis/client` v5 or
 * v6) clients have it as they are. For another client, adapt it in a line, for example ioredis:
 * `{ sendCommand: ([cmd, ...args]) => ioredis.call(cmd, ...args) }`.
 */
export interface RedisCommandClient {
  /** Sends one command, for example `['GET', 'key']`, and resolves with the RESP reply. */
  sendCommand(args: ReadonlyArray<string>): Promise<unknown>
}

/** Options of {@link createRedisSessionStore}. */
export interface RedisSessionStoreOptions {
  /** A connected client (the application owns the connection: TLS, auth, reconnects). */
  client: RedisCommandClient
  /** Key prefix, for example `myapp:sess:`. Default `sg:sess:`. 1–100 printable ASCII characters, no `|`. */
  prefix?: string
  /**
   * Per-command timeout in ms. Default 2000. The store enforces it itself, with one shared timer:
   * node-redis's own `timeout` option only covers commands still waiting to be written (not a
   * server that stops answering) and costs an AbortSignal per command. A timeout fails closed
   * with `ERR_SESSION_STORE_UNAVAILABLE`.
   */
  commandTimeoutMs?: number
  /**
   * Validation with activity writes the new `lastActivityAt` only when it moves by at least this
   * many ms (default 1000; 0 writes on every validation). Skipped writes only ever make the idle
   * deadline earlier than exact, by less than this interval, never later: it trades a second of
   * idle precision for far fewer writes (and replication traffic) from chatty clients.
   */
  activityWriteIntervalMs?: number
  /**
   * How long Redis keeps a record past its deadline (ms), so the validation that arrives after the
   * deadline can report `expired` (an audit event) rather than `unknown`. The scripts decide
   * expiry from the manager's clock; this only bounds storage. Default 60,000.
   */
  expiryGraceMs?: number
}

/**
 * Creates a Redis-backed session store.
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff (deadlines enforced atomically on the shared
 * server, logout honoured by every instance at once); 164.312(d) person or entity authentication
 * (only token hashes stored).
 *
 * @hipaa 164.312(a)(2)(iii) supports
 * @nist AC-12 164.312(a)(2)(iii)
 * @nist AC-12(1) 164.312(a)(2)(iii): tombstones keep a logged-out session revoked on every app instance
 * @evidence tombstones that keep revoked sessions revoked across every app instance
 * @appResponsibility Run Redis with authentication and TLS on a private network; size memory for the session count.
 * @config keyPrefix, activityWriteIntervalMs
 * @verifiedBy packages/session-redis/test/redis-store.test.ts
 * @throws {TypeError} when `client` has no `sendCommand`, or `prefix` is not a string.
 * @throws {RangeError} when `prefix` or a duration is out of range.
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * import { createSessionManager } from '@safeguards/session'
 * import { createRedisSessionStore } from '@safeguards/session-redis'
 *
 * const client = await createClient({ url: process.env.REDIS_URL }).connect()
 * const sessions = createSessionManager({ store: createRedisSessionStore({ client, prefix: 'clinic:sess:' }) })
 * ```
 */
export function createRedisSessionStore(options: RedisSessionStoreOptions): SessionStore {
  const { client } = options
  if (typeof client?.sendCommand !== 'function')
    throw new TypeError('"client" expected a Redis client with sendCommand')
  const prefix = options.prefix ?? 'sg:sess:'
  if (typeof prefix !== 'string') throw new TypeError('"prefix" expected a string')
  if (!/^[\x21-\x7b\x7d\x7e]{1,100}$/.test(prefix))
    throw new RangeError('"prefix" expected 1-100 printable ASCII characters')
  const timeout = positive(options.commandTimeoutMs ?? 2000, 'commandTimeoutMs')
  const grace = String(positive(options.expiryGraceMs ?? 60_000, 'expiryGraceMs', true))
  const writeInterval = String(
    positive(options.activityWriteIntervalMs ?? 1000, 'activityWriteIntervalMs', true),
  )
  const st: RedisStore = {
    redis: new ScriptRunner(client, timeout),
    keys: new KeyLayout(prefix, grace),
    writeInterval,
  }
  const { redis, keys } = st
  return {
    // parameters typed by SessionStore
    create: (record, max, onLimit, now) => createSession(st, record, max, onLimit, now),
    touch: (id: string, now: number, activity: boolean) => touchSession(st, id, now, activity),
    replace: (oldId: string, next: SessionRecord, now: number) => replaceSession(st, oldId, next, now),
    async revoke(id: string, now: number): Promise<SessionRecord | null> {
      const reply = await redis.run('revoke', redis.revoke, [keys.s(id)], [String(now), grace, prefix, id])
      return records('revoke', reply, 0)[0] ?? null
    },
    async revokeUser(userId: string, now: number, exceptId?: string): Promise<readonly SessionRecord[]> {
      const argv = [String(now), grace, prefix, exceptId ?? '']
      return records('revokeUser', await redis.run('revokeUser', redis.revokeUser, [keys.u(userId)], argv), 0)
    },
    async list(userId: string, now: number): Promise<readonly SessionRecord[]> {
      const reply = await redis.run('list', redis.list, [keys.u(userId)], [String(now), prefix])
      return records('list', reply, 0)
    },
    async isRevoked(id: string): Promise<boolean> {
      const reply = await redis.send('isRevoked', ['EXISTS', keys.t(id)])
      return reply === 1
    },
    async update(id: string, data: string | undefined, now: number): Promise<TouchResult> {
      const argv = [String(now), dataArg(data), '', id]
      const reply = await redis.run('update', redis.update, [keys.s(id), keys.t(id), keys.d(id)], argv, false)
      return compactTouchResult(reply, id)
    },
  }
}

/** What one store holds; the operations below take it. */
interface RedisStore {
  readonly redis: ScriptRunner
  readonly keys: KeyLayout
  /** `activityWriteIntervalMs`, as the touch script's argument. */
  readonly writeInterval: string
}

/** `SessionStore.create`: the record, the user's index, and the cap (evicting or refusing). */
async function createSession(
  { redis, keys }: RedisStore,
  record: SessionRecord,
  max: number,
  onLimit: 'reject' | 'evict-oldest',
  now: number,
): Promise<CreateResult> {
  const reply = await redis.run(
    'create',
    redis.create,
    [keys.s(record.id), keys.u(record.userId)],
    [
      String(now),
      String(max),
      onLimit === 'reject' ? 'r' : 'e',
      keys.grace,
      keys.prefix,
      record.id,
      `${keys.head(record, now)}${keys.u(record.userId)}|${record.userId}`,
      String(record.createdAt),
      keys.ttl(record, now),
      dataArg(record.data),
    ],
  )
  if (reply[0] === 0) return { created: false }
  return { created: true, evicted: records('create', reply, 1) }
}

/** `SessionStore.touch`, the hot path: one EVALSHA, one string back, no intermediate arrays. */
function touchSession(st: RedisStore, id: string, now: number, activity: boolean): Promise<TouchResult> {
  const { redis, keys } = st
  const sha = redis.touch.sha
  if (sha === null) return redis.load('touch', redis.touch).then(() => touchSession(st, id, now, activity))
  const args = [
    'EVALSHA',
    sha,
    '3',
    keys.s(id),
    keys.t(id),
    keys.d(id),
    String(now),
    activity ? '1' : '0',
    keys.grace,
    id,
    st.writeInterval,
  ]
  return redis.call(args).then(
    (reply) => compactTouchResult(reply, id),
    (e: unknown) => {
      if (!isNoScript(e)) throw new SessionStoreUnavailableError('touch', { cause: e })
      redis.touch.forget() // the server restarted or SCRIPT FLUSH ran: load it again
      return redis
        .run('touch', redis.touch, [keys.s(id), keys.t(id), keys.d(id)], args.slice(6), false)
        .then((r) => compactTouchResult(r, id))
    },
  )
}

/** `SessionStore.replace` (rotation): the old id buried, the record moved to the new id. */
async function replaceSession(
  { redis, keys }: RedisStore,
  oldId: string,
  next: SessionRecord,
  now: number,
): Promise<TouchResult> {
  const reply = await redis.run(
    'replace',
    redis.replace,
    [keys.s(oldId), keys.t(oldId), keys.s(next.id)],
    [
      String(now),
      keys.grace,
      keys.prefix,
      oldId,
      next.id,
      keys.head(next, now),
      `|${next.userId}`,
      String(next.createdAt),
      keys.ttl(next, now),
      String(next.absoluteExpiresAt),
    ],
  )
  return touchResult('replace', reply)
}

function positive(value: unknown, name: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new TypeError(`"${name}" expected an integer`)
  if (value < (allowZero ? 0 : 1))
    throw new RangeError(`"${name}" expected ${allowZero ? 'a non-negative' : 'a positive'} integer`)
  return value
}
