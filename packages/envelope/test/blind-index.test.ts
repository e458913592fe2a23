/**
 * Blind indexes (issue 17 §2): known answers checked two ways (the fixed vectors in
 * `vectors/blind-index-v1.json`, and a from-the-spec recomputation with node:crypto's hkdfSync and
 * createHmac), the root key kept by a KEK provider, rotation sets, and the bits planner.
 */
import { createHmac, hkdfSync, randomBytes as nodeRandom } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { errorCode } from '@safeguards/core/node'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BLIND_INDEX_KEY_FORMAT,
  BlindIndexInputError,
  blindIndexes,
  blindIndexFalseCandidates,
  compoundNormalizer,
  createBlindIndex,
  EnvelopeDecryptionError,
  EnvelopeFormatError,
  generateBlindIndexKey,
  importBlindIndexKey,
  KeyUnavailableError,
  LocalKeyring,
  normalizeDate,
  normalizeName,
  normalizeSsn,
  openBlindIndexKey,
  rewrapBlindIndexKey,
  suggestBlindIndexBits,
  type WrappedBlindIndexKey,
} from '../src/index.js'
import { truncatedHmac } from '../src/internal/blind-index-hmac.js'

interface Vector {
  name: string
  bits: number
  tenant?: string
  normalized?: string
  compound?: { lastName: string; birthDate: string }
  messageHex: string
  indexKey: string
  value: string
}
const file = JSON.parse(readFileSync(new URL('./vectors/blind-index-v1.json', import.meta.url), 'utf8')) as {
  rootKeyHex: string
  vectors: Vector[]
}
const rootBytes = Uint8Array.from(Buffer.from(file.rootKeyHex, 'hex'))

/** The construction, from the module documentation, with node:crypto only. */
function reference(
  root: Uint8Array,
  name: string,
  bits: number,
  tenant: string | undefined,
  message: Uint8Array,
): string {
  const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff])
  const n = Buffer.from(name, 'utf8')
  const t = Buffer.from(tenant ?? '', 'utf8')
  const info = Buffer.concat([
    Buffer.from('hge/bidx/v1\x00', 'latin1'),
    u16(bits),
    u16(n.length),
    n,
    Buffer.from([tenant === undefined ? 0 : 1]),
    u16(t.length),
    t,
  ])
  const key = Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), info, 32))
  const tag = createHmac('sha256', key).update(message).digest()
  const bytes = tag.subarray(0, Math.ceil(bits / 8))
  const rest = bits % 8
  if (rest !== 0)
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) & ((0xff << (8 - rest)) & 0xff)
  return bytes.toString('hex')
}

describe('blind index: known answers', () => {
  const key = importBlindIndexKey(rootBytes)

  it.each(file.vectors.map((v) => [`${v.name}/${v.bits}/${v.tenant ?? '-'}`, v] as const))(
    '%s matches the stored vector and the node:crypto recomputation',
    (_, v) => {
      const message = Uint8Array.from(Buffer.from(v.messageHex, 'hex'))
      expect(reference(rootBytes, v.name, v.bits, v.tenant, message)).toBe(v.value)
      if (v.compound) {
        const index = createBlindIndex({
          key,
          name: v.name,
          bits: v.bits,
          normalize: compoundNormalizer({ lastName: normalizeName, birthDate: normalizeDate }),
          ...(v.tenant === undefined ? {} : { tenant: v.tenant }),
        })
        expect(index.compute(v.compound)).toBe(v.value)
        // the same row written differently gives the same value
        expect(index.compute({ birthDate: 'March 12, 1980', lastName: ' DOE ' })).toBe(v.value)
      } else {
        const index = createBlindIndex({
          key,
          name: v.name,
          bits: v.bits,
          normalize: (s: string) => s,
          ...(v.tenant === undefined ? {} : { tenant: v.tenant }),
        })
        expect(index.compute(v.normalized as string)).toBe(v.value)
        expect(v.value).toHaveLength(2 * Math.ceil(v.bits / 8))
      }
    },
  )

  it('agrees with the independent recomputation on random keys, names, widths, tenants and values', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 32 }),
        fc.option(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), { nil: undefined }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        (root, name, bits, tenant, message) => {
          const index = createBlindIndex({
            key: importBlindIndexKey(root),
            name,
            bits,
            normalize: (m: Uint8Array) => m,
            ...(tenant === undefined ? {} : { tenant }),
          })
          expect(index.compute(message)).toBe(reference(root, name, bits, tenant, message))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('the SSN normaliser feeds the hash: every spelling of one SSN gives the stored value', () => {
    const v = file.vectors[0] as Vector
    const ssn = createBlindIndex({ key, name: v.name, bits: v.bits, normalize: normalizeSsn })
    for (const s of ['123-45-6789', '123 45 6789', ' 123456789 ', '１２３−４５−６７８９', '123.45.6789'])
      expect(ssn.compute(s)).toBe(v.value)
    expect(ssn.lookup('123-45-6789')).toEqual([v.value])
  })
})

