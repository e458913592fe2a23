/**
 * HKDF (RFC 5869) with SHA-256 or SHA-512, and HKDF-Expand alone for format v2 (whose PRK is the
 * uniformly random data key, RFC 5869 §3.3): on Node, HMAC (RFC 2104) composed over node:crypto's
 * one-shot `hash` (six native calls for the 71 bytes of a message key schedule, returning strings,
 * with no other allocation: about 2× faster than `hkdfSync`, which sets up an OpenSSL KDF
 * context and imports its input as a KeyObject on every call, and remains the fallback where
 * `hash` is missing); @noble/hashes elsewhere.
 * All give identical bytes (Wycheproof vectors run through both backends in the tests).
 */
import { expand as nobleExpand, hkdf as nobleHkdf } from '@noble/hashes/hkdf.js'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { assertBytes, assertInteger } from '@safeguards/core'
import { nodeCrypto } from './native.js'

/** Which HKDF implementation runs. */
export type KdfBackendName = 'node' | 'noble'

/** The default KDF backend on this runtime. */
export const defaultKdfBackend: KdfBackendName = nodeCrypto ? 'node' : 'noble'

/** node:crypto's one-shot `hash`, asked for a latin1 string (one char per byte). */
type OneShot = (algorithm: string, data: Uint8Array, outputEncoding: 'latin1') => string

// Scratch blocks reused by every call (the KDF runs synchronously, start to end), zeroised after
// use: `inner` = (K ⊕ ipad) ‖ message, `outer` = (K ⊕ opad) ‖ inner digest, `key` = the PRK.
let scratchInner = new Uint8Array(128 + 256)
const scratchOuter = new Uint8Array(128 + 64)
const scratchKey = new Uint8Array(128)

/** Writes `key ⊕ ipad` and `key ⊕ opad` (zero-padded to the block) at the start of the buffers. */
function hmacPads(key: Uint8Array, bl: number, inner: Uint8Array, outer: Uint8Array): void {
  const kl = key.length
  for (let i = 0; i < kl; i++) {
    const k = key[i] as number
    inner[i] = k ^ 0x36
    outer[i] = k ^ 0x5c
  }
  inner.fill(0x36, kl, bl)
  outer.fill(0x5c, kl, bl)
}

/** Copies the first `n` bytes of a latin1 digest string into `dst` at `at`. */
function put(dst: Uint8Array, at: number, digest: string, n: number): void {
  for (let i = 0; i < n; i++) dst[at + i] = digest.charCodeAt(i)
}

/** HMAC over the message at `inner[bl..bl+msgLength)`, with the pads already in place. */
function hmacOver(
  h: OneShot,
  alg: string,
  bl: number,
  hl: number,
  inner: Uint8Array,
  outer: Uint8Array,
  msgLength: number,
): string {
  put(outer, bl, h(alg, inner.subarray(0, bl + msgLength), 'latin1'), hl)
  return h(alg, outer, 'latin1')
}

/** Sizes of a hash: output (HashLen) and block length (the HMAC pad length). */
function sizes(alg: 'sha256' | 'sha512'): [hl: number, bl: number] {
  return alg === 'sha256' ? [32, 64] : [64, 128]
}

/** Scratch blocks large enough for a message of `msgLength` bytes after a `bl`-byte pad. */
function scratchFor(bl: number, msgLength: number): Uint8Array {
  if (scratchInner.length < bl + msgLength) scratchInner = new Uint8Array(bl + msgLength)
  return scratchInner
}

/**
 * RFC 5869 §2.3 Expand over a one-shot hash, with the HMAC pads of the PRK already in `inner` and
 * `outer`: N = ceil(L/HashLen); T(0) = empty string; T(i) = HMAC-Hash(PRK, T(i-1) ‖ info ‖ i);
 * OKM = first L octets of T(1) ‖ T(2) ‖ …, written into `out`.
 */
function expandWithPads(
  h: OneShot,
  alg: 'sha256' | 'sha512',
  info: Uint8Array,
  out: Uint8Array,
  inner: Uint8Array,
  outer: Uint8Array,
): void {
  const [hl, bl] = sizes(alg)
  const length = out.length
  let t: string | undefined
  for (let i = 1, o = 0; o < length; i++) {
    let m = 0
    if (t !== undefined) {
      put(inner, bl, t, hl)
      m = hl
    }
    inner.set(info, bl + m)
    inner[bl + m + info.length] = i // RFC 5869 §2.3: the counter octet, 0x01..0xff
    t = hmacOver(h, alg, bl, hl, inner, outer, m + info.length + 1)
    const n = Math.min(hl, length - o)
    put(out, o, t, n)
    o += n
  }
}

/**
 * HKDF over a one-shot hash: HMAC(K, m) = H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)), written into `out`.
 *
 * The digests come back as latin1 strings: node:crypto returns a string about twice as fast as a
 * Buffer (no ArrayBuffer to allocate and later collect), which halves the cost of a message key
 * schedule. Strings cannot be zeroised: the intermediate values (inner digests, the PRK and the
 * HKDF blocks, all specific to one message) stay in the young generation of the heap until it is
 * collected and reused, like node:crypto's own internal copies. The input key (the data key) is
 * never turned into a string, and every byte buffer here is zeroised before returning.
 */
