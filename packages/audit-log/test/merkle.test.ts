import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { base64ToBytes, utf8Encode } from '@safeguards/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CompactRange,
  EMPTY_ROOT,
  leafHash,
  MerkleTree,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.js'

const VECTORS = join(import.meta.dirname, 'vectors/merkle')

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? files(p) : n.endsWith('.json') ? [p] : []
  })
}

const b = (s: string): Uint8Array => base64ToBytes(s)

describe('transparency-dev vectors', () => {
  const inclusion = files(join(VECTORS, 'inclusion'))
  const consistency = files(join(VECTORS, 'consistency'))

  it('has the vector files', () => {
    expect(inclusion.length).toBeGreaterThan(50)
    expect(consistency.length).toBeGreaterThan(50)
  })

  it.each(inclusion.map((f) => [f.slice(VECTORS.length + 1), f]))('inclusion %s', (_n, f) => {
    const v = JSON.parse(readFileSync(f, 'utf8'))
    const ok = verifyInclusion(b(v.leafHash), v.leafIdx, v.treeSize, (v.proof ?? []).map(b), b(v.root))
    expect(ok).toBe(!v.wantErr)
  })

  it.each(consistency.map((f) => [f.slice(VECTORS.length + 1), f]))('consistency %s', (_n, f) => {
    const v = JSON.parse(readFileSync(f, 'utf8'))
    const ok = verifyConsistency(v.size1, v.size2, b(v.root1), b(v.root2), (v.proof ?? []).map(b))
    expect(ok).toBe(!v.wantErr)
  })
})

/** RFC 6962 MTH straight from the definition, for cross-checking. */
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return EMPTY_ROOT
  if (leaves.length === 1) return leaves[0]!
  let k = 1
  while (k * 2 < leaves.length) k *= 2
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)))
}

/** MTH of the `n` leaves from `start` (a complete subtree), from the definition. */
function subtreeRoot(tree: MerkleTree, start: number, n: number): Uint8Array {
  if (n === 1) return tree.leaf(start)
  return nodeHash(subtreeRoot(tree, start, n / 2), subtreeRoot(tree, start + n / 2, n / 2))
}

describe('MerkleTree', () => {
  it('matches the reference tree of RFC 6962 test data (8 leaves)', () => {
    // transparency-dev/merkle testonly: leaves "", 00, 10, 2021, 3031, 40414243, 5051525354555657, 606162636465666768696a6b6c6d6e6f
    const hex = [
      '',
      '00',
      '10',
      '2021',
      '3031',
      '40414243',
      '5051525354555657',
      '606162636465666768696a6b6c6d6e6f',
    ]
    const tree = new MerkleTree()
    for (const h of hex)
      tree.append(leafHash(Uint8Array.from((h.match(/../g) ?? []).map((x) => Number.parseInt(x, 16)))))
    const root = Array.from(tree.root(), (x) => x.toString(16).padStart(2, '0')).join('')
    expect(root).toBe('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328')
  })

  it('roots, inclusion and consistency proofs agree with the definition (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.nat(), fc.nat(), (n, a, c) => {
        const leaves = Array.from({ length: n }, (_, i) => leafHash(utf8Encode(`r${i}`)))
        const tree = new MerkleTree()
        for (const l of leaves) tree.append(l)
        const size = 1 + (a % n)
        expect(tree.root(size)).toEqual(mth(leaves.slice(0, size)))
        const range = new CompactRange()
        for (const l of leaves.slice(0, size)) range.append(l)
        expect(range.root()).toEqual(tree.root(size))
        expect(range.size).toBe(size)
        const idx = c % size
        const proof = tree.inclusionProof(idx, size)
        expect(verifyInclusion(leaves[idx]!, idx, size, proof, tree.root(size))).toBe(true)
        expect(verifyInclusion(leaves[(idx + 1) % size]!, idx, size, proof, tree.root(size))).toBe(size === 1)
        const size1 = 1 + (c % size)
        const cp = tree.consistencyProof(size1, size)
        expect(verifyConsistency(size1, size, tree.root(size1), tree.root(size), cp)).toBe(true)
        if (size1 < size) {
          const bad = tree.root(size1)
          bad[0]! ^= 1
          expect(verifyConsistency(size1, size, bad, tree.root(size), cp)).toBe(false)
        }
      }),
      { numRuns: 200 },
    )
  })

  it('compact range: root at every size equals the tree root; roots are independent plain copies', () => {
    const tree = new MerkleTree()
    const range = new CompactRange()
    for (let i = 0; i < 300; i++) {
      const leaf = leafHash(utf8Encode(`leaf ${i}`))
      tree.append(leaf)
      range.append(leaf)
      leaf.fill(0) // the range keeps its own copy of the leaf
      const root = range.root()
      expect(Object.getPrototypeOf(root)).toBe(Uint8Array.prototype)
      expect(root).toEqual(tree.root())
      root.fill(0xff) // mutating a returned root does not change the range
      expect(range.root()).toEqual(tree.root())
    }
    expect(range.size).toBe(300)
    expect(() => range.append(new Uint8Array(31))).toThrow(RangeError)
  })

  it('compact range: appending aligned subtrees by their roots equals appending the leaves (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }), (cuts) => {
        const tree = new MerkleTree()
        const joined = new CompactRange()
        let at = 0
        for (const n of cuts) {
          for (let i = at; i < at + n; i++) tree.append(leafHash(utf8Encode(`leaf ${i}`)))
          // [at, at + n) as its complete aligned subtrees, each added by its root.
          let p = at
          while (p < at + n) {
            let h = 0
            while (p % 2 ** (h + 1) === 0 && p + 2 ** (h + 1) <= at + n) h++
            joined.appendSubtree(subtreeRoot(tree, p, 2 ** h), h)
            p += 2 ** h
          }
          at += n
          expect(joined.size).toBe(at)
          expect(joined.root()).toEqual(tree.root())
        }
      }),
      { numRuns: 200 },
    )
    const range = new CompactRange()
    range.append(leafHash(new Uint8Array(1)))
    expect(() => range.appendSubtree(new Uint8Array(32), 1)).toThrow(RangeError) // size 1 is not even
    expect(() => range.appendSubtree(new Uint8Array(31), 0)).toThrow(RangeError)
    expect(() => range.appendSubtree(new Uint8Array(32), 53)).toThrow(RangeError)
  })

  it('refuses out-of-range sizes and malformed hashes', () => {
    const tree = new MerkleTree()
    expect(tree.root()).toEqual(EMPTY_ROOT)
    expect(() => tree.append(new Uint8Array(31))).toThrow(RangeError)
    tree.append(leafHash(new Uint8Array(1)))
    expect(() => tree.root(2)).toThrow(RangeError)
    expect(() => tree.inclusionProof(1, 1)).toThrow(RangeError)
    expect(() => tree.consistencyProof(0, 1)).toThrow(RangeError)
    expect(() => nodeHash(new Uint8Array(1), new Uint8Array(32))).toThrow(RangeError)
    expect(() => leafHash('x' as unknown as Uint8Array)).toThrow(TypeError)
    expect(verifyInclusion(new Uint8Array(32), 0, 1, [], new Uint8Array(31))).toBe(false)
  })
})
