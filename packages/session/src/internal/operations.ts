/**
 * The session manager's writing operations (see `manager.ts`): login, rotation and
 * reauthentication, and the three kinds of revocation, each as a function of the manager's
 * {@link ManagerCore}. The hot path (`validate`) stays in the manager.
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff, 164.312(d) person or entity authentication
 * (rotation on login and privilege change, step-up by reauthentication), 164.312(b) audit
 * controls (each operation emits its session event, never the token).
 *
 * @module
 */
import type { Emitter, RandomSource } from '@safeguards/core'
import { SessionLimitError } from '../errors.js'
import type { CreateOptions, IssuedSession, Session } from '../manager.js'
import { type SessionPolicy, timeoutsFor } from '../policy.js'
import type { SessionDataCodec } from '../session-data.js'
import type { SessionRecord, SessionStore, TouchResult } from '../store.js'
import { generateToken, sessionIdOf } from '../token.js'
import { checkRole, checkUserId, fields, loginRecord, rotatedRecord, storeError, viewOf } from './records.js'

/** Why a session was replaced: the `code` of `session.rotated`. */
export type RotateReason = 'rotate' | 'privilege-change' | 'reauthentication'
/** Why a session was revoked: the `code` of `session.revoked`. */
export type RevokeReason = 'logout' | 'revoke-all' | 'evicted' | 'login'

/** What the operations of one manager share: its store, policy, randomness, clock and events. */
export interface ManagerCore<D> {
  readonly store: SessionStore
  readonly policy: SessionPolicy
  readonly random: RandomSource
  readonly codec: SessionDataCodec
  readonly emitter: Emitter
  now(): number
  /** The public view of a record. */
  view(r: SessionRecord): Session<D>
  /** Runs a store call; its failure becomes `SessionStoreUnavailableError` for `operation`. */
  call<T>(operation: string, f: () => T | Promise<T>): Promise<T>
  /** Emits the expiry a touch found (once: by the call that found it); undefined when nothing listens. */
  reportExpiry(res: TouchResult, at: number): Promise<void> | undefined
  /** The session for a touch result, after reporting an expiry. */
  settle(res: TouchResult, at: number): Session<D> | null | Promise<null>
  /** Emits `session.revoked` with `code`; undefined when nothing listens. */
  revoked(r: SessionRecord, code: RevokeReason, at: number): Promise<void> | undefined
}

/** The {@link ManagerCore} of a manager. Isolated sinks never change an outcome; a failing critical sink fails it. */
export function managerCore<D>(
  store: SessionStore,
  policy: SessionPolicy,
  random: RandomSource,
  codec: SessionDataCodec,
  emitter: Emitter,
  now: () => number,
): ManagerCore<D> {
  const view = (r: SessionRecord): Session<D> => viewOf(r, codec)
  const reportExpiry = (res: TouchResult, at: number): Promise<void> | undefined => {
    if (res.status !== 'expired' || !emitter.active) return undefined
    const type = res.reason === 'idle' ? 'session.expired.idle' : 'session.expired.absolute'
    return emitter.emit({ type, ...fields(res.record, at) })
  }
  return {
    store,
    policy,
    random,
    codec,
    emitter,
    now,
    view,
    async call<T>(operation: string, f: () => T | Promise<T>): Promise<T> {
      try {
        return await f()
      } catch (e) {
        throw storeError(operation, e)
      }
    },
    reportExpiry,
    settle(res: TouchResult, at: number): Session<D> | null | Promise<null> {
      if (res.status === 'active') return view(res.record)
      const delivered = reportExpiry(res, at)
      return delivered === undefined ? null : delivered.then(() => null)
    },
    revoked: (r, code, at) =>
      emitter.active ? emitter.emit({ type: 'session.revoked', ...fields(r, at), code }) : undefined,
  }
}

