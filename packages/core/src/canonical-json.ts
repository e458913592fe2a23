/**
 * RFC 8785 JSON Canonicalization Scheme (JCS), restricted to I-JSON (RFC 7493), and a strict
 * JSON parser that enforces the same profile.
 *
 * - `canonicalize(value)` sorts object members by UTF-16 code units, prints numbers with the
 *   ECMAScript algorithm (RFC 8785 §3.2.2.3) and strings with the minimal escapes (§3.2.2.2).
 * - Values outside I-JSON have no canonical form and throw {@link CanonicalJsonError}: NaN,
 *   ±Infinity, integers beyond ±(2^53-1), lone surrogates, `undefined`, functions, symbols,
 *   BigInts, cycles, and objects that are not plain objects or arrays (`Date`, `Map`, class
 *   instances: convert them first, `toJSON` is deliberately not called).
 * - `parseJson(text)` accepts RFC 8259 JSON and rejects duplicate member names, lone surrogates,
 *   integers beyond ±(2^53-1), numbers that overflow, excessive nesting and oversized input, with a
 *   {@link JsonParseError} that gives the offset. `__proto__` becomes an ordinary own property, so
 *   parsed input cannot pollute prototypes.
 *
 * Hashes and signatures over JSON (audit records, attestations, evidence reports) are computed over
 * `canonicalize` output, so any two implementations agree on the bytes.
 *
 * @module
 */
import { utf8Encode } from './bytes.js'
import { CanonicalJsonError, JsonParseError } from './errors.js'

/** A JSON value in the I-JSON profile. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** Options for {@link canonicalize}. */
export interface CanonicalizeOptions {
  /** Maximum nesting depth of arrays and objects (default 256). */
  maxDepth?: number
}

const DEFAULT_MAX_DEPTH = 256

/**
 * Serialises a finite number exactly as RFC 8785 §3.2.2.3 (the ECMAScript `Number::toString`
 * algorithm) does, with `-0` printed as `0`. Unlike {@link canonicalize} it accepts integers beyond
 * 2^53-1, so it can be checked against the RFC's Appendix B table on its own.
 *
 * @throws {CanonicalJsonError} (code `ERR_CANONICAL_JSON`) for NaN and ±Infinity.
 * @example
 * ```ts
 * serializeJcsNumber(1e21) // '1e+21'
 * serializeJcsNumber(-0)   // '0'
 * ```
 */
export function serializeJcsNumber(value: number): string {
  if (typeof value !== 'number') throw new TypeError('"value" expected a number')
  if (!Number.isFinite(value)) throw new CanonicalJsonError('NaN and Infinity are not JSON', '')
  // ECMAScript Number::toString is the algorithm RFC 8785 adopts; String(-0) is already "0".
  return String(value)
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

function hasLoneSurrogateFast(text: string): boolean {
  // isWellFormed is ES2024 (Node 20+); fall back to a scan when absent.
  const s = text as string & { isWellFormed?: () => boolean }
  if (typeof s.isWellFormed === 'function') return !s.isWellFormed()
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)
}

function serialize(value: unknown, path: string, depth: number, maxDepth: number, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      // RFC 8785 §3.1 (I-JSON, RFC 7493 §2.1): no lone surrogates.
      if (hasLoneSurrogateFast(value)) throw new CanonicalJsonError('lone surrogate in string', path)
      // RFC 8785 §3.2.2.2: JSON.stringify emits exactly the minimal escapes the RFC prescribes.
      return JSON.stringify(value)
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError('NaN and Infinity are not JSON', path)
      // RFC 8785 §3.1 (I-JSON, RFC 7493 §2.2): integers within ±(2^53-1).
      if (Number.isInteger(value) && Math.abs(value) > Number.MAX_SAFE_INTEGER) {
        throw new CanonicalJsonError('integer beyond 2^53-1 is not I-JSON', path)
      }
      return String(value) // RFC 8785 §3.2.2.3: ECMAScript Number::toString
    case 'boolean':
      return value ? 'true' : 'false' // RFC 8785 §3.2.2.1: literals as is
    case 'object': {
      if (value === null) return 'null' // RFC 8785 §3.2.2.1
      if (depth >= maxDepth) throw new CanonicalJsonError(`nesting deeper than ${maxDepth}`, path)
      if (seen.has(value)) throw new CanonicalJsonError('cycle', path)
      seen.add(value)
      let out: string
      if (Array.isArray(value)) {
        const parts: string[] = []
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) throw new CanonicalJsonError('sparse array', `${path}/${i}`)
          parts.push(serialize(value[i], `${path}/${i}`, depth + 1, maxDepth, seen))
        }
        out = `[${parts.join(',')}]` // RFC 8785 §3.2.1: no whitespace between tokens
      } else {
        if (!isPlainObject(value)) throw new CanonicalJsonError('not a plain object or array', path)
        if (Object.getOwnPropertySymbols(value).length > 0) {
          throw new CanonicalJsonError('symbol keys are not JSON', path)
        }
        const record = value as Record<string, unknown>
        const keys = Object.keys(record).sort() // default sort compares UTF-16 code units (RFC 8785 §3.2.3)
        const parts: string[] = []
        for (const key of keys) {
          const childPath = `${path}/${escapePointer(key)}`
          if (hasLoneSurrogateFast(key))
            throw new CanonicalJsonError('lone surrogate in member name', childPath)
          // RFC 8785 §3.2.2.2 for the member name, §3.2.1 no whitespace around ':' and ','.
          parts.push(`${JSON.stringify(key)}:${serialize(record[key], childPath, depth + 1, maxDepth, seen)}`)
        }
        out = `{${parts.join(',')}}`
      }
      seen.delete(value)
      return out
    }
    case 'undefined':
      throw new CanonicalJsonError('undefined is not JSON', path)
    case 'bigint':
      throw new CanonicalJsonError('BigInt is not I-JSON (encode it as a string)', path)
    default:
      throw new CanonicalJsonError(`${typeof value} is not JSON`, path)
  }
}

