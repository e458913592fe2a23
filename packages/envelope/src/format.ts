/**
 * The envelope wire format, version 1 (specified in `docs/formats/envelope-v1.md`). All integers
 * big-endian.
 *
 * ```
 * header = "HGE" ‖ u8 formatVersion (0x01) ‖ u16 suiteId (0x0001) ‖ u32 frameLength
 *        ‖ messageId[32] ‖ u16 edkCount ‖ edk* ‖ u16 storedContextLen ‖ storedContext
 *        ‖ commitment[32] ‖ headerTag[16]
 * edk    = u8 providerIdLen ‖ providerId ‖ u16 keyRefLen ‖ keyRef ‖ u16 edkLen ‖ edk
 * body   = frame* ‖ finalFrame;  frame = ct[frameLength] ‖ tag[16];  finalFrame = ct[0..frameLength-1] ‖ tag[16]
 * ```
 *
 * Parsing is bounded: every length is checked against what remains and against the maxima below
 * before anything is allocated, and unknown versions or suites are refused before any
 * cryptography. There is no "raw" mode that tries every key.
 *
 * HIPAA: 164.312(c)(2) integrity (the format authenticates every byte it carries) and
 * 164.312(a)(2)(iv) (the header names the key reference and version that decrypts it).
 *
 * @module
 */
import { assertBytes, bytesToHex, utf8Decode, utf8Encode } from '@safeguards/core'
import { EnvelopeFormatError, EnvelopeLimitError, UnsupportedFormatError } from './errors.js'
import { NeedMoreBytes, Reader } from './internal/codec.js'
import { decodeContext, MAX_CONTEXT_BYTES } from './internal/context.js'

/** The magic bytes that open every envelope: ASCII `HGE`. */
export const ENVELOPE_MAGIC: Uint8Array = Uint8Array.of(0x48, 0x47, 0x45)
/** The format version this library writes and reads. */
export const FORMAT_VERSION = 1
/** Suite 0x0001: AES-256-GCM, HKDF-SHA-512 key schedule, key commitment, 12-byte IV, 16-byte tag. */
export const SUITE_AES256GCM_HKDF_SHA512_COMMIT = 0x0001
/**
 * Default frame length: 256 KiB of plaintext per frame. Larger than the 64 KiB of age or C2SP
 * chunked encryption because each frame costs a fresh AES-GCM context on node:crypto; at 256 KiB
 * that cost is amortised (measured: streams go from about 0.5-0.7x to 0.75-0.95x of one raw GCM
 * call), and a stream still buffers only one frame.
 */
export const DEFAULT_FRAME_LENGTH: number = 262144
/** Smallest allowed frame length (4 KiB). */
export const MIN_FRAME_LENGTH = 4096
/** Largest allowed frame length (16 MiB). */
export const MAX_FRAME_LENGTH: number = 16 * 1024 * 1024
/** Largest wrapped data key accepted (4096 bytes, as Tink). */
export const MAX_EDK_LENGTH = 4096
/** Largest key reference accepted, in UTF-8 bytes. */
export const MAX_KEY_REF_LENGTH = 1024
/** Largest provider id accepted, in bytes. */
export const MAX_PROVIDER_ID_LENGTH = 64
/** Default and hard maximum number of wrapped data keys in one header. */
export const DEFAULT_MAX_EDKS = 4
const HARD_MAX_EDKS: number = 32
/** Bytes of the message id, the commitment and the header tag. */
export const MESSAGE_ID_LENGTH: number = 32
const COMMITMENT_LENGTH = 32
/** GCM tag length. */
export const TAG_LENGTH: number = 16

/** One wrapped data key in a header. */
export interface EncryptedDataKey {
  /** The KEK provider id, for example `local`. */
  providerId: string
  /** The key reference with version, for example `local:default@v2`. */
  keyRef: string
  /** The wrapped data key. */
  edk: Uint8Array
}

