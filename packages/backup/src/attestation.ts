/**
 * The signed attestation: a compact JWS (RFC 7515) stored as the tag file `attestation.jws`.
 *
 * It covers the SHA-512 and SHA-256 digests of the bag's two tag manifests (which in turn list
 * every other tag file, including the payload manifests), the creation time, a sequence number
 * and the SHA-256 of the previous attestation in the backup set. One signature therefore
 * authenticates every byte of the bag, and the `seq`/`prev` chain exposes a replayed, rolled-back
 * or deleted backup. `attestation.jws` is deliberately not listed in the tag manifests (that would
 * be circular; RFC 8493 §2.2.4 allows unlisted tag files).
 *
 * Algorithms: Ed25519 and ES256 (P-256). Ed25519 keys sign as `alg: "Ed25519"`, the fully-specified
 * name RFC 9864 (2025) registers; the polymorphic `EdDSA` (RFC 8037), which it deprecates, is still
 * accepted when verifying (the SDK-wide policy: write `Ed25519`, read both).
 * Nothing else is accepted: no `none`, no HMAC, no RSA; the key id (`kid`) selects the key and the
 * key's type must match the algorithm, so a key cannot be used with an algorithm it was not made
 * for.
 *
 * @module
 */
import {
  base64urlToBytes,
  bytesToHex,
  canonicalBytes,
  isSafeguardsError,
  parseJson,
  sha256,
  utf8Decode,
  utf8Encode,
} from '@safeguards/core'
import { CompactSign, compactVerify, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose'
import { BackupAttestationError, BackupKeyError } from './errors.js'

/** Signature algorithms the attestation may use. */
export type SignatureAlgorithm = 'EdDSA' | 'Ed25519' | 'ES256'

/**
 * The default allow-list: every algorithm above.
 *
 * HIPAA: 164.312(c)(2) mechanism to authenticate ePHI (signed backups).
 *
 * @example
 * ```ts
 * await verifyBag(bag, { publicKeys, algorithms: ['EdDSA'] }) // narrower than DEFAULT_ALGORITHMS
 * ```
 */
export const DEFAULT_ALGORITHMS: readonly SignatureAlgorithm[] = Object.freeze(['EdDSA', 'Ed25519', 'ES256'])

/**
 * The JWS `typ` header value of an attestation.
 *
 * HIPAA: 164.312(c)(2) mechanism to authenticate ePHI (signed backups).
 *
 * @example
 * ```ts
 * ATTESTATION_TYPE // 'safeguards-backup-attestation+jws'
 * ```
 */
export const ATTESTATION_TYPE = 'safeguards-backup-attestation+jws'

/**
 * The file name of the attestation tag file.
 *
 * HIPAA: 164.312(c)(2) mechanism to authenticate ePHI (signed backups).
 *
 * @example
 * ```ts
 * await readFile(join(bagDir, ATTESTATION_FILE), 'utf8')
 * ```
 */
export const ATTESTATION_FILE = 'attestation.jws'

/** What an attestation asserts. */
export interface AttestationPayload {
  /** Payload format identifier. */
  typ: 'safeguards.backup.attestation'
  /** Payload format version. */
  v: 1
  /** Unique id of this bag (also `External-Identifier` in bag-info.txt). */
  bagId: string
  /** The backup set (chain) this bag belongs to (also `Bag-Group-Identifier`). */
  backupSetId: string
  /** Position in the chain, from 1. */
  seq: number
  /** SHA-256 (hex) of the previous attestation's compact JWS, or null for seq 1. */
  prev: string | null
  /** Creation time, ISO 8601 UTC with milliseconds. */
  createdAt: string
  /** Hex digests of `tagmanifest-sha512.txt` and `tagmanifest-sha256.txt`. */
  tagManifests: { sha512: string; sha256: string }
  /** `Payload-Oxum` of the bag (`octets.count`). */
  payloadOxum: string
  /** True when payload files are encrypted (ciphertext is what the manifests hash). */
  encrypted: boolean
}

/** A private key ready to sign attestations. */
export interface SigningKey {
  /** Key id written to the JWS header. */
  kid: string
  /** Algorithm. */
  alg: SignatureAlgorithm
  /** The WebCrypto private key. */
  key: CryptoKey
}

/** A public key ready to verify attestations. */
export interface VerificationKey {
  /** Key id. */
  kid: string
  /** Key type: `OKP` (Ed25519) or `EC` (P-256). */
  kty: 'OKP' | 'EC'
  /** The WebCrypto public key, imported per algorithm on first use. */
  jwk: JWK
}

const MAX_JWS_LENGTH = 64 * 1024
const HEX64 = /^[0-9a-f]{64}$/
const HEX128 = /^[0-9a-f]{128}$/
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

function keyKind(jwk: JWK): 'OKP' | 'EC' {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'OKP'
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'EC'
  throw new BackupKeyError('key must be an Ed25519 (OKP) or P-256 (EC) JWK')
}

function checkKid(kid: unknown): string {
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > 256)
    throw new BackupKeyError('JWK needs a "kid" of 1 to 256 characters')
  return kid
}