/**
 * Returns the RFC 8785 canonical JSON text of `value`.
 *
 * HIPAA: supports 164.312(c)(1) integrity and 164.312(b) audit controls (a record has exactly one
 * byte form, so its hash and signature can be recomputed by anyone).
 *
 * @throws {CanonicalJsonError} (code `ERR_CANONICAL_JSON`, with a JSON Pointer `path`) when the
 *   value is outside I-JSON.
 * @example
 * ```ts
 * canonicalize({ b: [1, 'x'], a: 1e-7 }) // '{"a":1e-7,"b":[1,"x"]}'
 * ```
 */
export function canonicalize(value: unknown, options?: CanonicalizeOptions): string {
  return serialize(value, '', 0, options?.maxDepth ?? DEFAULT_MAX_DEPTH, new Set())
}

/**
 * {@link canonicalize}, encoded as UTF-8: the exact bytes to hash or sign.
 *
 * @throws {CanonicalJsonError} (code `ERR_CANONICAL_JSON`) as {@link canonicalize}.
 * @example
 * ```ts
 * const digest = sha256(canonicalBytes(record))
 * ```
 */
export function canonicalBytes(value: unknown, options?: CanonicalizeOptions): Uint8Array {
  return utf8Encode(canonicalize(value, options)) // RFC 8785 §3.2.4: UTF-8 generation
}

/** Options for {@link parseJson}. */
export interface ParseJsonOptions {
  /** Maximum nesting depth (default 256). */
  maxDepth?: number
  /** Maximum input length in UTF-16 code units (default 16 MiB worth). */
  maxLength?: number
}

const DEFAULT_MAX_LENGTH = 16 * 1024 * 1024

class Parser {
  private i = 0
  private readonly s: string
  private readonly maxDepth: number
  constructor(s: string, maxDepth: number) {
    this.s = s
    this.maxDepth = maxDepth
  }

  fail(message: string, at: number = this.i): never {
    throw new JsonParseError(message, at)
  }

