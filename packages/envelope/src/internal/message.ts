/**
 * Header-level operations shared by one-shot and streaming encryption: writing a header (wrap the
 * data key with every provider, derive the message keys, tag the header), opening one (unwrap,
 * check the commitment in constant time, verify the header tag), and rewrapping one.
 */
import type { RandomSource } from '@safeguards/core'
import { EnvelopeDecryptionError, KekProviderError, KeyUnavailableError } from '../errors.js'
import {
  type EncryptedDataKey,
  type EnvelopeHeader,
  SUITE_AES256GCM_HKDF_SHA512_COMMIT,
  serializeHeaderBody,
} from '../format.js'
import type { KekProvider } from '../kek-provider.js'
import type { Aead } from './aead.js'
import { contextPairs, decodeContext, type EncryptionContext, encodeContext } from './context.js'
import type { KdfBackendName } from './kdf.js'
import {
  checkCommitment,
  contextDigest,
  deriveMessageKeys,
  destroyMessageKeys,
  headerTag,
  type MessageKeys,
  verifyHeaderTag,
  wrapAad,
} from './schedule.js'

/** Resolved configuration of an envelope instance. */
export interface EnvelopeConfig {
  providers: readonly KekProvider[]
  aead: Aead
  kdf: KdfBackendName
  frameLength: number
  storedKeys: readonly string[]
  maxEdks: number
  random: RandomSource
}

/** A context in canonical form with its digest. */
export interface PreparedContext {
  canonical: Uint8Array
  digest: Uint8Array
}

/** Encodes a context and digests it. */
export function prepareContext(context: EncryptionContext): PreparedContext {
  const canonical = encodeContext(context)
  return { canonical, digest: contextDigest(canonical) }
}

/** The stored-context bytes for a context under the configured stored keys. */
export function storedContextFor(cfg: EnvelopeConfig, context: EncryptionContext): Uint8Array {
  if (cfg.storedKeys.length === 0) return new Uint8Array(0)
  const picked: Record<string, string> = {}
  for (const k of cfg.storedKeys) {
    const v = (context as Record<string, unknown>)[k]
    if (typeof v === 'string') picked[k] = v
  }
  return Object.keys(picked).length === 0 ? new Uint8Array(0) : encodeContext(picked)
}

/** Merges the stored context with the caller's; a conflicting value fails like any decryption. */
export function mergeContext(header: EnvelopeHeader, context: EncryptionContext): PreparedContext {
  if (header.storedContext.length === 0) return prepareContext(context)
  contextPairs(context) // validate the caller's part first (typed InvalidContextError)
  const merged: Record<string, string> = {}
  for (const [k, v] of Object.entries(decodeContext(header.storedContext))) merged[k] = v
  for (const [k, v] of Object.entries(context)) {
    if (k in merged && merged[k] !== v) throw new EnvelopeDecryptionError()
    merged[k] = v
  }
  return prepareContext(merged)
}

/** Wraps `dek` with every provider (multi-keyring semantics: any failure fails the encryption). */
async function wrapAll(
  cfg: EnvelopeConfig,
  dek: Uint8Array,
  aad: Uint8Array,
  messageId: Uint8Array,
  to?: string,
): Promise<EncryptedDataKey[]> {
  const edks: EncryptedDataKey[] = []
  for (const p of cfg.providers) {
    const wrapped = await p.wrap(dek, aad, to === undefined ? { messageId } : { messageId, keyRef: to })
    edks.push({ providerId: p.id, keyRef: wrapped.keyRef, edk: wrapped.edk })
  }
  return edks
}

