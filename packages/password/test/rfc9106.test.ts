/**
 * RFC 9106 §5.3 argon2id test vector, run through the wrapper our hasher uses
 * (src/internal/argon2.ts) and so through the `argon2` addon. Provenance: test/vectors/README.md.
 */
import { readFileSync } from 'node:fs'
import { bytesToHex, hexToBytes } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { argon2Raw } from '../src/internal/argon2.js'

interface Vector {
  type: 'argon2d' | 'argon2i' | 'argon2id'
  version: number
  memoryCost: number
  timeCost: number
  parallelism: number
  password: string
  salt: string
  secret: string
  associatedData: string
  tag: string
}
const vectors = JSON.parse(readFileSync(new URL('./vectors/rfc9106.json', import.meta.url), 'utf8')) as {
  vectors: Vector[]
}

const run = (v: Vector, secret: Uint8Array = hexToBytes(v.secret)): Promise<Uint8Array> =>
  argon2Raw({
    type: v.type,
    version: v.version,
    memoryCost: v.memoryCost,
    timeCost: v.timeCost,
    parallelism: v.parallelism,
    password: hexToBytes(v.password),
    salt: hexToBytes(v.salt),
    secret,
    associatedData: hexToBytes(v.associatedData),
    hashLength: v.tag.length / 2,
  })

describe('RFC 9106 §5 vectors', () => {
  for (const v of vectors.vectors) {
    it(`${v.type} v=${v.version} m=${v.memoryCost} t=${v.timeCost} p=${v.parallelism}`, async () => {
      const tag = await run(v)
      expect(tag).toBeInstanceOf(Uint8Array)
      expect(bytesToHex(tag)).toBe(v.tag)
    })
  }

  it('a changed secret (pepper) changes the tag', async () => {
    const v = vectors.vectors.find((x) => x.type === 'argon2id') as Vector
    const tag = await run(v, new Uint8Array(8).fill(4))
    expect(bytesToHex(tag)).not.toBe(v.tag)
  })
})
