import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CanonicalJsonError,
  canonicalBytes,
  canonicalize,
  JsonParseError,
  parseJson,
  serializeJcsNumber,
  utf8Decode,
} from '../src/index.js'

/** RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical serialisation. */
const APPENDIX_B: [string, string][] = [
  ['0000000000000000', '0'],
  ['8000000000000000', '0'],
  ['0000000000000001', '5e-324'],
  ['8000000000000001', '-5e-324'],
  ['7fefffffffffffff', '1.7976931348623157e+308'],
  ['ffefffffffffffff', '-1.7976931348623157e+308'],
  ['4340000000000000', '9007199254740992'],
  ['c340000000000000', '-9007199254740992'],
  ['4430000000000000', '295147905179352830000'],
  ['44b52d02c7e14af5', '9.999999999999997e+22'],
  ['44b52d02c7e14af6', '1e+23'],
  ['44b52d02c7e14af7', '1.0000000000000001e+23'],
  ['444b1ae4d6e2ef4e', '999999999999999700000'],
  ['444b1ae4d6e2ef4f', '999999999999999900000'],
  ['444b1ae4d6e2ef50', '1e+21'],
  ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
  ['3eb0c6f7a0b5ed8d', '0.000001'],
  ['41b3de4355555553', '333333333.3333332'],
  ['41b3de4355555554', '333333333.33333325'],
  ['41b3de4355555555', '333333333.3333333'],
  ['41b3de4355555556', '333333333.3333334'],
  ['41b3de4355555557', '333333333.33333343'],
  ['becbf647612f3696', '-0.0000033333333333333333'],
  ['43143ff3c1cb0959', '1424953923781206.2'],
]
const APPENDIX_B_ERRORS = ['7fffffffffffffff', '7ff0000000000000'] // NaN, Infinity

function sparse(): unknown[] {
  const a: unknown[] = [1]
  a[2] = 3
  return a
}

function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8))
  view.setBigUint64(0, BigInt(`0x${hex}`))
  return view.getFloat64(0)
}

describe('RFC 8785 number serialisation (Appendix B)', () => {
  it.each(APPENDIX_B)('%s → %s', (bits, expected) => {
    expect(serializeJcsNumber(fromBits(bits))).toBe(expected)
  })

  it.each(APPENDIX_B_ERRORS)('%s (NaN/Infinity) is an error', (bits) => {
    expect(() => serializeJcsNumber(fromBits(bits))).toThrow(CanonicalJsonError)
    expect(() => canonicalize(fromBits(bits))).toThrow(CanonicalJsonError)
  })

  it('canonicalize agrees with Appendix B inside I-JSON and refuses integers beyond 2^53-1', () => {
    for (const [bits, expected] of APPENDIX_B) {
      const n = fromBits(bits)
      if (Number.isInteger(n) && Math.abs(n) > Number.MAX_SAFE_INTEGER) {
        expect(() => canonicalize(n)).toThrow(/integer beyond 2\^53-1/)
      } else {
        expect(canonicalize(n)).toBe(expected)
      }
    }
    expect(canonicalize(Number.MAX_SAFE_INTEGER)).toBe('9007199254740991')
    expect(canonicalize(-Number.MAX_SAFE_INTEGER)).toBe('-9007199254740991')
  })

  it('rejects non-numbers', () => {
    expect(() => serializeJcsNumber('1' as unknown as number)).toThrow(TypeError)
  })
})