function algorithmFits(alg: SignatureAlgorithm, kty: 'OKP' | 'EC'): boolean {
  return kty === 'EC' ? alg === 'ES256' : alg === 'EdDSA' || alg === 'Ed25519'
}

/**
 * Imports a private JWK (Ed25519 or P-256, with `kid`) for signing.
 *
 * HIPAA: 164.312(c)(2) mechanism to authenticate ePHI (backups are signed at creation).
 *
 * @throws {BackupKeyError} (`ERR_BACKUP_KEY`) for another key type, a missing `kid` or `d`, or an
 *   `alg` member that does not fit the key.
 * @example
 * ```ts
 * const signingKey = await importSigningKey(JSON.parse(await readFile('backup-signing.jwk', 'utf8')))
 * ```
 */
export async function importSigningKey(jwk: JWK): Promise<SigningKey> {
  if (typeof jwk !== 'object' || jwk === null) throw new BackupKeyError('expected a JWK object')
  const kty = keyKind(jwk)
  const kid = checkKid(jwk.kid)
  if (typeof jwk.d !== 'string') throw new BackupKeyError('signing JWK has no private part')
  // RFC 9864: Ed25519 keys sign as the fully-specified `Ed25519`, also when the JWK still names the
  // deprecated `EdDSA` (the same operation on an Ed25519 key).
  const alg: SignatureAlgorithm = kty === 'EC' ? 'ES256' : 'Ed25519'
  if (jwk.alg !== undefined && !algorithmFits(jwk.alg as SignatureAlgorithm, kty))
    throw new BackupKeyError('JWK "alg" does not fit its key type')
  try {
    const key = (await importJWK({ ...jwk, alg }, alg)) as CryptoKey
    return { kid, alg, key }
  } catch (error) {
    throw new BackupKeyError('JWK could not be imported', { cause: error })
  }
}

/**
 * Imports public keys (one JWK, or a JWK Set `{ keys: [...] }`) for verification. Private members
 * are dropped, so a private JWK given by mistake still only verifies.
 *
 * HIPAA: 164.312(c)(2) mechanism to authenticate ePHI (signed backups).
 *
 * @throws {BackupKeyError} (`ERR_BACKUP_KEY`) for an unsupported key, a missing or repeated `kid`.
 * @example
 * ```ts
 * const keys = await importVerificationKeys(JSON.parse(await readFile('backup-keys.jwks', 'utf8')))
 * ```
 */
export async function importVerificationKeys(jwkOrSet: JWK | { keys: JWK[] }): Promise<VerificationKey[]> {
  if (typeof jwkOrSet !== 'object' || jwkOrSet === null) throw new BackupKeyError('expected a JWK or JWK Set')
  const list = Array.isArray((jwkOrSet as { keys?: unknown }).keys)
    ? (jwkOrSet as { keys: JWK[] }).keys
    : [jwkOrSet as JWK]
  if (list.length === 0 || list.length > 100) throw new BackupKeyError('expected 1 to 100 keys')
  const out: VerificationKey[] = []
  for (const jwk of list) {
    const kty = keyKind(jwk)
    const kid = checkKid(jwk.kid)
    if (out.some((k) => k.kid === kid)) throw new BackupKeyError('repeated "kid" in key set')
    if (typeof jwk.x !== 'string' || (kty === 'EC' && typeof jwk.y !== 'string'))
      throw new BackupKeyError('JWK lacks public coordinates')
    const pub = (
      kty === 'EC' ? { kty, crv: jwk.crv, x: jwk.x, y: jwk.y } : { kty, crv: jwk.crv, x: jwk.x }
    ) as JWK
    out.push({ kid, kty, jwk: pub })
  }
  return out
}

