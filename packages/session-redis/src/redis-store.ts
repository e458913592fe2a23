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
import { bytesToHex, sha256, utf8Encode } from '@safeguards/core'
import type { CreateResult, SessionRecord, SessionStore, TouchResult } from '@safeguards/session'
import { SessionStoreUnavailableError } from './errors.js'
import { CREATE, LIST, REPLACE, REVOKE, REVOKE_USER, TOUCH, UPDATE } from './internal/scripts.js'
import { createTimeoutGuard } from './internal/timeouts.js'

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

type Script = { readonly source: string; sha: string | null }

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

  const scripts = {
    touch: { source: TOUCH, sha: null } as Script,
    create: { source: CREATE, sha: null } as Script,
    replace: { source: REPLACE, sha: null } as Script,
    revoke: { source: REVOKE, sha: null } as Script,
    revokeUser: { source: REVOKE_USER, sha: null } as Script,
    list: { source: LIST, sha: null } as Script,
    update: { source: UPDATE, sha: null } as Script,
  }

  const timeouts = createTimeoutGuard(timeout)
  const call = (args: string[]): Promise<unknown> => timeouts.guard(client.sendCommand(args))
  const send = (operation: string, args: string[]): Promise<unknown> =>
    call(args).catch((e: unknown) => {
      throw new SessionStoreUnavailableError(operation, { cause: e })
    })
  const load = async (operation: string, script: Script): Promise<void> => {
    const sha = await send(operation, ['SCRIPT', 'LOAD', script.source])
    if (typeof sha !== 'string') throw new SessionStoreUnavailableError(`${operation} (unexpected reply)`)
    script.sha = sha
  }
  const run = (
    operation: string,
    script: Script,
    keys: string[],
    argv: string[],
    retry = true,
    array = true,
  ): Promise<unknown[]> => {
    if (script.sha === null)
      return load(operation, script).then(() => run(operation, script, keys, argv, retry, array))
    return call(['EVALSHA', script.sha, String(keys.length), ...keys, ...argv]).then(
      (reply) => {
        if (array ? !Array.isArray(reply) : typeof reply !== 'string')
          throw new SessionStoreUnavailableError(`${operation} (unexpected reply)`)
        return reply as unknown[]
      },
      (e: unknown) => {
        if (retry && String((e as { message?: unknown })?.message).startsWith('NOSCRIPT')) {
          script.sha = null // the server restarted or SCRIPT FLUSH ran: load it again, once
          return run(operation, script, keys, argv, false, array)
        }
        throw new SessionStoreUnavailableError(operation, { cause: e })
      },
    )
  }

  const sKey = (id: string): string => `${prefix}s:${id}`
  const tKey = (id: string): string => `${prefix}t:${id}`
  const dKey = (id: string): string => `${prefix}d:${id}`
  const dataArg = (data: string | undefined): string => (data === undefined ? '-' : `+${data}`)
  const uKey = (userId: string): string => `${prefix}u:${bytesToHex(sha256(utf8Encode(userId)))}`
  const role = (r: SessionRecord): string => (r.role === null ? '-' : `+${r.role}`)
  const ttl = (r: SessionRecord, now: number): string =>
    String(
      Math.max(1, Math.min(r.lastActivityAt + r.idleTimeoutMs, r.absoluteExpiresAt) - now + Number(grace)),
    )
  // The record string up to the index key, and after it (see internal/scripts.ts).
  const head = (r: SessionRecord, now: number): string =>
    `${r.lastActivityAt}|${now}|${r.idleTimeoutMs}|${r.absoluteExpiresAt}|${r.createdAt}|${r.authAt}|${role(r)}|`

  const store: SessionStore = {
    // parameters typed by SessionStore
    async create(record, max, onLimit, now): Promise<CreateResult> {
      const reply = await run(
        'create',
        scripts.create,
        [sKey(record.id), uKey(record.userId)],
        [
          String(now),
          String(max),
          onLimit === 'reject' ? 'r' : 'e',
          grace,
          prefix,
          record.id,
          `${head(record, now)}${uKey(record.userId)}|${record.userId}`,
          String(record.createdAt),
          ttl(record, now),
          dataArg(record.data),
        ],
      )
      if (reply[0] === 0) return { created: false }
      return { created: true, evicted: records('create', reply, 1) }
    },
    touch(id: string, now: number, activity: boolean): Promise<TouchResult> {
      // The hot path: one EVALSHA, one string back, no intermediate arrays.
      const sha = scripts.touch.sha
      if (sha === null) return load('touch', scripts.touch).then(() => store.touch(id, now, activity))
      const args = [
        'EVALSHA',
        sha,
        '3',
        sKey(id),
        tKey(id),
        dKey(id),
        String(now),
        activity ? '1' : '0',
        grace,
        id,
        writeInterval,
      ]
      return call(args).then(
        (reply) => compactTouchResult(reply, id),
        (e: unknown) => {
          if (String((e as { message?: unknown })?.message).startsWith('NOSCRIPT')) {
            scripts.touch.sha = null // the server restarted or SCRIPT FLUSH ran: load it again
            return run(
              'touch',
              scripts.touch,
              [sKey(id), tKey(id), dKey(id)],
              args.slice(6),
              false,
              false,
            ).then((r) => compactTouchResult(r, id))
          }
          throw new SessionStoreUnavailableError('touch', { cause: e })
        },
      )
    },
    async replace(oldId: string, next: SessionRecord, now: number): Promise<TouchResult> {
      const reply = await run(
        'replace',
        scripts.replace,
        [sKey(oldId), tKey(oldId), sKey(next.id)],
        [
          String(now),
          grace,
          prefix,
          oldId,
          next.id,
          head(next, now),
          `|${next.userId}`,
          String(next.createdAt),
          ttl(next, now),
          String(next.absoluteExpiresAt),
        ],
      )
      return touchResult('replace', reply)
    },
    async revoke(id: string, now: number): Promise<SessionRecord | null> {
      const reply = await run('revoke', scripts.revoke, [sKey(id)], [String(now), grace, prefix, id])
      return records('revoke', reply, 0)[0] ?? null
    },
    async revokeUser(userId: string, now: number, exceptId?: string): Promise<readonly SessionRecord[]> {
      const reply = await run(
        'revokeUser',
        scripts.revokeUser,
        [uKey(userId)],
        [String(now), grace, prefix, exceptId ?? ''],
      )
      return records('revokeUser', reply, 0)
    },
    async list(userId: string, now: number): Promise<readonly SessionRecord[]> {
      const reply = await run('list', scripts.list, [uKey(userId)], [String(now), prefix])
      return records('list', reply, 0)
    },
    async isRevoked(id: string): Promise<boolean> {
      const reply = await send('isRevoked', ['EXISTS', tKey(id)])
      return reply === 1
    },
    async update(id: string, data: string | undefined, now: number): Promise<TouchResult> {
      const reply = await run(
        'update',
        scripts.update,
        [sKey(id), tKey(id), dKey(id)],
        [String(now), dataArg(data), '', id],
        true,
        false,
      )
      return compactTouchResult(reply, id)
    },
  }
  return store
}

