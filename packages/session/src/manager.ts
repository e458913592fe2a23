/**
 * The idle-session manager: login, validation with idle and absolute deadlines, rotation,
 * reauthentication and step-up, logout and "log out everywhere", and a per-user session cap.
 *
 * Timeout model: a session ends at the earlier of its idle deadline (`lastActivityAt + idle`) and
 * its absolute deadline (`authAt + absolute`, fixed at login or reauthentication). Only real user
 * activity (`validate(token, { activity: true })`, the default) moves the idle deadline; no
 * activity moves the absolute one. At a deadline, to the millisecond, the session is over.
 *
 * Sources: OWASP Session Management Cheat Sheet; ASVS 5.0 V7 (7.2 token generation, 7.3 timeouts,
 * 7.4 termination, 7.5 reauthentication); NIST SP 800-63B §4.2.3/§7.2 (rev. 3) and §2.x/§5.2
 * (rev. 4) on reauthentication.
 *
 * @module
 */
import {
  assertInteger,
  assertKnownOptions,
  type Clock,
  createEmitter,
  type EventOptions,
  type RandomSource,
  randomBytes,
  systemClock,
} from '@safeguards/core'
import { ReauthRequiredError, SessionConfigError } from './errors.js'
import {
  login,
  type ManagerCore,
  managerCore,
  revokeAllOf,
  revokeId,
  revokeSessionOf,
  rotate,
} from './internal/operations.js'
import { checkUserId, storeError, timeLeftOf } from './internal/records.js'
import { createMemoryStore } from './memory-store.js'
import { parsePolicy, type SessionPolicy, type SessionPolicyOptions } from './policy.js'
import {
  type SessionDataCodec,
  type SessionDataOf,
  type SessionDataOptions,
  type SessionDataSchema,
  sessionDataCodec,
} from './session-data.js'
import type { SessionRecord, SessionStore, TouchResult } from './store.js'
import { sessionIdOf } from './token.js'

/**
 * A live session as the manager returns it: the stored record plus its computed deadlines, and
 * the app's data (`D`, the output type of the manager's `data.schema`) when it carries any.
 */
export interface Session<D = unknown> extends Omit<SessionRecord, 'data'> {
  /** `lastActivityAt + idleTimeoutMs`. */
  readonly idleExpiresAt: number
  /** The earlier of the idle and absolute deadlines: the session is over at this instant. */
  readonly expiresAt: number
  /** The app's data, parsed (a fresh copy per call), or `undefined` when the session has none. */
  readonly data?: D
}

/** What `create`, `rotate` and `reauthenticate` return. The token goes to the client only. */
export interface IssuedSession<D = unknown> {
  /** The bearer token (43 base64url characters). Send it in a `__Host-` cookie; never log it. */
  readonly token: string
  readonly session: Session<D>
}

/** Options of {@link createSessionManager}. */
export interface SessionManagerOptions<S extends SessionDataSchema = SessionDataSchema>
  extends SessionPolicyOptions,
    EventOptions {
  /** The store. Default: a new in-memory store (one process only). */
  store?: SessionStore
  /** The clock. Default: the system clock. */
  clock?: Clock
  /** Randomness for tokens. Default: the platform CSPRNG. Inject only in tests. */
  random?: RandomSource
  /**
   * Session data: the schema every value must pass and its size cap. Without it, `create` and
   * `update` refuse data. Needs a store with `update` (the memory and Redis stores have it).
   */
  data?: SessionDataOptions<S>
}

/** Options of {@link SessionManager.create}. */
export interface CreateOptions<D = unknown> {
  /** The role whose timeouts apply. Default `null` (the default timeouts). */
  role?: string | null
  /**
   * The token the client presented before this login, if any. It is revoked and never reused:
   * a login always issues a fresh token (session fixation defence).
   */
  previousToken?: string | null
  /** The session's initial data, checked against the manager's `data.schema`. */
  data?: D | undefined
}

/** Options of {@link SessionManager.validate}. */
export interface ValidateOptions {
  /**
   * True (the default) when the request is real user activity: it moves the idle deadline. Pass
   * false for background polling, heartbeats and prefetches, so they cannot keep a session alive.
   */
  activity?: boolean
}

