import { inspect } from 'node:util'
import { describe, expect, it, vi } from 'vitest'
import type { ErrorCategory } from '../src/index.js'
import {
  assertBytes,
  assertInteger,
  assertKnownOptions,
  assertString,
  CanonicalJsonError,
  EncodingError,
  InvalidArgumentError,
  IoError,
  isSafeguardsError,
  JsonParseError,
  LockLostError,
  LockTimeoutError,
  manualClock,
  randomBytes,
  SafeguardsError,
  Secret,
  systemClock,
  timingSafeEqual,
} from '../src/index.js'

describe('timingSafeEqual', () => {
  it('compares contents and lengths', () => {
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true)
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false)
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2]))).toBe(false)
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false)
    expect(timingSafeEqual(new Uint8Array(), new Uint8Array())).toBe(true)
    expect(timingSafeEqual(new Uint8Array([0]), new Uint8Array())).toBe(false)
    expect(timingSafeEqual(new Uint8Array(), new Uint8Array([0]))).toBe(false)
  })
  it('finds a difference in every position', () => {
    const a = new Uint8Array(64).fill(9)
    for (let i = 0; i < 64; i++) {
      const b = a.slice()
      b[i] = 8
      expect(timingSafeEqual(a, b)).toBe(false)
    }
  })
  it('refuses non-bytes', () => {
    expect(() => timingSafeEqual('a' as unknown as Uint8Array, new Uint8Array())).toThrow(TypeError)
    expect(() => timingSafeEqual(new Uint8Array(), [1] as unknown as Uint8Array)).toThrow(/"b"/)
  })
})

describe('randomBytes', () => {
  it('returns the requested length, beyond the 64 KiB getRandomValues limit', () => {
    expect(randomBytes(0)).toEqual(new Uint8Array())
    const big = randomBytes(200_000)
    expect(big.length).toBe(200_000)
    // the last chunk was filled too (probability of 1000 zero bytes is nil)
    expect(big.subarray(199_000).some((b) => b !== 0)).toBe(true)
    expect(randomBytes(32)).not.toEqual(randomBytes(32))
  })
  it('checks its argument', () => {
    expect(() => randomBytes(-1)).toThrow(RangeError)
    expect(() => randomBytes(1.5)).toThrow(TypeError)
    expect(() => randomBytes('8' as unknown as number)).toThrow(TypeError)
  })
  it('fails with a typed error when Web Crypto is missing', () => {
    vi.stubGlobal('crypto', undefined)
    try {
      expect(() => randomBytes(8)).toThrow(SafeguardsError)
      try {
        randomBytes(8)
      } catch (e) {
        expect((e as SafeguardsError).code).toBe('ERR_UNSUPPORTED_RUNTIME')
      }
    } finally {
      vi.unstubAllGlobals()
    }
  })
})

describe('Secret', () => {
  it('never prints its value', () => {
    const s = Secret.of('hunter2')
    expect(String(s)).toBe('<redacted>')
    expect(`${s}`).toBe('<redacted>')
    expect(JSON.stringify({ s })).toBe('{"s":"<redacted>"}')
    expect(inspect(s)).toBe('<redacted>')
    expect(inspect({ nested: { s } })).not.toContain('hunter2')
    expect(Object.keys(s)).toEqual([])
    expect(s.reveal()).toBe('hunter2')
    expect(Secret.isSecret(s)).toBe(true)
    expect(Secret.isSecret('hunter2')).toBe(false)
  })
})

describe('clocks', () => {
  it('systemClock follows Date.now', () => {
    const before = Date.now()
    const t = systemClock.now()
    expect(t).toBeGreaterThanOrEqual(before)
    expect(t).toBeLessThanOrEqual(Date.now())
  })
  it('manualClock moves only when told', () => {
    const c = manualClock(1000)
    expect(c.now()).toBe(1000)
    expect(c.advance(500)).toBe(1500)
    expect(c.set(2000)).toBe(2000)
    expect(() => c.set(10)).toThrow(RangeError)
    expect(c.set(10, true)).toBe(10)
    expect(() => c.advance(-1)).toThrow(RangeError)
    expect(() => manualClock(0.5)).toThrow(TypeError)
    expect(manualClock().now()).toBe(0)
  })
})