/** Writes a new header; returns its bytes and the message keys for the frames. */
export async function writeHeader(
  cfg: EnvelopeConfig,
  context: EncryptionContext,
  ephemeral = false,
): Promise<{ header: Uint8Array; keys: MessageKeys; messageId: Uint8Array; keyRefs: string[] }> {
  const ctx = prepareContext(context)
  const storedContext = storedContextFor(cfg, context)
  const rnd = cfg.random(64)
  const dek = rnd.subarray(0, 32)
  const messageId = rnd.slice(32, 64)
  const suiteId = SUITE_AES256GCM_HKDF_SHA512_COMMIT
  try {
    const edks = await wrapAll(cfg, dek, wrapAad(suiteId, ctx.digest), messageId)
    const keys = deriveMessageKeys(cfg.aead, cfg.kdf, dek, messageId, suiteId, ctx.digest, ephemeral)
    const body = serializeHeaderBody({
      formatVersion: 1,
      suiteId,
      frameLength: cfg.frameLength,
      messageId,
      edks,
      storedContext,
      commitment: keys.commitment,
    })
    let tag = headerTag(keys, body, ctx.canonical)
    if (tag instanceof Promise) tag = await tag
    const header = new Uint8Array(body.length + tag.length)
    header.set(body, 0)
    header.set(tag, body.length)
    return { header, keys, messageId, keyRefs: edks.map((e) => e.keyRef) }
  } finally {
    rnd.fill(0)
  }
}

/** Unwraps the data key from the first wrapped key a registered provider can open. */
export async function unwrapDek(
  cfg: EnvelopeConfig,
  header: EnvelopeHeader,
  aad: Uint8Array,
): Promise<Uint8Array> {
  let unavailable: unknown
  let failed = false
  for (const e of header.edks) {
    const p = cfg.providers.find((x) => x.id === e.providerId)
    if (p === undefined) continue
    try {
      const dek = await p.unwrap(e.edk, e.keyRef, aad)
      if (!(dek instanceof Uint8Array) || dek.length !== 32) throw new EnvelopeDecryptionError()
      return dek
    } catch (err) {
      if (err instanceof EnvelopeDecryptionError) failed = true
      else if (unavailable === undefined) unavailable = err
    }
  }
  if (failed) throw new EnvelopeDecryptionError()
  if (unavailable instanceof KeyUnavailableError || unavailable instanceof KekProviderError) throw unavailable
  if (unavailable !== undefined) throw unavailable
  throw new KeyUnavailableError(header.edks[0]?.keyRef ?? '(none)', 'no-provider')
}

/** Opens a parsed header: unwrap, commitment check (constant time), header-tag check. */
export async function openHeader(
  cfg: EnvelopeConfig,
  header: EnvelopeHeader,
  context: EncryptionContext,
  ephemeral = false,
): Promise<{ keys: MessageKeys; dek: Uint8Array; ctx: PreparedContext }> {
  const ctx = mergeContext(header, context)
  const dek = await unwrapDek(cfg, header, wrapAad(header.suiteId, ctx.digest))
  const keys = deriveMessageKeys(
    cfg.aead,
    cfg.kdf,
    dek,
    header.messageId,
    header.suiteId,
    ctx.digest,
    ephemeral,
  )
  try {
    checkCommitment(keys, header.commitment)
    const pending = verifyHeaderTag(keys, header.authenticated, ctx.canonical, header.headerTag)
    if (pending !== undefined) await pending
  } catch (e) {
    dek.fill(0)
    destroyMessageKeys(keys)
    throw e
  }
  return { keys, dek, ctx }
}

/** Rewraps a header: same data key, message id and commitment; new wrapped keys and header tag. */
export async function rewrapHeader(
  cfg: EnvelopeConfig,
  header: EnvelopeHeader,
  context: EncryptionContext,
  to?: string,
): Promise<Uint8Array> {
  const { keys, dek, ctx } = await openHeader(cfg, header, context, true)
  try {
    const edks = await wrapAll(cfg, dek, wrapAad(header.suiteId, ctx.digest), header.messageId, to)
    const body = serializeHeaderBody({
      formatVersion: header.formatVersion,
      suiteId: header.suiteId,
      frameLength: header.frameLength,
      messageId: header.messageId,
      edks,
      storedContext: header.storedContext,
      commitment: header.commitment,
    })
    let tag = headerTag(keys, body, ctx.canonical)
    if (tag instanceof Promise) tag = await tag
    const out = new Uint8Array(body.length + tag.length)
    out.set(body, 0)
    out.set(tag, body.length)
    return out
  } finally {
    dek.fill(0)
    destroyMessageKeys(keys)
  }
}
