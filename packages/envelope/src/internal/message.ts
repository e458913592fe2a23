/**
 * Header-level operations shared by one-shot and streaming encryption, for both format versions:
 * wrapping a data key into a header template, writing a header (derive the message keys; v1 also
 * tags the header, v2 makes it the frames' AAD), obtaining a header's data key (from the data-key
 * cache or by unwrapping), opening a header (commitment in constant time; v1 also the header
 * tag), and rewrapping one.
 */
import type { RandomSource } from '@safeguards/core'
import { EnvelopeDecryptionError, KekProviderError, KeyUnavailableError } from '../errors.js'
import {
  authLengthV2,
  type EncryptedDataKey,
  type EnvelopeHeader,
  type FormatVersion,
  SUITE_OF_VERSION,
  serializeHeaderBody,
  TAG_LENGTH,
} from '../format.js'
import type { KekProvider } from '../kek-provider.js'
import type { Aead } from './aead.js'
import { contextPairs, decodeContext, type EncryptionContext, encodeContext } from './context.js'
import type { KdfBackendName } from './kdf.js'
import type { DataKeyCache, HeaderMaterial } from './key-cache.js'
import {
  checkCommitment,
  contextDigest,
  deriveMessageKeys,
  destroyMessageKeys,
  headerTag,
  type MessageKeys,
  scheduleInfo,
  verifyHeaderTag,
  wrapAad,
} from './schedule.js'
import { deriveMessageKeysV2 } from './schedule-v2.js'

/** Resolved configuration of an envelope instance. */
export interface EnvelopeConfig {
  providers: readonly KekProvider[]
  aead: Aead
  kdf: KdfBackendName
  frameLength: number
  storedKeys: readonly string[]
  maxEdks: number
  random: RandomSource
  /** The instance's data-key cache, when configured. */
  cache: DataKeyCache | undefined
  /** The format version new messages are written in (default 2). */
  formatVersion?: FormatVersion
}

/** The format version `cfg` writes. */
export function writeVersion(cfg: EnvelopeConfig): FormatVersion {
  return cfg.formatVersion ?? 2
}

/**
 * Derives a message's keys into their own handles for `version` (`info`: v1 the HKDF info, v2 its
 * constant prefix). v2 keys get their frame AAD once the header's authenticated part is known.
 */
export function deriveKeysFor(
  version: FormatVersion,
  cfg: EnvelopeConfig,
  dek: Uint8Array,
  messageId: Uint8Array,
  info: Uint8Array,
  ephemeral = false,
): MessageKeys {
  return version === 2
    ? deriveMessageKeysV2(cfg.aead, cfg.kdf, dek, messageId, info, ephemeral)
    : deriveMessageKeys(cfg.aead, cfg.kdf, dek, messageId, info, ephemeral)
}

/** Where the message id sits in a header (both versions): after magic, version, suite and frame length. */
const MESSAGE_ID_OFFSET = 10
const COMMITMENT_LENGTH = 32
const ZERO_ID = new Uint8Array(32)

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

/**
 * The canonical bytes of the full context: the stored context merged with the caller's; a
 * conflicting value fails like any decryption.
 */