/**
 * Generates a signing key pair as JWKs (private and public), for `safeguards backup keygen` and
 * tests. Keep the private JWK on the backup host only; give verifiers the public JWK.
 *
 * HIPAA: 164.312(c)(2) mechanism to authenticate ePHI (signed backups).
 *
 * @param alg - `Ed25519` or `ES256`; `EdDSA`, the deprecated name (RFC 9864), makes the same
 *   Ed25519 key, whose JWK says `alg: "Ed25519"`.
 * @throws {BackupKeyError} for another algorithm.
 * @example
 * ```ts
 * const { privateJwk, publicJwk } = await generateSigningKeyPair('Ed25519', 'backup-2026')
 * ```
 */
export async function generateSigningKeyPair(
  alg: 'Ed25519' | 'EdDSA' | 'ES256',
  kid: string,
): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  if (alg !== 'Ed25519' && alg !== 'EdDSA' && alg !== 'ES256')
    throw new BackupKeyError('alg must be Ed25519 (or EdDSA) or ES256')
  checkKid(kid)
  const ed = alg !== 'ES256'
  const { privateKey, publicKey } = await generateKeyPair(ed ? 'Ed25519' : 'ES256', { extractable: true })
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ed ? 'Ed25519' : 'ES256' }
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: privateJwk.alg }
  return { privateJwk, publicJwk }
}

/**
 * Signs an attestation payload (RFC 8785 canonical JSON) as a compact JWS.
 *
 * HIPAA: 164.312(c)(2) mechanism to authenticate ePHI (signed backups).
 *
 * @throws {BackupAttestationError} when the payload is malformed.
 * @example
 * ```ts
 * const jws = await signAttestation(payload, signingKey)
 * ```
 */
export async function signAttestation(payload: AttestationPayload, signingKey: SigningKey): Promise<string> {
  if (checkPayload(payload) !== null) throw new BackupAttestationError('attestation payload is malformed')
  return new CompactSign(canonicalBytes(payload))
    .setProtectedHeader({ alg: signingKey.alg, kid: signingKey.kid, typ: ATTESTATION_TYPE })
    .sign(signingKey.key)
}

/**
 * SHA-256 (hex) of an attestation's compact serialisation: the value the next attestation's
 * `prev` must carry.
 *
 * HIPAA: 164.312(c)(2) mechanism to authenticate ePHI (signed backups).
 *
 * @example
 * ```ts
 * attestationDigest(jws) // '3f1c…' (64 hex digits)
 * ```
 */
export function attestationDigest(jws: string): string {
  return bytesToHex(sha256(utf8Encode(jws)))
}

function checkPayload(p: unknown): string | null {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return 'not an object'
  const o = p as Record<string, unknown>
  const allowed = new Set([
    'typ',
    'v',
    'bagId',
    'backupSetId',
    'seq',
    'prev',
    'createdAt',
    'tagManifests',
    'payloadOxum',
    'encrypted',
  ])
  for (const k of Object.keys(o)) if (!allowed.has(k)) return 'unknown member'
  if (o.typ !== 'safeguards.backup.attestation' || o.v !== 1) return 'type'
  if (typeof o.bagId !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(o.bagId)) return 'bagId'
  if (typeof o.backupSetId !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(o.backupSetId))
    return 'backupSetId'
  if (typeof o.seq !== 'number' || !Number.isSafeInteger(o.seq) || o.seq < 1) return 'seq'
  if (o.seq === 1 ? o.prev !== null : typeof o.prev !== 'string' || !HEX64.test(o.prev)) return 'prev'
  if (typeof o.createdAt !== 'string' || !ISO_MS.test(o.createdAt) || Number.isNaN(Date.parse(o.createdAt)))
    return 'createdAt'
  const t = o.tagManifests as Record<string, unknown> | null
  if (typeof t !== 'object' || t === null || Object.keys(t).length !== 2) return 'tagManifests'
  if (typeof t.sha512 !== 'string' || !HEX128.test(t.sha512)) return 'tagManifests'
  if (typeof t.sha256 !== 'string' || !HEX64.test(t.sha256)) return 'tagManifests'
  if (typeof o.payloadOxum !== 'string' || !/^\d{1,30}\.\d{1,20}$/.test(o.payloadOxum)) return 'payloadOxum'
  if (typeof o.encrypted !== 'boolean') return 'encrypted'
  return null
}

/** The outcome of {@link verifyAttestation}. */
export type AttestationCheck =
  | { valid: true; payload: AttestationPayload; kid: string; alg: SignatureAlgorithm; digest: string }
  | {
      valid: false
      code: 'E_ALGORITHM_NOT_ALLOWED' | 'E_UNKNOWN_KEY' | 'E_SIGNATURE_INVALID' | 'E_ATTESTATION_MALFORMED'
    }

