import { describe, expect, it } from 'vitest'
import { createMemoryStore, createSessionManager, SessionStoreUnavailableError } from '../src/index.js'
import { storeContract, T0 } from './store-contract.js'

storeContract('memory', () => createMemoryStore())

describe('memory store bounds', () => {
  it('sweeps expired sessions and tombstones', async () => {
    let now = T0
    const store = createMemoryStore()
    const sessions = createSessionManager({
      store,
      clock: { now: () => now },
      idleTimeoutMs: 1000,
      absoluteTimeoutMs: 5000,
    })
    const a = await sessions.create('u')
    await sessions.create('u')
    await sessions.revoke(a.token)
    expect(store.size).toBe(2) // one live, one tombstone
    now += 1000
    expect(store.sweep(now)).toBe(1)
    now += 4000
    expect(store.sweep(now)).toBe(1)
    expect(store.size).toBe(0)
  })

  it('fails closed with a typed error when full', async () => {
    const now = T0
    const sessions = createSessionManager({
      store: createMemoryStore({ maxEntries: 2 }),
      clock: { now: () => now },
    })
    await sessions.create('a')
    await sessions.create('b')
    await expect(sessions.create('c')).rejects.toBeInstanceOf(SessionStoreUnavailableError)
  })

  it('rejects a bad maxEntries', () => {
    expect(() => createMemoryStore({ maxEntries: 0 })).toThrow(RangeError)
  })
})
