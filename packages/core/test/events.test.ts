import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  createEmitter,
  criticalSink,
  EventSinkError,
  isSafeguardsError,
  type SafeguardEvent,
  type SafeguardEventType,
  safeguardEventTypes,
} from '../src/index.js'

const event = (over: Partial<SafeguardEvent> = {}): SafeguardEvent =>
  ({ type: 'auth.locked', at: 1, source: 'test', outcome: 'success', actor: 'u1', ...over }) as SafeguardEvent

describe('createEmitter', () => {
  it('is inactive, and costs nothing, when no sink listens', () => {
    for (const options of [undefined, {}, { events: [] }]) {
      const e = createEmitter(options)
      expect(e.active).toBe(false)
      expect(e.emit(event())).toBeUndefined()
    }
  })

  it('isolates ordinary sinks: a throw, a rejection or a slow promise never reaches the operation', async () => {
    const seen: string[] = []
    const errors: unknown[] = []
    let resolveSlow!: () => void
    const slow = new Promise<void>((r) => {
      resolveSlow = r
    })
    const e = createEmitter({
      events: [
        () => {
          throw new Error('sync')
        },
        async () => Promise.reject(new Error('async')),
        () => slow,
        (ev) => {
          seen.push(ev.type)
        },
      ],
      onSinkError: (err, ev) => errors.push([(err as Error).message, ev.type]),
    })
    expect(e.active).toBe(true)
    expect(e.emit(event())).toBeUndefined() // nothing to await: the slow sink is not waited for
    expect(seen).toEqual(['auth.locked'])
    await new Promise((r) => setTimeout(r, 0))
    expect(errors).toEqual([
      ['sync', 'auth.locked'],
      ['async', 'auth.locked'],
    ])
    expect(e.sinkErrors).toBe(2)
    resolveSlow()
  })

  it('an onSinkError that throws is ignored', () => {
    const e = createEmitter({
      events: () => {
        throw new Error('x')
      },
      onSinkError: () => {
        throw new Error('y')
      },
    })
    expect(() => e.emit(event())).not.toThrow()
    expect(e.sinkErrors).toBe(1)
  })

  it('awaits critical sinks in order and fails the operation when one fails (fail closed)', async () => {
    const order: string[] = []
    const ok = createEmitter({
      events: [
        criticalSink(async () => {
          await new Promise((r) => setTimeout(r, 5))
          order.push('a')
        }),
        criticalSink(() => {
          order.push('b')
        }),
      ],
    })
    await ok.emit(event())
    expect(order).toEqual(['a', 'b'])
    const cause = new Error('disk full')
    const failing = createEmitter({
      events: [
        criticalSink(() => Promise.reject(cause)),
        criticalSink(() => {
          order.push('never')
        }),
      ],
    })
    const err = await failing
      .emit(event({ type: 'access.emergency.granted' } as Partial<SafeguardEvent>))!
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EventSinkError)
    expect(isSafeguardsError(err, 'ERR_EVENT_SINK')).toBe(true)
    expect((err as EventSinkError).cause).toBe(cause)
    expect((err as EventSinkError).eventType).toBe('access.emergency.granted')
    expect((err as EventSinkError).category).toBe('unavailable')
    expect(order).not.toContain('never')
  })

  it('refuses what is not a sink', () => {
    expect(() => createEmitter({ events: [1 as never] })).toThrow(TypeError)
    expect(() => createEmitter({ events: () => {}, onSinkError: 1 as never })).toThrow(TypeError)
    expect(() => criticalSink(1 as never)).toThrow(TypeError)
  })
})

describe('the vocabulary', () => {
  it('lists every event type once', () => {
    expect(new Set(safeguardEventTypes).size).toBe(safeguardEventTypes.length)
    expectTypeOf<(typeof safeguardEventTypes)[number]>().toEqualTypeOf<SafeguardEventType>()
    for (const t of safeguardEventTypes) expect(t).toMatch(/^[a-z]+(\.[a-z-]+)+$/)
  })
})
