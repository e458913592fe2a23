/**
 * Signed checkpoints: a tree head (origin, size, RFC 6962 root) in the spirit of C2SP
 * tlog-checkpoint, plus chaining metadata, as the payload of a flattened JWS (RFC 7515) signed with
 * Ed25519 through `jose`. Algorithm names, the SDK-wide policy: sign as `alg: "Ed25519"`, the
 * fully-specified name RFC 9864 registers; verify `Ed25519` and the polymorphic `EdDSA` of RFC 8037
 * (deprecated by RFC 9864), both only with Ed25519 keys.
 *
 * Payload (canonical JSON, RFC 8785):
 * `{ index, origin, prev, root, size, timestamp, typ: "safeguards.audit-checkpoint", v: 1 }` where
 * `root` is the base64 tree root, `index` the checkpoint's position in the log's checkpoint chain,
 * and `prev` the hex SHA-256 of the previous checkpoint's JWS text (zeros for the first), as
 * CloudTrail digests chain `previousDigestSignature`. The protected header is
 * `{ alg: "Ed25519", kid, typ: "audit-checkpoint+jws" }`; `kid` defaults to the RFC 7638 thumbprint.
 *
 * Keys rotate by giving the log a new signer; a {@link Keyring} with every public key that ever
 * signed (and optional validity windows) keeps old checkpoints verifiable.
 *
 * HIPAA: 164.312(b) audit controls (signed checkpoints protect the trail itself: SP 800-53
 * AU-9(3); the log's integrity is not the ePHI integrity of 164.312(c)).
 *
 * @module
 */
