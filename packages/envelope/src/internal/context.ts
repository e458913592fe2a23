/**
 * Canonical encoding of an encryption context (after the AWS Encryption SDK's `structures.md`):
 * `u16 count ‖ (u16 keyLen ‖ key ‖ u16 valueLen ‖ value)*`, UTF-8, pairs sorted by key bytes,
 * no duplicates (a JavaScript object cannot have any). Keys are non-empty and may not start with
 * the reserved prefix `hge:`; strings with lone surrogates are refused (they have no UTF-8 form).
 * The whole encoding is at most 64 KiB.
 */
import { hasLoneSurrogate, utf8Decode, utf8Encode } from '@safeguards/core'
import { EnvelopeFormatError, EnvelopeLimitError, InvalidContextError } from '../errors.js'
import { Reader, Writer } from './codec.js'

/** The largest canonical context, in bytes. */
export const MAX_CONTEXT_BYTES = 65536

/** An encryption context: non-secret name/value pairs bound to the ciphertext as AAD. */
export type EncryptionContext = Readonly<Record<string, string>>

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d
  }
  return a.length - b.length
}

/** The general path of {@link encodeContext} (exported for the tests, which cross-check the two). */
export function encodeContextGeneral(context: EncryptionContext): Uint8Array {
  const pairs = contextPairs(context)
  const w = new Writer()
  if (pairs.length > 0xffff) throw new EnvelopeLimitError('context has too many pairs')
  w.u16(pairs.length)
  for (const [k, v] of pairs) {
    if (k.length > 0xffff || v.length > 0xffff) throw new EnvelopeLimitError('context entry too long')
    w.u16(k.length).bytes(k).u16(v.length).bytes(v)
    if (w.length > MAX_CONTEXT_BYTES)
      throw new EnvelopeLimitError(`context exceeds ${MAX_CONTEXT_BYTES} bytes`)
  }
  return w.finish()
}

/** Validates a context and returns its pairs encoded as UTF-8, sorted by key bytes. */
export function contextPairs(context: EncryptionContext): Array<[Uint8Array, Uint8Array, string, string]> {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new InvalidContextError('context must be an object of string values')
  }
  const pairs: Array<[Uint8Array, Uint8Array, string, string]> = []
  for (const key of Object.keys(context)) {
    const value = (context as Record<string, unknown>)[key]
    if (typeof value !== 'string') throw new InvalidContextError('context values must be strings')
    if (key.length === 0) throw new InvalidContextError('context keys must not be empty')
    if (key.startsWith('hge:'))
      throw new InvalidContextError('context keys must not use the reserved prefix hge:')
    if (hasLoneSurrogate(key) || hasLoneSurrogate(value)) {
      throw new InvalidContextError('context strings must be well-formed UTF-16')
    }
    pairs.push([utf8Encode(key), utf8Encode(value), key, value])
  }
  pairs.sort((a, b) => compareBytes(a[0], b[0]))
  return pairs
}

/**
 * The common case, every key and value ASCII: one pass, one allocation, no TextEncoder. For ASCII,
 * UTF-16 code-unit order (`Array.prototype.sort`) is UTF-8 byte order, and one char is one byte,
 * so the size is known from the string lengths; the characters are checked while they are copied.
 * Returns undefined (the general path then decides, with its typed errors) for anything else:
 * non-ASCII text, invalid entries, or a context at a size limit.
 */
function encodeAsciiContext(context: EncryptionContext): Uint8Array | undefined {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) return undefined
  const keys = Object.keys(context)
  if (keys.length > 0xffff) return undefined
  let size = 2
  for (const key of keys) {
    const value = (context as Record<string, unknown>)[key]
    if (typeof value !== 'string' || key.length === 0 || key.startsWith('hge:')) return undefined
    if (key.length > 0xffff || value.length > 0xffff) return undefined
    size += 4 + key.length + value.length
  }
  if (size > MAX_CONTEXT_BYTES) return undefined
  keys.sort()
  const out = new Uint8Array(size)
  out[0] = keys.length >>> 8
  out[1] = keys.length & 0xff
  let o = 2
  for (const key of keys) {
    o = putAscii(out, o, key)
    if (o < 0) return undefined
    o = putAscii(out, o, (context as Record<string, string>)[key] as string)
    if (o < 0) return undefined
  }
  return out
}

/** Writes `u16 length ‖ ascii bytes` at `o`; returns the next offset, or -1 at a non-ASCII char. */
function putAscii(out: Uint8Array, o: number, str: string): number {
  out[o++] = str.length >>> 8
  out[o++] = str.length & 0xff
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i)
    if (c > 0x7f) return -1
    out[o++] = c
  }
  return o
}

/** The canonical bytes of a context. */
export function encodeContext(context: EncryptionContext): Uint8Array {
  return encodeAsciiContext(context) ?? encodeContextGeneral(context)
}

/** Parses canonical context bytes (the stored part of a header), checking order and bounds. */
export function decodeContext(bytes: Uint8Array): Record<string, string> {
  const r = new Reader(bytes)
  const out: Record<string, string> = Object.create(null)
  try {
    const n = r.u16()
    let prev: Uint8Array | undefined
    for (let i = 0; i < n; i++) {
      const k = r.bytes(r.u16())
      const v = r.bytes(r.u16())
      if (prev !== undefined && compareBytes(prev, k) >= 0) {
        throw new EnvelopeFormatError('stored context is not in canonical order')
      }
      prev = k
      const key = utf8Decode(k)
      if (key.length === 0 || key.startsWith('hge:'))
        throw new EnvelopeFormatError('stored context key is invalid')
      out[key] = utf8Decode(v)
    }
  } catch (e) {
    if (e instanceof EnvelopeFormatError) throw e
    throw new EnvelopeFormatError('stored context is malformed')
  }
  if (r.remaining !== 0) throw new EnvelopeFormatError('stored context has trailing bytes')
  return { ...out }
}