describe('blind index: construction', () => {
  const key = importBlindIndexKey(new Uint8Array(32).fill(9))
  const plain = (s: string): string => s

  it('keeps exactly `bits` bits: the unused low bits of the last byte are zero', () => {
    for (let bits = 1; bits <= 32; bits++) {
      const index = createBlindIndex({ key, name: 'x', bits, normalize: plain })
      const seen = new Set<string>()
      for (let i = 0; i < (bits <= 6 ? 1000 : 200); i++) {
        const hex = index.compute(`v${i}`)
        expect(hex).toMatch(/^[0-9a-f]+$/)
        expect(hex).toHaveLength(2 * Math.ceil(bits / 8))
        const last = Number.parseInt(hex.slice(-2), 16)
        if (bits % 8 !== 0) expect(last & ((1 << (8 - (bits % 8))) - 1)).toBe(0)
        seen.add(hex)
      }
      expect(seen.size).toBeLessThanOrEqual(2 ** bits)
      if (bits <= 6) expect(seen.size).toBe(2 ** bits) // 1000 draws miss one of 64 values with p < 1e-5
    }
  })

  it('separates names, tenants and widths (unrelated keys), and is deterministic', () => {
    const a = createBlindIndex({ key, name: 'patients.ssn', bits: 32, normalize: plain })
    const variants = [
      createBlindIndex({ key, name: 'patients.phone', bits: 32, normalize: plain }),
      createBlindIndex({ key, name: 'patients.ssn', bits: 32, normalize: plain, tenant: 't1' }),
      createBlindIndex({ key, name: 'patients.ssn', bits: 32, normalize: plain, tenant: 't2' }),
      createBlindIndex({
        key: importBlindIndexKey(new Uint8Array(32).fill(8)),
        name: 'patients.ssn',
        bits: 32,
        normalize: plain,
      }),
    ]
    const again = createBlindIndex({ key, name: 'patients.ssn', bits: 32, normalize: plain })
    for (let i = 0; i < 50; i++) {
      const v = `value-${i}`
      expect(again.compute(v)).toBe(a.compute(v))
      for (const other of variants) expect(other.compute(v)).not.toBe(a.compute(v))
    }
    // a 16-bit index is not the prefix of the 32-bit one (bits are in the key derivation)
    const narrow = createBlindIndex({ key, name: 'patients.ssn', bits: 16, normalize: plain })
    const prefixes = Array.from(
      { length: 50 },
      (_, i) => a.compute(`p${i}`).slice(0, 4) === narrow.compute(`p${i}`),
    )
    expect(prefixes.filter(Boolean).length).toBeLessThan(3)
  })

  it('rejects bad options with TypeError / RangeError', () => {
    const base = { key, name: 'n', bits: 16, normalize: plain }
    expect(() => createBlindIndex({ ...base, bits: 0 })).toThrow(RangeError)
    expect(() => createBlindIndex({ ...base, bits: 33 })).toThrow(RangeError)
    expect(() => createBlindIndex({ ...base, bits: 12.5 })).toThrow(TypeError)
    expect(() => createBlindIndex({ ...base, bits: '16' as unknown as number })).toThrow(TypeError)
    expect(() => createBlindIndex({ ...base, name: '' })).toThrow(RangeError)
    expect(() => createBlindIndex({ ...base, name: 'x'.repeat(256) })).toThrow(RangeError)
    expect(() => createBlindIndex({ ...base, name: '\ud800' })).toThrow(RangeError)
    expect(() => createBlindIndex({ ...base, tenant: '' })).toThrow(RangeError)
    expect(() => createBlindIndex({ ...base, normalize: undefined as unknown as typeof plain })).toThrow(
      TypeError,
    )
    expect(() => createBlindIndex({ ...base, key: new Uint8Array(32) as never })).toThrow(TypeError)
    expect(() => createBlindIndex({ ...base, key: { keyRef: undefined, destroy() {} } })).toThrow(TypeError)
  })

  it('refuses empty and ill-formed normalised values with BlindIndexInputError', () => {
    const index = createBlindIndex({ key, name: 'n', bits: 16, normalize: plain })
    for (const bad of ['', '\udc00']) {
      expect(() => index.compute(bad)).toThrow(BlindIndexInputError)
      try {
        index.compute(bad)
      } catch (e) {
        expect(errorCode(e)).toBe('ERR_BLIND_INDEX_INPUT')
        expect((e as BlindIndexInputError).normalizer).toBe('index')
      }
    }
    const bytes = createBlindIndex({ key, name: 'n', bits: 16, normalize: (b: Uint8Array) => b })
    expect(() => bytes.compute(new Uint8Array(0))).toThrow(BlindIndexInputError)
  })

  it('destroy() stops the index and the root key; neither prints key material', () => {
    const root = importBlindIndexKey(new Uint8Array(32).fill(5))
    const index = createBlindIndex({ key: root, name: 'n', bits: 16, normalize: plain })
    expect(JSON.stringify(root)).toBe('{}')
    expect(JSON.stringify(index)).toBe('{"name":"n","bits":16}')
    index.destroy()
    expect(() => index.compute('a')).toThrow(KeyUnavailableError)
    root.destroy()
    expect(() => createBlindIndex({ key: root, name: 'n', bits: 16, normalize: plain })).toThrow(
      KeyUnavailableError,
    )
  })
})

