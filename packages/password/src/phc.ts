/**
 * Argon2 PHC strings (the Password Hashing Competition string format, as the reference
 * implementation and node-argon2 write them):
 * `$argon2id$v=19$m=19456,t=2,p=1[,keyid=<b64>]$<salt b64>$<hash b64>`, base64 without padding.
 * `keyid` is the PHC format's optional Argon2 parameter naming the secret (pepper) key.
 *
 * The parser is strict and bounds every cost, so a tampered stored hash cannot make the server
 * allocate gigabytes or loop for minutes.
 *
 * @module
 */
import { base64ToBytes, bytesToBase64, utf8Decode, utf8Encode } from '@safeguards/core'
import { PasswordHashFormatError } from './errors.js'

/** The fields of an Argon2 PHC string. */
export interface PhcHash {
  /** `argon2id`, `argon2i` or `argon2d`. */
  algorithm: 'argon2id' | 'argon2i' | 'argon2d'
  /** Argon2 version: 19 (0x13, current) or 16 (0x10, legacy). */
  version: number
  /** Memory in KiB. */
  memoryCost: number
  /** Passes. */
  timeCost: number
  /** Lanes. */
  parallelism: number
  /** The pepper key id, when the hash was made with a pepper. */
  keyId?: string
  salt: Uint8Array
  hash: Uint8Array
}

/** Upper bounds accepted when parsing, far above any sane policy. */
const LIMITS = { memoryCost: 4 * 1024 * 1024, timeCost: 1000, parallelism: 64 }
const PHC =
  /^\$(argon2id|argon2i|argon2d)\$(?:v=(\d{1,3})\$)?([a-z]{1,5}=[A-Za-z0-9+/]{1,16}(?:,[a-z]{1,5}=[A-Za-z0-9+/]{1,16}){2,3})\$([A-Za-z0-9+/]{11,88})\$([A-Za-z0-9+/]{16,172})$/
const DECIMAL = /^(?:0|[1-9]\d{0,7})$/

/** Parameters in any order (the reference writes m,t,p; node-argon2 writes m,p,t), each once. */
function parseParams(text: string): { m: number; t: number; p: number; keyid?: string } {
  const seen = new Map<string, string>()
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=')
    const key = pair.slice(0, eq)
    if (!['m', 't', 'p', 'keyid'].includes(key) || seen.has(key))
      throw new PasswordHashFormatError('parameters')
    seen.set(key, pair.slice(eq + 1))
  }
  const num = (k: string): number => {
    const v = seen.get(k)
    if (v === undefined || !DECIMAL.test(v)) throw new PasswordHashFormatError('parameters')
    return Number(v)
  }
  const out: { m: number; t: number; p: number; keyid?: string } = { m: num('m'), t: num('t'), p: num('p') }
  const keyid = seen.get('keyid')
  if (keyid !== undefined) out.keyid = keyid
  return out
}

function b64(bytes: Uint8Array): string {
  return bytesToBase64(bytes).replace(/=+$/, '')
}

function unb64(text: string, what: string): Uint8Array {
  try {
    return base64ToBytes(text + '='.repeat((4 - (text.length % 4)) % 4))
  } catch (cause) {
    throw new PasswordHashFormatError(what, { cause })
  }
}

/**
 * Parses an Argon2 PHC string strictly.
 *
 * HIPAA: 164.312(d) person or entity authentication (stored verifiers are read safely).
 *
 * @throws {PasswordHashFormatError} (code `ERR_PASSWORD_HASH_FORMAT`) when the string is not a
 *   well-formed Argon2 PHC string within bounds.
 * @example
 * ```ts
 * parsePhc('$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$…').memoryCost // 19456
 * ```
 */
export function parsePhc(text: string): PhcHash {
  if (typeof text !== 'string' || text.length > 400) throw new PasswordHashFormatError('not a PHC string')
  const m = PHC.exec(text)
  if (m === null) throw new PasswordHashFormatError('not an Argon2 PHC string')
  const version = m[2] === undefined ? 16 : Number(m[2])
  if (version !== 16 && version !== 19) throw new PasswordHashFormatError('version')
  const params = parseParams(m[3] as string)
  const memoryCost = params.m
  const timeCost = params.t
  const parallelism = params.p
  if (parallelism < 1 || parallelism > LIMITS.parallelism) throw new PasswordHashFormatError('parallelism')
  if (timeCost < 1 || timeCost > LIMITS.timeCost) throw new PasswordHashFormatError('time cost')
  if (memoryCost < 8 * parallelism || memoryCost > LIMITS.memoryCost)
    throw new PasswordHashFormatError('memory cost')
  const out: PhcHash = {
    algorithm: m[1] as PhcHash['algorithm'],
    version,
    memoryCost,
    timeCost,
    parallelism,
    salt: unb64(m[4] as string, 'salt'),
    hash: unb64(m[5] as string, 'hash'),
  }
  if (params.keyid !== undefined) {
    try {
      out.keyId = utf8Decode(unb64(params.keyid, 'keyid'))
    } catch (cause) {
      throw new PasswordHashFormatError('keyid', { cause })
    }
  }
  if (out.salt.length < 8 || out.hash.length < 12) throw new PasswordHashFormatError('salt or hash too short')
  return out
}

/**
 * Formats an Argon2 PHC string (the inverse of {@link parsePhc}).
 *
 * HIPAA: 164.312(d) person or entity authentication.
 *
 * @throws {TypeError} when `salt` or `hash` is not a Uint8Array.
 * @example
 * ```ts
 * formatPhc({ algorithm: 'argon2id', version: 19, memoryCost: 19456, timeCost: 2, parallelism: 1, salt, hash })
 * ```
 */
export function formatPhc(phc: PhcHash): string {
  const keyId = phc.keyId === undefined ? '' : `,keyid=${b64(utf8Encode(phc.keyId))}`
  return `$${phc.algorithm}$v=${phc.version}$m=${phc.memoryCost},t=${phc.timeCost},p=${phc.parallelism}${keyId}$${b64(phc.salt)}$${b64(phc.hash)}`
}
