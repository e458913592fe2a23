import { createHash, createHmac } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  bytesToHex,
  createHasher,
  hash,
  hashBackend,
  hmac,
  sha256,
  sha512,
  utf8Encode,
} from '../src/index.js'

// FIPS 180-4 examples (NIST CSRC "Example Algorithms"), and RFC 4231 test case 2 for HMAC.
const ABC = utf8Encode('abc')
const TWO_BLOCK = utf8Encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')

describe('SHA-2 known answers', () => {
  it('runs natively on Node', () => {
    expect(hashBackend).toBe('native')
  })

  for (const backend of ['native', 'noble'] as const) {
    it(`sha256/sha512 on ${backend}`, () => {
      expect(bytesToHex(hash('sha256', ABC, backend))).toBe(
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      )
      expect(bytesToHex(hash('sha256', TWO_BLOCK, backend))).toBe(
        '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
      )
      expect(bytesToHex(hash('sha512', ABC, backend))).toBe(
        'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
      )
      expect(bytesToHex(hash('sha256', new Uint8Array(), backend))).toBe(
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      )
    })

    it(`HMAC RFC 4231 case 2 on ${backend}`, () => {
      const key = utf8Encode('Jefe')
      const data = utf8Encode('what do ya want for nothing?')
      expect(bytesToHex(hmac('sha256', key, data, backend))).toBe(
        '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      )
      expect(bytesToHex(hmac('sha512', key, data, backend))).toBe(
        '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
      )
    })
  }

  it('returns plain Uint8Array, not Buffer', () => {
    expect(Object.getPrototypeOf(sha256(ABC))).toBe(Uint8Array.prototype)
    expect(Object.getPrototypeOf(hmac('sha256', ABC, ABC))).toBe(Uint8Array.prototype)
    expect(Object.getPrototypeOf(createHasher('sha256').update(ABC).digest())).toBe(Uint8Array.prototype)
  })
})

describe('backends agree (property)', () => {
  it('one-shot, HMAC and incremental give identical bytes on native, noble and node:crypto', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom('sha256' as const, 'sha512' as const),
        (chunks, key, alg) => {
          const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
          let o = 0
          for (const c of chunks) {
            all.set(c, o)
            o += c.length
          }
          const oracle = new Uint8Array(createHash(alg).update(all).digest())
          expect(hash(alg, all, 'native')).toEqual(oracle)
          expect(hash(alg, all, 'noble')).toEqual(oracle)
          for (const backend of ['native', 'noble'] as const) {
            const h = createHasher(alg, backend)
            for (const c of chunks) h.update(c)
            expect(h.digest()).toEqual(oracle)
          }
          const mac = new Uint8Array(createHmac(alg, key).update(all).digest())
          expect(hmac(alg, key, all, 'native')).toEqual(mac)
          expect(hmac(alg, key, all, 'noble')).toEqual(mac)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('sha512 helper and 1 MiB input', () => {
    const big = new Uint8Array(1 << 20).fill(7)
    expect(sha512(big)).toEqual(hash('sha512', big, 'noble'))
    expect(sha256(big)).toEqual(hash('sha256', big, 'noble'))
  })

  it('checks arguments', () => {
    expect(() => hash('md5' as 'sha256', ABC)).toThrow(TypeError)
    expect(() => createHasher('sha1' as 'sha256')).toThrow(TypeError)
    expect(() => sha256('abc' as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => hmac('sha256', 'k' as unknown as Uint8Array, ABC)).toThrow(/"key"/)
    expect(() => createHasher('sha256').update([1] as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => createHasher('sha256', 'noble').update([1] as unknown as Uint8Array)).toThrow(TypeError)
  })
})

describe('sha256Hex', () => {
  it('matches sha256 for bytes and UTF-8 strings, on both paths', async () => {
    const { sha256Hex, sha256, bytesToHex, utf8Encode } = await import('../src/index.js')
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    for (const s of ['', 'abc', 'é漢字🙂', 'x'.repeat(10_000)]) {
      expect(sha256Hex(s)).toBe(bytesToHex(sha256(utf8Encode(s))))
      expect(sha256Hex(utf8Encode(s))).toBe(bytesToHex(sha256(utf8Encode(s))))
    }
    expect(() => sha256Hex(1 as never)).toThrow(TypeError)
  })
})

describe('createSemaphore', () => {
  it('runs at most max tasks, FIFO, and refuses beyond maxQueue', async () => {
    const { createSemaphore } = await import('../src/index.js')
    const sem = createSemaphore(2, { maxQueue: 1, onFull: (n) => new Error(`full ${n}`) })
    const order: number[] = []
    const gates: Array<() => void> = []
    const task = (i: number) => () =>
      new Promise<number>((r) => {
        order.push(i)
        gates.push(() => r(i))
      })
    const a = sem.run(task(1))
    const b = sem.run(task(2))
    const c = sem.run(task(3))
    await expect(sem.run(task(4))).rejects.toThrow('full 1')
    expect([sem.active, sem.queued]).toEqual([2, 1])
    gates.shift()!()
    expect(await a).toBe(1)
    await new Promise((r) => setTimeout(r, 0))
    expect(order).toEqual([1, 2, 3])
    gates.shift()!()
    gates.shift()!()
    expect([await b, await c]).toEqual([2, 3])
    expect([sem.active, sem.queued]).toEqual([0, 0])
    await expect(sem.run(() => Promise.reject(new Error('task')))).rejects.toThrow('task')
    expect(sem.active).toBe(0)
    expect(() => createSemaphore(0)).toThrow(RangeError)
    await expect(createSemaphore(1, { maxQueue: 0 }).run(async () => 1)).resolves.toBe(1)
  })
})