describe('blind index: root key kept by a KekProvider', () => {
  it('generates, stores as JSON, reopens and rewraps after KEK rotation with the same index values', async () => {
    const keyring = await LocalKeyring.inMemory()
    const { key, wrapped } = await generateBlindIndexKey(keyring)
    expect(wrapped).toMatchObject({
      format: BLIND_INDEX_KEY_FORMAT,
      providerId: 'local',
      keyRef: 'local:default@v1',
    })
    expect(key.keyRef).toBe('local:default@v1')
    const stored = JSON.parse(JSON.stringify(wrapped)) as WrappedBlindIndexKey
    const opened = await openBlindIndexKey([keyring], stored)
    const make = (k: typeof key) =>
      createBlindIndex({ key: k, name: 'patients.ssn', bits: 15, normalize: normalizeSsn })
    expect(make(opened).compute('123-45-6789')).toBe(make(key).compute('123-45-6789'))

    await keyring.rotate()
    const rewrapped = await rewrapBlindIndexKey(keyring, stored)
    expect(rewrapped.keyRef).toBe('local:default@v2')
    await keyring.retire(1)
    await expect(openBlindIndexKey(keyring, stored)).rejects.toThrow(KeyUnavailableError)
    const reopened = await openBlindIndexKey(keyring, rewrapped)
    expect(make(reopened).compute('123456789')).toBe(make(key).compute('123456789'))
  })

  it('refuses another provider, a tampered wrap, an envelope data key, and malformed JSON', async () => {
    const keyring = await LocalKeyring.inMemory()
    const other = await LocalKeyring.inMemory()
    const { wrapped } = await generateBlindIndexKey(keyring)
    await expect(openBlindIndexKey(other, wrapped)).rejects.toThrow(EnvelopeDecryptionError)
    await expect(openBlindIndexKey(keyring, { ...wrapped, providerId: 'pkcs11' })).rejects.toMatchObject({
      code: 'ERR_ENVELOPE_KEY_UNAVAILABLE',
      reason: 'no-provider',
    })
    const edk = Buffer.from(wrapped.edk, 'base64url')
    edk[edk.length - 1] = (edk[edk.length - 1] as number) ^ 1
    await expect(openBlindIndexKey(keyring, { ...wrapped, edk: edk.toString('base64url') })).rejects.toThrow(
      EnvelopeDecryptionError,
    )
    // a key wrapped under another AAD (an envelope's data key: "hge/v1/wrap" ‖ …) does not open as a root key
    const dataKey = await keyring.wrap(new Uint8Array(32).fill(3), new TextEncoder().encode('hge/v1/wrap'))
    await expect(
      openBlindIndexKey(keyring, {
        ...wrapped,
        keyRef: dataKey.keyRef,
        edk: Buffer.from(dataKey.edk).toString('base64url'),
      }),
    ).rejects.toThrow(EnvelopeDecryptionError)
    for (const bad of [
      null,
      {},
      { ...wrapped, format: 'x' },
      { ...wrapped, edk: '***' },
      { ...wrapped, edk: '' },
      { ...wrapped, keyRef: '' },
    ])
      await expect(openBlindIndexKey(keyring, bad as unknown as WrappedBlindIndexKey)).rejects.toThrow(
        EnvelopeFormatError,
      )
    await expect(openBlindIndexKey([], wrapped)).rejects.toThrow(RangeError)
  })

  it('uses injected randomness for the root key', async () => {
    const keyring = await LocalKeyring.inMemory()
    const { key } = await generateBlindIndexKey(keyring, { random: (n) => new Uint8Array(n).fill(7) })
    const same = importBlindIndexKey(new Uint8Array(32).fill(7))
    const make = (k: typeof key) =>
      createBlindIndex({ key: k, name: 'n', bits: 32, normalize: (s: string) => s })
    expect(make(key).compute('a')).toBe(make(same).compute('a'))
    expect(() => importBlindIndexKey(new Uint8Array(16))).toThrow(RangeError)
    expect(() => importBlindIndexKey('k' as unknown as Uint8Array)).toThrow(TypeError)
  })
})

