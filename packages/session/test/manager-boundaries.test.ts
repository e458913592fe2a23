/**
 * The manager's decisions, checks and boundaries, each pinned exactly: what mutation testing
 * (StrykerJS on src/manager.ts) found no test for. Roles through rotation, rotation at the
 * absolute deadline, revocation by id among several sessions, the revoke events, an async store.
 */
import { bytesToBase64url, manualClock, type SafeguardEvent } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  createMemoryStore,
  createSessionManager,
  ReauthRequiredError,
  SessionLimitError,
  type SessionManagerOptions,
  type SessionStore,
  SessionStoreUnavailableError,
  sessionIdOf,
} from '../src/index.js'

const MIN = 60_000
const HOUR = 60 * MIN
const T0 = Date.UTC(2026, 2, 1, 8, 0, 0)
const ADMIN = { idleTimeoutMs: 5 * MIN, absoluteTimeoutMs: HOUR }
/** The fields every event of this package carries besides its own. */
const EV = { source: '@safeguards/session', outcome: 'success' } as const

function setup(extra: Partial<SessionManagerOptions> = {}) {
  const clock = manualClock(T0)
  const events: SafeguardEvent[] = []
  const store = extra.store ?? createMemoryStore()
  const sessions = createSessionManager({
    clock,
    events: (e) => {
      events.push(e)
    },
    roles: { admin: ADMIN },
    ...extra,
    store,
  })
  return { clock, events, sessions, store }
}

/** The memory store with every method answering through a promise, as a networked store does. */
function asyncStore(inner: SessionStore = createMemoryStore()): SessionStore {
  return {
    create: async (...a) => inner.create(...a),
    touch: async (...a) => inner.touch(...a),
    replace: async (...a) => inner.replace(...a),
    revoke: async (...a) => inner.revoke(...a),
    revokeUser: async (...a) => inner.revokeUser(...a),
    list: async (...a) => inner.list(...a),
    isRevoked: async (...a) => inner.isRevoked(...a),
  }
}

describe('rotation keeps what it must', () => {
  it('rotating a session that has a role keeps the role, its timeouts and both origins', async () => {
    const { clock, sessions, events } = setup()
    const first = await sessions.create('u-1', { role: 'admin' })
    clock.advance(2 * MIN)
    const r = await sessions.rotate(first.token)
    expect(r?.session).toEqual({
      id: sessionIdOf(r?.token),
      userId: 'u-1',
      role: 'admin',
      createdAt: T0,
      authAt: T0,
      lastActivityAt: T0 + 2 * MIN,
      idleTimeoutMs: 5 * MIN,
      absoluteExpiresAt: T0 + HOUR,
      idleExpiresAt: T0 + 7 * MIN,
      expiresAt: T0 + 7 * MIN,
    })
    expect(events.at(-1)).toEqual({
      type: 'session.rotated',
      code: 'rotate',
      previousSessionId: first.session.id,
      sessionId: r?.session.id,
      ...EV,
      actor: 'u-1',
      role: 'admin',
      at: T0 + 2 * MIN,
    })
    // The role survives a second rotation and a reauthentication too.
    clock.advance(MIN)
    const again = await sessions.reauthenticate(r?.token)
    expect(again?.session).toMatchObject({
      role: 'admin',
      createdAt: T0,
      authAt: T0 + 3 * MIN,
      absoluteExpiresAt: T0 + 3 * MIN + HOUR,
      idleTimeoutMs: 5 * MIN,
    })
    expect(events.at(-1)).toMatchObject({ code: 'reauthentication', role: 'admin' })
    expect(await sessions.validate(r?.token)).toBeNull()
    expect((await sessions.validate(again?.token))?.role).toBe('admin')
  })

  it('dropping a role (role: null) is a privilege change that never extends the absolute deadline', async () => {
    const { clock, sessions, events } = setup()
    const { token } = await sessions.create('u-1', { role: 'admin' })
    clock.advance(MIN)
    const r = await sessions.rotate(token, { role: null })
    expect(r?.session).toMatchObject({
      role: null,
      idleTimeoutMs: 15 * MIN,
      authAt: T0,
      absoluteExpiresAt: T0 + HOUR, // the defaults would allow 12 h; the session keeps its 1 h
    })
    expect(events.at(-1)).toMatchObject({ type: 'session.rotated', code: 'privilege-change', role: null })
  })

  it('reauthenticating with a role applies it and is reported as a reauthentication', async () => {
    const { clock, sessions, events } = setup()
    const { token } = await sessions.create('u-1')
    for (let i = 0; i < 3; i++) {
      clock.advance(10 * MIN)
      await sessions.validate(token)
    }
    const r = await sessions.reauthenticate(token, { role: 'admin' })
    expect(r?.session).toMatchObject({
      role: 'admin',
      authAt: T0 + 30 * MIN,
      absoluteExpiresAt: T0 + 30 * MIN + HOUR,
      idleTimeoutMs: 5 * MIN,
      lastActivityAt: T0 + 30 * MIN,
    })
    expect(events.at(-1)).toMatchObject({ code: 'reauthentication', role: 'admin' })
  })

  it('an invalid role is refused before the store is asked; a malformed token gives null first', async () => {
    const { sessions } = setup()
    const { token } = await sessions.create('u-1')
    await expect(sessions.rotate(token, { role: 'bad role' })).rejects.toThrow(
      new RangeError('"role" expected 1-64 of A-Z a-z 0-9 _ . : -'),
    )
    await expect(sessions.rotate(token, { role: 'a'.repeat(65) })).rejects.toThrow(RangeError)
    expect((await sessions.rotate(token, { role: 'a'.repeat(64) }))?.session.role).toBe('a'.repeat(64))
    expect(await sessions.rotate('not a token', { role: 'bad role' })).toBeNull()
    await expect(sessions.create('u-1', { role: '' })).rejects.toThrow(RangeError)
  })
})

