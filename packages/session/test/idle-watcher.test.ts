import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  type ActivityEvent,
  type ActivityTarget,
  createIdleWatcher,
  type RemainingTime,
} from '../src/index.js'

const MIN = 60_000

/** A fake event target: tests dispatch trusted or untrusted events by hand. */
class FakeTarget implements ActivityTarget {
  readonly listeners = new Map<string, Set<(e: ActivityEvent) => void>>()
  addEventListener(type: string, l: (e: ActivityEvent) => void): void {
    const set = this.listeners.get(type) ?? new Set()
    this.listeners.set(type, set)
    set.add(l)
  }
  removeEventListener(type: string, l: (e: ActivityEvent) => void): void {
    this.listeners.get(type)?.delete(l)
  }
  dispatch(type: string, isTrusted = true): void {
    for (const l of this.listeners.get(type) ?? []) l({ type, isTrusted })
  }
  get count(): number {
    let n = 0
    for (const s of this.listeners.values()) n += s.size
    return n
  }
}

/** A fake server: a 15-minute idle session that only user activity extends. */
function fakeServer(idle = 15 * MIN, absolute = 12 * 60 * MIN) {
  const start = Date.now()
  let last = start
  let revoked = false
  const calls: number[] = []
  const left = (): RemainingTime | null => {
    const now = Date.now()
    const idleAt = last + idle
    const absAt = start + absolute
    if (revoked || now >= idleAt || now >= absAt) return null
    return { idleRemainingMs: idleAt - now, absoluteRemainingMs: absAt - now }
  }
  return {
    calls,
    revoke: () => {
      revoked = true
    },
    initial: left() as RemainingTime,
    keepAlive: async (): Promise<RemainingTime | null> => {
      calls.push(Date.now())
      const l = left()
      if (l !== null) last = Date.now()
      return left()
    },
  }
}

function setup(server = fakeServer(), extra: Record<string, unknown> = {}) {
  const target = new FakeTarget()
  const log: string[] = []
  const watcher = createIdleWatcher({
    target,
    initial: server.initial,
    keepAlive: server.keepAlive,
    onWarning: (ms, d) => log.push(`warn ${d} ${Math.round(ms / 1000)}s`),
    onActive: () => log.push('active'),
    onSignOut: (r) => log.push(`out ${r}`),
    ...extra,
  })
  return { target, log, watcher, server }
}

