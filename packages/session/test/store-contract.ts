/**
 * The behaviour every SessionStore must show, driven through the manager with a manual clock.
 * Run against the in-memory store here and against Redis in @safeguards/session-redis.
 */
import { manualClock, type SafeguardEvent, type SessionCreatedEvent } from '@safeguards/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  createSessionManager,
  SessionLimitError,
  type SessionManagerOptions,
  type SessionStore,
  sessionIdOf,
} from '../src/index.js'

const MIN = 60_000
const HOUR = 60 * MIN
export const T0 = Date.UTC(2026, 0, 1, 9, 0, 0)

/**
 * @param writeIntervalMs - the store's activity write interval: activity moves `lastActivityAt`
 * only when it moves it by at least this much (0: exact). The reference model follows it.
 */
export function storeContract(
  name: string,
  makeStore: () => SessionStore | Promise<SessionStore>,
  propertyRuns = 100,
  writeIntervalMs = 0,
): void {
  describe(`${name}: session store contract`, () => {
    async function setup(extra: Partial<SessionManagerOptions> = {}) {
      const clock = manualClock(T0)
      const events: SafeguardEvent[] = []
      const store = await makeStore()
      const sessions = createSessionManager({
        store,
        clock,
        events: (e) => {
          events.push(e)
        },
        roles: { admin: { idleTimeoutMs: 5 * MIN, absoluteTimeoutMs: 4 * HOUR } },
        ...extra,
      })
      return { clock, events, store, sessions }
    }

    it(`matches a reference model of the two deadlines over random timelines (property, write interval ${writeIntervalMs} ms)`, async () => {
      const store = await makeStore()
      let run = 0
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 100_000 }),
          fc.integer({ min: 0, max: 200_000 }),
          fc.array(
            fc.record({
              // a random step, or a step landing 1 ms around the idle deadline, the absolute
              // deadline, or the point where activity is next written
              to: fc.oneof(
                fc.integer({ min: 0, max: 120_000 }),
                fc.constantFrom('idle', 'absolute', 'write'),
              ),
              delta: fc.integer({ min: -1, max: 1 }),
              activity: fc.boolean(),
            }),
            { maxLength: 25 },
          ),
          async (idle, extra, steps) => {
            const clock = manualClock(T0)
            const sessions = createSessionManager({
              store,
              clock,
              idleTimeoutMs: idle,
              absoluteTimeoutMs: idle + extra,
            })
            const { token } = await sessions.create(`u-model-${run++}`)
            let alive = true
            let last = T0
            const absolute = T0 + idle + extra
            for (const { to, delta, activity } of steps) {
              const target =
                to === 'idle'
                  ? last + idle + delta
                  : to === 'absolute'
                    ? absolute + delta
                    : to === 'write'
                      ? last + writeIntervalMs + delta
                      : clock.now() + to
              const t = clock.advance(Math.max(0, target - clock.now()))
              alive = alive && t < last + idle && t < absolute
              if (alive && activity && t - last >= Math.max(1, writeIntervalMs)) last = t
              const s = await sessions.validate(token, { activity })
              expect(s !== null).toBe(alive)
              if (s !== null) {
                expect(s.idleExpiresAt).toBe(last + idle)
                expect(s.expiresAt).toBe(Math.min(last + idle, absolute))
              }
            }
          },
        ),
        { numRuns: propertyRuns },
      )
    })

    it('idle deadline: valid at idle − 1 ms, over at idle and idle + 1 ms', async () => {
      const { clock, sessions, events } = await setup()
      const a = await sessions.create('u-idle')
      const b = await sessions.create('u-idle')
      clock.set(T0 + 15 * MIN - 1)
      expect(await sessions.validate(a.token, { activity: false })).not.toBeNull()
      clock.set(T0 + 15 * MIN)
      expect(await sessions.validate(a.token)).toBeNull()
      clock.set(T0 + 15 * MIN + 1)
      expect(await sessions.validate(b.token)).toBeNull()
      const expired = events.filter((e) => e.type.startsWith('session.expired'))
      expect(expired.map((e) => e.type)).toEqual(['session.expired.idle', 'session.expired.idle'])
      expect(await sessions.validate(a.token)).toBeNull()
    })

    it('absolute deadline: activity keeps it alive until absolute − 1 ms, never past it', async () => {
      const { clock, sessions, events } = await setup()
      const { token, session } = await sessions.create('u-abs')
      expect(session.absoluteExpiresAt).toBe(T0 + 12 * HOUR)
      let t = T0
      while (t + 14 * MIN < T0 + 12 * HOUR - 1) {
        t += 14 * MIN
        clock.set(t)
        expect(await sessions.validate(token)).not.toBeNull()
      }
      clock.set(T0 + 12 * HOUR - 1)
      const last = await sessions.validate(token)
      expect(last?.expiresAt).toBe(T0 + 12 * HOUR)
      clock.set(T0 + 12 * HOUR)
      expect(await sessions.validate(token)).toBeNull()
      expect(events.at(-1)).toMatchObject({ type: 'session.expired.absolute', actor: 'u-abs' })
    })

    it('polling (activity: false) does not extend the idle deadline; activity does', async () => {
      const { clock, sessions } = await setup()
      const polled = await sessions.create('u-poll')
      const used = await sessions.create('u-poll')
      for (let t = MIN; t < 15 * MIN; t += MIN) {
        clock.set(T0 + t)
        expect(await sessions.validate(polled.token, { activity: false })).not.toBeNull()
        if (t === 10 * MIN) expect((await sessions.validate(used.token))?.idleExpiresAt).toBe(T0 + 25 * MIN)
      }
      clock.set(T0 + 15 * MIN)
      expect(await sessions.validate(polled.token, { activity: false })).toBeNull()
      expect(await sessions.validate(used.token, { activity: false })).not.toBeNull()
      clock.set(T0 + 25 * MIN - 1)
      expect(await sessions.validate(used.token, { activity: false })).not.toBeNull()
      clock.set(T0 + 25 * MIN)
      expect(await sessions.validate(used.token, { activity: false })).toBeNull()
    })

    it('50 concurrent validations at the deadline extend nothing and report expiry once', async () => {
      const { clock, sessions, events } = await setup()
      const { token } = await sessions.create('u-burst')
      clock.set(T0 + 15 * MIN)
      const results = await Promise.all(Array.from({ length: 50 }, () => sessions.validate(token)))
      expect(results.every((r) => r === null)).toBe(true)
      expect(events.filter((e) => e.type.startsWith('session.expired'))).toHaveLength(1)
      clock.set(T0 + 15 * MIN + 1)
      expect(await sessions.validate(token)).toBeNull()
    })

    it('50 concurrent validations 1 ms before the deadline extend it once, to now + idle', async () => {
      const { clock, sessions } = await setup()
      const { token } = await sessions.create('u-burst2')
      clock.set(T0 + 15 * MIN - 1)
      const results = await Promise.all(Array.from({ length: 50 }, () => sessions.validate(token)))
      for (const r of results) expect(r?.idleExpiresAt).toBe(T0 + 30 * MIN - 1)
      clock.set(T0 + 30 * MIN - 1)
      expect(await sessions.validate(token, { activity: false })).toBeNull()
    })

    it('a clock reading behind the last activity never moves the idle deadline back', async () => {
      const { clock, sessions } = await setup()
      const { token } = await sessions.create('u-skew')
      clock.set(T0 + 10 * MIN)
      await sessions.validate(token)
      clock.set(T0 + 5 * MIN, true) // another instance, clock behind
      expect((await sessions.validate(token))?.lastActivityAt).toBe(T0 + 10 * MIN)
    })

    it('logout racing an in-flight request: the session stays revoked', async () => {
      const { clock, sessions, store } = await setup()
      const { token, session } = await sessions.create('u-race')
      // The request starts (validates) and a logout lands while it is still running.
      const inFlight = sessions.validate(token)
      const logout = sessions.revoke(token)
      const [seen, loggedOut] = await Promise.all([inFlight, logout])
      expect(loggedOut).toBe(true)
      expect(seen === null || seen.id === session.id).toBe(true)
      // The request then finishes: every later use of the old token fails; nothing resurrects it.
      clock.advance(1000)
      expect(await sessions.validate(token)).toBeNull()
      expect(await sessions.rotate(token)).toBeNull()
      expect(await sessions.reauthenticate(token)).toBeNull()
      expect(await store.touch(session.id, clock.now(), true)).toEqual({ status: 'revoked' })
      expect(await sessions.isRevoked(session.id)).toBe(true)
      expect(await sessions.list('u-race')).toEqual([])
    })

    it('rotate racing revoke: never both a successful logout and a live rotated token', async () => {
      const { sessions } = await setup()
      for (let i = 0; i < 10; i++) {
        const { token } = await sessions.create(`u-rr-${i}`)
        const [rotated, revoked] = await Promise.all([sessions.rotate(token), sessions.revoke(token)])
        const alive = rotated === null ? false : (await sessions.validate(rotated.token)) !== null
        expect(revoked && alive).toBe(false)
        expect(revoked || alive).toBe(true)
      }
    })

    it('session fixation: an unknown token is never adopted; login always issues a new token', async () => {
      const { sessions, events } = await setup()
      const planted = (await sessions.create('attacker')).token
      const forged = 'A'.repeat(43)
      expect(await sessions.validate(forged)).toBeNull()
      const login = await sessions.create('victim', { previousToken: planted })
      expect(login.token).not.toBe(planted)
      expect(await sessions.validate(planted)).toBeNull()
      expect(events).toContainEqual(expect.objectContaining({ type: 'session.revoked', code: 'login' }))
      const again = await sessions.create('victim', { previousToken: forged })
      expect(again.token).not.toBe(forged)
      expect(await sessions.validate(forged)).toBeNull()
      expect((await sessions.list('victim')).map((s) => s.id).sort()).toEqual(
        [login.session.id, again.session.id].sort(),
      )
    })

    it('rotate: new token, old token dead; privilege change applies the role timeouts', async () => {
      const { clock, sessions, events } = await setup()
      const first = await sessions.create('u-rot')
      clock.advance(MIN)
      const second = await sessions.rotate(first.token)
      expect(second).not.toBeNull()
      expect(second?.token).not.toBe(first.token)
      expect(await sessions.validate(first.token)).toBeNull()
      expect(await sessions.validate(second?.token)).not.toBeNull()
      const admin = await sessions.rotate(second?.token, { role: 'admin' })
      expect(admin?.session.role).toBe('admin')
      expect(admin?.session.idleTimeoutMs).toBe(5 * MIN)
      expect(admin?.session.absoluteExpiresAt).toBe(T0 + 4 * HOUR)
      expect(events.filter((e) => e.type === 'session.rotated').map((e) => e.code)).toEqual([
        'rotate',
        'privilege-change',
      ])
    })

    it('reauthenticate: rotates, restarts both deadlines; requireRecentAuth gates step-up', async () => {
      const { clock, sessions } = await setup()
      const first = await sessions.create('u-re')
      clock.set(T0 + 10 * MIN)
      const s = await sessions.validate(first.token)
      expect(() => sessions.requireRecentAuth(s!, 10 * MIN + 1)).not.toThrow()
      expect(() => sessions.requireRecentAuth(s!, 10 * MIN)).toThrow(
        expect.objectContaining({ code: 'ERR_SESSION_REAUTH_REQUIRED' }),
      )
      const re = await sessions.reauthenticate(first.token)
      expect(re?.session.authAt).toBe(T0 + 10 * MIN)
      expect(re?.session.absoluteExpiresAt).toBe(T0 + 10 * MIN + 12 * HOUR)
      expect(re?.session.createdAt).toBe(T0)
      expect(await sessions.validate(first.token)).toBeNull()
      expect(() => sessions.requireRecentAuth(re!.session, MIN)).not.toThrow()
    })

    it('concurrent-session cap: evicts the oldest, or refuses', async () => {
      const { clock, sessions, events } = await setup({ maxSessionsPerUser: 3 })
      const made = []
      for (let i = 0; i < 4; i++) {
        made.push(await sessions.create('u-cap'))
        clock.advance(1)
      }
      expect(await sessions.validate(made[0]?.token)).toBeNull()
      expect((await sessions.list('u-cap')).map((s) => s.id)).toEqual(made.slice(1).map((m) => m.session.id))
      expect(events).toContainEqual(
        expect.objectContaining({
          type: 'session.revoked',
          code: 'evicted',
          sessionId: made[0]?.session.id,
        }),
      )
      const strict = await setup({ maxSessionsPerUser: 2, onSessionLimit: 'reject' })
      await strict.sessions.create('u-cap2')
      await strict.sessions.create('u-cap2')
      await expect(strict.sessions.create('u-cap2')).rejects.toBeInstanceOf(SessionLimitError)
      // expired sessions do not count
      strict.clock.advance(15 * MIN)
      await expect(strict.sessions.create('u-cap2')).resolves.toBeDefined()
    })

    it('revokeAll logs out everywhere except the current session; list does not touch', async () => {
      const { clock, sessions } = await setup()
      const a = await sessions.create('u-all')
      const b = await sessions.create('u-all')
      const c = await sessions.create('u-all')
      const other = await sessions.create('u-other')
      clock.advance(MIN)
      const listed = await sessions.list('u-all')
      expect(listed).toHaveLength(3)
      expect(listed.every((s) => s.lastActivityAt === T0)).toBe(true)
      expect(await sessions.revokeAll('u-all', { exceptToken: c.token })).toBe(2)
      expect(await sessions.validate(a.token)).toBeNull()
      expect(await sessions.validate(b.token)).toBeNull()
      expect(await sessions.validate(c.token)).not.toBeNull()
      expect(await sessions.validate(other.token)).not.toBeNull()
      expect(await sessions.revokeAll('u-all')).toBe(1)
      expect(await sessions.list('u-all')).toEqual([])
    })

    it('revokeById revokes only a session the user owns', async () => {
      const { sessions } = await setup()
      const mine = await sessions.create('u-mine')
      const theirs = await sessions.create('u-theirs')
      expect(await sessions.revokeById('u-mine', theirs.session.id)).toBe(false)
      expect(await sessions.validate(theirs.token)).not.toBeNull()
      expect(await sessions.revokeById('u-mine', mine.session.id)).toBe(true)
      expect(await sessions.validate(mine.token)).toBeNull()
      expect(await sessions.revokeById('u-mine', 'not-an-id')).toBe(false)
    })

    it('events carry ids, actors and codes, never a token', async () => {
      const { clock, sessions, events } = await setup()
      const tokens: string[] = []
      const a = await sessions.create('u-ev')
      tokens.push(a.token)
      const r = await sessions.rotate(a.token)
      tokens.push(r!.token)
      const re = await sessions.reauthenticate(r!.token)
      tokens.push(re!.token)
      await sessions.revoke(re!.token)
      const b = await sessions.create('u-ev')
      tokens.push(b.token)
      clock.advance(15 * MIN)
      await sessions.validate(b.token)
      const text = JSON.stringify(events)
      for (const t of tokens) expect(text).not.toContain(t)
      expect(events.map((e) => e.type)).toEqual([
        'session.created',
        'session.rotated',
        'session.rotated',
        'session.revoked',
        'session.created',
        'session.expired.idle',
      ])
      for (const e of events as SessionCreatedEvent[]) {
        expect(e.sessionId).toMatch(/^[0-9a-f]{64}$/)
        expect(e).toMatchObject({ source: '@safeguards/session', actor: 'u-ev', outcome: 'success' })
      }
      expect(events[0]).toEqual({
        type: 'session.created',
        at: T0,
        source: '@safeguards/session',
        outcome: 'success',
        actor: 'u-ev',
        sessionId: sessionIdOf(a.token),
        role: null,
      })
    })
  })
}