describe('rotation at the absolute deadline', () => {
  it('a privilege change landing exactly on the new role’s absolute limit needs reauthentication; 1 ms before, it caps', async () => {
    for (const [at, ok] of [
      [T0 + HOUR - 1, true],
      [T0 + HOUR, false],
    ] as const) {
      const { clock, sessions, events } = setup()
      const { token, session } = await sessions.create('u-1')
      for (let t = T0 + 10 * MIN; t < at; t += 10 * MIN) {
        clock.set(t)
        await sessions.validate(token)
      }
      clock.set(at)
      const before = events.length
      if (ok) {
        const r = await sessions.rotate(token, { role: 'admin' })
        expect(r?.session.absoluteExpiresAt).toBe(T0 + HOUR)
        expect(r?.session.expiresAt).toBe(T0 + HOUR)
        clock.set(T0 + HOUR)
        expect(await sessions.validate(r?.token)).toBeNull()
      } else {
        const e = await sessions.rotate(token, { role: 'admin' }).catch((x: unknown) => x)
        expect(e).toBeInstanceOf(ReauthRequiredError)
        expect(e).toMatchObject({ code: 'ERR_SESSION_REAUTH_REQUIRED', maxAgeMs: HOUR })
        // Nothing was replaced or touched: the old session lives on, its activity where it was.
        expect(events.length).toBe(before)
        expect((await sessions.list('u-1'))[0]).toMatchObject({
          id: session.id,
          lastActivityAt: T0 + 50 * MIN,
        })
        expect((await sessions.validate(token))?.id).toBe(session.id)
      }
    }
  })

  it('at the session’s own absolute deadline rotation gives null and reports the expiry once', async () => {
    const { clock, sessions, events } = setup({ idleTimeoutMs: HOUR, absoluteTimeoutMs: HOUR })
    const a = await sessions.create('u-1')
    const b = await sessions.create('u-1')
    clock.set(T0 + HOUR - 1)
    const r = await sessions.rotate(a.token)
    expect(r?.session.absoluteExpiresAt).toBe(T0 + HOUR)
    clock.set(T0 + HOUR)
    expect(await sessions.rotate(b.token)).toBeNull()
    expect(await sessions.reauthenticate(r?.token)).toBeNull()
    expect(events.filter((e) => e.type.startsWith('session.expired'))).toEqual([
      {
        type: 'session.expired.absolute',
        sessionId: b.session.id,
        ...EV,
        actor: 'u-1',
        role: null,
        at: T0 + HOUR,
      },
      {
        type: 'session.expired.absolute',
        sessionId: r?.session.id,
        ...EV,
        actor: 'u-1',
        role: null,
        at: T0 + HOUR,
      },
    ])
    expect(await sessions.rotate(b.token)).toBeNull()
    expect(events.filter((e) => e.type.startsWith('session.expired'))).toHaveLength(2)
  })

  it('rotation of a revoked or unknown session gives null and emits nothing', async () => {
    const { sessions, events } = setup()
    const { token } = await sessions.create('u-1')
    await sessions.revoke(token)
    const n = events.length
    expect(await sessions.rotate(token)).toBeNull()
    expect(await sessions.rotate('A'.repeat(43))).toBeNull()
    expect(events).toHaveLength(n)
  })

  it('a replace that loses a race (the old session was revoked meanwhile) gives null', async () => {
    const inner = createMemoryStore()
    const store: SessionStore = {
      ...asyncStore(inner),
      replace: async (oldId, next, now) => {
        await inner.revoke(oldId, now) // a logout lands between touch and replace
        return inner.replace(oldId, next, now)
      },
    }
    const { sessions, events } = setup({ store })
    const { token } = await sessions.create('u-1')
    expect(await sessions.rotate(token)).toBeNull()
    expect(events.map((e) => e.type)).toEqual(['session.created'])
    expect(await sessions.list('u-1')).toEqual([])
  })
})

