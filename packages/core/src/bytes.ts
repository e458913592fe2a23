/**
 * Byte helpers: UTF-8, hex (RFC 4648 §8), base64 and base64url (RFC 4648 §4 and §5), concat.
 *
 * Decoders are strict: they reject whitespace, wrong padding, non-alphabet characters and
 * non-canonical trailing bits, so that one byte string has exactly one accepted text form. This
 * matters wherever encoded values are compared or hashed (tokens, digests, signatures).
 * Library code uses `Uint8Array` only; nothing here returns a `Buffer`.
 *
 * @module
 */
import { assertBytes } from './assert.js'
import { EncodingError } from './errors.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Encodes a string as UTF-8. Lone surrogates become U+FFFD, as `TextEncoder` specifies; use
 * {@link hasLoneSurrogate} first where that must be an error.
 *
 * @throws {TypeError} when `text` is not a string.
 * @example
 * ```ts
 * utf8Encode('héllo') // Uint8Array(6)
 * ```
 */
export function utf8Encode(text: string): Uint8Array {
  if (typeof text !== 'string') throw new TypeError('"text" expected a string')
  return encoder.encode(text)
}

/**
 * Decodes UTF-8 strictly: invalid sequences throw instead of becoming U+FFFD, and a leading BOM
 * is kept as U+FEFF.
 *
 * @throws {TypeError} when `bytes` is not a Uint8Array.
 * @throws {EncodingError} (code `ERR_ENCODING`) on malformed UTF-8.
 * @example
 * ```ts
 * utf8Decode(new Uint8Array([0x68, 0x69])) // 'hi'
 * ```
 */
export function utf8Decode(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes')
  try {
    return decoder.decode(bytes)
  } catch {
    throw new EncodingError('malformed UTF-8')
  }
}

/**
 * True when `text` contains an unpaired UTF-16 surrogate (which has no UTF-8 form).
 *
 * @example
 * ```ts
 * hasLoneSurrogate('\ud800') // true
 * ```
 */
export function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++
        continue
      }
      return true
    }
    if (c >= 0xdc00 && c <= 0xdfff) return true
  }
  return false
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/**
 * Lower-case hex encoding.
 *
 * @throws {TypeError} when `bytes` is not a Uint8Array.
 * @example
 * ```ts
 * bytesToHex(new Uint8Array([0xca, 0xfe])) // 'cafe'
 * ```
 */
export function bytesToHex(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes')
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i] as number]
  return out
}

function hexNibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48 // 0-9
  if (code >= 97 && code <= 102) return code - 87 // a-f
  if (code >= 65 && code <= 70) return code - 55 // A-F
  return -1
}

/**
 * Decodes hex (either case). Rejects odd lengths and non-hex characters.
 *
 * @throws {TypeError} when `hex` is not a string.
 * @throws {EncodingError} (code `ERR_ENCODING`) on malformed hex.
 * @example
 * ```ts
 * hexToBytes('cafe') // Uint8Array [0xca, 0xfe]
 * ```
 */
export function hexToBytes(hex: string): Uint8Array {
  if (typeof hex !== 'string') throw new TypeError('"hex" expected a string')
  if (hex.length % 2 !== 0) throw new EncodingError('hex: odd length')
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(hex.charCodeAt(2 * i))
    const lo = hexNibble(hex.charCodeAt(2 * i + 1))
    if (hi < 0 || lo < 0) throw new EncodingError(`hex: invalid character near offset ${2 * i}`)
    out[i] = (hi << 4) | lo
  }
  return out
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

function reverse(alphabet: string): Int16Array {
  const table = new Int16Array(128).fill(-1)
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i
  return table
}
const B64_REV = reverse(B64)
const B64URL_REV = reverse(B64URL)

