/**
 * AES-256-GCM (NIST SP 800-38D) with a 96-bit IV and a 128-bit tag: the only AEAD the envelope
 * uses. Three backends give identical bytes (cross-checked in the tests):
 * - `node`: node:crypto, a native OpenSSL implementation, keys imported once as KeyObjects;
 * - `webcrypto`: `crypto.subtle`, keys imported once as non-extractable CryptoKeys and cached;
 * - `noble`: @noble/ciphers, pure JavaScript, for runtimes with neither.
 *
 * Every authentication failure throws {@link EnvelopeDecryptionError}: one error, no detail.
 */
import { gcm } from '@noble/ciphers/aes.js'
import { assertBytes, concatBytes } from '@safeguards/core'
import { EnvelopeDecryptionError } from '../errors.js'
import { nodeCrypto, subtle } from './native.js'

/** Which AES-GCM implementation runs. */
export type AeadBackendName = 'node' | 'webcrypto' | 'noble'

/** An imported AES-256 key: import once, use many times. */
export interface AeadKey {
  /** The backend-specific handle (KeyObject, CryptoKey promise, or the raw bytes for noble). */
  readonly handle: unknown
  /** The raw bytes, kept only for the noble backend (and zeroised by `destroy`). */
  readonly raw: Uint8Array | undefined
}