function positive(value: unknown, name: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new TypeError(`"${name}" expected an integer`)
  if (value < (allowZero ? 0 : 1))
    throw new RangeError(`"${name}" expected ${allowZero ? 'a non-negative' : 'a positive'} integer`)
  return value
}

const UNKNOWN: TouchResult = Object.freeze({ status: 'unknown' })
const REVOKED: TouchResult = Object.freeze({ status: 'revoked' })

/**
 * Parses TOUCH's and UPDATE's one-string answer: 'U', 'R', or '<A|X>|<reason>|l|e|i|x|c|a|r|k|u',
 * the active one preceded by 'D<length>|<data>' when the session carries data.
 */
function compactTouchResult(reply: unknown, id: string): TouchResult {
  if (reply === 'U') return UNKNOWN
  if (reply === 'R') return REVOKED
  if (typeof reply !== 'string') throw new SessionStoreUnavailableError('touch (unexpected reply)')
  if (reply[0] !== 'D') return parseRecordReply(reply, id, undefined)
  const bar = reply.indexOf('|')
  const length = Number(reply.slice(1, bar))
  // Lua's string.len counts bytes: the JSON text is ASCII-safe only if the app's data is, so
  // measure in UTF-8 rather than trusting string length.
  const rest = reply.slice(bar + 1)
  const data = utf8Prefix(rest, length)
  if (bar < 0 || !Number.isSafeInteger(length) || data === null)
    throw new SessionStoreUnavailableError('touch (unexpected reply)')
  return parseRecordReply(rest.slice(data.length), id, data)
}