describe('canonicalize', () => {
  it('sorts members by UTF-16 code units (RFC 8785 §3.2.3)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    }
    const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'] as const
    const expected = `{${order.map((k) => `${JSON.stringify(k)}:${JSON.stringify(input[k])}`).join(',')}}`
    expect(canonicalize(input)).toBe(expected)
    expect(expected.startsWith('{"\\r":"Carriage Return","1":"One"')).toBe(true)
  })

  it('reproduces the RFC 8785 §3.2.4 sample (without 1E30, which is outside I-JSON)', () => {
    const text =
      '{"numbers": [333333333.33333329, 4.50, 2e-3, 0.000000000000000000000000001],' +
      ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}'
    expect(canonicalize(parseJson(text))).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    )
    expect(() => canonicalize(JSON.parse('[1E30]'))).toThrow(CanonicalJsonError)
  })

  it('escapes only what JCS requires', () => {
    expect(canonicalize('\u0000\u001f\b\t\n\f\r"\\/\u007f\u2028é')).toBe(
      '"\\u0000\\u001f\\b\\t\\n\\f\\r\\"\\\\/\u007f\u2028é"',
    )
  })

  it('prints -0 as 0, and nested structures without whitespace', () => {
    expect(canonicalize({ z: [-0, { y: true, x: null }], a: 'x' })).toBe(
      '{"a":"x","z":[0,{"x":null,"y":true}]}',
    )
  })

  it.each([
    ['NaN', { a: Number.NaN }, '/a'],
    ['Infinity', [1, Number.POSITIVE_INFINITY], '/1'],
    ['-Infinity', Number.NEGATIVE_INFINITY, ''],
    ['big integer', { n: 2 ** 53 }, '/n'],
    ['lone high surrogate', { s: 'a\ud800' }, '/s'],
    ['lone low surrogate', ['\udc00b'], '/0'],
    ['lone surrogate key', { 'k\ud800': 1 }, '/k\ud800'],
    ['undefined', { u: undefined }, '/u'],
    ['function', { f: () => 1 }, '/f'],
    ['bigint', { b: 1n }, '/b'],
    ['symbol', { s: Symbol('x') }, '/s'],
    ['Date', { d: new Date(0) }, '/d'],
    ['Map', new Map(), ''],
    ['class instance', { c: new (class X {})() }, '/c'],
    ['sparse array', sparse(), '/1'],
    ['symbol key', { [Symbol('k')]: 1 }, ''],
    ['pointer escaping', { 'a/b~c': Number.NaN }, '/a~1b~0c'],
  ])('refuses %s with a typed error and a JSON Pointer', (_label, value, path) => {
    expect(() => canonicalize(value)).toThrow(CanonicalJsonError)
    expect(() => canonicalize(value)).toThrow(expect.objectContaining({ code: 'ERR_CANONICAL_JSON', path }))
  })

  it('refuses cycles but allows the same object twice in different branches', () => {
    const shared = { a: 1 }
    expect(canonicalize({ x: shared, y: shared })).toBe('{"x":{"a":1},"y":{"a":1}}')
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => canonicalize(cyclic)).toThrow(/cycle at \/self/)
  })

  it('limits depth', () => {
    let deep: unknown = 1
    for (let i = 0; i < 300; i++) deep = [deep]
    expect(() => canonicalize(deep)).toThrow(/nesting deeper than 256/)
    expect(() => canonicalize(deep, { maxDepth: 400 })).not.toThrow()
  })

  it('accepts null-prototype objects and encodes bytes as UTF-8', () => {
    const o = Object.create(null) as Record<string, unknown>
    o.é = '€'
    expect(utf8Decode(canonicalBytes(o))).toBe('{"é":"€"}')
    expect(canonicalBytes(o)).toEqual(new Uint8Array([123, 34, 195, 169, 34, 58, 34, 226, 130, 172, 34, 125]))
  })
})

const ijson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .filter((d) => !Number.isInteger(d) || Math.abs(d) <= 2 ** 53 - 1),
    fc.string({ unit: 'grapheme' }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'grapheme' }), tie('value'), { maxKeys: 5 }),
  ),
})).value