export function mergeContext(header: EnvelopeHeader, context: EncryptionContext): Uint8Array {
  if (header.storedContext.length === 0) return encodeContext(context)
  contextPairs(context) // validate the caller's part first (typed InvalidContextError)
  const merged: Record<string, string> = {}
  for (const [k, v] of Object.entries(decodeContext(header.storedContext))) merged[k] = v
  for (const [k, v] of Object.entries(context)) {
    if (k in merged && merged[k] !== v) throw new EnvelopeDecryptionError()
    merged[k] = v
  }
  return encodeContext(merged)
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

/**
 * Wraps a new data key with every provider and builds the header template. `messageId` is the
 * first message's (providers may use it; with the data-key cache later messages reuse the wrap).
 */
export async function wrapMaterial(
  cfg: EnvelopeConfig,
  canonical: Uint8Array,
  storedContext: Uint8Array,
  dek: Uint8Array,
  messageId: Uint8Array,
  version: FormatVersion = writeVersion(cfg),
): Promise<HeaderMaterial> {
  const suiteId = SUITE_OF_VERSION[version]
  const digest = contextDigest(canonical)
  const edks = await wrapAll(cfg, dek, wrapAad(suiteId, digest), messageId)
  const template = serializeHeaderBody({
    formatVersion: version,
    suiteId,
    frameLength: cfg.frameLength,
    messageId: ZERO_ID,
    edks,
    storedContext,
    commitment: ZERO_ID,
  })
  return {
    dek,
    keyRefs: edks.map((e) => e.keyRef),
    template,
    info: scheduleInfo(suiteId, digest),
    version,
    authLength: version === 2 ? authLengthV2(storedContext.length) : template.length,
  }
}

/**
 * Writes a header into `out` at 0: the template of `m` with the message id and the commitment in
 * place (the commitment ends the authenticated part). In v1 the header tag follows the template.
 */
export function placeHeader(
  out: Uint8Array,
  m: Pick<HeaderMaterial, 'template' | 'authLength'>,
  messageId: Uint8Array,
  commitment: Uint8Array,
): void {
  out.set(m.template, 0)
  out.set(messageId, MESSAGE_ID_OFFSET)
  out.set(commitment, m.authLength - COMMITMENT_LENGTH)
}

/** Writes a new header (streams: a fresh data key, never cached); returns it and the message keys. */
export async function writeHeader(
  cfg: EnvelopeConfig,
  context: EncryptionContext,
): Promise<{ header: Uint8Array; keys: MessageKeys; messageId: Uint8Array; keyRefs: readonly string[] }> {
  const canonical = encodeContext(context)
  const storedContext = storedContextFor(cfg, context)
  const rnd = cfg.random(64)
  const dek = rnd.subarray(0, 32)
  const messageId = rnd.slice(32, 64)
  try {
    const m = await wrapMaterial(cfg, canonical, storedContext, dek, messageId)
    const keys = deriveKeysFor(m.version, cfg, dek, messageId, m.info)
    const bodyLength = m.template.length
    if (m.version === 2) {
      const header = new Uint8Array(bodyLength)
      placeHeader(header, m, messageId, keys.commitment)
      keys.frameAad = header.slice(0, m.authLength) // a copy: the header itself goes downstream
      return { header, keys, messageId, keyRefs: m.keyRefs }
    }
    const header = new Uint8Array(bodyLength + TAG_LENGTH)
    placeHeader(header, m, messageId, keys.commitment)
    let tag = headerTag(keys, header.subarray(0, bodyLength), canonical)
    if (tag instanceof Promise) tag = await tag
    header.set(tag, bodyLength)
    return { header, keys, messageId, keyRefs: m.keyRefs }
  } finally {
    rnd.fill(0)
  }
}

/** True when a provider with this id is registered. */
function hasProvider(cfg: EnvelopeConfig, id: string): boolean {
  for (const p of cfg.providers) if (p.id === id) return true
  return false
}

/** The data key a provider returned, or the generic error for anything else. */
function checkedDek(dek: unknown): Uint8Array {
  if (!(dek instanceof Uint8Array) || dek.length !== 32) throw new EnvelopeDecryptionError()
  return dek
}

/** A provider's failure as the caller sees it: authentication failures all look the same. */
function unwrapFailure(err: unknown): unknown {
  return err instanceof EnvelopeDecryptionError ? new EnvelopeDecryptionError() : err
}

/**
 * Unwraps the data key from the first wrapped key a registered provider can open. One wrapped key
 * (the common case) takes one promise step; several are tried in order by {@link unwrapDekAny}.
 */
function unwrapDek(
  cfg: EnvelopeConfig,
  header: EnvelopeHeader,
  aad: Uint8Array,
): Promise<{ dek: Uint8Array; edk: EncryptedDataKey }> {
  const e = header.edks.length === 1 ? header.edks[0] : undefined
  const p = e === undefined ? undefined : cfg.providers.find((x) => x.id === e.providerId)
  if (e === undefined || p === undefined) return unwrapDekAny(cfg, header, aad)
  let pending: Uint8Array | Promise<Uint8Array>
  try {
    pending = p.unwrap(e.edk, e.keyRef, aad)
  } catch (err) {
    return Promise.reject(unwrapFailure(err))
  }
  return Promise.resolve(pending).then(
    (dek) => ({ dek: checkedDek(dek), edk: e }),
    (err: unknown) => {
      throw unwrapFailure(err)
    },
  )
}

/** {@link unwrapDek} over every wrapped key, in header order. */
async function unwrapDekAny(
  cfg: EnvelopeConfig,
  header: EnvelopeHeader,
  aad: Uint8Array,
): Promise<{ dek: Uint8Array; edk: EncryptedDataKey }> {
  let unavailable: unknown
  let failed = false
  for (const e of header.edks) {
    const p = cfg.providers.find((x) => x.id === e.providerId)
    if (p === undefined) continue
    try {
      return { dek: checkedDek(await p.unwrap(e.edk, e.keyRef, aad)), edk: e }
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

/**
 * Runs `use` with the header's data key and the HKDF info, synchronously after obtaining the key:
 * from the data-key cache when it holds one of the header's wrapped keys under this context (no
 * provider call), otherwise unwrapped by the providers (then offered to the cache). `use` must not
 * keep the key: a cached one may be zeroised once `use` returns, an uncached one is.
 */
export function withDataKey<T>(
  cfg: EnvelopeConfig,
  header: EnvelopeHeader,
  canonical: Uint8Array,
  use: (dek: Uint8Array, info: Uint8Array) => T | Promise<T>,
): T | Promise<T> {
  const cache = cfg.cache?.decrypt ? cfg.cache : undefined
  if (cache !== undefined) {
    // the last hit again (bulk reads under one data key): no key string to build
    const first = header.edks[0]
    const last = first === undefined ? undefined : cache.getLastRead(header.suiteId, first, canonical)
    if (last !== undefined) return use(last.dek, last.info)
  }
  const contextKey = cache?.contextKey(canonical, contextDigest)
  if (cache !== undefined && contextKey !== undefined) {
    for (const e of header.edks) {
      if (!hasProvider(cfg, e.providerId)) continue
      const key = cache.readKey(header.suiteId, e, contextKey)
      const hit = cache.getRead(key)
      if (hit === undefined) continue
      cache.noteRead(header.suiteId, e, canonical, key)
      return use(hit.dek, hit.info)
    }
  }
  const generation = cache?.generation() ?? 0
  const digest = contextDigest(canonical)
  return unwrapDek(cfg, header, wrapAad(header.suiteId, digest)).then(({ dek, edk }): T | Promise<T> => {
    const info = scheduleInfo(header.suiteId, digest)
    const readKey =
      cache === undefined || contextKey === undefined
        ? undefined
        : cache.readKey(header.suiteId, edk, contextKey)
    const kept = readKey !== undefined && cache?.putRead(readKey, dek, info, generation) === true
    if (kept && readKey !== undefined) cache?.noteRead(header.suiteId, edk, canonical, readKey)
    // no extra promise step when `use` is synchronous (records on node:crypto and noble)
    let r: T | Promise<T>
    try {
      r = use(dek, info)
    } catch (e) {
      if (!kept) dek.fill(0)
      throw e
    }
    if (!(r instanceof Promise)) {
      if (!kept) dek.fill(0)
      return r
    }
    return r.finally(() => {
      if (!kept) dek.fill(0)
    })
  })
}

/** Opens a parsed header (streams): data key, commitment check (constant time), header-tag check. */
export async function openHeader(
  cfg: EnvelopeConfig,
  header: EnvelopeHeader,
  context: EncryptionContext,
): Promise<MessageKeys> {
  const canonical = mergeContext(header, context)
  // derive (copying the key into its own handle) while the data key is certainly alive
  const version = header.formatVersion as FormatVersion
  const keys = await withDataKey(cfg, header, canonical, (dek, info) =>
    deriveKeysFor(version, cfg, dek, header.messageId, info),
  )
  try {
    checkCommitment(keys, header.commitment)
    if (version === 2) keys.frameAad = header.authenticated
    else {
      const pending = verifyHeaderTag(keys, header.authenticated, canonical, header.headerTag)
      if (pending !== undefined) await pending
    }
  } catch (e) {
    destroyMessageKeys(keys)
    throw e
  }
  return keys
}

/**
 * Rewraps a header: same data key, message id and commitment; new wrapped keys (and in v1 a new
 * header tag). The version is kept; a v2 header's authenticated part is unchanged, so the frames
 * (which authenticate it) stay valid.
 */
export async function rewrapHeader(
  cfg: EnvelopeConfig,
  header: EnvelopeHeader,
  context: EncryptionContext,
  to?: string,
): Promise<Uint8Array> {
  // never through the data-key cache: the data key is needed across the new wraps, and rewrap is
  // the moment to ask the providers about the old key
  const canonical = mergeContext(header, context)
  const digest = contextDigest(canonical)
  const { dek } = await unwrapDek(cfg, header, wrapAad(header.suiteId, digest))
  const version = header.formatVersion as FormatVersion
  const keys = deriveKeysFor(version, cfg, dek, header.messageId, scheduleInfo(header.suiteId, digest), true)
  try {
    checkCommitment(keys, header.commitment)
    if (version === 1) {
      const pending = verifyHeaderTag(keys, header.authenticated, canonical, header.headerTag)
      if (pending !== undefined) await pending
    }
    const edks = await wrapAll(cfg, dek, wrapAad(header.suiteId, digest), header.messageId, to)
    const body = serializeHeaderBody({
      formatVersion: header.formatVersion,
      suiteId: header.suiteId,
      frameLength: header.frameLength,
      messageId: header.messageId,
      edks,
      storedContext: header.storedContext,
      commitment: header.commitment,
    })
    if (version === 2) return body
    let tag = headerTag(keys, body, canonical)
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
