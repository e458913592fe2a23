import { criticalSink, EventSinkError, isSafeguardsError, manualClock } from '@safeguards/core'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import {
  createMemoryStore,
  createSessionManager,
  DEFAULT_ABSOLUTE_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  generateToken,
  parsePolicy,
  SessionConfigError,
  type SessionStore,
  SessionStoreUnavailableError,
  sessionIdOf,
  timeoutsFor,
} from '../src/index.js'

const T0 = Date.UTC(2026, 0, 1)

function spyStore(): { store: SessionStore; calls: () => number } {
  const inner = createMemoryStore()
  let n = 0
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver)
      if (typeof v !== 'function') return v
      return (...args: unknown[]) => {
        n++
        return (v as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  }) as SessionStore
  return { store, calls: () => n }
}

function downStore(): SessionStore {
  const fail = async (): Promise<never> => {
    throw new Error('ECONNREFUSED 127.0.0.1:6379 key=sess:deadbeef')
  }
  return {
    create: fail,
    touch: fail,
    replace: fail,
    revoke: fail,
    revokeUser: fail,
    list: fail,
    isRevoked: fail,
  }
}

describe('tokens', () => {
  it('are 256-bit base64url, distinct, and only their hash identifies the session', async () => {
    const sessions = createSessionManager({ clock: manualClock(T0) })
    const seen = new Set<string>()
    for (let i = 0; i < 200; i++) {
      const { token, session } = await sessions.create('u')
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(session.id).toBe(sessionIdOf(token))
      expect(session.id).not.toContain(token)
      seen.add(token)
      await sessions.revoke(token)
    }
    expect(seen.size).toBe(200)
  })

  it('refuses a random source that returns too few bytes', () => {
    expect(() => generateToken(() => new Uint8Array(16))).toThrow(RangeError)
  })

  it('only the canonical spelling of a token is accepted', () => {
    const token = generateToken(() => new Uint8Array(32).fill(0xff)) // '…_w'
    expect(sessionIdOf(token)).not.toBeNull()
    const alt = `${token.slice(0, 42)}_` // same bytes if padding bits were ignored
    expect(sessionIdOf(alt)).toBeNull()
  })

  it('sessionIdOf never throws, whatever the input (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ minLength: 43, maxLength: 43 }), fc.anything()), (x) => {
        const id = sessionIdOf(x)
        expect(id === null || /^[0-9a-f]{64}$/.test(id)).toBe(true)
      }),
    )
  })
})

describe('bad input', () => {
  const bad: unknown[] = [
    undefined,
    null,
    '',
    42,
    {},
    ['x'],
    'A'.repeat(42),
    'A'.repeat(44),
    'A'.repeat(1_000_000),
    `${'A'.repeat(42)}B`, // non-canonical last character
    `${'A'.repeat(42)}=`,
    `${'A'.repeat(20)} ${'A'.repeat(22)}`,
    `${'A'.repeat(42)}\u0410`,
  ]
  it('malformed or oversized tokens give null without reaching the store', async () => {
    const { store, calls } = spyStore()
    const sessions = createSessionManager({ store, clock: manualClock(T0) })
    for (const t of bad) {
      expect(await sessions.validate(t)).toBeNull()
      expect(await sessions.rotate(t)).toBeNull()
      expect(await sessions.reauthenticate(t)).toBeNull()
      expect(await sessions.revoke(t)).toBe(false)
    }
    expect(calls()).toBe(0)
  })

  it('arbitrary strings give null, never a throw (property)', async () => {
    const sessions = createSessionManager({ store: downStore(), clock: manualClock(T0) })
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (s) => {
        fc.pre(sessionIdOf(s) === null)
        expect(await sessions.validate(s)).toBeNull()
      }),
    )
  })

  it('a store that is down fails closed with a typed error that leaks nothing', async () => {
    const sessions = createSessionManager({ store: downStore(), clock: manualClock(T0) })
    const token = generateToken(() => new Uint8Array(32).fill(7))
    const ops = [
      () => sessions.validate(token),
      () => sessions.rotate(token),
      () => sessions.revoke(token),
      () => sessions.revokeAll('u'),
      () => sessions.list('u'),
      () => sessions.create('u'),
      () => sessions.isRevoked('a'.repeat(64)),
    ]
    for (const op of ops) {
      const e = await op().then(
        () => null,
        (err: unknown) => err,
      )
      expect(e).toBeInstanceOf(SessionStoreUnavailableError)
      expect(isSafeguardsError(e, 'ERR_SESSION_STORE_UNAVAILABLE')).toBe(true)
      expect((e as Error).message).not.toMatch(/ECONNREFUSED|deadbeef|6379/)
      expect(JSON.stringify(e)).not.toMatch(/ECONNREFUSED|deadbeef/)
    }
  })

  it('a store error thrown as a typed error passes through unchanged', async () => {
    const typed = new SessionStoreUnavailableError('touch (timeout)')
    const store = { ...downStore(), touch: async () => Promise.reject(typed) }
    const sessions = createSessionManager({ store, clock: manualClock(T0) })
    await expect(sessions.validate(generateToken(() => new Uint8Array(32)))).rejects.toBe(typed)
  })

  it('checks userId and role at the boundary', async () => {
    const sessions = createSessionManager({ clock: manualClock(T0) })
    await expect(sessions.create('')).rejects.toThrow(RangeError)
    await expect(sessions.create('x'.repeat(257))).rejects.toThrow(RangeError)
    await expect(sessions.create(7 as unknown as string)).rejects.toThrow(TypeError)
    await expect(sessions.create('u', { role: 5 as unknown as string })).rejects.toThrow(TypeError)
    expect(() => sessions.requireRecentAuth({} as never, -1)).toThrow(RangeError)
  })
})