describe('parseJson', () => {
  it('round-trips canonical output and agrees with JSON.parse on I-JSON (property)', () => {
    fc.assert(
      fc.property(ijson, (v) => {
        const text = canonicalize(v)
        const parsed = parseJson(text)
        expect(parsed).toEqual(JSON.parse(text))
        expect(canonicalize(parsed)).toBe(text)
      }),
      { numRuns: 300 },
    )
  })

  it('agrees with JSON.parse on pretty-printed input', () => {
    fc.assert(
      fc.property(ijson, (v) => {
        const text = JSON.stringify(v, null, '\t')
        expect(parseJson(text)).toEqual(JSON.parse(text))
      }),
      { numRuns: 200 },
    )
  })

  it.each([
    ['duplicate key', '{"a":1,"a":2}', 7],
    ['duplicate key after escapes', '{"a":1,"\\u0061":2}', 7],
    ['lone surrogate escape', '["\\ud800"]', 1],
    ['lone low surrogate escape', '"\\udc00"', 0],
    ['integer beyond 2^53-1', '9007199254740992', 0],
    ['negative integer beyond', '[-9007199254740993]', 1],
    ['exponent making an integer', '1e300', 0],
    ['overflow', '1e400', 0],
    ['NaN literal', 'NaN', 0],
    ['Infinity literal', '[Infinity]', 1],
    ['leading zero', '01', 1],
    ['bare minus', '-', 1],
    ['dot without digits', '1.', 2],
    ['exponent without digits', '1e+', 3],
    ['trailing comma array', '[1,]', 3],
    ['trailing comma object', '{"a":1,}', 7],
    ['single quotes', "{'a':1}", 1],
    ['unquoted key', '{a:1}', 1],
    ['missing colon', '{"a" 1}', 5],
    ['control char in string', '"a\u0001"', 2],
    ['bad escape', '"\\x41"', 1],
    ['short unicode escape', '"\\u12"', 1],
    ['unterminated string', '"abc', 0],
    ['trailing data', '{} {}', 3],
    ['empty', '', 0],
    ['whitespace only', ' \n', 2],
    ['non-JSON whitespace', '\u00a0{}', 0],
    ['truncated object', '{"a":', 5],
    ['truncated array', '[1', 2],
    ['bad literal', 'tru', 0],
  ])('refuses %s', (_label, text, offset) => {
    expect(() => parseJson(text)).toThrow(JsonParseError)
    expect(() => parseJson(text)).toThrow(expect.objectContaining({ code: 'ERR_JSON_PARSE', offset }))
  })

  it('refuses a raw lone surrogate in the text', () => {
    expect(() => parseJson('"\ud800"')).toThrow(JsonParseError)
  })

  it('keeps __proto__ as plain data (no prototype pollution)', () => {
    const v = parseJson('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}') as Record<
      string,
      unknown
    >
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.keys(v)).toEqual(['__proto__', 'constructor'])
    expect(canonicalize(v)).toBe('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}')
    expect(() => parseJson('{"__proto__":1,"__proto__":2}')).toThrow(/duplicate/)
  })

  it('bounds depth and length', () => {
    expect(() => parseJson(`${'['.repeat(300)}${']'.repeat(300)}`)).toThrow(/nesting deeper than 256/)
    expect(parseJson(`${'['.repeat(10)}${']'.repeat(10)}`, { maxDepth: 10 })).toBeDefined()
    expect(() => parseJson(`${'{"a":'.repeat(11)}1${'}'.repeat(11)}`, { maxDepth: 10 })).toThrow(
      JsonParseError,
    )
    expect(() => parseJson('[1,2,3]', { maxLength: 3 })).toThrow(/longer than 3/)
    expect(() => parseJson(1 as unknown as string)).toThrow(TypeError)
  })

  it('parses every escape and the literals', () => {
    expect(
      parseJson('["\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00", true, false, null, -0.5e-2, 0]'),
    ).toEqual(['"\\/\b\f\n\r\té😀', true, false, null, -0.005, 0])
    expect(Object.is(parseJson('-0'), -0)).toBe(true)
  })
})