/** A parsed header (internal representation; {@link EnvelopeInfo} is the public summary). */
export interface EnvelopeHeader {
  formatVersion: number
  suiteId: number
  frameLength: number
  messageId: Uint8Array
  edks: EncryptedDataKey[]
  /** Canonical stored-context bytes, empty when nothing is stored. */
  storedContext: Uint8Array
  commitment: Uint8Array
  headerTag: Uint8Array
  /** The bytes the header tag authenticates: from the magic through the commitment. */
  authenticated: Uint8Array
  /** Total header length in bytes, including the tag. */
  length: number
}

/** What {@link inspectEnvelope} reports: everything in the header, without any key. */
export interface EnvelopeInfo {
  /** Always `hge`. */
  format: 'hge'
  /** The format version (1). */
  formatVersion: number
  /** The suite id (1). */
  suiteId: number
  /** The suite's name, for example `AES-256-GCM/HKDF-SHA-512/commit`. */
  suite: string
  /** Plaintext bytes per frame. */
  frameLength: number
  /** The message id, lowercase hex. */
  messageId: string
  /** The wrapped keys' provider ids and key references (no key material). */
  keys: Array<{ providerId: string; keyRef: string }>
  /** The stored (non-secret) context pairs, if the writer chose to store any. */
  storedContext: Record<string, string>
  /** Header length in bytes. */
  headerLength: number
  /** For a complete ciphertext: the number of frames and plaintext length implied by its size. */
  body?: { frames: number; plaintextLength: number }
}

/** Bounds applied while parsing. */
export interface ParseLimits {
  /** Most wrapped keys accepted (default 4, at most 32). */
  maxEdks?: number
  /**
   * The full envelope length, when `bytes` is only a prefix of it (for example the first bytes
   * of a large file): {@link inspectEnvelope} then reports the body shape from this length.
   */
  totalLength?: number
}

const SUITE_NAMES: Record<number, string> = {
  [SUITE_AES256GCM_HKDF_SHA512_COMMIT]: 'AES-256-GCM/HKDF-SHA-512/commit',
}

function isPrintableAscii(b: Uint8Array): boolean {
  for (const c of b) if (c < 0x21 || c > 0x7e) return false
  return true
}

/** Checks a frame length against the allowed range. */
export function checkFrameLength(frameLength: number): void {
  if (
    !Number.isSafeInteger(frameLength) ||
    frameLength < MIN_FRAME_LENGTH ||
    frameLength > MAX_FRAME_LENGTH
  ) {
    throw new EnvelopeLimitError(`frame length must be in ${MIN_FRAME_LENGTH}..${MAX_FRAME_LENGTH}`)
  }
}

/**
 * Parses a header from the start of `bytes`. Throws `NeedMoreBytes` (internal) when the input
 * ends inside the header; the public wrappers turn that into {@link EnvelopeFormatError}.
 */