describe('policy (zod)', () => {
  it('defaults to 15 minutes idle and 12 hours absolute', () => {
    const p = parsePolicy({})
    expect(p.defaults).toEqual({ idleTimeoutMs: 15 * 60_000, absoluteTimeoutMs: 12 * 3_600_000 })
    expect(DEFAULT_IDLE_TIMEOUT_MS).toBe(900_000)
    expect(DEFAULT_ABSOLUTE_TIMEOUT_MS).toBe(43_200_000)
    expect(p.maxSessionsPerUser).toBe(10)
    expect(p.onSessionLimit).toBe('evict-oldest')
  })

  it('applies per-role overrides and the defaults to other roles', () => {
    const p = parsePolicy({ roles: { admin: { idleTimeoutMs: 300_000, absoluteTimeoutMs: 14_400_000 } } })
    expect(timeoutsFor(p, 'admin')).toEqual({ idleTimeoutMs: 300_000, absoluteTimeoutMs: 14_400_000 })
    expect(timeoutsFor(p, 'nurse')).toBe(p.defaults)
    expect(timeoutsFor(p, '__proto__')).toBe(p.defaults)
    expect(timeoutsFor(p, null)).toBe(p.defaults)
  })

  it.each([
    [{ idleTimeoutMs: 0 }, 'idleTimeoutMs'],
    [{ idleTimeoutMs: 1.5 }, 'idleTimeoutMs'],
    [{ absoluteTimeoutMs: 31 * 86_400_000 }, 'absoluteTimeoutMs'],
    [{ idleTimeoutMs: 10_000, absoluteTimeoutMs: 5_000 }, 'idleTimeoutMs must not exceed'],
    [{ roles: { admin: { idleTimeoutMs: 10, absoluteTimeoutMs: 5 } } }, 'roles.admin'],
    [{ roles: { admin: { idleTimeoutMs: 10 } } }, 'roles.admin.absoluteTimeoutMs'],
    [{ roles: { 'bad role!': { idleTimeoutMs: 1, absoluteTimeoutMs: 1 } } }, 'roles'],
    [{ maxSessionsPerUser: 0 }, 'maxSessionsPerUser'],
    [{ onSessionLimit: 'drop' }, 'onSessionLimit'],
    [{ idleTimeout: 5 }, 'idleTimeout'],
  ])('refuses %j naming %s', (opts, path) => {
    expect(() => createSessionManager(opts as never)).toThrow(SessionConfigError)
    expect(() => createSessionManager(opts as never)).toThrow(path)
  })

  it('refuses a bad clock, and the old now option', () => {
    expect(() => createSessionManager({ clock: {} as never })).toThrow(SessionConfigError)
    expect(() => createSessionManager({ now: () => 5 } as never)).toThrow(SessionConfigError)
  })
})