/** An AES-256-GCM implementation. `seal` returns `ciphertext ‖ tag`; `open` takes the same. */
export interface Aead {
  readonly name: AeadBackendName
  /**
   * Imports a key. `ephemeral` marks a key used for a handful of calls (one record): node:crypto
   * then keeps a private copy of the bytes instead of a KeyObject, which costs more to create than
   * it saves; {@link destroyKey} zeroises that copy.
   */
  importKey(raw: Uint8Array, ephemeral?: boolean): AeadKey
  /** Synchronous `sealParts`, on backends that compute in the calling thread (node, noble). */
  readonly sealPartsSync?: (
    key: AeadKey,
    iv: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
  ) => [Uint8Array, Uint8Array]
  /** Synchronous `open` (node, noble); throws {@link EnvelopeDecryptionError} on any failure. */
  readonly openSync?: (key: AeadKey, iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array) => Uint8Array
  /**
   * A handle over `raw` itself, without a copy (node, noble): valid only while `raw` keeps its
   * bytes, for synchronous calls. The one-shot record path derives each message key into a
   * scratch buffer, uses it at once and zeroises it.
   */
  readonly borrowKey?: (raw: Uint8Array) => AeadKey
  /** Synchronous seal writing `ciphertext ‖ tag` into `out` at `at` (node, noble): no intermediate copy. */
  readonly sealToSync?: (
    key: AeadKey,
    iv: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    at: number,
  ) => void
  /**
   * Synchronous GMAC (node, noble): the AES-GCM tag over an empty plaintext with the concatenation
   * of `aad` as AAD, without concatenating the pieces where the backend can feed them one by one.
   */
  readonly tagSync?: (key: AeadKey, iv: Uint8Array, aad: readonly Uint8Array[]) => Uint8Array
  seal(key: AeadKey, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array>
  /** As `seal`, but returns `[ciphertext, tag]` without concatenating them (no copy for bulk data). */
  sealParts(
    key: AeadKey,
    iv: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
  ): Promise<[Uint8Array, Uint8Array]>
  open(key: AeadKey, iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Promise<Uint8Array>
  /**
   * As `open`, for `ciphertext ‖ tag` given in several pieces (a frame that straddles input
   * chunks); returns the plaintext in pieces, all of it only after the tag verifies.
   */
  openParts(
    key: AeadKey,
    iv: Uint8Array,
    aad: Uint8Array,
    parts: readonly Uint8Array[],
  ): Promise<Uint8Array[]>
}

const TAG = 16
const ALG = 'aes-256-gcm'
const TAG_OPTIONS = Object.freeze({ authTagLength: TAG })
const EMPTY = new Uint8Array(0)

function checkArgs(iv: Uint8Array, aad: Uint8Array, data: Uint8Array): void {
  assertBytes(iv, 'iv', 12)
  assertBytes(aad, 'aad')
  assertBytes(data, 'data')
}

/** The synchronous operations of the node and noble backends (always present there). */
type SyncOps = Required<Pick<Aead, 'sealPartsSync' | 'sealToSync' | 'tagSync' | 'openSync'>>

/** The parts as one array (the one part itself when there is only one: no copy). */
function joinParts(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 ? (parts[0] as Uint8Array) : concatBytes(...parts)
}

function split(sealed: Uint8Array): [Uint8Array, Uint8Array] {
  return [sealed.subarray(0, sealed.length - TAG), sealed.subarray(sealed.length - TAG)]
}

function plain(bytes: Uint8Array): Uint8Array {
  // A Buffer is a Uint8Array subclass; callers get a plain view over the same memory.
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * The synchronous core of a backend that computes in the calling thread (node, noble): the
 * promise API of {@link Aead} is derived from it by {@link syncAead}, so a failure (a wrong
 * argument, a tag that does not verify) is always a rejection, never a synchronous throw.
 */
interface SyncBackend extends SyncOps {
  readonly name: AeadBackendName
  importKey(raw: Uint8Array, ephemeral?: boolean): AeadKey
  /** `ciphertext ‖ tag` in one buffer (default: `sealPartsSync`, then one copy). */
  readonly sealSync?: (key: AeadKey, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array) => Uint8Array
  /** `open` over pieces (default: the pieces joined, then `openSync`). */
  readonly openPartsSync?: (
    key: AeadKey,
    iv: Uint8Array,
    aad: Uint8Array,
    parts: readonly Uint8Array[],
  ) => Uint8Array[]
}

/** `f(key, iv, aad, x)` as a promise: its result, or a rejection with what it threw. */
function promised<X, T>(
  f: (key: AeadKey, iv: Uint8Array, aad: Uint8Array, x: X) => T,
  key: AeadKey,
  iv: Uint8Array,
  aad: Uint8Array,
  x: X,
): Promise<T> {
  try {
    return Promise.resolve(f(key, iv, aad, x))
  } catch (e) {
    return Promise.reject(e)
  }
}

/** A backend whose every operation is synchronous underneath (see {@link SyncBackend}). */
function syncAead(b: SyncBackend): Aead {
  const { sealPartsSync, sealToSync, tagSync, openSync } = b
  const sealSync =
    b.sealSync ??
    ((key: AeadKey, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array => {
      const [ct, tag] = sealPartsSync(key, iv, aad, plaintext)
      const out = new Uint8Array(ct.length + TAG)
      out.set(ct, 0)
      out.set(tag, ct.length)
      return out
    })
  const openPartsSync =
    b.openPartsSync ??
    ((key: AeadKey, iv: Uint8Array, aad: Uint8Array, parts: readonly Uint8Array[]): Uint8Array[] => [
      openSync(key, iv, aad, joinParts(parts)),
    ])
  return {
    name: b.name,
    importKey: b.importKey,
    borrowKey: (raw: Uint8Array): AeadKey => ({ handle: raw, raw: undefined }),
    sealPartsSync,
    sealToSync,
    tagSync,
    openSync,
    seal: (key, iv, aad, plaintext) => promised(sealSync, key, iv, aad, plaintext),
    sealParts: (key, iv, aad, plaintext) => promised(sealPartsSync, key, iv, aad, plaintext),
    open: (key, iv, aad, sealed) => promised(openSync, key, iv, aad, sealed),
    openParts: (key, iv, aad, parts) => promised(openPartsSync, key, iv, aad, parts),
  }
}

/**
 * node:crypto `open` over pieces: feeds the ciphertext pieces as they are (no reassembly copy);
 * the tag is the last 16 bytes. Throws {@link EnvelopeDecryptionError} on any failure, after
 * zeroising what was decrypted.
 */
function nodeOpenParts(
  nc: NonNullable<typeof nodeCrypto>,
  key: AeadKey,
  iv: Uint8Array,
  aad: Uint8Array,
  parts: readonly Uint8Array[],
): Uint8Array[] {
  let total = 0
  for (const p of parts) total += p.length
  if (total < TAG) throw new EnvelopeDecryptionError()
  // feed the ciphertext pieces as they are (no reassembly copy); the tag is the last 16 bytes
  const ctEnd = total - TAG
  const out: Uint8Array[] = []
  // the tag is usually inside the last piece (a view, no copy); else it is assembled
  const last = parts[parts.length - 1] as Uint8Array
  const tag = last.length >= TAG ? last.subarray(last.length - TAG) : new Uint8Array(TAG)
  try {
    const d = nc.createDecipheriv(ALG, key.handle, iv, TAG_OPTIONS)
    if (aad.length > 0) d.setAAD(aad)
    let pos = 0
    for (const p of parts) {
      checkArgs(iv, aad, p)
      const ctLen = Math.max(0, Math.min(p.length, ctEnd - pos))
      if (ctLen > 0) out.push(plain(d.update(ctLen === p.length ? p : p.subarray(0, ctLen))))
      if (ctLen < p.length && last.length < TAG) tag.set(p.subarray(ctLen), pos + ctLen - ctEnd)
      pos += p.length
    }
    d.setAuthTag(tag)
    d.final() // throws when the tag does not verify
    return out
  } catch {
    for (const o of out) o.fill(0) // unauthenticated plaintext never leaves this function
    throw new EnvelopeDecryptionError()
  }
}

function createNodeAead(): Aead {
  const nc = nodeCrypto
  if (nc === undefined) throw new TypeError('node:crypto is not available')
  const sealPartsSync: SyncOps['sealPartsSync'] = (key, iv, aad, plaintext) => {
    checkArgs(iv, aad, plaintext)
    const c = nc.createCipheriv(ALG, key.handle, iv, TAG_OPTIONS)
    if (aad.length > 0) c.setAAD(aad)
    const ct = c.update(plaintext)
    c.final()
    return [plain(ct), plain(c.getAuthTag())]
  }
  const sealToSync: SyncOps['sealToSync'] = (key, iv, aad, plaintext, out, at) => {
    checkArgs(iv, aad, plaintext)
    const c = nc.createCipheriv(ALG, key.handle, iv, TAG_OPTIONS)
    if (aad.length > 0) c.setAAD(aad)
    const ct = c.update(plaintext)
    c.final()
    out.set(ct, at)
    out.set(c.getAuthTag(), at + ct.length)
  }
  const tagSync: SyncOps['tagSync'] = (key, iv, aad) => {
    const c = nc.createCipheriv(ALG, key.handle, iv, TAG_OPTIONS)
    for (const a of aad) {
      checkArgs(iv, a, EMPTY)
      if (a.length > 0) c.setAAD(a)
    }
    c.final()
    return plain(c.getAuthTag())
  }
  const openSync: SyncOps['openSync'] = (key, iv, aad, sealed) => {
    checkArgs(iv, aad, sealed)
    if (sealed.length < TAG) throw new EnvelopeDecryptionError()
    const split = sealed.length - TAG
    let pt: Uint8Array | undefined
    try {
      const d = nc.createDecipheriv(ALG, key.handle, iv, TAG_OPTIONS)
      if (aad.length > 0) d.setAAD(aad)
      d.setAuthTag(sealed.subarray(split))
      pt = d.update(sealed.subarray(0, split))
      d.final() // throws when the tag does not verify
      return plain(pt)
    } catch {
      pt?.fill(0) // unauthenticated plaintext never leaves this function
      throw new EnvelopeDecryptionError()
    }
  }
  return syncAead({
    name: 'node',
    importKey(raw: Uint8Array, ephemeral?: boolean): AeadKey {
      assertBytes(raw, 'key', 32)
      if (ephemeral === true) {
        const copy = raw.slice()
        return { handle: copy, raw: copy }
      }
      return { handle: nc.createSecretKey(raw), raw: undefined }
    },
    sealPartsSync,
    sealToSync,
    tagSync,
    openSync,
    openPartsSync: (key, iv, aad, parts) => nodeOpenParts(nc, key, iv, aad, parts),
  })
}

function createWebCryptoAead(): Aead {
  const s = subtle
  if (s === undefined) throw new TypeError('crypto.subtle is not available')
  const params = (iv: Uint8Array, aad: Uint8Array): AesGcmParams => ({
    name: 'AES-GCM',
    iv: iv as Uint8Array<ArrayBuffer>,
    additionalData: aad as Uint8Array<ArrayBuffer>,
    tagLength: 128,
  })
  return {
    name: 'webcrypto',
    importKey(raw: Uint8Array): AeadKey {
      assertBytes(raw, 'key', 32)
      const handle = s.importKey('raw', raw.slice() as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [
        'encrypt',
        'decrypt',
      ])
      // Avoid an unhandled rejection if the key is never used.
      handle.catch(() => undefined)
      return { handle, raw: undefined }
    },
    async seal(key, iv, aad, plaintext): Promise<Uint8Array> {
      checkArgs(iv, aad, plaintext)
      const k = await (key.handle as Promise<CryptoKey>)
      return new Uint8Array(await s.encrypt(params(iv, aad), k, plaintext as Uint8Array<ArrayBuffer>))
    },
    async sealParts(key, iv, aad, plaintext): Promise<[Uint8Array, Uint8Array]> {
      return split(await this.seal(key, iv, aad, plaintext))
    },
    async openParts(key, iv, aad, parts): Promise<Uint8Array[]> {
      return [await this.open(key, iv, aad, joinParts(parts))]
    },
    async open(key, iv, aad, sealed): Promise<Uint8Array> {
      checkArgs(iv, aad, sealed)
      if (sealed.length < TAG) throw new EnvelopeDecryptionError()
      const k = await (key.handle as Promise<CryptoKey>)
      try {
        return new Uint8Array(await s.decrypt(params(iv, aad), k, sealed as Uint8Array<ArrayBuffer>))
      } catch {
        throw new EnvelopeDecryptionError()
      }
    },
  }
}

function createNobleAead(): Aead {
  const sealPartsSync: SyncOps['sealPartsSync'] = (key, iv, aad, plaintext) => {
    checkArgs(iv, aad, plaintext)
    return split(gcm(key.handle as Uint8Array, iv, aad).encrypt(plaintext))
  }
  const sealToSync: SyncOps['sealToSync'] = (key, iv, aad, plaintext, out, at) => {
    checkArgs(iv, aad, plaintext)
    out.set(gcm(key.handle as Uint8Array, iv, aad).encrypt(plaintext), at)
  }
  const tagSync: SyncOps['tagSync'] = (key, iv, aad) => {
    for (const a of aad) checkArgs(iv, a, EMPTY)
    return gcm(key.handle as Uint8Array, iv, joinParts(aad)).encrypt(EMPTY)
  }
  const openSync: SyncOps['openSync'] = (key, iv, aad, sealed) => {
    checkArgs(iv, aad, sealed)
    try {
      return gcm(key.handle as Uint8Array, iv, aad).decrypt(sealed)
    } catch {
      throw new EnvelopeDecryptionError()
    }
  }
  return syncAead({
    name: 'noble',
    importKey(raw: Uint8Array): AeadKey {
      assertBytes(raw, 'key', 32)
      const copy = raw.slice()
      return { handle: copy, raw: copy }
    },
    sealPartsSync,
    sealToSync,
    tagSync,
    openSync,
    sealSync(key, iv, aad, plaintext): Uint8Array {
      checkArgs(iv, aad, plaintext)
      return gcm(key.handle as Uint8Array, iv, aad).encrypt(plaintext)
    },
  })
}

const cache = new Map<AeadBackendName, Aead>()

/** The fastest backend this runtime has: node:crypto, then Web Crypto, then noble. */
export const defaultAeadBackend: AeadBackendName = nodeCrypto ? 'node' : subtle ? 'webcrypto' : 'noble'

/**
 * Returns the AES-256-GCM backend `name` (default: the fastest available).
 *
 * @throws {TypeError} when the runtime lacks the requested backend.
 */
export function getAead(name: AeadBackendName = defaultAeadBackend): Aead {
  let a = cache.get(name)
  if (a === undefined) {
    a =
      name === 'node'
        ? createNodeAead()
        : name === 'webcrypto'
          ? createWebCryptoAead()
          : name === 'noble'
            ? createNobleAead()
            : (() => {
                throw new TypeError('"backend" expected node, webcrypto or noble')
              })()
    cache.set(name, a)
  }
  return a
}

/** Best-effort zeroisation of a key's raw bytes (noble backend; native handles are opaque). */
export function destroyKey(key: AeadKey): void {
  key.raw?.fill(0)
}