export function parseHeaderPrefix(bytes: Uint8Array, limits: ParseLimits = {}): EnvelopeHeader {
  const maxEdks = Math.min(limits.maxEdks ?? DEFAULT_MAX_EDKS, HARD_MAX_EDKS)
  const r = new Reader(bytes)
  // envelope-v1 §2: magic "HGE", format version, suite (§3), frame length (§8, §11), message id
  const magic = r.bytes(3)
  if (magic[0] !== 0x48 || magic[1] !== 0x47 || magic[2] !== 0x45) {
    throw new EnvelopeFormatError('not an envelope (bad magic)')
  }
  const formatVersion = r.u8()
  if (formatVersion !== FORMAT_VERSION)
    throw new UnsupportedFormatError(`unsupported format version ${formatVersion}`)
  const suiteId = r.u16()
  if (SUITE_NAMES[suiteId] === undefined) throw new UnsupportedFormatError(`unsupported suite ${suiteId}`)
  const frameLength = r.u32()
  checkFrameLength(frameLength)
  const messageId = r.bytes(MESSAGE_ID_LENGTH)
  // §7: the wrapped data keys, each `u8 len ‖ provider id ‖ u16 len ‖ key ref ‖ u16 len ‖ edk`
  const edkCount = r.u16()
  if (edkCount === 0) throw new EnvelopeFormatError('envelope has no wrapped key')
  if (edkCount > maxEdks)
    throw new EnvelopeLimitError(`envelope has ${edkCount} wrapped keys, limit ${maxEdks}`)
  const edks: EncryptedDataKey[] = []
  for (let i = 0; i < edkCount; i++) {
    const pLen = r.u8()
    if (pLen === 0 || pLen > MAX_PROVIDER_ID_LENGTH)
      throw new EnvelopeFormatError('provider id length out of range')
    const p = r.bytes(pLen)
    if (!isPrintableAscii(p)) throw new EnvelopeFormatError('provider id is not printable ASCII')
    const kLen = r.u16()
    if (kLen === 0 || kLen > MAX_KEY_REF_LENGTH)
      throw new EnvelopeLimitError('key reference length out of range')
    const k = r.bytes(kLen)
    const eLen = r.u16()
    if (eLen === 0 || eLen > MAX_EDK_LENGTH) throw new EnvelopeLimitError('wrapped key length out of range')
    const edk = r.bytes(eLen)
    let keyRef: string
    try {
      keyRef = utf8Decode(k)
    } catch {
      throw new EnvelopeFormatError('key reference is not UTF-8')
    }
    edks.push({ providerId: utf8Decode(p), keyRef, edk })
  }
  // §4: the stored part of the encryption context; §5: the key commitment; §6: the header tag
  const sLen = r.u16()
  if (sLen > MAX_CONTEXT_BYTES) throw new EnvelopeLimitError('stored context too long')
  const storedContext = r.bytes(sLen)
  if (sLen > 0) decodeContext(storedContext) // validate now; values are used at decrypt
  const commitment = r.bytes(COMMITMENT_LENGTH)
  const authEnd = r.offset
  const headerTag = r.bytes(TAG_LENGTH)
  return {
    formatVersion,
    suiteId,
    frameLength,
    messageId,
    edks,
    storedContext,
    commitment,
    headerTag,
    authenticated: bytes.subarray(0, authEnd),
    length: r.offset,
  }
}

/** Parses the header of a complete envelope (or a header alone). */
export function parseHeader(bytes: Uint8Array, limits?: ParseLimits): EnvelopeHeader {
  try {
    return parseHeaderPrefix(bytes, limits)
  } catch (e) {
    if (e instanceof NeedMoreBytes) throw new EnvelopeFormatError('envelope header is truncated')
    throw e
  }
}

// Provider ids and key references repeat from header to header: their UTF-8 forms are memoised
// (bounded; they are public identifiers, never secrets).
const encodedNames = new Map<string, Uint8Array>()
function encodedName(s: string): Uint8Array {
  let b = encodedNames.get(s)
  if (b === undefined) {
    b = utf8Encode(s)
    if (encodedNames.size >= 256) encodedNames.clear()
    encodedNames.set(s, b)
  }
  return b
}

