/**
 * X25519 key encodings for recipients: raw 32-byte keys to and from PEM (RFC 7468 with the
 * RFC 8410 SPKI and PKCS#8 structures, as OpenSSL writes them: `openssl genpkey -algorithm
 * X25519`, `openssl pkey -pubout`) and JWK (RFC 8037 `OKP` / `X25519`); the public key of a
 * private key (Web Crypto); and the recipient id, the first 16 bytes of SHA-256 over the raw
 * public key, in lowercase hex.
 */
import {
  base64ToBytes,
  base64urlToBytes,
  bytesToBase64,
  bytesToBase64url,
  bytesToHex,
  concatBytes,
  sha256,
} from '@safeguards/core'
import { RecipientKeyError } from '../errors.js'
import { X25519_KEY_LENGTH } from './hpke.js'
import { subtle } from './native.js'

/** DER prefix of an X25519 SubjectPublicKeyInfo (RFC 8410 §4): SEQUENCE { id-X25519, BIT STRING }. */
const SPKI_PREFIX = Uint8Array.of(0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00)
/** DER prefix of an X25519 PKCS#8 v1 PrivateKeyInfo (RFC 8410 §7), the CurvePrivateKey inside. */
const PKCS8_PREFIX = Uint8Array.of(
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
)
const PUBLIC_LABEL = 'PUBLIC KEY'
const PRIVATE_LABEL = 'PRIVATE KEY'
/** Longest key text accepted (characters). */
const MAX_KEY_TEXT = 8192
/** Bytes of the recipient id (128 bits: ids are public, collisions only cost a failed try). */
export const RECIPIENT_ID_LENGTH = 16

/** A JWK for an X25519 key (RFC 8037 §2): `d` only on private keys. */
export interface X25519Jwk {
  kty: 'OKP'
  crv: 'X25519'
  x: string
  d?: string
  kid?: string
}

/** The recipient id of a raw public key: hex of SHA-256(pk)[0..16). */
export function recipientIdOf(publicKey: Uint8Array): string {
  return bytesToHex(sha256(publicKey).subarray(0, RECIPIENT_ID_LENGTH))
}

function pem(label: string, der: Uint8Array): string {
  const b64 = bytesToBase64(der)
  const lines: string[] = []
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64))
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/** The DER body of a PEM block with `label`, or undefined when the text is not one. */
function unpem(text: string, label: string): Uint8Array | undefined {
  const m = /^\s*-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END \1-----\s*$/.exec(text)
  if (m === null || m[1] !== label) return undefined
  try {
    return base64ToBytes((m[2] ?? '').replace(/[\r\n]/g, ''))
  } catch {
    return undefined
  }
}

function stripPrefix(der: Uint8Array, prefix: Uint8Array): Uint8Array | undefined {
  if (der.length !== prefix.length + X25519_KEY_LENGTH) return undefined
  for (let i = 0; i < prefix.length; i++) if (der[i] !== prefix[i]) return undefined
  return der.slice(prefix.length)
}

/** PEM SPKI (`PUBLIC KEY`) of a raw public key. */
export function publicKeyToPem(raw: Uint8Array): string {
  return pem(PUBLIC_LABEL, concatBytes(SPKI_PREFIX, raw))
}

/** PEM PKCS#8 (`PRIVATE KEY`) of a raw private key. */
export function privateKeyToPem(raw: Uint8Array): string {
  return pem(PRIVATE_LABEL, concatBytes(PKCS8_PREFIX, raw))
}

/** The kind of key a text holds, and its raw bytes. */
export type ParsedKey =
  | { kind: 'public'; raw: Uint8Array }
  | { kind: 'private'; raw: Uint8Array; claimedPublic?: Uint8Array }

function fromJwk(jwk: unknown): ParsedKey {
  if (typeof jwk !== 'object' || jwk === null) throw new RecipientKeyError('a JWK must be an object')
  const k = jwk as Record<string, unknown>
  if (k.kty !== 'OKP' || k.crv !== 'X25519') {
    throw new RecipientKeyError('a recipient JWK must have kty "OKP" and crv "X25519"')
  }
  const decode = (v: unknown, name: string): Uint8Array => {
    let raw: Uint8Array | undefined
    try {
      raw = typeof v === 'string' ? base64urlToBytes(v) : undefined
    } catch {
      raw = undefined
    }
    if (raw?.length !== X25519_KEY_LENGTH) {
      throw new RecipientKeyError(`the JWK "${name}" must be 32 bytes of base64url`)
    }
    return raw
  }
  const x = k.x === undefined ? undefined : decode(k.x, 'x')
  if (k.d !== undefined) {
    const d = decode(k.d, 'd')
    return x === undefined ? { kind: 'private', raw: d } : { kind: 'private', raw: d, claimedPublic: x }
  }
  if (x === undefined) throw new RecipientKeyError('the JWK has neither "x" nor "d"')
  return { kind: 'public', raw: x }
}

/**
 * Parses a key given as PEM text, JWK JSON text or a JWK object.
 *
 * @throws {RecipientKeyError} when it is none of these, or not an X25519 key.
 */
export function parseKey(input: string | object): ParsedKey {
  if (typeof input !== 'string') return fromJwk(input)
  // An X25519 key is under 300 bytes as PEM or JWK; the cap bounds the parsing of hostile input.
  if (input.length > MAX_KEY_TEXT) throw new RecipientKeyError('the key text is too long')
  const text = input.trim()
  if (text.startsWith('{')) {
    let jwk: unknown
    try {
      jwk = JSON.parse(text)
    } catch {
      throw new RecipientKeyError('the key is not valid JSON')
    }
    return fromJwk(jwk)
  }
  const spki = unpem(text, PUBLIC_LABEL)
  if (spki !== undefined) {
    const raw = stripPrefix(spki, SPKI_PREFIX)
    if (raw === undefined) throw new RecipientKeyError('the PUBLIC KEY is not an X25519 key')
    return { kind: 'public', raw }
  }
  const pkcs8 = unpem(text, PRIVATE_LABEL)
  if (pkcs8 !== undefined) {
    const raw = stripPrefix(pkcs8, PKCS8_PREFIX)
    if (raw === undefined) throw new RecipientKeyError('the PRIVATE KEY is not an X25519 key')
    return { kind: 'private', raw }
  }
  throw new RecipientKeyError('expected a PEM PUBLIC KEY or PRIVATE KEY, or an X25519 JWK')
}

/** JWK of a public key, with the recipient id as `kid`. */
export function publicJwk(raw: Uint8Array): X25519Jwk {
  return { kty: 'OKP', crv: 'X25519', x: bytesToBase64url(raw), kid: recipientIdOf(raw) }
}

/** The X25519 public key of a raw private key, through Web Crypto (PKCS#8 import, JWK export). */
export async function derivePublicKey(privateRaw: Uint8Array): Promise<Uint8Array> {
  if (subtle === undefined) throw new TypeError('crypto.subtle is not available')
  const der = concatBytes(PKCS8_PREFIX, privateRaw)
  try {
    const key = await subtle.importKey('pkcs8', der as Uint8Array<ArrayBuffer>, { name: 'X25519' }, true, [
      'deriveBits',
    ])
    const jwk = await subtle.exportKey('jwk', key)
    return base64urlToBytes(jwk.x ?? '')
  } finally {
    der.fill(0)
  }
}