function hkdfOneShot(
  h: OneShot,
  alg: 'sha256' | 'sha512',
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  out: Uint8Array,
): void {
  const [hl, bl] = sizes(alg)
  const need = bl + Math.max(ikm.length, hl + info.length + 1)
  const inner = scratchFor(bl, need - bl)
  const outer = scratchOuter.subarray(0, bl + hl)
  const prk = scratchKey.subarray(0, hl)
  try {
    // RFC 5869 §2.2 Extract: PRK = HMAC-Hash(salt, IKM). RFC 2104 §2: keys longer than the block
    // are hashed first; shorter ones (and an empty salt, which RFC 5869 §2.2 replaces by HashLen
    // zeros: the same padded block) are zero-padded.
    if (salt.length > bl) {
      put(prk, 0, h(alg, salt, 'latin1'), hl)
      hmacPads(prk, bl, inner, outer)
    } else hmacPads(salt, bl, inner, outer)
    inner.set(ikm, bl)
    put(prk, 0, hmacOver(h, alg, bl, hl, inner, outer, ikm.length), hl)
    hmacPads(prk, bl, inner, outer)
    expandWithPads(h, alg, info, out, inner, outer)
  } finally {
    inner.fill(0, 0, need)
    outer.fill(0)
    prk.fill(0)
  }
}

/** Expand alone over a one-shot hash, PRK at most one block long (zero-padded as an HMAC key). */
function expandOneShot(
  h: OneShot,
  alg: 'sha256' | 'sha512',
  prk: Uint8Array,
  info: Uint8Array,
  out: Uint8Array,
): void {
  const [hl, bl] = sizes(alg)
  const need = hl + info.length + 1
  const inner = scratchFor(bl, need)
  const outer = scratchOuter.subarray(0, bl + hl)
  try {
    hmacPads(prk, bl, inner, outer)
    expandWithPads(h, alg, info, out, inner, outer)
  } finally {
    inner.fill(0, 0, bl + need)
    outer.fill(0)
  }
}

/**
 * HKDF-Expand alone (RFC 5869 §2.3) with SHA-256 into `out`, for a PRK that is already a uniformly
 * random key of HashLen bytes (RFC 5869 §3.3: the Extract step may then be skipped), without
 * argument checks: the format v2 key schedule, where PRK is the 32-byte data key and `out` is 64
 * bytes (T(1) ‖ T(2): two HMAC-SHA-256, four native hash calls on Node). Same bytes as
 * {@link hkdfExpand}.
 */
export function hkdfExpandSha256Into(
  out: Uint8Array,
  prk: Uint8Array,
  info: Uint8Array,
  backend: KdfBackendName,
): void {
  const h = backend === 'node' ? nodeCrypto?.hash : undefined
  if (typeof h === 'function' && prk.length <= 64) {
    expandOneShot(h, 'sha256', prk, info, out)
    return
  }
  const okm = nobleExpand(sha256, prk, info, out.length)
  out.set(okm)
  okm.fill(0)
}

/**
 * HKDF-Expand alone (RFC 5869 §2.3), for a PRK that is already uniformly random (§3.3).
 *
 * @throws {TypeError} for non-byte arguments or an unknown hash.
 * @throws {RangeError} when `length` is not in 1..255×HashLen or the PRK is shorter than HashLen.
 */
export function hkdfExpand(
  hashName: 'sha256' | 'sha512',
  prk: Uint8Array,
  info: Uint8Array,
  length: number,
  backend: KdfBackendName = defaultKdfBackend,
): Uint8Array {
  assertBytes(prk, 'prk')
  assertBytes(info, 'info')
  if (hashName !== 'sha256' && hashName !== 'sha512') throw new TypeError('"hash" expected sha256 or sha512')
  const [hl, bl] = sizes(hashName)
  assertInteger(length, 'length', 1, 255 * hl)
  if (prk.length < hl) throw new RangeError(`"prk" expected at least ${hl} bytes, got ${prk.length}`)
  const h = backend === 'node' ? nodeCrypto?.hash : undefined
  if (typeof h !== 'function' || prk.length > bl)
    return nobleExpand(hashName === 'sha256' ? sha256 : sha512, prk, info, length)
  const out = new Uint8Array(length)
  expandOneShot(h, hashName, prk, info, out)
  return out
}

/**
 * HKDF-SHA-512 into `out` without argument checks, for the message key schedule (whose inputs are
 * fixed-size and already checked). Same bytes as {@link hkdf}.
 */
export function hkdfSha512Into(
  out: Uint8Array,
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  backend: KdfBackendName,
): void {
  if (backend === 'node' && nodeCrypto) {
    const h = nodeCrypto.hash
    if (typeof h === 'function') {
      hkdfOneShot(h, 'sha512', ikm, salt, info, out)
      return
    }
  }
  const okm = hkdf('sha512', ikm, salt, info, out.length, backend)
  out.set(okm)
  okm.fill(0)
}

/**
 * HKDF-Extract-then-Expand.
 *
 * @throws {TypeError} for non-byte arguments or an unknown hash.
 * @throws {RangeError} when `length` is not in 1..255×HashLen.
 */
export function hkdf(
  hashName: 'sha256' | 'sha512',
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
  backend: KdfBackendName = defaultKdfBackend,
): Uint8Array {
  assertBytes(ikm, 'ikm')
  assertBytes(salt, 'salt')
  assertBytes(info, 'info')
  if (hashName !== 'sha256' && hashName !== 'sha512') throw new TypeError('"hash" expected sha256 or sha512')
  assertInteger(length, 'length', 1, 255 * (hashName === 'sha256' ? 32 : 64))
  if (backend === 'node' && nodeCrypto) {
    const h = nodeCrypto.hash
    if (typeof h === 'function') {
      const out = new Uint8Array(length)
      hkdfOneShot(h, hashName, ikm, salt, info, out)
      return out
    }
    return new Uint8Array(nodeCrypto.hkdfSync(hashName, ikm, salt, info, length))
  }
  return nobleHkdf(hashName === 'sha256' ? sha256 : sha512, ikm, salt, info, length)
}
