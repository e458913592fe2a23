/**
 * The envelope wire formats, versions 1 and 2 (specified in `docs/formats/envelope-v1.md` and
 * `docs/formats/envelope-v2.md`). All integers big-endian.
 *
 * ```
 * v1 header = "HGE" ‖ u8 0x01 ‖ u16 suiteId (0x0001) ‖ u32 frameLength
 *           ‖ messageId[32] ‖ u16 edkCount ‖ edk* ‖ u16 storedContextLen ‖ storedContext
 *           ‖ commitment[32] ‖ headerTag[16]
 * v2 header = "HGE" ‖ u8 0x02 ‖ u16 suiteId (0x0002) ‖ u32 frameLength ‖ messageId[32]
 *           ‖ u16 storedContextLen ‖ storedContext ‖ commitment[32]     (A: every frame's AAD)
 *           ‖ u16 edkCount ‖ edk*                                      (rewrap replaces only this)
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
/** Format version 1: read forever; written only when asked (`createEnvelope({ formatVersion: 1 })`). */
export const FORMAT_VERSION = 1
/** Format version 2, written by default: one HKDF-Expand, the header as the frames' AAD, no header tag. */
export const FORMAT_VERSION_2 = 2
/** The format versions this library reads (and can write). */
export type FormatVersion = 1 | 2
/** Suite 0x0001 (format v1 only): AES-256-GCM, HKDF-SHA-512 key schedule, key commitment, 12-byte IV, 16-byte tag. */
export const SUITE_AES256GCM_HKDF_SHA512_COMMIT = 0x0001
/**
 * Suite 0x0002 (format v2 only): AES-256-GCM with a 12-byte IV and 16-byte tag, HKDF-Expand-SHA-256
 * key schedule (RFC 5869 §2.3 alone: the data key is uniform, §3.3), 256-bit key commitment.
 */
export const SUITE_AES256GCM_HKDF_EXPAND_SHA256_COMMIT = 0x0002
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
  /**
   * v1: the bytes the header tag authenticates (from the magic through the commitment); v2: the
   * bytes every frame takes as AAD (from the magic through the commitment, the wrapped keys after).
   */
  authenticated: Uint8Array
  /** Total header length in bytes, including the tag. */
  length: number
}

/** What {@link inspectEnvelope} reports: everything in the header, without any key. */
export interface EnvelopeInfo {
  /** Always `hge`. */
  format: 'hge'
  /** The format version (1 or 2). */
  formatVersion: number
  /** The suite id (1 in format v1, 2 in format v2). */
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
  [SUITE_AES256GCM_HKDF_EXPAND_SHA256_COMMIT]: 'AES-256-GCM/HKDF-Expand-SHA-256/commit',
}

/** The one suite each format version allows (a suite never crosses versions: no v1/v2 confusion). */
export const SUITE_OF_VERSION: Readonly<Record<FormatVersion, number>> = {
  1: SUITE_AES256GCM_HKDF_SHA512_COMMIT,
  2: SUITE_AES256GCM_HKDF_EXPAND_SHA256_COMMIT,
}

function isPrintableAscii(b: Uint8Array): boolean {
  for (const c of b) if (c < 0x21 || c > 0x7e) return false
  return true
}

const NO_TAG: Uint8Array = new Uint8Array(0)

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
  if (formatVersion !== FORMAT_VERSION && formatVersion !== FORMAT_VERSION_2)
    throw new UnsupportedFormatError(`unsupported format version ${formatVersion}`)
  const suiteId = r.u16()
  if (SUITE_OF_VERSION[formatVersion] !== suiteId)
    throw new UnsupportedFormatError(`unsupported suite ${suiteId} for format version ${formatVersion}`)
  const frameLength = r.u32()
  checkFrameLength(frameLength)
  const messageId = r.bytes(MESSAGE_ID_LENGTH)
  let edks: EncryptedDataKey[] = []
  let headerTag: Uint8Array = NO_TAG
  // v1 (envelope-v1 §7, §4, §5, §6): wrapped keys, stored context, commitment, header tag;
  // v2 (envelope-v2 §2): stored context and commitment (A ends there), then the wrapped keys
  if (formatVersion === FORMAT_VERSION) edks = readEdks(r, maxEdks)
  const storedContext = readStoredContext(r)
  const commitment = r.bytes(COMMITMENT_LENGTH)
  const authEnd = r.offset
  if (formatVersion === FORMAT_VERSION) headerTag = r.bytes(TAG_LENGTH)
  else edks = readEdks(r, maxEdks)
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

/** Provider ids are ASCII, key references usually are: decoded without TextDecoder when they are. */
function decodeName(b: Uint8Array): string {
  for (const c of b) if (c > 0x7f) return utf8Decode(b)
  return String.fromCharCode.apply(null, b as unknown as number[])
}

/** Reads `u16 edkCount ‖ edk*` (envelope-v1 §2 and §7, the same encoding in v2). */
function readEdks(r: Reader, maxEdks: number): EncryptedDataKey[] {
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
      keyRef = decodeName(k)
    } catch {
      throw new EnvelopeFormatError('key reference is not UTF-8')
    }
    edks.push({ providerId: decodeName(p), keyRef, edk })
  }
  return edks
}

/** Reads `u16 storedContextLen ‖ storedContext`, validated now (its values are used at decrypt). */
function readStoredContext(r: Reader): Uint8Array {
  const sLen = r.u16()
  if (sLen > MAX_CONTEXT_BYTES) throw new EnvelopeLimitError('stored context too long')
  const storedContext = r.bytes(sLen)
  if (sLen > 0) decodeContext(storedContext)
  return storedContext
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

/**
 * Serialises a header without its tag, in one allocation: v1 from the magic through the
 * commitment (the header tag follows); v2 the whole header (A, then the wrapped keys).
 */
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
  const writeEdks = (): void => {
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
  }
  if (h.formatVersion !== FORMAT_VERSION_2) writeEdks()
  dv.setUint16(o, h.storedContext.length)
  out.set(h.storedContext, o + 2)
  o += 2 + h.storedContext.length
  out.set(h.commitment, o)
  o += h.commitment.length
  if (h.formatVersion === FORMAT_VERSION_2) writeEdks()
  return out
}

/** The length of a v2 header's authenticated part A for a stored context of `storedLength` bytes. */
export function authLengthV2(storedLength: number): number {
  return 10 + MESSAGE_ID_LENGTH + 2 + storedLength + COMMITMENT_LENGTH
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