/**
 * What {@link SessionManager.resolve} found: the live session, or why there is none: `idle` or
 * `absolute` (a deadline passed), `revoked` (logged out, rotated away, evicted) or `unknown`
 * (never issued, malformed, or already reported expired).
 */
export type SessionResolution<D = unknown> =
  | { readonly status: 'active'; readonly session: Session<D> }
  | { readonly status: 'idle' | 'absolute' | 'revoked' | 'unknown' }

/** Options of {@link SessionManager.rotate} and {@link SessionManager.reauthenticate}. */
export interface RotateOptions {
  /** A new role (a privilege change). Omit to keep the current one. */
  role?: string | null
}

/** Remaining time, for a client-side countdown (clock-skew free: durations, not instants). */
export interface SessionTimeLeft {
  /** Ms until the idle deadline (0 when passed). */
  readonly idleRemainingMs: number
  /** Ms until the absolute deadline (0 when passed). */
  readonly absoluteRemainingMs: number
  /** The smaller of the two. */
  readonly remainingMs: number
}

/**
 * The manager. Every method that takes a token returns `null` for an unusable one. `D` is the
 * type of the session data (the output of the `data.schema` option).
 */
export interface SessionManager<D = unknown> {
  /** The validated policy in force. */
  readonly policy: SessionPolicy
  /** Logs `userId` in: a fresh token and session. */
  create(userId: string, options?: CreateOptions<D>): Promise<IssuedSession<D>>
  /** The live session for `token`, or `null` (unknown, malformed, oversized, expired, revoked). */
  validate(token: unknown, options?: ValidateOptions): Promise<Session<D> | null>
  /**
   * Replaces the session's data (`undefined` removes it) after checking it against the schema;
   * not user activity (the idle deadline does not move). `null` when the session is not live.
   */
  update(token: unknown, data: D | undefined): Promise<Session<D> | null>
  /**
   * Like `validate`, but says why a token is not live (for a 401 with a reason code). With
   * `activity: false` it is a peek: the idle deadline does not move (an idle-watcher poll).
   */
  resolve(token: unknown, options?: ValidateOptions): Promise<SessionResolution<D>>
  /** A new token for the same session (its data kept); the old token is dead at once. */
  rotate(token: unknown, options?: RotateOptions): Promise<IssuedSession<D> | null>
  /** Records a reauthentication: both deadlines restart and the token rotates. */
  reauthenticate(token: unknown, options?: RotateOptions): Promise<IssuedSession<D> | null>
  /** Logs out one session. True when it was live. */
  revoke(token: unknown): Promise<boolean>
  /** Revokes one of `userId`'s sessions by id (a "your sessions" page). True when it was live. */
  revokeById(userId: string, sessionId: string): Promise<boolean>
  /** Logs `userId` out everywhere (optionally except the session of `exceptToken`). Returns the count. */
  revokeAll(userId: string, options?: { exceptToken?: string }): Promise<number>
  /** The live sessions of `userId`, oldest first, without touching them (and without data). */
  list(userId: string): Promise<Session<D>[]>
  /** Throws unless the session (re)authenticated less than `maxAgeMs` ago (step-up). */
  requireRecentAuth(session: Session<D>, maxAgeMs: number): void
  /** Remaining idle and absolute time of `session` now. */
  timeLeft(session: Session<D>): SessionTimeLeft
  /** True when the session id was revoked (tombstone present): used by the stateless mode. */
  isRevoked(sessionId: string): Promise<boolean>
  /** The clock reading the manager uses. */
  now(): number
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
  'store',
  'clock',
  'random',
  'events',
  'onSinkError',
  'idleTimeoutMs',
  'absoluteTimeoutMs',
  'roles',
  'maxSessionsPerUser',
  'onSessionLimit',
  'data',
] satisfies (keyof SessionManagerOptions)[])

const NULL: Promise<null> = Promise.resolve(null)
const UNKNOWN: { readonly status: 'unknown' } = Object.freeze({ status: 'unknown' })

