/** The local keyring's lifecycle as a pure state machine: commands, states, changes, no I/O. */
import { describe, expect, it } from 'vitest'
import { KeyringStateError } from '../src/index.js'
import { applyLifecycle, type KeyMeta } from '../src/internal/keyring-lifecycle.js'

const keys = (...states: KeyMeta['state'][]): KeyMeta[] =>
  states.map((state, i) => ({ version: i + 1, state, createdAt: 100 + i }))

describe('applyLifecycle', () => {
  it('adds the first version as the primary, later ones decrypt-only', () => {
    expect(applyLifecycle([], { op: 'add' }, 7)).toEqual({
      keys: [{ version: 1, state: 'primary', createdAt: 7 }],
      version: 1,
      added: true,
      changes: [
        ['key.created', 1],
        ['key.rotated', 1],
      ],
    })
    const r = applyLifecycle(keys('primary'), { op: 'add' }, 8)
    expect(r.keys.map((k) => k.state)).toEqual(['primary', 'decrypt-only'])
    expect(r.changes).toEqual([['key.created', 2]])
  })

  it('rotates (add and promote) and promotes, demoting the old primary', () => {
    const rotated = applyLifecycle(keys('primary', 'disabled'), { op: 'rotate' }, 9)
    expect(rotated.keys.map((k) => k.state)).toEqual(['decrypt-only', 'disabled', 'primary'])
    expect(rotated.changes).toEqual([
      ['key.created', 3],
      ['key.rotated', 3],
    ])
    const promoted = applyLifecycle(keys('primary', 'decrypt-only'), { op: 'promote', version: 2 }, 9)
    expect(promoted.keys.map((k) => k.state)).toEqual(['decrypt-only', 'primary'])
    expect(promoted.changes).toEqual([['key.rotated', 2]])
    expect(applyLifecycle(keys('primary'), { op: 'promote', version: 1 }, 9).changes).toEqual([])
  })

  it('retires, disables, enables and destroys, and leaves its input untouched', () => {
    const input = keys('primary', 'decrypt-only')
    const retired = applyLifecycle(input, { op: 'retire', version: 2 }, 0)
    expect(retired.keys[1]).toEqual({ version: 2, state: 'disabled', createdAt: 101, retired: true })
    expect(retired.changes).toEqual([['key.retired', 2]])
    expect(input[1]?.state).toBe('decrypt-only')
    const enabled = applyLifecycle(retired.keys, { op: 'enable', version: 2 }, 0)
    expect(enabled.keys[1]).toEqual({ version: 2, state: 'decrypt-only', createdAt: 101 })
    expect(applyLifecycle(input, { op: 'disable', version: 2 }, 0).changes).toEqual([['key.disabled', 2]])
    const destroyed = applyLifecycle(input, { op: 'destroy', version: 2 }, 0)
    expect(destroyed.keys[1]?.state).toBe('destroyed')
    expect(destroyed.changes).toEqual([['key.destroyed', 2]])
  })

  it('refuses what the lifecycle forbids', () => {
    const k = keys('primary', 'disabled', 'destroyed')
    for (const op of ['retire', 'disable', 'destroy'] as const)
      expect(() => applyLifecycle(k, { op, version: 1 }, 0)).toThrow(KeyringStateError) // the primary
    expect(() => applyLifecycle(k, { op: 'promote', version: 2 }, 0)).toThrow(
      /disabled and cannot be promoted/,
    )
    expect(() => applyLifecycle(k, { op: 'enable', version: 1 }, 0)).toThrow(/not disabled/)
    expect(() => applyLifecycle(k, { op: 'disable', version: 3 }, 0)).toThrow(/destroyed/)
    expect(() => applyLifecycle(k, { op: 'promote', version: 9 }, 0)).toThrow(/does not exist/)
    expect(() => applyLifecycle(k, { op: 'promote', version: 0 }, 0)).toThrow(RangeError)
    const full = Array.from({ length: 10_000 }, (_, i) => ({
      version: i + 1,
      state: 'decrypt-only' as const,
      createdAt: 0,
    }))
    expect(() => applyLifecycle(full, { op: 'add' }, 0)).toThrow(/too many versions/)
  })
})