describe('manager details', () => {
  it('uses the system clock by default and reports time left', async () => {
    const sessions = createSessionManager()
    const before = Date.now()
    const { session } = await sessions.create('u')
    expect(session.createdAt).toBeGreaterThanOrEqual(before)
    const left = sessions.timeLeft(session)
    expect(left.idleRemainingMs).toBeLessThanOrEqual(15 * 60_000)
    expect(left.remainingMs).toBe(Math.min(left.idleRemainingMs, left.absoluteRemainingMs))
  })

  it('timeLeft is never negative', async () => {
    const clock = manualClock(T0)
    const sessions = createSessionManager({ clock })
    const { session } = await sessions.create('u')
    clock.advance(13 * 3_600_000)
    expect(sessions.timeLeft(session)).toEqual({ idleRemainingMs: 0, absoluteRemainingMs: 0, remainingMs: 0 })
  })

  it('a privilege change whose absolute limit already passed needs reauthentication', async () => {
    const clock = manualClock(T0)
    const sessions = createSessionManager({
      clock,
      roles: { admin: { idleTimeoutMs: 300_000, absoluteTimeoutMs: 3_600_000 } },
    })
    const { token } = await sessions.create('u')
    for (let i = 0; i < 12; i++) {
      clock.advance(10 * 60_000)
      expect(await sessions.validate(token)).not.toBeNull()
    }
    // two hours in: elevating now would be past admin's 1 h absolute limit
    await expect(sessions.rotate(token, { role: 'admin' })).rejects.toMatchObject({
      code: 'ERR_SESSION_REAUTH_REQUIRED',
    })
    const re = await sessions.reauthenticate(token, { role: 'admin' })
    expect(re?.session.role).toBe('admin')
    expect(re?.session.absoluteExpiresAt).toBe(clock.now() + 3_600_000)
  })

  it('isRevoked treats a malformed id as revoked', async () => {
    const sessions = createSessionManager({ clock: manualClock(T0) })
    expect(await sessions.isRevoked('nope')).toBe(true)
  })

  it('isolated sink errors, sync or async, go to onSinkError and never break the call', async () => {
    const errors: string[] = []
    const seen: unknown[] = []
    const sessions = createSessionManager({
      clock: manualClock(T0),
      events: (e) => {
        if (e.type === 'session.created') throw new Error('sync')
        return Promise.reject(new Error('async'))
      },
      onSinkError: (err, e) => {
        errors.push((err as Error).message)
        seen.push(e.type)
      },
    })
    const { token } = await sessions.create('u')
    expect(await sessions.revoke(token)).toBe(true)
    await vi.waitFor(() => expect(errors.sort()).toEqual(['async', 'sync']))
    expect(seen.sort()).toEqual(['session.created', 'session.revoked'])
    const quiet = createSessionManager({
      clock: manualClock(T0),
      events: () => Promise.reject(new Error('x')),
    })
    await expect(quiet.create('u')).resolves.toBeDefined()
  })

  it('an onSinkError that throws (or a sink that rejects into it) never breaks the call either', async () => {
    const boom = (): never => {
      throw new Error('reporter down')
    }
    const sync = createSessionManager({
      clock: manualClock(T0),
      events: () => {
        throw new Error('sink down')
      },
      onSinkError: boom,
    })
    const a = await sync.create('u')
    expect(await sync.validate(a.token)).not.toBeNull()
    expect(await sync.rotate(a.token)).not.toBeNull()
    const async_ = createSessionManager({
      clock: manualClock(T0),
      events: () => Promise.reject(new Error('queue full')),
      onSinkError: boom,
    })
    const b = await async_.create('u')
    expect(await async_.revoke(b.token)).toBe(true)
    // Vitest fails the run on an unhandled rejection: give the rejected sinks a turn to settle.
    await new Promise((r) => setTimeout(r, 10))
  })

  it('a critical sink that fails fails the operation with ERR_EVENT_SINK (fail closed)', async () => {
    const clock = manualClock(T0)
    let down = true
    const delivered: string[] = []
    const sink = criticalSink(async (e) => {
      if (down) throw new Error('SIEM unreachable')
      delivered.push(e.type)
    })
    const sessions = createSessionManager({ clock, idleTimeoutMs: 60_000, events: sink })
    const failed = await sessions.create('u').catch((e: unknown) => e)
    expect(failed).toBeInstanceOf(EventSinkError)
    expect(failed).toMatchObject({ code: 'ERR_EVENT_SINK', eventType: 'session.created' })
    expect(((failed as Error).cause as Error).message).toBe('SIEM unreachable')
    down = false
    const { token } = await sessions.create('u')
    down = true
    await expect(sessions.rotate(token)).rejects.toMatchObject({ code: 'ERR_EVENT_SINK' })
    await expect(sessions.revokeAll('u')).rejects.toMatchObject({ code: 'ERR_EVENT_SINK' })
    down = false
    const live = await sessions.create('u')
    clock.advance(60_000)
    down = true
    // The expiry that validate finds must be recorded before validate answers.
    await expect(sessions.validate(live.token)).rejects.toMatchObject({
      code: 'ERR_EVENT_SINK',
      eventType: 'session.expired.idle',
    })
    expect(delivered).toEqual(['session.created', 'session.created'])
  })

  it('a throwing isolated sink next to a critical one: the call succeeds, the error is reported', async () => {
    const reported: string[] = []
    const delivered: string[] = []
    const sessions = createSessionManager({
      clock: manualClock(T0),
      events: [
        () => {
          throw new Error('isolated down')
        },
        criticalSink((e) => {
          delivered.push(e.type)
        }),
      ],
      onSinkError: (err) => reported.push((err as Error).message),
    })
    const { token } = await sessions.create('u')
    expect(await sessions.revoke(token)).toBe(true)
    expect(reported).toEqual(['isolated down', 'isolated down'])
    expect(delivered).toEqual(['session.created', 'session.revoked'])
  })

  it('validate builds no event when nothing listens, and refuses a sink that is not a function', async () => {
    const clock = manualClock(T0)
    const sessions = createSessionManager({ clock, idleTimeoutMs: 60_000 })
    const { token } = await sessions.create('u')
    clock.advance(60_000)
    expect(await sessions.validate(token)).toBeNull()
    expect(() => createSessionManager({ events: [5 as never] })).toThrow(TypeError)
  })
})