describe('blind index: rotation (write both, read either)', () => {
  const oldIndex = createBlindIndex({
    key: importBlindIndexKey(new Uint8Array(32).fill(1)),
    name: 'patients.ssn',
    bits: 12,
    normalize: normalizeSsn,
  })
  const newIndex = createBlindIndex({
    key: importBlindIndexKey(new Uint8Array(32).fill(2)),
    name: 'patients.ssn',
    bits: 15,
    normalize: normalizeSsn,
  })

  it('computes every index, current first, and looks up the distinct values of all', () => {
    const set = blindIndexes(newIndex, oldIndex)
    expect(set.current).toBe(newIndex)
    const terms = set.compute('123-45-6789')
    expect(terms.map((t) => t.index)).toEqual([newIndex, oldIndex])
    expect(terms.map((t) => t.value)).toEqual([newIndex.compute('123456789'), oldIndex.compute('123456789')])
    expect(set.lookup('123 45 6789')).toEqual(terms.map((t) => t.value))

    // a table half migrated: rows written under either index are found
    const rows = Array.from({ length: 2000 }, (_, i) => String(100_000_000 + i * 7919))
    const column = rows.map((ssn, i) => (i % 2 === 0 ? newIndex : oldIndex).compute(ssn))
    for (const probe of [0, 1, 1234, 1999]) {
      const wanted = set.lookup(rows[probe] as string)
      const candidates = column.flatMap((v, i) => (wanted.includes(v) ? [i] : []))
      expect(candidates).toContain(probe)
      expect(candidates.filter((i) => rows[i] === rows[probe])).toEqual([probe]) // decrypt-and-compare keeps one
    }
  })

  it('deduplicates equal values and refuses repeated or foreign indexes', () => {
    expect(blindIndexes(newIndex).lookup('123456789')).toEqual([newIndex.compute('123456789')])
    expect(() => blindIndexes(newIndex, newIndex)).toThrow(RangeError)
    expect(() => blindIndexes(newIndex, {} as typeof oldIndex)).toThrow(TypeError)
    expect(() => blindIndexes(newIndex, oldIndex).compute('12')).toThrow(BlindIndexInputError)
  })
})

