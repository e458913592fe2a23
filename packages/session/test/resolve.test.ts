import { manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { createSessionManager, type SessionStore, SessionStoreUnavailableError } from '../src/index.js'

const T0 = Date.UTC(2026, 0, 1)
const policy = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 }

describe('manager.resolve: why a token is not live, and a peek that does not touch', () => {
  it('reports active with the session, and activity:false does not move the idle deadline', async () => {
    const clock = manualClock(T0)
    const m = createSessionManager({ ...policy, clock })
    const { token } = await m.create('u-1')
    clock.advance(30_000)
    const peek = await m.resolve(token, { activity: false })
    expect(peek.status).toBe('active')
    if (peek.status !== 'active') throw new Error('unreachable')
    expect(peek.session.lastActivityAt).toBe(T0)
    expect(m.timeLeft(peek.session).idleRemainingMs).toBe(30_000)
    clock.advance(29_999)
    expect((await m.resolve(token, { activity: false })).status).toBe('active')
    clock.advance(1) // the peeks did not extend it: idle deadline reached
    expect(await m.resolve(token, { activity: false })).toEqual({ status: 'idle' })
  })

  it('activity (the default) extends the session', async () => {
    const clock = manualClock(T0)
    const m = createSessionManager({ ...policy, clock })
    const { token } = await m.create('u-1')
    clock.advance(59_000)
    const r = await m.resolve(token)
    expect(r.status === 'active' && r.session.lastActivityAt).toBe(T0 + 59_000)
    clock.advance(59_000)
    expect((await m.resolve(token)).status).toBe('active')
  })

  it('names the absolute deadline, a revocation and an unknown or malformed token', async () => {
    const clock = manualClock(T0)
    const m = createSessionManager({ ...policy, clock })
    const a = await m.create('u-1')
    for (let i = 0; i < 10; i++) {
      clock.advance(59_000)
      await m.resolve(a.token)
    }
    clock.advance(10_000) // 600 000 ms since login: the absolute deadline, to the millisecond
    expect(await m.resolve(a.token)).toEqual({ status: 'absolute' })
    const b = await m.create('u-2')
    await m.revoke(b.token)
    expect(await m.resolve(b.token)).toEqual({ status: 'revoked' })
    const c = await m.create('u-3')
    const rotated = await m.rotate(c.token)
    expect(rotated).not.toBeNull()
    expect((await m.resolve(c.token)).status).toMatch(/^(revoked|unknown)$/)
    expect(await m.resolve('x'.repeat(43))).toEqual({ status: 'unknown' })
    expect(await m.resolve('not a token')).toEqual({ status: 'unknown' })
    expect(await m.resolve(undefined)).toEqual({ status: 'unknown' })
  })

  it('throws SessionStoreUnavailableError when the store is down (fail closed)', async () => {
    const fail = async (): Promise<never> => {
      throw new Error('ECONNREFUSED')
    }
    const store = { touch: fail } as unknown as SessionStore
    const m = createSessionManager({ store })
    await expect(m.resolve('A'.repeat(43))).rejects.toBeInstanceOf(SessionStoreUnavailableError)
  })
})
