/**
 * Known-answer vectors for format v1, checked (1) byte-exact through the library with injected
 * randomness and (2) by an independent decoder written from docs/formats/envelope-v1.md using only
 * @noble/ciphers and @noble/hashes, as another implementation would.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gcm } from '@noble/ciphers/aes.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { createEnvelope, LocalKeyring } from '../src/index.js'
import { concat } from './helpers.js'

interface Vector {
  name: string
  kek: string
  keyRef: string
  dek: string
  messageId: string
  wrapIv: string
  frameLength: number
  context: Record<string, string>
  storedKeys: string[]
  plaintext: string
  ciphertext: string
}
const { vectors } = JSON.parse(
  readFileSync(join(import.meta.dirname, 'vectors/envelope-v1.json'), 'utf8'),
) as {
  vectors: Vector[]
}
const te = new TextEncoder()
const cat = concat
const u16 = (v: number) => Uint8Array.of(v >> 8, v & 255)
const u32 = (v: number) => Uint8Array.of(v >>> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255)

/** Canonical context per the spec: u16 count, pairs sorted by key bytes, u16-length-prefixed UTF-8. */
function canonical(ctx: Record<string, string>): Uint8Array {
  const pairs = Object.entries(ctx)
    .map(([k, v]) => [te.encode(k), te.encode(v)] as const)
    .sort((a, b) => Buffer.compare(a[0], b[0]))
  return cat(u16(pairs.length), ...pairs.flatMap(([k, v]) => [u16(k.length), k, u16(v.length), v]))
}

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
  const storedPairs: Record<string, string> = {}
  if (sLen > 0) {
    const s = new DataView(stored.buffer, stored.byteOffset)
    let p = 2
    for (let i = 0; i < s.getUint16(0); i++) {
      const kl = s.getUint16(p)
      const k = new TextDecoder().decode(stored.subarray(p + 2, p + 2 + kl))
      p += 2 + kl
      const vl = s.getUint16(p)
      storedPairs[k] = new TextDecoder().decode(stored.subarray(p + 2, p + 2 + vl))
      p += 2 + vl
    }
  }
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
      const queue = [hexToBytes(v.kek), hexToBytes(v.dek + v.messageId), hexToBytes(v.wrapIv)]
      const random = (n: number) => {
        const b = queue.shift()
        if (b?.length !== n) throw new Error(`unexpected random(${n})`)
        return b
      }
      const kr = await LocalKeyring.inMemory({ random })
      const env = createEnvelope({
        provider: kr,
        random,
        frameLength: v.frameLength,
        storedKeys: v.storedKeys,
        formatVersion: 1, // v2 is the default since issue 17; these vectors are v1's
      })
      const ct = await env.encrypt(hexToBytes(v.plaintext), v.context)
      expect(bytesToHex(ct)).toBe(v.ciphertext)
      expect(bytesToHex(await env.decrypt(ct, v.context))).toBe(v.plaintext)
    })

    it(`${v.name}: an independent decoder written from the spec decrypts it`, () => {
      const caller = Object.fromEntries(Object.entries(v.context).filter(([k]) => !v.storedKeys.includes(k)))
      expect(bytesToHex(specDecrypt(hexToBytes(v.ciphertext), hexToBytes(v.kek), caller))).toBe(v.plaintext)
    })
  }
})