describe('createIdleWatcher (fake timers, fake event target)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1, 9) })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('warns 60 s before the idle deadline and signs out at it, with no keep-alive when idle', async () => {
    const { log, watcher, server, target } = setup()
    await vi.advanceTimersByTimeAsync(14 * MIN - 1)
    expect(log).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(log).toEqual(['warn idle 60s'])
    expect(watcher.state).toBe('warning')
    await vi.advanceTimersByTimeAsync(MIN - 1)
    expect(log).toEqual(['warn idle 60s'])
    await vi.advanceTimersByTimeAsync(1)
    expect(log).toEqual(['warn idle 60s', 'out idle'])
    expect(watcher.state).toBe('signed-out')
    expect(server.calls).toEqual([]) // no polling, ever
    expect(target.count).toBe(0) // listeners removed
    await vi.advanceTimersByTimeAsync(60 * MIN)
    expect(log).toHaveLength(2)
  })

  it('sends a keep-alive only on trusted user activity, throttled', async () => {
    const { target, server } = setup()
    await vi.advanceTimersByTimeAsync(MIN)
    target.dispatch('keydown', false) // script-dispatched: ignored
    target.dispatch('mousemove') // not a listened event
    expect(server.calls).toHaveLength(0)
    target.dispatch('keydown')
    target.dispatch('pointerdown')
    await vi.advanceTimersByTimeAsync(10)
    expect(server.calls).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(30_000)
    target.dispatch('wheel') // within the throttle window
    await vi.advanceTimersByTimeAsync(10)
    expect(server.calls).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(MIN)
    target.dispatch('touchstart')
    await vi.advanceTimersByTimeAsync(10)
    expect(server.calls).toHaveLength(2)
  })

  it('activity held back by the throttle is reported instead of warning', async () => {
    const { target, server, log } = setup(fakeServer(), { keepAliveIntervalMs: 20 * MIN })
    target.dispatch('keydown') // keep-alive #1 at t=0
    await vi.advanceTimersByTimeAsync(5 * MIN)
    target.dispatch('keydown') // throttled
    await vi.advanceTimersByTimeAsync(9 * MIN) // warn time
    expect(server.calls).toHaveLength(2)
    expect(log).toEqual([])
    await vi.advanceTimersByTimeAsync(10 * MIN)
    expect(log).toEqual([])
  })

  it('activity during the warning extends the session and dismisses the warning', async () => {
    const { target, log, watcher, server } = setup()
    await vi.advanceTimersByTimeAsync(14 * MIN + 30_000)
    expect(log).toEqual(['warn idle 60s'])
    target.dispatch('keydown')
    await vi.advanceTimersByTimeAsync(0)
    expect(log).toEqual(['warn idle 60s', 'active'])
    expect(watcher.state).toBe('active')
    expect(server.calls).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(14 * MIN - 1)
    expect(log).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(log.at(-1)).toBe('warn idle 60s')
  })

  it('extend() is the "Stay signed in" button', async () => {
    const { log, watcher } = setup()
    await vi.advanceTimersByTimeAsync(14 * MIN + 1)
    await watcher.extend()
    expect(log).toEqual(['warn idle 60s', 'active'])
  })

  it('the absolute deadline: warned, not extendable by activity, signed out at it', async () => {
    const server = fakeServer(15 * MIN, 20 * MIN)
    const { target, log } = setup(server)
    await vi.advanceTimersByTimeAsync(10 * MIN)
    target.dispatch('keydown') // idle now ends at 25 min, absolute at 20
    await vi.advanceTimersByTimeAsync(9 * MIN - 1)
    expect(log).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(log).toEqual(['warn absolute 60s'])
    target.dispatch('keydown')
    await vi.advanceTimersByTimeAsync(MIN)
    expect(log).toEqual(['warn absolute 60s', 'out absolute'])
    expect(server.calls).toHaveLength(1)
  })

  it('signs out at once when the server says the session is gone', async () => {
    const { target, log, server } = setup()
    server.revoke()
    target.dispatch('keydown')
    await vi.advanceTimersByTimeAsync(0)
    expect(log).toEqual(['out revoked'])
  })

  it('a failed keep-alive keeps the current deadline (no early sign-out, no extension)', async () => {
    const { target, log } = setup(fakeServer(), {
      keepAlive: () => Promise.reject(new Error('offline')),
    })
    await vi.advanceTimersByTimeAsync(14 * MIN + 1)
    target.dispatch('keydown')
    await vi.advanceTimersByTimeAsync(MIN)
    expect(log).toEqual(['warn idle 60s', 'out idle'])
  })

  it('stop() removes listeners and timers without signing out', async () => {
    const { target, log, watcher } = setup()
    watcher.stop()
    expect(target.count).toBe(0)
    await vi.advanceTimersByTimeAsync(60 * MIN)
    expect(log).toEqual([])
    await watcher.extend()
  })

  it('validates its options', () => {
    const base = {
      target: new FakeTarget(),
      initial: { idleRemainingMs: 1, absoluteRemainingMs: 1 },
      keepAlive: async () => null,
      onWarning: () => {},
      onSignOut: () => {},
    }
    expect(() => createIdleWatcher({ ...base, target: {} as never })).toThrow(TypeError)
    expect(() => createIdleWatcher({ ...base, keepAlive: undefined as never })).toThrow(TypeError)
    expect(() => createIdleWatcher({ ...base, warnBeforeMs: -1 })).toThrow(RangeError)
    expect(() => createIdleWatcher({ ...base, keepAliveIntervalMs: Number.NaN })).toThrow(TypeError)
  })

  it('works with the global timers and Date.now by default', async () => {
    const server = fakeServer(2 * MIN, 60 * MIN)
    const { log } = setup(server)
    await vi.advanceTimersByTimeAsync(2 * MIN)
    expect(log).toEqual(['warn idle 60s', 'out idle'])
  })
})