/**
 * Verifies an attestation: the header's `alg` must be on the allow-list and fit the key its
 * `kid` names, the signature must verify, and only then is the payload parsed (strict I-JSON)
 * and checked member by member. A failed check is a normal "no" (`valid: false` with a code).
 *
 * HIPAA: 164.312(c)(2) mechanism to authenticate ePHI; 164.308(a)(7)(ii)(A) data backup plan
 * (a backup is only trusted when signed by a known key).
 *
 * @throws never for hostile input; `TypeError` when `keys` is not an array.
 * @example
 * ```ts
 * const check = await verifyAttestation(jws, keys)
 * if (!check.valid) alert(check.code)
 * ```
 */
export async function verifyAttestation(
  jws: string,
  keys: readonly VerificationKey[],
  algorithms: readonly SignatureAlgorithm[] = DEFAULT_ALGORITHMS,
): Promise<AttestationCheck> {
  if (!Array.isArray(keys)) throw new TypeError('"keys" expected an array')
  if (typeof jws !== 'string' || jws.length > MAX_JWS_LENGTH)
    return { valid: false, code: 'E_ATTESTATION_MALFORMED' }
  const parts = jws.split('.')
  if (parts.length !== 3) return { valid: false, code: 'E_ATTESTATION_MALFORMED' }
  let header: Record<string, unknown>
  try {
    header = parseJson(utf8Decode(base64urlToBytes(parts[0] as string))) as Record<string, unknown>
  } catch {
    return { valid: false, code: 'E_ATTESTATION_MALFORMED' }
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    return { valid: false, code: 'E_ATTESTATION_MALFORMED' }
  const alg = header.alg
  const allowed = algorithms.filter((a) => DEFAULT_ALGORITHMS.includes(a))
  if (typeof alg !== 'string' || !allowed.includes(alg as SignatureAlgorithm))
    return { valid: false, code: 'E_ALGORITHM_NOT_ALLOWED' }
  if (header.crit !== undefined || header.b64 !== undefined || header.typ !== ATTESTATION_TYPE)
    return { valid: false, code: 'E_ATTESTATION_MALFORMED' }
  const key = keys.find((k) => k.kid === header.kid)
  if (!key) return { valid: false, code: 'E_UNKNOWN_KEY' }
  if (!algorithmFits(alg as SignatureAlgorithm, key.kty))
    return { valid: false, code: 'E_ALGORITHM_NOT_ALLOWED' }
  let payloadBytes: Uint8Array
  try {
    const cryptoKey = await importJWK({ ...key.jwk, alg }, alg)
    const result = await compactVerify(jws, cryptoKey, { algorithms: [alg] })
    payloadBytes = result.payload
  } catch {
    return { valid: false, code: 'E_SIGNATURE_INVALID' }
  }
  let payload: unknown
  try {
    payload = parseJson(utf8Decode(payloadBytes))
  } catch (error) {
    if (isSafeguardsError(error)) return { valid: false, code: 'E_ATTESTATION_MALFORMED' }
    throw error
  }
  if (checkPayload(payload) !== null) return { valid: false, code: 'E_ATTESTATION_MALFORMED' }
  return {
    valid: true,
    payload: payload as AttestationPayload,
    kid: key.kid,
    alg: alg as SignatureAlgorithm,
    digest: attestationDigest(jws),
  }
}

/**
 * Reads an attestation's payload WITHOUT verifying it: for a producer chaining to its own previous
 * bag. Never use it to trust a bag: use {@link verifyAttestation}.
 *
 * HIPAA: 164.312(c)(2) mechanism to authenticate ePHI (signed backups).
 *
 * @throws {BackupAttestationError} when the JWS or its payload is malformed.
 * @example
 * ```ts
 * const prev = decodeAttestationUnverified(await readFile('/backups/yesterday/attestation.jws', 'utf8'))
 * ```
 */
export function decodeAttestationUnverified(jws: string): AttestationPayload {
  const parts = typeof jws === 'string' && jws.length <= MAX_JWS_LENGTH ? jws.trim().split('.') : []
  if (parts.length !== 3) throw new BackupAttestationError('attestation is not a compact JWS')
  let payload: unknown
  try {
    payload = parseJson(utf8Decode(base64urlToBytes(parts[1] as string)))
  } catch (error) {
    throw new BackupAttestationError('attestation payload is not valid JSON', { cause: error })
  }
  if (checkPayload(payload) !== null) throw new BackupAttestationError('attestation payload is malformed')
  return payload as AttestationPayload
}
