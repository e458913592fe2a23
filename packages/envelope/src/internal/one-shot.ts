/**
 * One-shot envelopes (a buffer in, a buffer out): encryption under a fresh or cached data key,
 * decryption, and rewrapping a header. The data-key cache path is handled synchronously from
 * lookup to output (the cached key is used before anything can evict it), so a cache hit costs
 * no extra promise hop. Formats: `docs/formats/envelope-v2.md` (written by default) and
 * `docs/formats/envelope-v1.md` (read always, written on request).
 */
import { assertBytes } from '@safeguards/core'
import { EnvelopeDecryptionError } from '../errors.js'
import { bodyShape, type FormatVersion, parseHeader } from '../format.js'
import { type EncryptionContext, encodeContext } from './context.js'
import type { HeaderMaterial } from './key-cache.js'
import {
  type EnvelopeConfig,
  mergeContext,
  rewrapHeader,
  storedContextFor,
  withDataKey,
  wrapMaterial,
  writeVersion,
} from './message.js'
import { frameCount, openRecord, sealRecord } from './record.js'
import { contextDigest, MAX_FRAMES } from './schedule.js'

/** Bytes now or later. */
export type MaybeAsync<T> = T | Promise<T>

/** Runs a maybe-synchronous operation as a promise (a synchronous throw becomes a rejection). */
export function settle<T>(op: () => MaybeAsync<T>): Promise<T> {
  try {
    const r = op()
    return r instanceof Promise ? r : Promise.resolve(r)
  } catch (e) {
    return Promise.reject(e)
  }
}

/**
 * Encrypts `plaintext` as one envelope in format `version` (default the instance's), under a
 * cached data key when one fits.
 */
export function encryptRecord(
  cfg: EnvelopeConfig,
  plaintext: Uint8Array,
  context: EncryptionContext,
  version: FormatVersion = writeVersion(cfg),
): MaybeAsync<Uint8Array> {
  assertBytes(plaintext, 'plaintext')
  if (frameCount(plaintext.length, cfg.frameLength) > MAX_FRAMES)
    throw new RangeError('"plaintext" is too long for one envelope')
  const canonical = encodeContext(context)
  const cache = cfg.cache?.encrypt ? cfg.cache : undefined
  const contextKey = cache?.contextKey(canonical, contextDigest)
  // a cached data key serves one format version (its header template and HKDF info are per version)
  const key = contextKey === undefined || version === 2 ? contextKey : `v${version}${contextKey}`
  if (cache !== undefined && key !== undefined) {
    const hit = cache.takeWrite(key, plaintext.length)
    if (hit !== undefined)
      return sealRecord(cfg, hit.material, cfg.random(32), plaintext, canonical, hit.owned)
  }
  return encryptMiss(cfg, plaintext, context, canonical, key, version)
}

/** Encryption without a cached data key: waits for a wrap in flight for the same context, else wraps. */
async function encryptMiss(
  cfg: EnvelopeConfig,
  plaintext: Uint8Array,
  context: EncryptionContext,
  canonical: Uint8Array,
  key: string | undefined,
  version: FormatVersion,
): Promise<Uint8Array> {
  const cache = key === undefined ? undefined : cfg.cache
  if (cache !== undefined && key !== undefined) {
    // another call is wrapping a data key for this context: wait for it rather than wrap too
    const pending = cache.pendingWrite(key)
    if (pending !== undefined) {
      await pending.catch(() => undefined)
      const hit = cache.takeWrite(key, plaintext.length)
      if (hit !== undefined)
        return sealRecord(cfg, hit.material, cfg.random(32), plaintext, canonical, hit.owned)
    }
  }
  const generation = cache?.generation() ?? 0
  const rnd = cfg.random(64) // data key ‖ message id
  const dek = rnd.slice(0, 32)
  const messageId = rnd.slice(32, 64)
  rnd.fill(0)
  let material: HeaderMaterial
  try {
    const fill = wrapMaterial(cfg, canonical, storedContextFor(cfg, context), dek, messageId, version)
    if (cache !== undefined && key !== undefined) cache.trackWrite(key, fill)
    material = await fill
  } catch (e) {
    dek.fill(0)
    throw e
  }
  const kept =
    cache !== undefined && key !== undefined && cache.putWrite(key, material, plaintext.length, generation)
  return sealRecord(cfg, material, messageId, plaintext, canonical, !kept)
}

/** Decrypts one envelope of either version: header, data key (cached or unwrapped), frames. */
export function decryptRecord(
  cfg: EnvelopeConfig,
  ciphertext: Uint8Array,
  context: EncryptionContext,
): MaybeAsync<Uint8Array> {
  assertBytes(ciphertext, 'ciphertext')
  const header = parseHeader(ciphertext, { maxEdks: cfg.maxEdks })
  const shape = bodyShape(ciphertext.length - header.length, header.frameLength)
  const canonical = mergeContext(header, context)
  return withDataKey(cfg, header, canonical, (dek, info) => {
    if (shape === undefined || shape.frames > MAX_FRAMES) throw new EnvelopeDecryptionError()
    return openRecord(cfg, header, canonical, dek, info, ciphertext, shape)
  })
}

/**
 * Rewrites only the header of one envelope, under the primary KEK or `to`, keeping its format
 * version; the body is copied unchanged.
 */
export async function rewrapRecord(
  cfg: EnvelopeConfig,
  ciphertext: Uint8Array,
  context: EncryptionContext,
  to: string | undefined,
): Promise<Uint8Array> {
  assertBytes(ciphertext, 'ciphertext')
  const header = parseHeader(ciphertext, { maxEdks: cfg.maxEdks })
  const fresh = await rewrapHeader(cfg, header, context, to)
  const out = new Uint8Array(fresh.length + ciphertext.length - header.length)
  out.set(fresh, 0)
  out.set(ciphertext.subarray(header.length), fresh.length)
  return out
}
