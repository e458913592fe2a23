/**
 * The recipients addendum (docs/formats/envelope-v1-recipients.md) checked two ways on its vector:
 * (1) the library writes the ciphertext byte for byte from the same randomness and opens it with
 * each identity; (2) an independent decoder written from the addendum and RFC 9180 (HKDF and
 * AES-GCM from noble, X25519 from node:crypto; no @hpke/core) finds each recipient's entry and
 * opens the data key.
 */
import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gcm } from '@noble/ciphers/aes.js'
import { expand, extract } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { createEnvelope, createRecipientsProvider, RecipientIdentity } from '../src/index.js'
import { concat, dec, enc } from './helpers.js'

interface Vector {
  recipients: { sk: string; pk: string; rid: string; ekm: string }[]
  dek: string
  messageId: string
  context: Record<string, string>
  plaintext: string
  ciphertext: string
}
const v = JSON.parse(
  readFileSync(join(import.meta.dirname, 'vectors/envelope-v1-recipients.json'), 'utf8'),
) as Vector
const u16 = (n: number) => Uint8Array.of(n >> 8, n & 255)

/** Canonical context (v1 section 4): u16 count, pairs sorted by key bytes, u16-length-prefixed. */
function canonical(ctx: Record<string, string>): Uint8Array {
  const pairs = Object.entries(ctx)
    .map(([k, val]) => [enc(k), enc(val)] as const)
    .sort((a, b) => Buffer.compare(a[0], b[0]))
  return concat(u16(pairs.length), ...pairs.flatMap(([k, val]) => [u16(k.length), k, u16(val.length), val]))
}

/** The one wrapped key of the header (v1 section 2), and the suite. */
function headerEdk(ct: Uint8Array): { suite: number; providerId: string; keyRef: string; edk: Uint8Array } {
  const dv = new DataView(ct.buffer, ct.byteOffset)
  expect(dec(ct.subarray(0, 3))).toBe('HGE')
  const suite = dv.getUint16(4)
  let o = 10 + 32
  expect(dv.getUint16(o)).toBe(1)
  o += 2
  const pLen = ct[o] as number
  const providerId = dec(ct.subarray(o + 1, o + 1 + pLen))
  o += 1 + pLen
  const kLen = dv.getUint16(o)
  const keyRef = dec(ct.subarray(o + 2, o + 2 + kLen))
  o += 2 + kLen
  const eLen = dv.getUint16(o)
  return { suite, providerId, keyRef, edk: ct.subarray(o + 2, o + 2 + eLen) }
}

/** RFC 9180 OpenBase for DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, from the RFC. */
function openBase(
  skR: Uint8Array,
  pkR: Uint8Array,
  encap: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  ct: Uint8Array,
) {
  const v1 = enc('HPKE-v1')
  const kemId = concat(enc('KEM'), u16(0x20))
  const suiteId = concat(enc('HPKE'), u16(0x20), u16(0x01), u16(0x02))
  const lx = (sid: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array) =>
    extract(sha256, concat(v1, sid, enc(label), ikm), salt)
  const le = (sid: Uint8Array, prk: Uint8Array, label: string, inf: Uint8Array, len: number) =>
    expand(sha256, prk, concat(u16(len), v1, sid, enc(label), inf), len)
  const der = (prefix: string, raw: Uint8Array) => Buffer.concat([Buffer.from(prefix, 'hex'), raw])
  const dh = new Uint8Array(
    diffieHellman({
      privateKey: createPrivateKey({
        key: der('302e020100300506032b656e04220420', skR),
        format: 'der',
        type: 'pkcs8',
      }),
      publicKey: createPublicKey({
        key: der('302a300506032b656e032100', encap),
        format: 'der',
        type: 'spki',
      }),
    }),
  )
  const empty = new Uint8Array(0)
  const shared = le(kemId, lx(kemId, empty, 'eae_prk', dh), 'shared_secret', concat(encap, pkR), 32)
  const ksc = concat(
    Uint8Array.of(0),
    lx(suiteId, empty, 'psk_id_hash', empty),
    lx(suiteId, empty, 'info_hash', info),
  )
  const secret = lx(suiteId, shared, 'secret', empty)
  const key = le(suiteId, secret, 'key', ksc, 32)
  const nonce = le(suiteId, secret, 'base_nonce', ksc, 12)
  return gcm(key, nonce, aad).decrypt(ct)
}

describe('envelope v1 recipients addendum vector', () => {
  it('the library writes it byte for byte from the same randomness', async () => {
    const ids = await Promise.all(v.recipients.map((r) => RecipientIdentity.fromRaw(hexToBytes(r.sk))))
    expect(ids.map((i) => i.id)).toEqual(v.recipients.map((r) => r.rid))
    expect(ids.map((i) => bytesToHex(i.publicKey.raw()))).toEqual(v.recipients.map((r) => r.pk))
    let e = 0
    const provider = createRecipientsProvider({
      recipients: ids.map((i) => i.publicKey),
      random: () => hexToBytes((v.recipients[e++] as { ekm: string }).ekm),
    })
    const env = createEnvelope({ provider, random: () => hexToBytes(v.dek + v.messageId) })
    expect(bytesToHex(await env.encrypt(enc(v.plaintext), v.context))).toBe(v.ciphertext)
    for (const id of ids) {
      const opener = createEnvelope({ provider: createRecipientsProvider({ identities: [id] }) })
      expect(dec(await opener.decrypt(hexToBytes(v.ciphertext), v.context))).toBe(v.plaintext)
    }
  })

  it('an independent decoder written from the addendum opens the data key with each private key', () => {
    const ct = hexToBytes(v.ciphertext)
    const { suite, providerId, keyRef, edk } = headerEdk(ct)
    expect(providerId).toBe('hpke')
    expect(keyRef).toBe(`hpke:${v.recipients.map((r) => r.rid).join(',')}`)
    const n = v.recipients.length
    expect(edk.length).toBe(2 + 96 * n)
    expect([edk[0], edk[1]]).toEqual([1, n])
    const rids = Array.from({ length: n }, (_, i) => edk.subarray(2 + 96 * i, 2 + 96 * i + 16))
    const wrapAad = concat(enc('hge/v1/wrap'), u16(suite), sha256(canonical(v.context)))
    const info = concat(enc('safeguards/envelope/hpke/v1'), Uint8Array.of(0), wrapAad)
    v.recipients.forEach((r, mine) => {
      const pk = hexToBytes(r.pk)
      const rid = sha256(pk).subarray(0, 16)
      const i = rids.findIndex((x) => bytesToHex(x) === bytesToHex(rid))
      expect(i).toBe(mine)
      const entry = edk.subarray(2 + 96 * i, 2 + 96 * (i + 1))
      const aad = concat(Uint8Array.of(1, n), ...rids, Uint8Array.of(i))
      const dek = openBase(hexToBytes(r.sk), pk, entry.subarray(16, 48), info, aad, entry.subarray(48, 96))
      expect(bytesToHex(dek)).toBe(v.dek)
    })
  })
})
