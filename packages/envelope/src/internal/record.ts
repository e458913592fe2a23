/**
 * One-shot encryption and decryption (a record or any buffer in memory), given the data key, in
 * format v1 (header tag, HKDF-SHA-512) or v2 (the header as every frame's AAD, one HKDF-Expand).
 *
 * On synchronous backends (node:crypto, noble) the whole message is processed without yielding:
 * the message keys are derived into a scratch buffer, used for the header tag and the frames, and
 * zeroised before returning; the output is allocated once and the header template, message id,
 * commitment, tag and frames are written into it in place. Asynchronous backends (Web Crypto)
 * derive the keys into their own handles first, then await each operation.
 */
import { EnvelopeDecryptionError } from '../errors.js'
import { type EnvelopeHeader, TAG_LENGTH } from '../format.js'
import type { HeaderMaterial } from './key-cache.js'
import { deriveKeysFor, type EnvelopeConfig, placeHeader } from './message.js'
import {
  checkCommitment,
  deriveScratchKeys,
  destroyMessageKeys,
  headerTag,
  type MessageKeys,
  openFrame,
  openFrameSync,
  scratchKeys,
  sealFrame,
  sealFrameInto,
  verifyHeaderTag,
  verifyHeaderTagSync,
  wipeScratchKeys,
} from './schedule.js'
import { deriveScratchKeysV2, scratchKeysV2, wipeScratchKeysV2 } from './schedule-v2.js'

/** Frames of a body: `frames` of `frameLength` plaintext bytes, the last one strictly shorter. */
export interface BodyShape {
  frames: number
  plaintextLength: number
}

/** The frames (count) of a plaintext of `length` bytes. */
export function frameCount(length: number, frameLength: number): number {
  return Math.floor(length / frameLength) + 1
}

/** Writes the frames of `plaintext` into `out` from `at`, synchronously; false if the backend is async. */
function sealFramesSync(
  keys: MessageKeys,
  frameLength: number,
  plaintext: Uint8Array,
  out: Uint8Array,
  at: number,
): boolean {
  const frames = frameCount(plaintext.length, frameLength)
  let o = at
  for (let i = 0; i < frames; i++) {
    const final = i === frames - 1
    const pt = plaintext.subarray(i * frameLength, final ? plaintext.length : (i + 1) * frameLength)
    if (!sealFrameInto(keys, i, final, pt, out, o)) return false
    o += pt.length + TAG_LENGTH
  }
  return true
}

/**
 * Encrypts `plaintext` as one envelope under the data key and header template of `m`, with this
 * message's `messageId`; `canonical` is the full context. `owned`: zeroise `m.dek` once the
 * message keys are derived (the key is not cached).
 */
export function sealRecord(
  cfg: EnvelopeConfig,
  m: HeaderMaterial,
  messageId: Uint8Array,
  plaintext: Uint8Array,
  canonical: Uint8Array,
  owned: boolean,
): Uint8Array | Promise<Uint8Array> {
  const v2 = m.version === 2
  const frames = frameCount(plaintext.length, cfg.frameLength)
  const bodyLength = m.template.length
  const headerLength = v2 ? bodyLength : bodyLength + TAG_LENGTH
  const out = new Uint8Array(headerLength + plaintext.length + frames * TAG_LENGTH)
  let keys: MessageKeys
  try {
    const k = v2 ? scratchKeysV2(cfg.aead) : scratchKeys(cfg.aead)
    if (k !== undefined) {
      try {
        if (v2) {
          // v2: one HKDF-Expand; the header through the commitment is every frame's AAD
          deriveScratchKeysV2(cfg.kdf, m.dek, messageId, m.info)
          placeHeader(out, m, messageId, k.commitment)
          k.frameAad = out.subarray(0, m.authLength)
        } else {
          deriveScratchKeys(cfg.kdf, m.dek, messageId, m.info)
          placeHeader(out, m, messageId, k.commitment)
          out.set(headerTag(k, out.subarray(0, bodyLength), canonical) as Uint8Array, bodyLength)
        }
        sealFramesSync(k, cfg.frameLength, plaintext, out, headerLength)
        return out
      } finally {
        if (v2) wipeScratchKeysV2(k)
        else wipeScratchKeys()
      }
    }
    keys = deriveKeysFor(m.version, cfg, m.dek, messageId, m.info, true)
  } finally {
    if (owned) m.dek.fill(0)
  }
  return (async () => {
    try {
      placeHeader(out, m, messageId, keys.commitment)
      if (v2) keys.frameAad = out.subarray(0, m.authLength)
      else out.set(await headerTag(keys, out.subarray(0, bodyLength), canonical), bodyLength)
      let o = headerLength
      for (let i = 0; i < frames; i++) {
        const final = i === frames - 1
        const end = final ? plaintext.length : (i + 1) * cfg.frameLength
        const [ct, tag] = await sealFrame(keys, i, final, plaintext.subarray(i * cfg.frameLength, end))
        out.set(ct, o)
        out.set(tag, o + ct.length)
        o += ct.length + tag.length
      }
      return out
    } finally {
      destroyMessageKeys(keys)
    }
  })()
}