/** The manager's parts, checked: unknown options, the clock and the data codec's store needs fail here. */
function configure<S extends SessionDataSchema>(
  options: SessionManagerOptions<S>,
): {
  store: SessionStore
  clock: Clock
  random: RandomSource
  policy: SessionPolicy
  codec: SessionDataCodec
} {
  assertKnownOptions(options, KNOWN_OPTIONS, (message) => new SessionConfigError(message))
  const {
    store = createMemoryStore(),
    clock = systemClock,
    random = randomBytes,
    events: _events,
    onSinkError: _onSinkError,
    data: dataOptions,
    ...policyOptions
  } = options
  const policy = parsePolicy(policyOptions)
  if (typeof clock?.now !== 'function') throw new SessionConfigError('"clock" must have now()')
  const codec = sessionDataCodec(dataOptions)
  if (dataOptions !== undefined && typeof store.update !== 'function')
    throw new SessionConfigError('"data" needs a store with update() (the memory and Redis stores have it)')
  return { store, clock, random, policy, codec }
}

/**
 * Creates a session manager.
 *
 * HIPAA: implements 164.312(a)(2)(iii) automatic logoff (idle and absolute deadlines, enforced on
 * every validation); supports 164.312(d) person or entity authentication (unguessable tokens,
 * rotation, reauthentication for step-up), 164.312(b) audit controls (events without secrets),
 * 164.308(a)(5)(ii)(C) log-in monitoring (sign-in, revocation and expiry events) and
 * 164.308(a)(3)(ii)(C) termination procedures (`revokeAll` ends every session of a user).
 *
 * @hipaa 164.312(a)(2)(iii) implements
 * @hipaa 164.312(d) supports
 * @hipaa 164.312(b) supports
 * @hipaa 164.308(a)(5)(ii)(C) supports
 * @hipaa 164.308(a)(3)(ii)(C) supports
 * @nist AC-12 164.312(a)(2)(iii)
 * @nist AC-12(1) 164.312(a)(2)(iii): logout and revokeAll let users and operators end sessions on demand
 * @nist IA-11 164.312(d): reauthenticate records a fresh proof of identity: both deadlines restart and the token rotates
 * @nist SC-23 164.312(d): 256-bit random tokens, stored only as SHA-256 hashes; rotate issues a new token and kills the old one
 * @nist AU-2 164.312(b)
 * @nist AU-3 164.312(b)
 * @nist PS-4 164.308(a)(3)(ii)(C): revokeAll ends every session of a departing user at once, with a session.revoked event each
 * @evidence session events (session.created, session.rotated, session.expired.idle, session.expired.absolute, session.revoked with its code) carrying the session id digest, actor, role and time, never the token
 * @appResponsibility Choose the timeouts from your risk analysis; call validate with activity only on real user actions; lock the client UI and clear its state at logoff; serve tokens only in HttpOnly, Secure cookies.
 * @appResponsibility Write the session events to your audit log and review sign-ins; call revokeAll as part of your termination procedure.
 * @config idleTimeoutMs, absoluteTimeoutMs, roles (per-role timeouts), maxSessionsPerUser
 * @verifiedBy packages/session/test/manager.test.ts
 * @throws {SessionConfigError} when the policy options are invalid.
 * @throws {TypeError} when `events` holds something that is not a function.
 * @example
 * ```ts
 * import { createSessionManager } from '@safeguards/session'
 *
 * const sessions = createSessionManager({
 *   roles: { admin: { idleTimeoutMs: 5 * 60_000, absoluteTimeoutMs: 4 * 3_600_000 } },
 *   events: (e) => audit.write(e), // session.created, session.expired.idle, …
 * })
 * const { token } = await sessions.create('u-17', { role: 'admin' })
 * const session = await sessions.validate(token) // null once expired or revoked
 * ```
 */