describe('errors', () => {
  it('carry stable codes and serialise without stack or cause', () => {
    const e = new InvalidArgumentError('"x" must be positive', { cause: new Error('secret detail') })
    expect(e.code).toBe('ERR_INVALID_ARGUMENT')
    expect(e.name).toBe('InvalidArgumentError')
    expect(e).toBeInstanceOf(SafeguardsError)
    expect(e).toBeInstanceOf(Error)
    expect(JSON.stringify(e)).toBe(
      '{"name":"InvalidArgumentError","code":"ERR_INVALID_ARGUMENT","category":"invalid-argument","message":"\\"x\\" must be positive"}',
    )
    expect(e.cause).toBeInstanceOf(Error)
    expect(new SafeguardsError('ERR_X', 'm').cause).toBeUndefined()
    expect(new CanonicalJsonError('bad', '').message).toBe('bad at (root)')
    expect(new JsonParseError('bad', 3).offset).toBe(3)
  })
  it('isSafeguardsError recognises SDK errors by their brand, also from another copy of core', () => {
    expect(isSafeguardsError(new InvalidArgumentError('m'))).toBe(true)
    expect(isSafeguardsError(new InvalidArgumentError('m'), 'ERR_INVALID_ARGUMENT')).toBe(true)
    expect(isSafeguardsError(new InvalidArgumentError('m'), 'ERR_ENCODING')).toBe(false)
    // Another copy of @safeguards/core brands its errors with the same registered symbol.
    const otherCopy = Object.assign(new Error('x'), { code: 'ERR_FROM_OTHER_COPY' })
    Object.defineProperty(otherCopy, Symbol.for('@safeguards/core/error'), { value: true })
    expect(isSafeguardsError(otherCopy)).toBe(true)
    expect(isSafeguardsError(otherCopy, 'ERR_FROM_OTHER_COPY')).toBe(true)
    expect(isSafeguardsError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false)
    expect(isSafeguardsError({ code: 'ERR_X' })).toBe(false)
    expect(isSafeguardsError(null)).toBe(false)
  })
  it("isSafeguardsError does not take Node's own ERR_ errors for SDK errors (regression)", () => {
    let nodeError: unknown
    try {
      new TextDecoder().decode('not bytes' as never)
    } catch (e) {
      nodeError = e
    }
    expect((nodeError as { code?: string }).code).toBe('ERR_INVALID_ARG_TYPE')
    expect(isSafeguardsError(nodeError)).toBe(false)
    expect(isSafeguardsError(Object.assign(new Error('x'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBe(false)
  })
  it('every error has a category; subclasses set theirs', () => {
    expect(new InvalidArgumentError('m').category).toBe('invalid-argument')
    expect(new EncodingError('m').category).toBe('invalid-input')
    expect(new JsonParseError('m', 1).category).toBe('invalid-input')
    expect(new LockTimeoutError(5).category).toBe('unavailable')
    expect(new LockLostError().category).toBe('conflict')
    const io = new IoError('write', '/x/y', { cause: Object.assign(new Error('e'), { code: 'EACCES' }) })
    expect([io.category, io.syscallCode, io.path, io.operation]).toEqual(['io', 'EACCES', '/x/y', 'write'])
    expect(io.message).toBe('cannot write /x/y (EACCES)')
  })
})

describe('assertions', () => {
  it('use TypeError for types and RangeError for ranges, naming the argument', () => {
    expect(() => assertBytes(new Uint8Array(16), 'kek', 32)).toThrow('"kek" expected 32 bytes, got 16')
    expect(() => assertBytes('x', 'kek')).toThrow(TypeError)
    expect(() => assertBytes(new Uint8Array(24), 'key', 16, 32)).toThrow('expected 16 or 32 bytes')
    expect(() => assertInteger(7, 'digits', 6, 6)).toThrow(RangeError)
    expect(() => assertInteger(Number.NaN, 'digits')).toThrow(TypeError)
    expect(() => assertString(5, 'id')).toThrow(TypeError)
    expect(() => assertString('abcd', 'id', 3)).toThrow(RangeError)
    assertString('abc', 'id', 3)
    assertInteger(6, 'digits', 6, 8)
    assertBytes(new Uint8Array(32), 'k', 32)
  })

  it('assertKnownOptions throws the error of the caller, naming the unknown key and the nearest known one', () => {
    const known = new Set(['pepper', 'memoryCost', 'timeCost'])
    const fail = (m: string) => new InvalidArgumentError(m)
    assertKnownOptions({ pepper: 1, timeCost: 2 }, known, fail)
    assertKnownOptions({}, known, fail)
    expect(() => assertKnownOptions({ peper: 1 }, known, fail)).toThrow(
      new InvalidArgumentError('unknown option "peper" (did you mean "pepper"?)'),
    )
    expect(() => assertKnownOptions({ MEMORYCOST: 1 }, known, fail)).toThrow('(did you mean "memoryCost"?)')
    expect(() => assertKnownOptions({ timeCost: 1, salt: 1 }, known, fail)).toThrow(
      new InvalidArgumentError('unknown option "salt"'),
    )
    // The key is shortened and escaped: a message never carries control characters or a long value.
    expect(() => assertKnownOptions({ [`\u001b]0;x\u0007${'a'.repeat(100)}`]: 1 }, known, fail)).toThrow(
      /^unknown option "\\u001b\]0;x\\u0007a{34}"$/,
    )
    expect(() => assertKnownOptions(null, known, fail)).toThrow(TypeError)
    expect(() => assertKnownOptions('x', known, fail)).toThrow(TypeError)
  })
})

describe('CodedError', () => {
  it('takes code and category from the subclass statics', async () => {
    const { CodedError } = await import('../src/index.js')
    class DemoError extends CodedError<'ERR_DEMO'> {
      static override readonly code = 'ERR_DEMO'
      static override readonly category = 'integrity' as const
    }
    const e = new DemoError('bad', { cause: 1 })
    expect([e.code, e.category, e.message, e.name, e.cause]).toEqual([
      'ERR_DEMO',
      'integrity',
      'bad',
      'DemoError',
      1,
    ])
    expect(isSafeguardsError(e, 'ERR_DEMO')).toBe(true)
    expect(new InvalidArgumentError('x').code).toBe(InvalidArgumentError.code)
    expect(new EncodingError('x').category).toBe('invalid-input')
  })

  it("reads the category from the package base's table, unless the class sets its own", async () => {
    const { CodedError } = await import('../src/index.js')
    class PkgError<C extends 'ERR_A' | 'ERR_B' | 'ERR_C'> extends CodedError<C> {
      static override readonly categories: Readonly<Record<'ERR_A' | 'ERR_B', ErrorCategory>> = {
        ERR_A: 'io',
        ERR_B: 'limit',
      }
    }
    class AError extends PkgError<'ERR_A'> {
      static override readonly code = 'ERR_A'
    }
    class BError extends PkgError<'ERR_B'> {
      static override readonly code = 'ERR_B'
      static override readonly category: ErrorCategory = 'conflict'
    }
    class CError extends PkgError<'ERR_C'> {
      static override readonly code = 'ERR_C'
    }
    expect([AError.category, new AError('x').category]).toEqual(['io', 'io'])
    expect([BError.category, new BError('x').category]).toEqual(['conflict', 'conflict'])
    expect([CError.category, new CError('x').category]).toEqual(['invalid-argument', 'invalid-argument'])
    expect(new AError('x')).toBeInstanceOf(PkgError)
  })
})