describe('revocation', () => {
  it('revokeById among several sessions revokes exactly that one and reports it', async () => {
    const { clock, sessions, events } = setup()
    const made = []
    for (let i = 0; i < 3; i++) {
      made.push(await sessions.create('u-1', { role: i === 1 ? 'admin' : null }))
      clock.advance(1)
    }
    const other = await sessions.create('u-2')
    const [a, b, c] = made as [(typeof made)[0], (typeof made)[0], (typeof made)[0]]
    expect(await sessions.revokeById('u-1', b.session.id)).toBe(true)
    expect(events.at(-1)).toEqual({
      type: 'session.revoked',
      code: 'logout',
      sessionId: b.session.id,
      ...EV,
      actor: 'u-1',
      role: 'admin',
      at: T0 + 3,
    })
    expect(await sessions.validate(b.token)).toBeNull()
    expect(await sessions.validate(a.token)).not.toBeNull()
    expect(await sessions.validate(c.token)).not.toBeNull()
    expect((await sessions.list('u-1')).map((s) => s.id)).toEqual([a.session.id, c.session.id])
    const n = events.length
    // Already revoked, another user's, malformed: false, and no event.
    expect(await sessions.revokeById('u-1', b.session.id)).toBe(false)
    expect(await sessions.revokeById('u-1', other.session.id)).toBe(false)
    expect(await sessions.revokeById('u-2', a.session.id)).toBe(false)
    for (const bad of [a.session.id.toUpperCase(), a.session.id.slice(1), `${a.session.id}0`, 7 as never])
      expect(await sessions.revokeById('u-1', bad)).toBe(false)
    expect(events).toHaveLength(n)
    expect(await sessions.validate(other.token)).not.toBeNull()
    await expect(sessions.revokeById('', a.session.id)).rejects.toThrow(RangeError)
  })

  it('revokeById of an expired session of the user is false', async () => {
    const { clock, sessions } = setup()
    const a = await sessions.create('u-1')
    const b = await sessions.create('u-1')
    clock.advance(10 * MIN)
    await sessions.validate(b.token)
    clock.advance(5 * MIN)
    expect(await sessions.revokeById('u-1', a.session.id)).toBe(false)
    expect(await sessions.revokeById('u-1', b.session.id)).toBe(true)
  })

  it('revoke (logout), revokeAll and login report each revoked session with its reason', async () => {
    const { clock, sessions, events } = setup()
    const a = await sessions.create('u-1', { role: 'admin' })
    clock.advance(MIN)
    expect(await sessions.revoke(a.token)).toBe(true)
    expect(events.at(-1)).toEqual({
      type: 'session.revoked',
      code: 'logout',
      sessionId: a.session.id,
      ...EV,
      actor: 'u-1',
      role: 'admin',
      at: T0 + MIN,
    })
    const n = events.length
    expect(await sessions.revoke(a.token)).toBe(false)
    expect(await sessions.revoke('A'.repeat(43))).toBe(false)
    expect(events).toHaveLength(n)

    const b = await sessions.create('u-1')
    const c = await sessions.create('u-1')
    const d = await sessions.create('u-1')
    clock.advance(MIN)
    events.length = 0
    expect(await sessions.revokeAll('u-1', { exceptToken: d.token })).toBe(2)
    expect(events).toEqual(
      [b, c].map((s) => ({
        type: 'session.revoked',
        code: 'revoke-all',
        sessionId: s.session.id,
        ...EV,
        actor: 'u-1',
        role: null,
        at: T0 + 2 * MIN,
      })),
    )
    expect(await sessions.revokeAll('u-1', { exceptToken: 'malformed' })).toBe(1)
    expect(events.at(-1)).toMatchObject({ code: 'revoke-all', sessionId: d.session.id })
    expect(await sessions.revokeAll('u-1')).toBe(0)

    const e = await sessions.create('u-3')
    events.length = 0
    const f = await sessions.create('u-4', { previousToken: e.token })
    expect(events).toEqual([
      {
        type: 'session.revoked',
        code: 'login',
        sessionId: e.session.id,
        ...EV,
        actor: 'u-3',
        role: null,
        at: T0 + 2 * MIN,
      },
      { type: 'session.created', sessionId: f.session.id, ...EV, actor: 'u-4', role: null, at: T0 + 2 * MIN },
    ])
    events.length = 0
    await sessions.create('u-4', { previousToken: e.token }) // already revoked: no second event
    await sessions.create('u-4', { previousToken: null })
    expect(events.map((x) => x.type)).toEqual(['session.created', 'session.created'])
  })

  it('the session cap evicts the oldest with an event, or refuses with the configured maximum', async () => {
    const { clock, sessions, events } = setup({ maxSessionsPerUser: 2 })
    const a = await sessions.create('u-1')
    clock.advance(1)
    await sessions.create('u-1')
    clock.advance(1)
    events.length = 0
    const c = await sessions.create('u-1')
    expect(events).toEqual([
      {
        type: 'session.revoked',
        code: 'evicted',
        sessionId: a.session.id,
        ...EV,
        actor: 'u-1',
        role: null,
        at: T0 + 2,
      },
      { type: 'session.created', sessionId: c.session.id, ...EV, actor: 'u-1', role: null, at: T0 + 2 },
    ])
    const strict = setup({ maxSessionsPerUser: 1, onSessionLimit: 'reject' })
    await strict.sessions.create('u-1')
    const n = strict.events.length
    const err = await strict.sessions.create('u-1').catch((x: unknown) => x)
    expect(err).toBeInstanceOf(SessionLimitError)
    expect(err).toMatchObject({ code: 'ERR_SESSION_LIMIT', max: 1 })
    expect(strict.events).toHaveLength(n)
  })

  it('isRevoked: true after revocation, false for a live or unknown id, true for a malformed one', async () => {
    const { sessions } = setup()
    const a = await sessions.create('u-1')
    expect(await sessions.isRevoked(a.session.id)).toBe(false)
    expect(await sessions.isRevoked('0'.repeat(64))).toBe(false)
    await sessions.revoke(a.token)
    expect(await sessions.isRevoked(a.session.id)).toBe(true)
    for (const bad of [a.session.id.toUpperCase(), '0'.repeat(63), '0'.repeat(65), 5 as never])
      expect(await sessions.isRevoked(bad)).toBe(true)
  })
})