function encode64(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = ''
  const n = bytes.length
  let i = 0
  for (; i + 2 < n; i += 3) {
    const v = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number)
    out += alphabet[v >>> 18]! + alphabet[(v >>> 12) & 63]! + alphabet[(v >>> 6) & 63]! + alphabet[v & 63]!
  }
  const rest = n - i
  if (rest === 1) {
    const v = (bytes[i] as number) << 16
    out += alphabet[v >>> 18]! + alphabet[(v >>> 12) & 63]! + (pad ? '==' : '')
  } else if (rest === 2) {
    const v = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8)
    out += alphabet[v >>> 18]! + alphabet[(v >>> 12) & 63]! + alphabet[(v >>> 6) & 63]! + (pad ? '=' : '')
  }
  return out
}

function decode64(text: string, table: Int16Array, padded: boolean, label: string): Uint8Array {
  if (typeof text !== 'string') throw new TypeError(`"${label}" expected a string`)
  let len = text.length
  if (padded) {
    if (len % 4 !== 0) throw new EncodingError(`${label}: length is not a multiple of 4`)
    if (len > 0 && text.charCodeAt(len - 1) === 61) len--
    if (len > 0 && text.charCodeAt(len - 1) === 61) len--
  } else if (len % 4 === 1) {
    throw new EncodingError(`${label}: impossible length`)
  }
  const outLen = Math.floor((len * 3) / 4)
  const out = new Uint8Array(outLen)
  let acc = 0
  let bits = 0
  let o = 0
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i)
    const v = c < 128 ? (table[c] as number) : -1
    if (v < 0) throw new EncodingError(`${label}: invalid character at offset ${i}`)
    acc = ((acc << 6) | v) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >>> bits) & 0xff
    }
  }
  // Non-canonical encodings leave set bits after the last full byte.
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0)
    throw new EncodingError(`${label}: non-canonical trailing bits`)
  return out
}

/**
 * Standard base64 with padding (RFC 4648 §4).
 *
 * @throws {TypeError} when `bytes` is not a Uint8Array.
 * @example
 * ```ts
 * bytesToBase64(utf8Encode('hi')) // 'aGk='
 * ```
 */
export function bytesToBase64(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes')
  return encode64(bytes, B64, true)
}

/**
 * Decodes padded standard base64 strictly (no whitespace, exact padding, canonical trailing bits).
 *
 * @throws {TypeError} when `text` is not a string.
 * @throws {EncodingError} (code `ERR_ENCODING`) on malformed input.
 * @example
 * ```ts
 * base64ToBytes('aGk=') // Uint8Array [0x68, 0x69]
 * ```
 */
export function base64ToBytes(text: string): Uint8Array {
  return decode64(text, B64_REV, true, 'base64')
}

/**
 * base64url without padding (RFC 4648 §5, as JOSE uses it).
 *
 * @throws {TypeError} when `bytes` is not a Uint8Array.
 * @example
 * ```ts
 * bytesToBase64url(new Uint8Array([0xfb, 0xff])) // '-_8'
 * ```
 */
export function bytesToBase64url(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes')
  return encode64(bytes, B64URL, false)
}

/**
 * Decodes unpadded base64url strictly (padding, `+`, `/` and whitespace are rejected).
 *
 * @throws {TypeError} when `text` is not a string.
 * @throws {EncodingError} (code `ERR_ENCODING`) on malformed input.
 * @example
 * ```ts
 * base64urlToBytes('-_8') // Uint8Array [0xfb, 0xff]
 * ```
 */
export function base64urlToBytes(text: string): Uint8Array {
  return decode64(text, B64URL_REV, false, 'base64url')
}

/**
 * Concatenates byte arrays into a new array.
 *
 * @throws {TypeError} when any part is not a Uint8Array.
 * @example
 * ```ts
 * concatBytes(new Uint8Array([1]), new Uint8Array([2, 3])) // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0
  for (let i = 0; i < parts.length; i++) {
    assertBytes(parts[i], `parts[${i}]`)
    total += (parts[i] as Uint8Array).length
  }
  const out = new Uint8Array(total)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}