describe('blind index: false candidates and the bits planner', () => {
  it('gives (rows − matching)·2^−bits and matches a simulation', () => {
    expect(blindIndexFalseCandidates(15, 100_000)).toBeCloseTo(99_999 / 32_768, 10)
    expect(blindIndexFalseCandidates(8, 1, 1)).toBe(0)
    expect(blindIndexFalseCandidates(16, 100_000, 10)).toBeCloseTo(99_990 / 65_536, 10)
    expect(() => blindIndexFalseCandidates(0, 10)).toThrow(RangeError)
    expect(() => blindIndexFalseCandidates(8, 0)).toThrow(RangeError)
    expect(() => blindIndexFalseCandidates(8, 10, 11)).toThrow(RangeError)
    expect(() => blindIndexFalseCandidates(8, 1.5)).toThrow(TypeError)

    // 20 000 distinct values under a 10-bit index: mean false candidates per lookup ≈ 19 999 / 1024 ≈ 19.5
    const index = createBlindIndex({
      key: importBlindIndexKey(nodeRandom(32)),
      name: 'sim',
      bits: 10,
      normalize: (s: string) => s,
    })
    const counts = new Map<string, number>()
    const values = Array.from({ length: 20_000 }, (_, i) => index.compute(`row-${i}`))
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
    const mean = values.reduce((sum, v) => sum + (counts.get(v) as number) - 1, 0) / values.length
    // a value's own bucket is size-biased (+1 on average): the unbiased expectation is 19.53
    expect(mean).toBeGreaterThan(17.5)
    expect(mean).toBeLessThan(21.5)
  })

  it('suggests CipherSweet-style safe widths: 2 ≤ rows / 2^bits ≤ √rows', () => {
    expect(suggestBlindIndexBits(100_000)).toEqual({ min: 9, max: 15 })
    expect(suggestBlindIndexBits(50_000)).toEqual({ min: 8, max: 14 })
    expect(suggestBlindIndexBits(1_000_000)).toEqual({ min: 10, max: 18 })
    expect(suggestBlindIndexBits(4)).toEqual({ min: 1, max: 1 })
    expect(suggestBlindIndexBits(100_000, { otherBits: 4 })).toEqual({ min: 5, max: 11 })
    expect(suggestBlindIndexBits(100_000, { inputBits: 12 })).toEqual({ min: 9, max: 12 })
    expect(() => suggestBlindIndexBits(3)).toThrow(RangeError)
    expect(() => suggestBlindIndexBits(100_000, { inputBits: 4 })).toThrow(RangeError) // index it only in a compound
    expect(() => suggestBlindIndexBits(0)).toThrow(RangeError)
    expect(() => suggestBlindIndexBits(100, { otherBits: -1 })).toThrow(RangeError)
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 2 ** 40 }), (rows) => {
        const { min, max } = suggestBlindIndexBits(rows)
        expect(min).toBeLessThanOrEqual(max)
        expect(rows / 2 ** max).toBeGreaterThanOrEqual(2)
        expect(rows / 2 ** min).toBeLessThanOrEqual(Math.sqrt(rows))
        if (max < 32) expect(rows / 2 ** (max + 1)).toBeLessThan(2)
        if (min > 1) expect(rows / 2 ** (min - 1)).toBeGreaterThan(Math.sqrt(rows))
      }),
    )
  })
})

describe('blind index: HMAC paths', () => {
  it('the one-shot path and core hmac give the same values', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 1, max: 32 }),
        fc.uint8Array({ minLength: 1, maxLength: 400 }),
        (key, bits, message) => {
          const fast = truncatedHmac(key.slice(), bits)
          const portable = truncatedHmac(key.slice(), bits, 'hmac')
          const expected = createHmac('sha256', key)
            .update(message)
            .digest()
            .subarray(0, Math.ceil(bits / 8))
          if (bits % 8 !== 0)
            expected[expected.length - 1] =
              (expected[expected.length - 1] as number) & ((0xff << (8 - (bits % 8))) & 0xff)
          expect(fast(message)).toBe(expected.toString('hex'))
          expect(portable(message)).toBe(expected.toString('hex'))
          fast.destroy()
        },
      ),
      { numRuns: 300 },
    )
  })
})