describe('checks before the store', () => {
  /** An async store that counts calls. */
  function countingStore(): { store: SessionStore; calls: string[] } {
    const inner = asyncStore()
    const calls: string[] = []
    const store = Object.fromEntries(
      Object.entries(inner).map(([k, f]) => [
        k,
        (...a: unknown[]) => {
          calls.push(k)
          return (f as (...x: unknown[]) => unknown)(...a)
        },
      ]),
    ) as unknown as SessionStore
    return { store, calls }
  }

  it('malformed session ids never reach the store (revokeById, isRevoked)', async () => {
    const { store, calls } = countingStore()
    const { sessions } = setup({ store })
    const hexish = { toString: () => '0'.repeat(64) }
    for (const bad of [
      '0'.repeat(63),
      'A'.repeat(64),
      `x${'0'.repeat(64)}`,
      `${'0'.repeat(64)}x`,
      hexish,
      7,
    ]) {
      expect(await sessions.revokeById('u-1', bad as never)).toBe(false)
      expect(await sessions.isRevoked(bad as never)).toBe(true)
    }
    expect(calls).toEqual([])
    await sessions.revokeById('u-1', '0'.repeat(64))
    await sessions.isRevoked('0'.repeat(64))
    expect(calls).toEqual(['list', 'isRevoked'])
  })

  it('revokeById when the session goes between list and revoke: false, no event; a failing revoke is named', async () => {
    const inner = createMemoryStore()
    const racing = setup({
      store: {
        ...asyncStore(inner),
        revoke: async (id, now) => {
          await inner.revoke(id, now) // a logout elsewhere lands first
          return inner.revoke(id, now)
        },
      },
    })
    const { session } = await racing.sessions.create('u-1')
    const n = racing.events.length
    expect(await racing.sessions.revokeById('u-1', session.id)).toBe(false)
    expect(racing.events).toHaveLength(n)
    const failing = setup({
      store: { ...asyncStore(inner), revoke: () => Promise.reject(new Error('down')) },
    })
    const b = await failing.sessions.create('u-2')
    await expect(failing.sessions.revokeById('u-2', b.session.id)).rejects.toThrow(
      'session store unavailable during revoke',
    )
  })

  it('argument errors name the argument', async () => {
    const { sessions } = setup()
    await expect(sessions.create(5 as never)).rejects.toThrow(new TypeError('"userId" expected a string'))
    await expect(sessions.create('u', { role: 5 as never })).rejects.toThrow(
      new TypeError('"role" expected a string'),
    )
    const { session } = await sessions.create('u')
    expect(() => sessions.requireRecentAuth(session, -1)).toThrow(
      new RangeError(`"maxAgeMs" expected an integer in [0, ${Number.MAX_SAFE_INTEGER}]`),
    )
  })
})