import {
  base64ToBytes,
  bytesToBase64,
  bytesToHex,
  canonicalize,
  parseJson,
  utf8Decode,
  utf8Encode,
} from '@safeguards/core'
import {
  base64url,
  calculateJwkThumbprint,
  decodeProtectedHeader,
  exportJWK,
  FlattenedSign,
  flattenedVerify,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose'
import {
  AuditKeyError,
  CheckpointError,
  CheckpointSignatureError,
  UnknownCheckpointKeyError,
} from './errors.js'
import { sha256Fast } from './internal/sha256.js'

/** The `typ` of a checkpoint payload. */
export const CHECKPOINT_TYPE = 'safeguards.audit-checkpoint' as const

/** A checkpoint's signed body. */
export interface CheckpointBody {
  /** Position in the log's checkpoint chain, 0-based. */
  index: number
  /** The stream id. */
  origin: string
  /** Hex SHA-256 of the previous checkpoint's JWS text, or 64 zeros for index 0. */
  prev: string
  /** Base64 RFC 6962 root of the first `size` records. */
  root: string
  /** Number of records committed to. */
  size: number
  /** When it was made, RFC 3339 UTC. */
  timestamp: string
  /** Always {@link CHECKPOINT_TYPE}. */
  typ: typeof CHECKPOINT_TYPE
  /** Schema version, 1. */
  v: 1
}

/** A checkpoint whose signature was checked. */
export interface VerifiedCheckpoint {
  /** The body. */
  body: CheckpointBody
  /** The root as bytes. */
  root: Uint8Array
  /** The key id that signed it. */
  kid: string
  /** The JWS text. */
  jws: string
}

/** Signs checkpoint payloads. Implement it over a KMS or HSM to keep the key out of the process. */
export interface CheckpointSigner {
  /** The key id placed in the protected header. */
  readonly kid: string
  /** Returns the flattened JWS JSON text of `payload`. */
  sign(payload: Uint8Array): Promise<string>
}

/** A public key the verifier trusts for checkpoints, with an optional validity window. */
export interface KeyringEntry {
  /** An Ed25519 public JWK (`kty: "OKP"`, `crv: "Ed25519"`, no `d`). */
  publicJwk: JWK
  /** Key id; defaults to `publicJwk.kid`, then to the RFC 7638 thumbprint. */
  kid?: string
  /** Checkpoints timestamped before this (ms since epoch) are refused with this key. */
  notBefore?: number
  /** Checkpoints timestamped at or after this (ms since epoch) are refused with this key. */
  notAfter?: number
}

/** Trusted checkpoint keys by key id. */
export interface Keyring {
  /** The key ids known. */
  readonly kids: readonly string[]
  /**
   * Verifies a checkpoint's signature and body.
   *
   * @throws {CheckpointError} (`ERR_AUDIT_CHECKPOINT`) for a malformed JWS, header or body.
   * @throws {UnknownCheckpointKeyError} (`ERR_AUDIT_UNKNOWN_KEY`) for a key id the keyring lacks.
   * @throws {CheckpointSignatureError} (`ERR_AUDIT_CHECKPOINT_SIGNATURE`) for a bad signature or a
   *   timestamp outside the key's validity window.
   */
  verify(jws: string): Promise<VerifiedCheckpoint>
}

const HEX64 = /^[0-9a-f]{64}$/
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

function checkPublicEd25519(jwk: unknown, name: string): asserts jwk is JWK {
  const j = jwk as JWK | null
  if (typeof j !== 'object' || j === null) throw new TypeError(`"${name}" expected a JWK object`)
  if (j.kty !== 'OKP' || j.crv !== 'Ed25519' || typeof j.x !== 'string')
    throw new AuditKeyError(`${name} is not an Ed25519 JWK`)
}

/**
 * Generates an Ed25519 checkpoint key pair (extractable, as JWKs) with its RFC 7638 key id.
 *
 * HIPAA: 164.312(b) audit controls (SP 800-53 AU-9(3): signed checkpoints).
 *
 * @throws {AuditKeyError} when the runtime lacks Ed25519 in WebCrypto.
 * @example
 * ```ts
 * const { privateJwk, publicJwk, kid } = await generateCheckpointKey()
 * ```
 */
export async function generateCheckpointKey(): Promise<{ privateJwk: JWK; publicJwk: JWK; kid: string }> {
  try {
    const { privateKey, publicKey } = await generateKeyPair('Ed25519', { extractable: true })
    const publicJwk = await exportJWK(publicKey)
    const privateJwk = await exportJWK(privateKey)
    const kid = await calculateJwkThumbprint(publicJwk)
    return { privateJwk: { ...privateJwk, kid }, publicJwk: { ...publicJwk, kid }, kid }
  } catch (e) {
    throw new AuditKeyError('Ed25519 key generation failed', { cause: e })
  }
}

/**
 * A local signer for an Ed25519 private JWK.
 *
 * HIPAA: 164.312(b) audit controls (SP 800-53 AU-9(3): signed checkpoints).
 *
 * @param privateJwk - Ed25519 private JWK (with `d`).
 * @param options - `kid` (default: the JWK's `kid`, then the RFC 7638 thumbprint).
 * @throws {AuditKeyError} when the JWK is not an Ed25519 private key.
 * @example
 * ```ts
 * const signer = await createCheckpointSigner(privateJwk)
 * const log = await openAuditLog({ store, signer })
 * ```
 */
export async function createCheckpointSigner(
  privateJwk: JWK,
  options?: { kid?: string },
): Promise<CheckpointSigner> {
  checkPublicEd25519(privateJwk, 'privateJwk')
  if (typeof privateJwk.d !== 'string') throw new AuditKeyError('privateJwk has no private part')
  const { d: _d, ...pub } = privateJwk
  const kid = options?.kid ?? privateJwk.kid ?? (await calculateJwkThumbprint(pub))
  let key: Awaited<ReturnType<typeof importJWK>>
  try {
    key = await importJWK(privateJwk, 'Ed25519')
  } catch (e) {
    throw new AuditKeyError(`key ${kid} could not be imported`, { cause: e })
  }
  return {
    kid,
    async sign(payload: Uint8Array): Promise<string> {
      const jws = await new FlattenedSign(payload)
        .setProtectedHeader({ alg: 'Ed25519', kid, typ: 'audit-checkpoint+jws' })
        .sign(key)
      return canonicalize({ payload: jws.payload, protected: jws.protected, signature: jws.signature })
    },
  }
}

/**
 * Builds a keyring from public keys (current and retired).
 *
 * HIPAA: 164.312(b) audit controls (old checkpoints stay verifiable after rotation).
 *
 * @throws {AuditKeyError} for a non-Ed25519 key, a private key, or a duplicate key id.
 * @example
 * ```ts
 * const keyring = await createKeyring([{ publicJwk: oldKey, notAfter: rotatedAt }, { publicJwk: newKey }])
 * const report = await verifyLog({ store, keyring })
 * ```
 */
export async function createKeyring(entries: readonly KeyringEntry[]): Promise<Keyring> {
  if (!Array.isArray(entries)) throw new TypeError('"entries" expected an array')
  const keys = new Map<string, { key: Awaited<ReturnType<typeof importJWK>>; entry: KeyringEntry }>()
  for (const entry of entries) {
    checkPublicEd25519(entry.publicJwk, 'publicJwk')
    if ((entry.publicJwk as { d?: unknown }).d !== undefined)
      throw new AuditKeyError('a keyring takes public keys only')
    const { kid: jwkKid, ...bare } = entry.publicJwk
    const kid = entry.kid ?? jwkKid ?? (await calculateJwkThumbprint(bare))
    if (keys.has(kid)) throw new AuditKeyError(`duplicate key id ${kid}`)
    try {
      keys.set(kid, { key: await importJWK(bare, 'Ed25519'), entry })
    } catch (e) {
      throw new AuditKeyError(`key ${kid} could not be imported`, { cause: e })
    }
  }
  return {
    kids: [...keys.keys()],
    async verify(jws: string): Promise<VerifiedCheckpoint> {
      // RFC 7515 §7.2.1 flattened JSON serialization; §5.2 validation: header, key, signature.
      const input = parseJws(jws)
      let kid: unknown
      try {
        const header = decodeProtectedHeader(input)
        if (header.typ !== 'audit-checkpoint+jws') throw new CheckpointError('wrong typ')
        kid = header.kid
      } catch (e) {
        throw new CheckpointError('checkpoint header is malformed', { cause: e })
      }
      if (typeof kid !== 'string') throw new CheckpointError('checkpoint has no key id')
      const k = keys.get(kid)
      if (k === undefined) throw new UnknownCheckpointKeyError(kid)
      let payload: Uint8Array
      try {
        // RFC 8725 §3.1: an algorithm allowlist, and the key decides (Ed25519 only: RFC 9864, RFC 8037).
        payload = (await flattenedVerify(input, k.key, { algorithms: ['Ed25519', 'EdDSA'] })).payload
      } catch (e) {
        throw new CheckpointSignatureError('checkpoint signature is invalid', { cause: e })
      }
      const v = decodeCheckpointPayload(payload)
      // Key validity windows: a checkpoint signed outside its key's window does not verify.
      const t = Date.parse(v.body.timestamp)
      if (
        (k.entry.notBefore !== undefined && t < k.entry.notBefore) ||
        (k.entry.notAfter !== undefined && t >= k.entry.notAfter)
      )
        throw new CheckpointSignatureError(`key ${kid} was not valid at the checkpoint's time`)
      return { ...v, kid, jws }
    },
  }
}

function parseJws(jws: string): { payload: string; protected: string; signature: string } {
  if (typeof jws !== 'string') throw new TypeError('"jws" expected a string')
  let v: unknown
  try {
    v = parseJson(jws, { maxLength: 65536, maxDepth: 4 })
  } catch (e) {
    throw new CheckpointError('checkpoint is not JSON', { cause: e })
  }
  const o = v as Record<string, unknown>
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.payload !== 'string' ||
    typeof o.protected !== 'string' ||
    typeof o.signature !== 'string' ||
    Object.keys(o).length !== 3
  )
    throw new CheckpointError('checkpoint is not a flattened JWS')
  return { payload: o.payload, protected: o.protected, signature: o.signature }
}

