import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  base64ToBytes,
  base64urlToBytes,
  bytesToBase64,
  bytesToBase64url,
  bytesToHex,
  concatBytes,
  EncodingError,
  hasLoneSurrogate,
  hexToBytes,
  utf8Decode,
  utf8Encode,
} from '../src/index.js'

// Buffer is fine in tests: it is the independent oracle for the encoders.
describe('encodings agree with Node Buffer (property)', () => {
  it('hex, base64 and base64url round-trip and match Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const buf = Buffer.from(bytes)
        expect(bytesToHex(bytes)).toBe(buf.toString('hex'))
        expect(bytesToBase64(bytes)).toBe(buf.toString('base64'))
        expect(bytesToBase64url(bytes)).toBe(buf.toString('base64url'))
        expect(hexToBytes(bytesToHex(bytes))).toEqual(bytes)
        expect(hexToBytes(bytesToHex(bytes).toUpperCase())).toEqual(bytes)
        expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes)
        expect(base64urlToBytes(bytesToBase64url(bytes))).toEqual(bytes)
      }),
      { numRuns: 500 },
    )
  })

  it('UTF-8 matches Buffer for well-formed strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(utf8Encode(s)).toEqual(new Uint8Array(Buffer.from(s, 'utf8')))
        expect(utf8Decode(utf8Encode(s))).toBe(s)
      }),
    )
  })

  it('decoders never throw anything but EncodingError on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        for (const decode of [hexToBytes, base64ToBytes, base64urlToBytes]) {
          try {
            decode(s)
          } catch (e) {
            expect(e).toBeInstanceOf(EncodingError)
          }
        }
      }),
      { numRuns: 1000 },
    )
  })
})

describe('strict decoding', () => {
  it.each([
    ['hex odd length', () => hexToBytes('abc')],
    ['hex bad char', () => hexToBytes('zz')],
    ['hex whitespace', () => hexToBytes('ab cd ')],
    ['base64 missing padding', () => base64ToBytes('aGk')],
    ['base64 whitespace', () => base64ToBytes('aG k=')],
    ['base64 url alphabet', () => base64ToBytes('-_8=')],
    ['base64 non-canonical bits', () => base64ToBytes('aGl=')],
    ['base64 padding in the middle', () => base64ToBytes('a=k=')],
    ['base64 non-ascii', () => base64ToBytes('aGé=')],
    ['base64url padding', () => base64urlToBytes('aGk=')],
    ['base64url standard alphabet', () => base64urlToBytes('+/8')],
    ['base64url impossible length', () => base64urlToBytes('abcde')],
    ['base64url non-canonical bits', () => base64urlToBytes('-_9')],
    ['utf8 invalid sequence', () => utf8Decode(new Uint8Array([0xc3, 0x28]))],
    ['utf8 overlong', () => utf8Decode(new Uint8Array([0xc0, 0xaf]))],
    ['utf8 encoded surrogate', () => utf8Decode(new Uint8Array([0xed, 0xa0, 0x80]))],
  ])('%s → EncodingError', (_label, fn) => {
    expect(fn).toThrow(EncodingError)
    try {
      fn()
    } catch (e) {
      expect((e as EncodingError).code).toBe('ERR_ENCODING')
    }
  })

  it('keeps a BOM and decodes empty input', () => {
    expect(utf8Decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]))).toBe('\ufeffa')
    expect(base64ToBytes('')).toEqual(new Uint8Array())
    expect(base64urlToBytes('')).toEqual(new Uint8Array())
  })

  it('type-checks arguments', () => {
    expect(() => bytesToHex('ab' as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => hexToBytes(12 as unknown as string)).toThrow(TypeError)
    expect(() => base64ToBytes(null as unknown as string)).toThrow(TypeError)
    expect(() => utf8Encode(1 as unknown as string)).toThrow(TypeError)
    expect(() => concatBytes(new Uint8Array(1), [1] as unknown as Uint8Array)).toThrow(/parts\[1\]/)
  })
})

describe('concatBytes and hasLoneSurrogate', () => {
  it('concatenates', () => {
    expect(concatBytes()).toEqual(new Uint8Array())
    expect(concatBytes(new Uint8Array([1]), new Uint8Array(), new Uint8Array([2, 3]))).toEqual(
      new Uint8Array([1, 2, 3]),
    )
  })
  it('finds lone surrogates', () => {
    expect(hasLoneSurrogate('ok 😀')).toBe(false)
    expect(hasLoneSurrogate('\ud800')).toBe(true)
    expect(hasLoneSurrogate('\ud800x')).toBe(true)
    expect(hasLoneSurrogate('x\udc00')).toBe(true)
    expect(hasLoneSurrogate('\udc00\ud800')).toBe(true)
  })
})