/** Serialises the authenticated part of a header (magic through commitment), in one allocation. */
export function serializeHeaderBody(
  h: Omit<EnvelopeHeader, 'headerTag' | 'authenticated' | 'length'>,
): Uint8Array {
  if (h.edks.length > 0xffff || h.storedContext.length > 0xffff)
    throw new EnvelopeFormatError('u16 field out of range')
  const encoded: Array<[Uint8Array, Uint8Array, Uint8Array]> = []
  let size = 3 + 1 + 2 + 4 + h.messageId.length + 2 + 2 + h.storedContext.length + h.commitment.length
  for (const e of h.edks) {
    const p = encodedName(e.providerId)
    const k = encodedName(e.keyRef)
    if (p.length === 0 || p.length > MAX_PROVIDER_ID_LENGTH || !isPrintableAscii(p)) {
      throw new EnvelopeFormatError('provider id must be 1..64 printable ASCII bytes')
    }
    if (k.length === 0 || k.length > MAX_KEY_REF_LENGTH)
      throw new EnvelopeLimitError('key reference length out of range')
    if (e.edk.length === 0 || e.edk.length > MAX_EDK_LENGTH)
      throw new EnvelopeLimitError('wrapped key length out of range')
    encoded.push([p, k, e.edk])
    size += 1 + p.length + 2 + k.length + 2 + e.edk.length
  }
  const out = new Uint8Array(size)
  const dv = new DataView(out.buffer)
  out.set(ENVELOPE_MAGIC, 0)
  out[3] = h.formatVersion
  dv.setUint16(4, h.suiteId)
  dv.setUint32(6, h.frameLength)
  out.set(h.messageId, 10)
  let o = 10 + h.messageId.length
  dv.setUint16(o, h.edks.length)
  o += 2
  for (const [p, k, edk] of encoded) {
    out[o] = p.length
    out.set(p, o + 1)
    o += 1 + p.length
    dv.setUint16(o, k.length)
    out.set(k, o + 2)
    o += 2 + k.length
    dv.setUint16(o, edk.length)
    out.set(edk, o + 2)
    o += 2 + edk.length
  }
  dv.setUint16(o, h.storedContext.length)
  out.set(h.storedContext, o + 2)
  o += 2 + h.storedContext.length
  out.set(h.commitment, o)
  return out
}

/** Number of frames and plaintext length implied by a body length, or undefined if impossible. */
export function bodyShape(
  bodyLength: number,
  frameLength: number,
): { frames: number; plaintextLength: number } | undefined {
  const full = frameLength + TAG_LENGTH
  const fullFrames = Math.floor(bodyLength / full)
  const rest = bodyLength - fullFrames * full
  if (rest < TAG_LENGTH) return undefined
  return { frames: fullFrames + 1, plaintextLength: fullFrames * frameLength + rest - TAG_LENGTH }
}

/**
 * Reports an envelope's format, suite, frame length, message id, key references and stored
 * context, without any key: batch jobs use it to find ciphertexts still under an old KEK version
 * (then `rewrap` them). Accepts a complete envelope or just its leading bytes (a header).
 *
 * HIPAA: 164.312(a)(2)(iv) and 164.308(a)(1)(ii)(B) risk management (find data under keys due
 * for rotation without decrypting it).
 *
 * @param bytes - the envelope, or at least its header.
 * @param limits - parse bounds (`maxEdks`, default 4).
 * @hipaa 164.312(a)(2)(iv) supports
 * @nist SC-12 164.312(a)(2)(iv): finds the ciphertexts still under an old key version, without any key, so they can be rewrapped before the version is retired
 * @evidence format, suite and key references of a ciphertext without any key, to find rows under old key versions
 * @verifiedBy packages/envelope/test/format.test.ts
 * @throws {EnvelopeFormatError} when the bytes are not an envelope header.
 * @throws {UnsupportedFormatError} for an unknown version or suite.
 * @throws {EnvelopeLimitError} when a bound is exceeded.
 * @example
 * ```ts
 * const info = inspectEnvelope(row.ssn_ct)
 * if (!info.keys.some((k) => k.keyRef === primary.keyRef)) queueForRewrap(row.id)
 * ```
 */
export function inspectEnvelope(bytes: Uint8Array, limits?: ParseLimits): EnvelopeInfo {
  assertBytes(bytes, 'bytes')
  const h = parseHeader(bytes, limits)
  const info: EnvelopeInfo = {
    format: 'hge',
    formatVersion: h.formatVersion,
    suiteId: h.suiteId,
    suite: SUITE_NAMES[h.suiteId] as string,
    frameLength: h.frameLength,
    messageId: bytesToHex(h.messageId),
    keys: h.edks.map((e) => ({ providerId: e.providerId, keyRef: e.keyRef })),
    storedContext: h.storedContext.length > 0 ? decodeContext(h.storedContext) : {},
    headerLength: h.length,
  }
  const total = limits?.totalLength ?? bytes.length
  if (total > h.length) {
    const shape = bodyShape(total - h.length, h.frameLength)
    if (shape) info.body = shape
  }
  return info
}