/** Opens the frames of a parsed envelope; `open` authenticates and decrypts one frame. */
function openFrames(
  header: EnvelopeHeader,
  ciphertext: Uint8Array,
  shape: BodyShape,
  open: (index: number, final: boolean, sealed: Uint8Array) => Uint8Array,
): Uint8Array {
  if (shape.frames === 1) {
    // a record: the frame's plaintext is the result (no second buffer, no copy)
    return open(0, true, ciphertext.subarray(header.length))
  }
  const out = new Uint8Array(shape.plaintextLength)
  const full = header.frameLength + TAG_LENGTH
  let o = header.length
  try {
    for (let i = 0; i < shape.frames; i++) {
      const final = i === shape.frames - 1
      const end = final ? ciphertext.length : o + full
      const pt = open(i, final, ciphertext.subarray(o, end))
      out.set(pt, i * header.frameLength)
      pt.fill(0)
      o = end
    }
  } catch (e) {
    out.fill(0)
    throw e
  }
  return out
}

/**
 * Decrypts a parsed envelope with its data key and HKDF info: commitment (constant time), header
 * tag, then every frame. `canonical` is the full context. Throws the generic error on any failure.
 */
export function openRecord(
  cfg: EnvelopeConfig,
  header: EnvelopeHeader,
  canonical: Uint8Array,
  dek: Uint8Array,
  info: Uint8Array,
  ciphertext: Uint8Array,
  shape: BodyShape,
): Uint8Array | Promise<Uint8Array> {
  const v2 = header.formatVersion === 2
  const k = v2 ? scratchKeysV2(cfg.aead) : scratchKeys(cfg.aead)
  if (k !== undefined) {
    try {
      if (v2) {
        // v2 §8: the commitment in constant time, before any frame is opened
        deriveScratchKeysV2(cfg.kdf, dek, header.messageId, info)
        checkCommitment(k, header.commitment)
        k.frameAad = header.authenticated
      } else {
        deriveScratchKeys(cfg.kdf, dek, header.messageId, info)
        checkCommitment(k, header.commitment)
        if (!verifyHeaderTagSync(k, header.authenticated, canonical, header.headerTag))
          throw new EnvelopeDecryptionError() // unreachable: scratch keys need a synchronous backend
      }
      return openFrames(header, ciphertext, shape, (i, final, sealed) => {
        const pt = openFrameSync(k, i, final, sealed)
        if (pt === undefined) throw new EnvelopeDecryptionError()
        return pt
      })
    } finally {
      if (v2) wipeScratchKeysV2(k)
      else wipeScratchKeys()
    }
  }
  const keys = deriveKeysFor(v2 ? 2 : 1, cfg, dek, header.messageId, info, true)
  return (async () => {
    try {
      checkCommitment(keys, header.commitment)
      if (v2) keys.frameAad = header.authenticated
      else await verifyHeaderTag(keys, header.authenticated, canonical, header.headerTag)
      // frames are opened one after another; collect them first (no await inside openFrames)
      const pts: Uint8Array[] = []
      try {
        let o = header.length
        const full = header.frameLength + TAG_LENGTH
        for (let i = 0; i < shape.frames; i++) {
          const final = i === shape.frames - 1
          const end = final ? ciphertext.length : o + full
          pts.push(await openFrame(keys, i, final, ciphertext.subarray(o, end)))
          o = end
        }
      } catch (e) {
        for (const p of pts) p.fill(0)
        throw e
      }
      let i = 0
      return openFrames(header, ciphertext, shape, () => pts[i++] as Uint8Array)
    } finally {
      destroyMessageKeys(keys)
    }
  })()
}
