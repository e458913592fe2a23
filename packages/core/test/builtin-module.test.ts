import { describe, expect, it, vi } from 'vitest'
import { builtinModule } from '../src/index.js'

describe('builtinModule', () => {
  it('finds a built-in module that has every function asked for', async () => {
    const crypto = builtinModule<{ createHash: unknown }>('node:crypto', ['createHash', 'createHmac'])
    expect(crypto?.createHash).toBe((await import('node:crypto')).createHash)
  })

  it('treats a module lacking one function as absent, and an unknown id as absent (never throws)', () => {
    expect(builtinModule('node:crypto', ['createHash', 'noSuchFunction'])).toBeUndefined()
    expect(builtinModule('node:no-such-module', [])).toBeUndefined()
  })

  it('is undefined where the runtime has no getBuiltinModule (browsers, edge runtimes)', () => {
    vi.stubGlobal('process', { ...process, getBuiltinModule: undefined })
    try {
      expect(builtinModule('node:crypto', [])).toBeUndefined()
    } finally {
      vi.unstubAllGlobals()
    }
    vi.stubGlobal('process', undefined)
    try {
      expect(builtinModule('node:crypto', [])).toBeUndefined()
    } finally {
      vi.unstubAllGlobals()
    }
    expect(builtinModule('node:crypto', [])).toBeDefined()
  })
})