/**
 * The signed tree head of the payload: tree size and 32-byte root hash (RFC 6962 §3.5, RFC 9162
 * §4.10), with this package's chaining metadata.
 */
function decodeCheckpointPayload(payload: Uint8Array): { body: CheckpointBody; root: Uint8Array } {
  let text: string
  let v: unknown
  try {
    text = utf8Decode(payload)
    v = parseJson(text, { maxDepth: 2, maxLength: 4096 })
  } catch (e) {
    throw new CheckpointError('checkpoint payload is not JSON', { cause: e })
  }
  const b = v as Record<string, unknown>
  const ok =
    typeof b === 'object' &&
    b !== null &&
    Object.keys(b).length === 8 &&
    b.typ === CHECKPOINT_TYPE &&
    b.v === 1 &&
    Number.isSafeInteger(b.index) &&
    (b.index as number) >= 0 &&
    Number.isSafeInteger(b.size) &&
    (b.size as number) >= 0 &&
    typeof b.origin === 'string' &&
    typeof b.prev === 'string' &&
    HEX64.test(b.prev) &&
    typeof b.root === 'string' &&
    typeof b.timestamp === 'string' &&
    TS.test(b.timestamp)
  if (!ok) throw new CheckpointError('checkpoint payload does not match schema v1')
  let root: Uint8Array
  try {
    root = base64ToBytes(b.root as string)
  } catch (e) {
    throw new CheckpointError('checkpoint root is not base64', { cause: e })
  }
  if (root.length !== 32) throw new CheckpointError('checkpoint root is not 32 bytes')
  if (canonicalize(b) !== text) throw new CheckpointError('checkpoint payload is not canonical')
  return { body: b as unknown as CheckpointBody, root }
}

