/** The provider's byte and string layouts, property-tested (no token needed). */
import { bytesToHex, utf8Encode } from '@safeguards/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeEdk,
  EDK_BYTES,
  encodeEdk,
  formatKeyRef,
  KEY_NAME,
  MAX_VERSION,
  parseKeyRef,
  parseVersionId,
  readBool,
  readUlong,
  tokenAad,
  versionId,
} from '../src/internal/codec.js'
import { parseDoc } from '../src/internal/token-store.js'

const keyName = fc.stringMatching(KEY_NAME)
const version = fc.integer({ min: 1, max: MAX_VERSION })

describe('key references', () => {
  it('round-trip for every key name and version', () => {
    fc.assert(
      fc.property(keyName, version, (name, v) => {
        expect(parseKeyRef(formatKeyRef('pkcs11', name, v), 'pkcs11', name)).toBe(v)
      }),
    )
  })

  it('accept a string only if it is the canonical reference of the version they return', () => {
    fc.assert(
      fc.property(
        keyName,
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `pkcs11:k@v${s}`),
        ),
        (name, text) => {
          const v = parseKeyRef(text, 'pkcs11', 'k')
          if (v !== undefined) expect(text).toBe(formatKeyRef('pkcs11', 'k', v))
          expect(parseKeyRef(text, 'pkcs11', name) === undefined || text.startsWith(`pkcs11:${name}@v`)).toBe(
            true,
          )
        },
      ),
    )
    for (const bad of [
      'pkcs11:k@v0',
      'pkcs11:k@v01',
      'pkcs11:k@v2147483648',
      'pkcs11:k@v+1',
      'pkcs11:k@v1.0',
    ]) {
      expect(parseKeyRef(bad, 'pkcs11', 'k')).toBeUndefined()
    }
    expect(parseKeyRef(42 as unknown as string, 'pkcs11', 'k')).toBeUndefined()
  })
})

describe('version ids (CKA_ID)', () => {
  it('round-trip, and other byte strings are not versions', () => {
    fc.assert(
      fc.property(version, (v) => {
        expect(parseVersionId(versionId(v))).toBe(v)
      }),
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), (id) => {
        const v = parseVersionId(id)
        if (v !== undefined) expect(bytesToHex(versionId(v))).toBe(bytesToHex(id))
      }),
    )
    expect(parseVersionId(new Uint8Array([0, 0, 0, 0]))).toBeUndefined()
    expect(parseVersionId(new Uint8Array([0x80, 0, 0, 0]))).toBeUndefined()
    expect(parseVersionId(undefined)).toBeUndefined()
  })
})

describe('EDK layout', () => {
  it('decodes exactly what it encodes, and nothing of another length or format', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ minLength: 48, maxLength: 48 }),
        (iv, sealed) => {
          const edk = encodeEdk(iv, sealed)
          expect(edk).toHaveLength(EDK_BYTES)
          const parts = decodeEdk(edk)
          expect(parts?.iv).toEqual(iv)
          expect(parts?.sealed).toEqual(sealed)
        },
      ),
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 128 }), (bytes) => {
        const parts = decodeEdk(bytes)
        expect(parts === undefined).toBe(bytes.length !== EDK_BYTES || bytes[0] !== 1)
      }),
    )
  })

  it('gives distinct token AAD for distinct (key reference, AAD) pairs', () => {
    fc.assert(
      fc.property(fc.string(), fc.uint8Array(), fc.string(), fc.uint8Array(), (r1, a1, r2, a2) => {
        fc.pre(r1 !== r2 || bytesToHex(a1) !== bytesToHex(a2))
        expect(bytesToHex(tokenAad(r1, a1))).not.toBe(bytesToHex(tokenAad(r2, a2)))
      }),
    )
    expect(tokenAad('pkcs11:k@v1', new Uint8Array()).subarray(0, 20)).toEqual(
      utf8Encode('safeguards/pkcs11/v1'),
    )
  })
})

describe('attribute values', () => {
  it('reads CK_ULONG in native order and CK_BBOOL', () => {
    const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
    const bytes = le ? [0x20, 0, 0, 0, 0, 0, 0, 0] : [0, 0, 0, 0, 0, 0, 0, 0x20]
    expect(readUlong(new Uint8Array(bytes))).toBe(32)
    expect(readUlong(new Uint8Array(3))).toBeUndefined()
    expect(readUlong(undefined)).toBeUndefined()
    expect(readBool(new Uint8Array([1]))).toBe(true)
    expect(readBool(new Uint8Array([0]))).toBe(false)
    expect(readBool(new Uint8Array([1, 0]))).toBeUndefined()
  })
})

describe('state document parser', () => {
  it('never throws on arbitrary bytes or JSON, and returns only well-formed documents', () => {
    const check = (bytes: Uint8Array): void => {
      const doc = parseDoc(bytes)
      if (doc === undefined) return
      expect(Number.isSafeInteger(doc.seq) && doc.seq >= 1).toBe(true)
      expect(Array.isArray(doc.destroyed)).toBe(true)
      for (const n of doc.destroyed) expect(Number.isSafeInteger(n)).toBe(true)
      for (const k of Object.keys(doc.versions)) expect(k).toMatch(/^[1-9][0-9]*$/)
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), check))
    fc.assert(fc.property(fc.json(), (text) => check(utf8Encode(text))))
    fc.assert(
      fc.property(
        fc.record({
          format: fc.constantFrom(1, 2, '1'),
          seq: fc.oneof(fc.integer(), fc.double()),
          primary: fc.oneof(fc.integer(), fc.string()),
          versions: fc.dictionary(fc.string(), fc.record({ createdAt: fc.integer(), retired: fc.boolean() })),
          destroyed: fc.array(fc.oneof(fc.integer(), fc.string())),
        }),
        (v) => check(utf8Encode(JSON.stringify(v))),
      ),
    )
    expect(
      parseDoc(
        utf8Encode('{"format":1,"seq":3,"primary":2,"versions":{"2":{"createdAt":5}},"destroyed":[1]}'),
      ),
    ).toEqual({ seq: 3, primary: 2, versions: { '2': { createdAt: 5 } }, destroyed: [1] })
    expect(parseDoc(utf8Encode('{"format":1,"seq":3,"seq":4}'))).toBeUndefined() // duplicate keys refused
  })
})