/** A login: revokes `previousToken` if given, then issues a session (see `SessionManager.create`). */
export async function login<D>(
  core: ManagerCore<D>,
  userId: string,
  opts: CreateOptions<D>,
): Promise<IssuedSession<D>> {
  const { store, policy, emitter, call } = core
  checkUserId(userId)
  const role = opts.role ?? null
  checkRole(role)
  const t = timeoutsFor(policy, role)
  const data = await core.codec.encode(opts.data)
  const at = core.now()
  const prevId = sessionIdOf(opts.previousToken)
  if (prevId !== null) {
    const prev = await call('revoke', () => store.revoke(prevId, at))
    if (prev !== null) await core.revoked(prev, 'login', at)
  }
  const token = generateToken(core.random)
  const record = loginRecord(sessionIdOf(token) as string, userId, role, t, at, data)
  const res = await call('create', () =>
    store.create(record, policy.maxSessionsPerUser, policy.onSessionLimit, at),
  )
  if (!res.created) throw new SessionLimitError(policy.maxSessionsPerUser)
  for (const e of res.evicted) await core.revoked(e, 'evicted', at)
  if (emitter.active) await emitter.emit({ type: 'session.created', ...fields(record, at) })
  return { token, session: core.view(record) }
}

/** Replaces the session of `token` under a new token (rotation, privilege change, reauthentication). */
export async function rotate<D>(
  core: ManagerCore<D>,
  token: unknown,
  reason: RotateReason,
  roleOpt: string | null | undefined,
): Promise<IssuedSession<D> | null> {
  const { store, call } = core
  const oldId = sessionIdOf(token)
  if (oldId === null) return null
  checkRole(roleOpt)
  const at = core.now()
  const current = await call('touch', () => store.touch(oldId, at, false))
  if (current.status !== 'active') {
    await core.reportExpiry(current, at)
    return null
  }
  const old = current.record
  const role = roleOpt === undefined ? old.role : roleOpt
  const t = timeoutsFor(core.policy, role)
  const newToken = generateToken(core.random)
  const next = rotatedRecord(old, sessionIdOf(newToken) as string, role, t, at, reason === 'reauthentication')
  const res = await call('replace', () => store.replace(oldId, next, at))
  if (res.status !== 'active') {
    await core.reportExpiry(res, at)
    return null
  }
  if (core.emitter.active)
    await core.emitter.emit({
      type: 'session.rotated',
      ...fields(next, at),
      code: reason,
      previousSessionId: oldId,
    })
  return { token: newToken, session: core.view(next) }
}

/** Revokes session `id` at `at` with `code`; true when it was live. */
export async function revokeId<D>(
  core: ManagerCore<D>,
  id: string,
  at: number,
  code: RevokeReason,
): Promise<boolean> {
  const r = await core.call('revoke', () => core.store.revoke(id, at))
  if (r === null) return false
  await core.revoked(r, code, at)
  return true
}

/** Revokes session `sessionId` of `userId` (an admin's "sign out that device"); false unless it is live and theirs. */
export async function revokeSessionOf<D>(
  core: ManagerCore<D>,
  userId: string,
  sessionId: string,
): Promise<boolean> {
  checkUserId(userId)
  if (typeof sessionId !== 'string' || !/^[0-9a-f]{64}$/.test(sessionId)) return false
  const at = core.now()
  const live = await core.call('list', () => core.store.list(userId, at))
  return live.some((r) => r.id === sessionId) ? revokeId(core, sessionId, at, 'logout') : false
}

/** Revokes every session of `userId` but `exceptToken`'s; the number revoked. */
export async function revokeAllOf<D>(
  core: ManagerCore<D>,
  userId: string,
  exceptToken: string | undefined,
): Promise<number> {
  checkUserId(userId)
  const at = core.now()
  const except = sessionIdOf(exceptToken) ?? undefined
  const gone = await core.call('revokeUser', () => core.store.revokeUser(userId, at, except))
  for (const r of gone) await core.revoked(r, 'revoke-all', at)
  return gone.length
}
