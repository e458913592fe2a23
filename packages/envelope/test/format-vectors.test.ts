/**
 * Known-answer vectors for format v1, checked (1) byte-exact through the library with injected
 * randomness and (2) by an independent decoder written from docs/formats/envelope-v1.md using only
 * @noble/ciphers and @noble/hashes, as another implementation would.
 */
import { gcm } from '@noble/ciphers/aes.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { concat as cat } from './helpers.js'
import { canonical, parseCanonical, u16, u32 } from './spec-context.js'
import { callerContext, type EnvelopeVector, libraryFor, loadVectors } from './spec-vectors.js'

const vectors = loadVectors<EnvelopeVector>('envelope-v1.json')
const te = new TextEncoder()

/** A from-the-spec decoder. */
function specDecrypt(ct: Uint8Array, kek: Uint8Array, context: Record<string, string>): Uint8Array {
  const dv = new DataView(ct.buffer, ct.byteOffset)
  let o = 0
  const take = (n: number) => {
    const out = ct.subarray(o, o + n)
    o += n
    return out
  }
  expect(new TextDecoder().decode(take(3))).toBe('HGE')
  expect(take(1)[0]).toBe(1)
  const suite = dv.getUint16(o)
  o += 2
  expect(suite).toBe(1)
  const frameLength = dv.getUint32(o)
  o += 4
  const messageId = take(32)
  const edkCount = dv.getUint16(o)
  o += 2
  expect(edkCount).toBe(1)
  const pLen = take(1)[0] as number
  expect(new TextDecoder().decode(take(pLen))).toBe('local')
  const kLen = dv.getUint16(o)
  o += 2
  const keyRef = take(kLen)
  const eLen = dv.getUint16(o)
  o += 2
  const edk = take(eLen)
  const sLen = dv.getUint16(o)
  o += 2
  const stored = take(sLen)
  const commitment = take(32)
  const authenticated = ct.subarray(0, o)
  const headerTag = take(16)
  // the full context is the stored pairs plus the caller's
  const storedPairs = sLen > 0 ? parseCanonical(stored) : {}
  const ctxBytes = canonical({ ...storedPairs, ...context })
  const digest = sha256(ctxBytes)
  // local keyring unwrap: AES-256-GCM(kek, iv = edk[0..12), aad = u16 len ‖ keyRef ‖ wrapAAD)
  const wrapAad = cat(te.encode('hge/v1/wrap'), u16(suite), digest)
  const dek = gcm(kek, edk.subarray(0, 12), cat(u16(keyRef.length), keyRef, wrapAad)).decrypt(
    edk.subarray(12),
  )
  const okm = hkdf(sha512, dek, messageId, cat(te.encode('hge/v1'), u16(suite), digest), 71)
  const encKey = okm.subarray(0, 32)
  const prefix = okm.subarray(32, 39)
  expect(bytesToHex(okm.subarray(39, 71))).toBe(bytesToHex(commitment))
  gcm(encKey, new Uint8Array(12).fill(0xff), cat(authenticated, ctxBytes)).decrypt(headerTag)
  const out: Uint8Array[] = []
  for (let i = 0; ; i++) {
    const rest = ct.length - o
    const final = rest < frameLength + 16
    const frame = take(final ? rest : frameLength + 16)
    const nonce = cat(prefix, u32(i), Uint8Array.of(final ? 1 : 0))
    const aad = cat(Uint8Array.of(1), u32(i), Uint8Array.of(final ? 1 : 0))
    out.push(gcm(encKey, nonce, aad).decrypt(frame))
    if (final) break
  }
  return cat(...out)
}

describe('format v1 known-answer vectors', () => {
  for (const v of vectors) {
    it(`${v.name}: the library reproduces the bytes exactly`, async () => {
      const env = await libraryFor(v, 1) // v2 is the default since issue 17; these vectors are v1's
      const ct = await env.encrypt(hexToBytes(v.plaintext), v.context)
      expect(bytesToHex(ct)).toBe(v.ciphertext)
      expect(bytesToHex(await env.decrypt(ct, v.context))).toBe(v.plaintext)
    })

    it(`${v.name}: an independent decoder written from the spec decrypts it`, () => {
      const caller = callerContext(v)
      expect(bytesToHex(specDecrypt(hexToBytes(v.ciphertext), hexToBytes(v.kek), caller))).toBe(v.plaintext)
    })
  }
})