/** The leading characters of `text` whose UTF-8 encoding is exactly `bytes` long, or null. */
function utf8Prefix(text: string, bytes: number): string | null {
  let n = 0
  let i = 0
  while (n < bytes && i < text.length) {
    const c = text.codePointAt(i) as number
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4
    i += c >= 0x10000 ? 2 : 1
  }
  return n === bytes ? text.slice(0, i) : null
}

function parseRecordReply(text: string, id: string, data: string | undefined): TouchResult {
  // kind | why | l | e | i | x | c | a | role | indexKey | userId (userId last: it may contain '|')
  const cut: number[] = []
  let from = 0
  for (let n = 0; n < 10; n++) {
    const at = text.indexOf('|', from)
    if (at < 0) throw new SessionStoreUnavailableError('touch (unexpected reply)')
    cut.push(at)
    from = at + 1
  }
  const field = (n: number): string => text.slice(n === 0 ? 0 : (cut[n - 1] as number) + 1, cut[n])
  const num = (n: number): number => {
    const f = field(n)
    return f === '' ? Number.NaN : Number(f)
  }
  const kind = field(0)
  const parsed = recordOf(id, text.slice(from), field(8), [num(6), num(7), num(2), num(4), num(5)])
  if (parsed === undefined) throw new SessionStoreUnavailableError('touch (unexpected reply)')
  const record: SessionRecord = data === undefined ? parsed : { ...parsed, data }
  if (kind === 'A') return { status: 'active', record }
  const why = field(1)
  if (kind === 'X' && (why === 'idle' || why === 'absolute'))
    return { status: 'expired', reason: why, record }
  throw new SessionStoreUnavailableError('touch (unexpected reply)')
}

function touchResult(operation: string, reply: unknown[]): TouchResult {
  switch (reply[0]) {
    case 'active': {
      const [r] = records(operation, reply, 1)
      if (r !== undefined) return { status: 'active', record: r }
      break
    }
    case 'expired': {
      const [r] = records(operation, reply, 2)
      if (r !== undefined && (reply[1] === 'idle' || reply[1] === 'absolute'))
        return { status: 'expired', reason: reply[1], record: r }
      break
    }
    case 'revoked':
      return REVOKED
    case 'unknown':
      return UNKNOWN
  }
  throw new SessionStoreUnavailableError(`${operation} (unexpected reply)`)
}

function records(operation: string, reply: unknown[], start: number): SessionRecord[] {
  const out: SessionRecord[] = []
  if ((reply.length - start) % 8 !== 0)
    throw new SessionStoreUnavailableError(`${operation} (unexpected reply)`)
  for (let i = start; i < reply.length; i += 8) {
    const [id, userId, role, ...times] = reply.slice(i, i + 8)
    const nums = times.map((v) => (typeof v === 'string' ? Number(v) : Number.NaN))
    const record =
      typeof id === 'string' && typeof userId === 'string' && typeof role === 'string'
        ? recordOf(id, userId, role, nums)
        : undefined
    if (record === undefined) throw new SessionStoreUnavailableError(`${operation} (unexpected reply)`)
    out.push(record)
  }
  return out
}

/**
 * A record from a reply's fields: `role` is `-` (none) or `+<role>`, `times` are createdAt, authAt,
 * lastActivityAt, idleTimeoutMs and absoluteExpiresAt. Undefined when a field is malformed.
 */
function recordOf(id: string, userId: string, role: string, times: number[]): SessionRecord | undefined {
  if ((role !== '-' && role[0] !== '+') || times.length !== 5 || !times.every(Number.isSafeInteger))
    return undefined
  const [createdAt, authAt, lastActivityAt, idleTimeoutMs, absoluteExpiresAt] = times as [
    number,
    number,
    number,
    number,
    number,
  ]
  const roleName = role === '-' ? null : role.slice(1)
  return { id, userId, role: roleName, createdAt, authAt, lastActivityAt, idleTimeoutMs, absoluteExpiresAt }
}