describe('an async store', () => {
  it('validate works through promises: live, activity, expiry reported once, unknown', async () => {
    const { clock, sessions, events } = setup({ store: asyncStore() })
    const { token, session } = await sessions.create('u-1')
    clock.advance(10 * MIN)
    const polled = await sessions.validate(token, { activity: false })
    expect(polled).toMatchObject({ id: session.id, lastActivityAt: T0, idleExpiresAt: T0 + 15 * MIN })
    const used = await sessions.validate(token, {})
    expect(used).toMatchObject({ lastActivityAt: T0 + 10 * MIN, expiresAt: T0 + 25 * MIN })
    clock.advance(15 * MIN)
    expect(await sessions.validate(token)).toBeNull()
    expect(events.at(-1)).toEqual({
      type: 'session.expired.idle',
      sessionId: session.id,
      ...EV,
      actor: 'u-1',
      role: null,
      at: T0 + 25 * MIN,
    })
    expect(await sessions.validate(token)).toBeNull()
    expect(events.filter((e) => e.type.startsWith('session.expired'))).toHaveLength(1)
    expect(await sessions.validate('A'.repeat(43))).toBeNull()
  })

  it('a rejecting store fails closed with the operation named and the cause kept; a typed error passes through', async () => {
    const cause = new Error('READONLY You can’t write against a read only replica')
    const failing = (): Promise<never> => Promise.reject(cause)
    const store: SessionStore = {
      create: failing,
      touch: failing,
      replace: failing,
      revoke: failing,
      revokeUser: failing,
      list: failing,
      isRevoked: failing,
    }
    const { sessions } = setup({ store })
    const token = 'A'.repeat(43)
    for (const [op, name] of [
      [() => sessions.validate(token), 'touch'],
      [() => sessions.rotate(token), 'touch'],
      [() => sessions.revoke(token), 'revoke'],
      [() => sessions.revokeById('u', '0'.repeat(64)), 'list'],
      [() => sessions.revokeAll('u'), 'revokeUser'],
      [() => sessions.list('u'), 'list'],
      [() => sessions.create('u'), 'create'],
      [() => sessions.create('u', { previousToken: token }), 'revoke'],
      [() => sessions.isRevoked('0'.repeat(64)), 'isRevoked'],
    ] as const) {
      const e = await op().catch((x: unknown) => x)
      expect(e).toBeInstanceOf(SessionStoreUnavailableError)
      expect((e as Error).message).toBe(`session store unavailable during ${name}`)
      expect((e as Error).cause).toBe(cause)
    }
    // replace failing after a successful touch
    const inner = createMemoryStore()
    const half = setup({ store: { ...asyncStore(inner), replace: failing } })
    const { token: t } = await half.sessions.create('u')
    await expect(half.sessions.rotate(t)).rejects.toThrow('session store unavailable during replace')
    // a store that throws synchronously from touch (the sync hot path)
    const typed = new SessionStoreUnavailableError('touch (circuit open)')
    const sync = setup({
      store: {
        ...asyncStore(),
        touch: () => {
          throw typed
        },
      },
    })
    await expect(sync.sessions.validate(token)).rejects.toBe(typed)
    const raw = setup({
      store: {
        ...asyncStore(),
        touch: () => {
          throw cause
        },
      },
    })
    await expect(raw.sessions.validate(token)).rejects.toMatchObject({
      code: 'ERR_SESSION_STORE_UNAVAILABLE',
      message: 'session store unavailable during touch',
      cause,
    })
  })
})

