/**
 * Known-answer vectors for format v2, checked (1) byte-exact through the library with injected
 * randomness and (2) by an independent decoder written only from docs/formats/envelope-v2.md with
 * node:crypto (createHmac, createHash, createDecipheriv), as another implementation would: nothing
 * from the library's internals.
 */
import { createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { bytesToHex, hexToBytes } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { canonical, parseCanonical, u16, u32 } from './spec-context.js'
import { callerContext, type EnvelopeVector, libraryFor, loadVectors } from './spec-vectors.js'

interface Vector extends EnvelopeVector {
  canonicalContext: string
  contextDigest: string
  wrapAad: string
  info: string
  encKey: string
  commitment: string
  authenticated: string
  headerLength: number
  ciphertextSha256: string
}
const vectors = loadVectors<Vector>('envelope-v2.json')

class Fail extends Error {}

/** The independent decoder: §2 parse, §4 context, §7 unwrap (local keyring), §5 key schedule, §8 frames. */
function specDecrypt(bytes: Uint8Array, kek: Uint8Array, context: Record<string, string>): Buffer {
  const ct = Buffer.from(bytes)
  let o = 0
  const take = (n: number): Buffer => {
    if (o + n > ct.length) throw new Fail('truncated')
    const out = ct.subarray(o, o + n)
    o += n
    return out
  }
  // §2: the authenticated part A
  if (take(3).toString('latin1') !== 'HGE') throw new Fail('magic')
  if (take(1)[0] !== 0x02) throw new Fail('version')
  const suite = take(2).readUInt16BE(0)
  if (suite !== 0x0002) throw new Fail('suite')
  const frameLength = take(4).readUInt32BE(0)
  if (frameLength < 4096 || frameLength > 16 * 1024 * 1024) throw new Fail('frame length')
  const messageId = take(32)
  const stored = take(take(2).readUInt16BE(0))
  const commitment = take(32)
  const A = ct.subarray(0, o)
  // §2: the wrapped keys, after A
  const edkCount = take(2).readUInt16BE(0)
  if (edkCount < 1 || edkCount > 4) throw new Fail('edk count')
  const edks: Array<{ providerId: string; keyRef: Buffer; edk: Buffer }> = []
  for (let i = 0; i < edkCount; i++) {
    const providerId = take(take(1)[0] as number).toString('latin1')
    const keyRef = take(take(2).readUInt16BE(0))
    const edk = take(take(2).readUInt16BE(0))
    edks.push({ providerId, keyRef, edk })
  }
  // §4: full context = stored pairs ∪ caller's pairs (a contradiction fails); D = SHA-256(canonical)
  const storedPairs = stored.length > 0 ? parseCanonical(stored) : {}
  for (const [k, v] of Object.entries(context))
    if (k in storedPairs && storedPairs[k] !== v) throw new Fail('context conflict')
  const D = createHash('sha256')
    .update(canonical({ ...storedPairs, ...context }))
    .digest()
  // §7: local keyring unwrap, AAD = u16 len(keyRef) ‖ keyRef ‖ wrapAAD, wrapAAD = "hge/v2/wrap" ‖ u16 suite ‖ D
  const local = edks.find((e) => e.providerId === 'local')
  if (local === undefined) throw new Fail('no local key')
  const wrapAad = Buffer.concat([Buffer.from('hge/v2/wrap'), u16(suite), D])
  const w = createDecipheriv('aes-256-gcm', kek, local.edk.subarray(0, 12))
  w.setAAD(Buffer.concat([u16(local.keyRef.length), local.keyRef, wrapAad]))
  w.setAuthTag(local.edk.subarray(local.edk.length - 16))
  const dek = Buffer.concat([w.update(local.edk.subarray(12, local.edk.length - 16)), w.final()])
  // §5: OKM = HKDF-Expand(SHA-256, PRK = DEK, info = "hge/v2" ‖ u16 suite ‖ D ‖ messageId, L = 64)
  const info = Buffer.concat([Buffer.from('hge/v2'), u16(suite), D, messageId])
  const t1 = createHmac('sha256', dek)
    .update(Buffer.concat([info, Buffer.of(1)]))
    .digest()
  const t2 = createHmac('sha256', dek)
    .update(Buffer.concat([t1, info, Buffer.of(2)]))
    .digest()
  const encKey = t1
  // §8 step 5: the commitment, in constant time, before any frame
  if (!timingSafeEqual(t2, commitment)) throw new Fail('commitment')
  // §6: frames of frameLength + 16 bytes; the rest (16..frameLength+15 bytes) is the final frame
  const out: Buffer[] = []
  for (let i = 0; ; i++) {
    const rest = ct.length - o
    if (rest < 16) throw new Fail('missing final frame')
    const final = rest < frameLength + 16
    const frame = take(final ? rest : frameLength + 16)
    const nonce = Buffer.concat([Buffer.alloc(7), u32(i), Buffer.of(final ? 1 : 0)])
    const d = createDecipheriv('aes-256-gcm', encKey, nonce)
    d.setAAD(A)
    d.setAuthTag(frame.subarray(frame.length - 16))
    out.push(d.update(frame.subarray(0, frame.length - 16)))
    d.final()
    if (final) break
  }
  return Buffer.concat(out)
}

describe('format v2 known-answer vectors', () => {
  for (const v of vectors) {
    it(`${v.name}: the library writes v2 by default and reproduces the bytes exactly`, async () => {
      const env = await libraryFor(v)
      const ct = await env.encrypt(hexToBytes(v.plaintext), v.context)
      expect(bytesToHex(ct)).toBe(v.ciphertext)
      expect(createHash('sha256').update(ct).digest('hex')).toBe(v.ciphertextSha256)
      expect(env.inspect(ct)).toMatchObject({ formatVersion: 2, suiteId: 2, headerLength: v.headerLength })
      expect(bytesToHex(await env.decrypt(ct, v.context))).toBe(v.plaintext)
    })

    it(`${v.name}: the intermediate values follow from the spec`, () => {
      const c = canonical(v.context)
      expect(bytesToHex(c)).toBe(v.canonicalContext)
      const D = createHash('sha256').update(c).digest()
      expect(D.toString('hex')).toBe(v.contextDigest)
      expect(Buffer.concat([Buffer.from('hge/v2/wrap'), u16(2), D]).toString('hex')).toBe(v.wrapAad)
      const info = Buffer.concat([Buffer.from('hge/v2'), u16(2), D, Buffer.from(hexToBytes(v.messageId))])
      expect(info.toString('hex')).toBe(v.info)
      expect(v.ciphertext.startsWith(v.authenticated)).toBe(true)
      expect(v.authenticated.endsWith(v.commitment)).toBe(true)
    })

    it(`${v.name}: an independent decoder written from the spec decrypts it`, () => {
      const pt = specDecrypt(hexToBytes(v.ciphertext), hexToBytes(v.kek), callerContext(v))
      expect(pt.toString('hex')).toBe(v.plaintext)
    })

    it(`${v.name}: the independent decoder refuses any changed byte of the header`, () => {
      const ct = hexToBytes(v.ciphertext)
      for (let i = 0; i < v.headerLength; i++) {
        const bad = ct.slice()
        bad[i] = (bad[i] as number) ^ 0x01
        expect(() => specDecrypt(bad, hexToBytes(v.kek), callerContext(v)), `byte ${i}`).toThrow()
      }
    })
  }

  it('the library reads what the independent decoder reads, and both refuse a v1/v2 splice', async () => {
    const v = vectors[0] as Vector
    const v1 = await (await libraryFor(v, 1)).encrypt(hexToBytes(v.plaintext), v.context)
    // a v1 envelope relabelled as v2 (version byte and suite) is neither format
    const relabelled = v1.slice()
    relabelled.set([2, 0, 2], 3)
    expect(() => specDecrypt(relabelled, hexToBytes(v.kek), v.context)).toThrow()
    const env = await libraryFor(v)
    await expect(env.decrypt(relabelled, v.context)).rejects.toThrow()
  })
})
