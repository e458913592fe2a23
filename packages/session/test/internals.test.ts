import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { sha256Hex, sha256HexPortable } from '../src/internal/sha256-hex.js'

describe('sha256Hex', () => {
  it('native one-shot and portable implementations agree (property)', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => sha256Hex(s) === sha256HexPortable(s)))
  })
})