describe('views, time left and step-up', () => {
  it('expiresAt is the earlier deadline, whichever it is', async () => {
    const { clock, sessions } = setup({ idleTimeoutMs: 10 * MIN, absoluteTimeoutMs: 25 * MIN })
    const { token, session } = await sessions.create('u-1')
    expect(session).toMatchObject({ idleExpiresAt: T0 + 10 * MIN, expiresAt: T0 + 10 * MIN })
    clock.advance(9 * MIN)
    expect(await sessions.validate(token)).toMatchObject({
      idleExpiresAt: T0 + 19 * MIN,
      expiresAt: T0 + 19 * MIN,
    })
    clock.advance(9 * MIN)
    const s = await sessions.validate(token)
    expect(s).toMatchObject({
      idleExpiresAt: T0 + 28 * MIN,
      expiresAt: T0 + 25 * MIN,
      absoluteExpiresAt: T0 + 25 * MIN,
    })
    expect(sessions.timeLeft(s!)).toEqual({
      idleRemainingMs: 10 * MIN,
      absoluteRemainingMs: 7 * MIN,
      remainingMs: 7 * MIN,
    })
    clock.advance(2 * MIN)
    expect(sessions.timeLeft(s!)).toEqual({
      idleRemainingMs: 8 * MIN,
      absoluteRemainingMs: 5 * MIN,
      remainingMs: 5 * MIN,
    })
    const fresh = (await sessions.create('u-2')).session
    expect(sessions.timeLeft(fresh)).toEqual({
      idleRemainingMs: 10 * MIN,
      absoluteRemainingMs: 25 * MIN,
      remainingMs: 10 * MIN,
    })
  })

  it('requireRecentAuth: passes below the age, throws at it, with the age required', async () => {
    const { clock, sessions } = setup()
    const { session } = await sessions.create('u-1')
    clock.set(T0 + 5 * MIN - 1)
    sessions.requireRecentAuth(session, 5 * MIN)
    clock.set(T0 + 5 * MIN)
    expect(() => sessions.requireRecentAuth(session, 5 * MIN)).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_REAUTH_REQUIRED', maxAgeMs: 5 * MIN }),
    )
    clock.set(T0, true)
    expect(() => sessions.requireRecentAuth(session, 0)).toThrow(ReauthRequiredError)
    expect(() => sessions.requireRecentAuth(session, 1.5)).toThrow(TypeError)
  })
})

describe('options', () => {
  it('accepts every documented option at once', () => {
    const store = createMemoryStore()
    expect(() =>
      createSessionManager({
        store,
        clock: manualClock(T0),
        now: () => T0,
        random: (n) => new Uint8Array(n),
        events: () => {},
        onSinkError: () => {},
        idleTimeoutMs: MIN,
        absoluteTimeoutMs: HOUR,
        roles: { admin: ADMIN },
        maxSessionsPerUser: 3,
        onSessionLimit: 'reject',
      }),
    ).not.toThrow()
  })

  it('takes the clock over now, now over the system clock, and the injected random for tokens', async () => {
    const both = createSessionManager({ clock: manualClock(T0), now: () => 5 })
    expect(both.now()).toBe(T0)
    expect((await both.create('u')).session.createdAt).toBe(T0)
    const nowOnly = createSessionManager({ now: () => T0 + 7 })
    expect(nowOnly.now()).toBe(T0 + 7)
    const system = createSessionManager()
    const before = Date.now()
    expect(system.now()).toBeGreaterThanOrEqual(before)
    const fixed = createSessionManager({ now: () => T0, random: (n) => new Uint8Array(n).fill(0xfb) })
    expect((await fixed.create('u')).token).toBe(bytesToBase64url(new Uint8Array(32).fill(0xfb)))
    expect(() => createSessionManager({ clock: {} as never })).toThrow('"clock" must have now()')
    expect(() => createSessionManager({ now: 5 as never })).toThrow('"now" must be a function')
  })

  it('user ids: 1 to 256 characters, checked by every method that takes one', async () => {
    const { sessions } = setup()
    expect((await sessions.create('u'.repeat(256))).session.userId).toHaveLength(256)
    for (const op of [
      () => sessions.create(''),
      () => sessions.list(''),
      () => sessions.revokeAll(''),
      () => sessions.revokeById('', '0'.repeat(64)),
    ])
      await expect(op()).rejects.toThrow(new RangeError('"userId" must not be empty'))
    await expect(sessions.list('u'.repeat(257))).rejects.toThrow(RangeError)
  })
})
