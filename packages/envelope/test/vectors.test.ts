/**
 * Wycheproof AES-GCM and HKDF vectors (copied into test/vectors/wycheproof; see its README) through
 * the envelope's own AEAD and KDF layers, on every backend.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { bytesToHex, hexToBytes } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { EnvelopeDecryptionError } from '../src/errors.js'
import { type AeadBackendName, getAead } from '../src/internal/aead.js'
import { hkdf, type KdfBackendName } from '../src/internal/kdf.js'

const dir = join(import.meta.dirname, 'vectors/wycheproof')
const load = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'))

interface AeadTest {
  tcId: number
  key: string
  iv: string
  aad: string
  msg: string
  ct: string
  tag: string
  result: 'valid' | 'invalid' | 'acceptable'
}

const gcmFile = load('aes_gcm_test.json') as {
  testGroups: Array<{ keySize: number; ivSize: number; tagSize: number; tests: AeadTest[] }>
}
const backends: AeadBackendName[] = ['node', 'webcrypto', 'noble']

describe('Wycheproof AES-GCM through the AEAD layer', () => {
  const ours = gcmFile.testGroups.filter((g) => g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128)
  const tests = ours.flatMap((g) => g.tests)
  it('has the AES-256 / 96-bit IV / 128-bit tag groups', () => {
    expect(tests.length).toBeGreaterThan(20)
  })

  for (const name of backends) {
    it(`${name}: every vector gives the expected result`, async () => {
      const aead = getAead(name)
      let valid = 0
      for (const t of tests) {
        const key = aead.importKey(hexToBytes(t.key))
        const sealed = hexToBytes(t.ct + t.tag)
        if (t.result === 'valid') {
          const ct = await aead.seal(key, hexToBytes(t.iv), hexToBytes(t.aad), hexToBytes(t.msg))
          expect(bytesToHex(ct), `tcId ${t.tcId}`).toBe(t.ct + t.tag)
          const pt = await aead.open(key, hexToBytes(t.iv), hexToBytes(t.aad), sealed)
          expect(bytesToHex(pt), `tcId ${t.tcId}`).toBe(t.msg)
          valid++
        } else {
          await expect(
            aead.open(key, hexToBytes(t.iv), hexToBytes(t.aad), sealed),
            `tcId ${t.tcId}`,
          ).rejects.toBeInstanceOf(EnvelopeDecryptionError)
        }
      }
      expect(valid).toBeGreaterThan(10)
    })

    it(`${name}: the synchronous record forms (seal into a buffer, GMAC over AAD pieces) agree`, () => {
      const aead = getAead(name)
      const { sealToSync, tagSync, borrowKey } = aead
      if (sealToSync === undefined || tagSync === undefined || borrowKey === undefined) {
        expect(name).toBe('webcrypto') // the only backend without a synchronous API
        return
      }
      let gmacs = 0
      for (const t of tests.filter((x) => x.result === 'valid')) {
        const key = borrowKey(hexToBytes(t.key))
        const msg = hexToBytes(t.msg)
        const out = new Uint8Array(3 + msg.length + 16)
        sealToSync(key, hexToBytes(t.iv), hexToBytes(t.aad), msg, out, 3)
        expect(bytesToHex(out.subarray(3)), `tcId ${t.tcId}`).toBe(t.ct + t.tag)
        if (msg.length === 0) {
          const aad = hexToBytes(t.aad)
          for (const cut of [0, aad.length >> 1, aad.length]) {
            const tag = tagSync(key, hexToBytes(t.iv), [aad.subarray(0, cut), aad.subarray(cut)])
            expect(bytesToHex(tag), `tcId ${t.tcId}`).toBe(t.tag)
          }
          gmacs++
        }
      }
      expect(gmacs).toBeGreaterThan(0)
    })

    it(`${name}: refuses other key and IV sizes`, async () => {
      const aead = getAead(name)
      const others = gcmFile.testGroups.filter((g) => g.keySize !== 256).flatMap((g) => g.tests)
      for (const t of others.slice(0, 20)) expect(() => aead.importKey(hexToBytes(t.key))).toThrow(RangeError)
      const key = aead.importKey(new Uint8Array(32))
      const badIv = gcmFile.testGroups
        .filter((g) => g.keySize === 256 && g.ivSize !== 96)
        .flatMap((g) => g.tests)
      for (const t of badIv.slice(0, 20)) {
        await expect(
          Promise.resolve().then(() =>
            aead.seal(key, hexToBytes(t.iv), new Uint8Array(0), new Uint8Array(0)),
          ),
        ).rejects.toThrow(RangeError)
      }
    })
  }

  it('rejects sealed inputs shorter than a tag', async () => {
    for (const name of backends) {
      const aead = getAead(name)
      await expect(
        aead.open(
          aead.importKey(new Uint8Array(32)),
          new Uint8Array(12),
          new Uint8Array(0),
          new Uint8Array(15),
        ),
      ).rejects.toBeInstanceOf(EnvelopeDecryptionError)
    }
  })
})

interface HkdfTest {
  tcId: number
  ikm: string
  salt: string
  info: string
  size: number
  okm: string
  result: 'valid' | 'invalid'
}

describe('Wycheproof HKDF through the KDF layer', () => {
  const kdfs: KdfBackendName[] = ['node', 'noble']
  for (const [file, hash] of [
    ['hkdf_sha256_test.json', 'sha256'],
    ['hkdf_sha512_test.json', 'sha512'],
  ] as const) {
    const tests = (load(file) as { testGroups: Array<{ tests: HkdfTest[] }> }).testGroups.flatMap(
      (g) => g.tests,
    )
    for (const backend of kdfs) {
      it(`${hash} on ${backend}: ${tests.length} vectors`, () => {
        for (const t of tests) {
          const run = () =>
            hkdf(hash, hexToBytes(t.ikm), hexToBytes(t.salt), hexToBytes(t.info), t.size, backend)
          if (t.result === 'valid') expect(bytesToHex(run()), `tcId ${t.tcId}`).toBe(t.okm)
          else expect(run, `tcId ${t.tcId}`).toThrow(RangeError)
        }
      })
    }
  }
})