/**
 * Reads a checkpoint's body WITHOUT checking its signature (to chain the next checkpoint, or to
 * show what an unverifiable checkpoint claims). Never trust the result for integrity decisions.
 *
 * @throws {CheckpointError} when the JWS or body is malformed.
 * @example
 * ```ts
 * const { body } = readCheckpointUnverified(stored.jws)
 * ```
 */
export function readCheckpointUnverified(jws: string): {
  body: CheckpointBody
  root: Uint8Array
  kid: string | null
} {
  const input = parseJws(jws)
  let kid: string | null = null
  try {
    const h = decodeProtectedHeader(input)
    kid = typeof h.kid === 'string' ? h.kid : null
  } catch (e) {
    throw new CheckpointError('checkpoint header is malformed', { cause: e })
  }
  let payload: Uint8Array
  try {
    payload = base64url.decode(input.payload)
  } catch (e) {
    throw new CheckpointError('checkpoint payload is not base64url', { cause: e })
  }
  return { ...decodeCheckpointPayload(payload), kid }
}

/**
 * The hex SHA-256 of a checkpoint's JWS text: the next checkpoint's `prev`.
 *
 * @throws {TypeError} when `jws` is not a string.
 * @example
 * ```ts
 * checkpointHash(stored.jws) // '3f9a…' (64 hex characters)
 * ```
 */
export function checkpointHash(jws: string): string {
  return bytesToHex(sha256Fast(utf8Encode(jws)))
}

/**
 * Builds and signs a checkpoint body.
 *
 * @throws whatever the signer throws.
 * @example
 * ```ts
 * const jws = await signCheckpoint(signer, { index: 0, origin: 's', prev: '0'.repeat(64), root, size, timestamp })
 * ```
 */
export async function signCheckpoint(
  signer: CheckpointSigner,
  fields: { index: number; origin: string; prev: string; root: Uint8Array; size: number; timestamp: string },
): Promise<string> {
  const body: CheckpointBody = {
    index: fields.index,
    origin: fields.origin,
    prev: fields.prev,
    root: bytesToBase64(fields.root),
    size: fields.size,
    timestamp: fields.timestamp,
    typ: CHECKPOINT_TYPE,
    v: 1,
  }
  return signer.sign(utf8Encode(canonicalize(body)))
}