export function createSessionManager<S extends SessionDataSchema = SessionDataSchema>(
  options: SessionManagerOptions<S> = {},
): SessionManager<SessionDataOf<S>> {
  const { store, clock, random, policy, codec } = configure(options)
  type D = SessionDataOf<S>
  const now = (): number => clock.now()
  const core = managerCore<D>(store, policy, random, codec, createEmitter(options), now)
  const { call, settle } = core

  const manager: SessionManager<D> = {
    policy,
    now,
    create: (userId: string, opts: CreateOptions<D> = {}): Promise<IssuedSession<D>> =>
      login(core, userId, opts),
    validate(token: unknown, opts?: ValidateOptions): Promise<Session<D> | null> {
      // The hot path: no async layers beyond the store's own.
      const id = sessionIdOf(token)
      if (id === null) return NULL
      const at = now()
      let res: TouchResult | Promise<TouchResult>
      try {
        res = store.touch(id, at, opts?.activity !== false)
      } catch (e) {
        return Promise.reject(storeError('touch', e))
      }
      if (res instanceof Promise)
        return res.then(
          (r) => settle(r, at),
          (e: unknown) => {
            throw storeError('touch', e)
          },
        )
      return Promise.resolve(settle(res, at))
    },
    resolve: (token: unknown, opts?: ValidateOptions): Promise<SessionResolution<D>> =>
      resolveToken(core, token, opts),
    update: (token: unknown, value: D | undefined): Promise<Session<D> | null> =>
      updateData(core, token, value),
    rotate(token: unknown, opts: RotateOptions = {}): Promise<IssuedSession<D> | null> {
      return rotate(core, token, opts.role === undefined ? 'rotate' : 'privilege-change', opts.role)
    },
    reauthenticate(token: unknown, opts: RotateOptions = {}): Promise<IssuedSession<D> | null> {
      return rotate(core, token, 'reauthentication', opts.role)
    },
    async revoke(token: unknown): Promise<boolean> {
      const id = sessionIdOf(token)
      return id === null ? false : revokeId(core, id, now(), 'logout')
    },
    revokeById: (userId: string, sessionId: string): Promise<boolean> =>
      revokeSessionOf(core, userId, sessionId),
    revokeAll: (userId: string, opts: { exceptToken?: string } = {}): Promise<number> =>
      revokeAllOf(core, userId, opts.exceptToken),
    async list(userId: string): Promise<Session<D>[]> {
      checkUserId(userId)
      const at = now()
      return (await call('list', () => store.list(userId, at))).map(core.view)
    },
    requireRecentAuth(session: Session<D>, maxAgeMs: number): void {
      assertInteger(maxAgeMs, 'maxAgeMs', 0)
      if (now() >= session.authAt + maxAgeMs) throw new ReauthRequiredError(maxAgeMs)
    },
    timeLeft: (session: Session<D>): SessionTimeLeft => timeLeftOf(session, now()),
    async isRevoked(sessionId: string): Promise<boolean> {
      if (typeof sessionId !== 'string' || !/^[0-9a-f]{64}$/.test(sessionId)) return true
      return call('isRevoked', () => store.isRevoked(sessionId, now()))
    },
  }
  return manager
}

/** `SessionManager.resolve`: as `validate`, with the reason a token does not resolve. */
async function resolveToken<D>(
  core: ManagerCore<D>,
  token: unknown,
  opts?: ValidateOptions,
): Promise<SessionResolution<D>> {
  const id = sessionIdOf(token)
  if (id === null) return UNKNOWN
  const at = core.now()
  const res = await core.call('touch', () => core.store.touch(id, at, opts?.activity !== false))
  if (res.status === 'active') return { status: 'active', session: core.view(res.record) }
  if (res.status !== 'expired') return { status: res.status }
  await core.reportExpiry(res, at)
  return { status: res.reason }
}

/** `SessionManager.update`: replaces the session's app data (the session must be active). */
async function updateData<D>(
  core: ManagerCore<D>,
  token: unknown,
  value: D | undefined,
): Promise<Session<D> | null> {
  const id = sessionIdOf(token)
  if (id === null) return null
  const { store } = core
  const data = await core.codec.encode(value)
  if (store.update === undefined) throw new SessionConfigError('"update" needs the manager option "data"')
  const at = core.now()
  const res = await core.call('update', () =>
    (store.update as NonNullable<SessionStore['update']>)(id, data, at),
  )
  return core.settle(res, at)
}