  ws(): void {
    const s = this.s
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i)
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++
      else break
    }
  }

  document(): unknown {
    this.ws()
    const v = this.value(0)
    this.ws()
    if (this.i !== this.s.length) this.fail('unexpected data after the JSON value')
    return v
  }

  value(depth: number): unknown {
    const c = this.s.charCodeAt(this.i)
    if (c === 0x7b) return this.object(depth)
    if (c === 0x5b) return this.array(depth)
    if (c === 0x22) return this.string()
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number()
    if (this.s.startsWith('true', this.i)) {
      this.i += 4
      return true
    }
    if (this.s.startsWith('false', this.i)) {
      this.i += 5
      return false
    }
    if (this.s.startsWith('null', this.i)) {
      this.i += 4
      return null
    }
    return this.fail(this.i >= this.s.length ? 'unexpected end of input' : 'unexpected character')
  }

  object(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    if (this.opens(depth, 0x7d)) return out
    for (;;) {
      this.ws()
      if (this.s.charCodeAt(this.i) !== 0x22) this.fail('expected a member name')
      const keyAt = this.i
      const key = this.string()
      // RFC 8785 §3.1 (I-JSON, RFC 7493 §2.3): member names must be unique.
      if (Object.hasOwn(out, key)) this.fail('duplicate member name', keyAt)
      this.ws()
      if (this.s.charCodeAt(this.i) !== 0x3a) this.fail("expected ':'")
      this.i++
      this.ws()
      const v = this.value(depth + 1)
      if (key === '__proto__') {
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true })
      } else {
        out[key] = v
      }
      if (!this.more(0x7d)) return out
    }
  }

  array(depth: number): unknown[] {
    const out: unknown[] = []
    if (this.opens(depth, 0x5d)) return out
    for (;;) {
      this.ws()
      out.push(this.value(depth + 1))
      if (!this.more(0x5d)) return out
    }
  }

  /** Enters an object or an array at `depth`: true when it is empty (its `close` consumed). */
  opens(depth: number, close: 0x5d | 0x7d): boolean {
    if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`)
    this.i++ // '{' or '['
    this.ws()
    if (this.s.charCodeAt(this.i) !== close) return false
    this.i++
    return true
  }

  /** After a member or an element: consumes ',' (true: another follows) or `close` (false). */
  more(close: 0x5d | 0x7d): boolean {
    this.ws()
    const c = this.s.charCodeAt(this.i)
    if (c !== 0x2c && c !== close) this.fail(`expected ',' or '${String.fromCharCode(close)}'`)
    this.i++
    return c === 0x2c
  }

  string(): string {
    const s = this.s
    const start = ++this.i // after the opening quote
    let out = ''
    let chunk = start
    for (;;) {
      if (this.i >= s.length) this.fail('unterminated string', start - 1)
      const c = s.charCodeAt(this.i)
      if (c === 0x22) {
        out += s.slice(chunk, this.i)
        this.i++
        break
      }
      if (c < 0x20) this.fail('control character in string')
      if (c === 0x5c) {
        out += s.slice(chunk, this.i)
        const e = s.charCodeAt(this.i + 1)
        this.i += 2
        switch (e) {
          case 0x22:
            out += '"'
            break
          case 0x5c:
            out += '\\'
            break
          case 0x2f:
            out += '/'
            break
          case 0x62:
            out += '\b'
            break
          case 0x66:
            out += '\f'
            break
          case 0x6e:
            out += '\n'
            break
          case 0x72:
            out += '\r'
            break
          case 0x74:
            out += '\t'
            break
          case 0x75: {
            const hex = s.slice(this.i, this.i + 4)
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape', this.i - 2)
            out += String.fromCharCode(Number.parseInt(hex, 16))
            this.i += 4
            break
          }
          default:
            this.fail('bad escape', this.i - 2)
        }
        chunk = this.i
        continue
      }
      this.i++
    }
    if (hasLoneSurrogateFast(out)) this.fail('lone surrogate in string', start - 1)
    return out
  }

  number(): number {
    const s = this.s
    const start = this.i
    if (s.charCodeAt(this.i) === 0x2d) this.i++
    const first = s.charCodeAt(this.i)
    if (first === 0x30) {
      this.i++
    } else if (first >= 0x31 && first <= 0x39) {
      while (this.digit()) this.i++
    } else {
      this.fail('bad number')
    }
    let integral = true
    if (s.charCodeAt(this.i) === 0x2e) {
      integral = false
      this.i++
      if (!this.digit()) this.fail('bad number')
      while (this.digit()) this.i++
    }
    const e = s.charCodeAt(this.i)
    if (e === 0x65 || e === 0x45) {
      integral = false
      this.i++
      const sign = s.charCodeAt(this.i)
      if (sign === 0x2b || sign === 0x2d) this.i++
      if (!this.digit()) this.fail('bad number')
      while (this.digit()) this.i++
    }
    const n = Number(s.slice(start, this.i))
    if (!Number.isFinite(n)) this.fail('number out of range', start)
    if (Number.isInteger(n) && Math.abs(n) > Number.MAX_SAFE_INTEGER) {
      this.fail(integral ? 'integer beyond 2^53-1' : 'number beyond 2^53-1 with no fractional part', start)
    }
    return n
  }

  digit(): boolean {
    const c = this.s.charCodeAt(this.i)
    return c >= 0x30 && c <= 0x39
  }
}

/**
 * Parses JSON text strictly in the I-JSON profile (RFC 7493).
 *
 * HIPAA: supports 164.312(c)(1) integrity (ambiguous input, such as duplicate keys that two parsers
 * read differently, is refused at the boundary).
 *
 * @throws {TypeError} when `text` is not a string.
 * @throws {JsonParseError} (code `ERR_JSON_PARSE`, with `offset`) on malformed or non-I-JSON input.
 * @example
 * ```ts
 * parseJson('{"a":1}')       // { a: 1 }
 * parseJson('{"a":1,"a":2}') // throws JsonParseError: duplicate member name at offset 7
 * ```
 */
export function parseJson(text: string, options?: ParseJsonOptions): unknown {
  if (typeof text !== 'string') throw new TypeError('"text" expected a string')
  const maxLength = options?.maxLength ?? DEFAULT_MAX_LENGTH
  if (text.length > maxLength) throw new JsonParseError(`input longer than ${maxLength}`, maxLength)
  return new Parser(text, options?.maxDepth ?? DEFAULT_MAX_DEPTH).document()
}
