import { manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { createMemoryStore, createRedisStore, type MfaStore, MfaStoreError } from '../src/index.js'
import { describeRedis } from './helpers.js'

function contract(name: string, make: () => MfaStore, advance: (ms: number) => Promise<void>): void {
  describe(`${name}: MfaStore contract`, () => {
    it('get / compareAndSet / delete', async () => {
      const s = make()
      expect(await s.get('a')).toBeNull()
      expect(await s.compareAndSet('a', 'x', '1')).toBe(false)
      expect(await s.compareAndSet('a', null, '1')).toBe(true)
      expect(await s.compareAndSet('a', null, '2')).toBe(false)
      expect(await s.get('a')).toBe('1')
      expect(await s.compareAndSet('a', '1', '2')).toBe(true)
      expect(await s.get('a')).toBe('2')
      expect(await s.compareAndSet('a', '2', null)).toBe(true)
      expect(await s.get('a')).toBeNull()
      // The empty string is a value, distinct from absent.
      expect(await s.compareAndSet('e', null, '')).toBe(true)
      expect(await s.get('e')).toBe('')
      expect(await s.compareAndSet('e', null, 'z')).toBe(false)
      expect(await s.compareAndSet('e', '', 'z')).toBe(true)
    })

    it('exactly one of many concurrent compare-and-sets wins', async () => {
      const s = make()
      await s.compareAndSet('c', null, '0')
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => s.compareAndSet('c', '0', String(i + 1))),
      )
      expect(results.filter(Boolean)).toHaveLength(1)
    })

    it('expires values with a ttl', async () => {
      const s = make()
      expect(await s.compareAndSet('t', null, 'v', 50)).toBe(true)
      expect(await s.get('t')).toBe('v')
      await advance(120)
      expect(await s.get('t')).toBeNull()
      expect(await s.compareAndSet('t', null, 'w')).toBe(true)
    })
  })
}

const clock = manualClock(Date.UTC(2026, 0, 1))
const memory = createMemoryStore({ clock })
contract(
  'memory',
  () => memory,
  async (ms) => void clock.advance(ms),
)

await describeRedis('redis', ({ client, prefix }) => {
  contract(
    'redis',
    () => createRedisStore({ client, prefix }),
    (ms) => new Promise((r) => setTimeout(r, ms)),
  )

  it('keeps keys under its prefix only, and reports foreign reply types', async () => {
    const s = createRedisStore({ client, prefix })
    await s.compareAndSet('k', null, 'v')
    expect(await client.get(`${prefix}k`)).toBe('v')
    const weird = createRedisStore({ client: { get: async () => 42, eval: async () => 'x' }, prefix })
    await expect(weird.get('k')).rejects.toBeInstanceOf(MfaStoreError)
    await expect(weird.compareAndSet('k', null, 'v')).rejects.toBeInstanceOf(MfaStoreError)
    expect(() => createRedisStore({ client: {} as never })).toThrow(TypeError)
  })
})
