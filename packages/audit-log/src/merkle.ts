/**
 * RFC 6962 / RFC 9162 Merkle tree hashing: leaf and node hashes, an append-only tree that keeps
 * every complete subtree (so roots, inclusion and consistency proofs at any size cost O(log² n)
 * hashes at most), and the verification algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2 with the
 * stricter rules of transparency-dev/merkle (size1 = 0 is refused, hashes must be 32 bytes).
 * Checked against the transparency-dev vectors.
 *
 * HIPAA: 164.312(b) audit controls, protection of the trail itself (SP 800-53 AU-9): a checkpoint
 * root commits to every record; proofs let an auditor check one record, or that a later log extends an
 * earlier one, without the whole log).
 *
 * @module
 */
import { timingSafeEqual } from '@safeguards/core'
import { leafHashOf, nodeHashAt, nodeHashOf, sha256Fast } from './internal/sha256.js'

/**
 * RFC 6962 leaf hash, `SHA-256(0x00 || data)`: a record's entry hash.
 *
 * @throws {TypeError} when `data` is not a Uint8Array.
 * @example
 * ```ts
 * const h = leafHash(recordBytes) // 32 bytes
 * ```
 */
export function leafHash(data: Uint8Array): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError('"data" expected Uint8Array')
  // RFC 6962 §2.1 / RFC 9162 §2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0)).
  return leafHashOf(data)
}

/**
 * RFC 6962 interior node hash, `SHA-256(0x01 || left || right)`.
 *
 * @throws {RangeError} when a child is not 32 bytes.
 * @example
 * ```ts
 * nodeHash(leafHash(a), leafHash(b))
 * ```
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (!(left instanceof Uint8Array) || left.length !== 32) throw new RangeError('"left" expected 32 bytes')
  if (!(right instanceof Uint8Array) || right.length !== 32) throw new RangeError('"right" expected 32 bytes')
  // RFC 6962 §2.1 / RFC 9162 §2.1.1: MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
  return nodeHashOf(left, right)
}

/** The root of the empty tree, `SHA-256("")` (RFC 6962 §2.1: MTH({}) = SHA-256()). */
export const EMPTY_ROOT: Uint8Array = sha256Fast(new Uint8Array(0))

function largestPowerOfTwoBelow(n: number): number {
  // RFC 6962 §2.1: for n > 1, k is the largest power of two smaller than n (k < n <= 2k).
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/**
 * An append-only RFC 6962 Merkle tree over leaf hashes. Level `k` keeps the hash of every complete
 * subtree of 2^k leaves, in one growable buffer per level (64 bytes per leaf in total).
 *
 * HIPAA: 164.312(b) audit controls (protection of the trail, SP 800-53 AU-9).
 *
 * @example
 * ```ts
 * const tree = new MerkleTree()
 * for (const r of records) tree.append(leafHash(r))
 * const proof = tree.inclusionProof(5, tree.size)
 * verifyInclusion(leafHash(records[5]), 5, tree.size, proof, tree.root())
 * ```
 */
export class MerkleTree {
  #levels: Uint8Array[] = [new Uint8Array(32 * 1024)]
  #counts: number[] = [0]

  /** Number of leaves. */
  get size(): number {
    return this.#counts[0] ?? 0
  }

  /**
   * Appends a leaf hash (32 bytes).
   *
   * @throws {RangeError} when the hash is not 32 bytes.
   */
  append(leaf: Uint8Array): void {
    if (!(leaf instanceof Uint8Array) || leaf.length !== 32) throw new RangeError('"leaf" expected 32 bytes')
    let h = leaf
    let level = 0
    // Each completed pair of level-k subtrees is one level-(k+1) subtree: RFC 6962 §2.1 MTH of
    // 2^(k+1) leaves = SHA-256(0x01 || left || right).
    for (;;) {
      this.#put(level, h)
      const count = this.#counts[level] ?? 0
      if (count % 2 === 1) return
      const buf = this.#levels[level]!
      const left = buf.subarray((count - 2) * 32, (count - 1) * 32)
      h = nodeHashOf(left, h)
      level++
    }
  }

  #put(level: number, h: Uint8Array): void {
    if (this.#levels.length <= level) {
      this.#levels.push(new Uint8Array(32 * 1024))
      this.#counts.push(0)
    }
    let buf = this.#levels[level]!
    const count = this.#counts[level]!
    if ((count + 1) * 32 > buf.length) {
      const bigger = new Uint8Array(buf.length * 2)
      bigger.set(buf)
      this.#levels[level] = bigger
      buf = bigger
    }
    buf.set(h, count * 32)
    this.#counts[level] = count + 1
  }

  /** The hash of leaf `index` (a copy). @throws {RangeError} when out of range. */
  leaf(index: number): Uint8Array {
    this.#checkSize(index + 1, 'index')
    return this.#levels[0]!.slice(index * 32, index * 32 + 32)
  }

  #checkSize(n: number, name: string): void {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.size) throw new RangeError(`"${name}" out of range`)
  }

  /** MTH(D[start : start + n]), n >= 1 (RFC 6962 §2.1). */
  #hash(start: number, n: number): Uint8Array {
    // An aligned power-of-two range is a stored complete subtree.
    if ((n & (n - 1)) === 0 && start % n === 0) {
      const level = Math.log2(n)
      const i = start / n
      return this.#levels[level]!.subarray(i * 32, i * 32 + 32)
    }
    // RFC 6962 §2.1: MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
    const k = largestPowerOfTwoBelow(n)
    return nodeHashOf(this.#hash(start, k), this.#hash(start + k, n - k))
  }

  /**
   * The root of the tree of the first `size` leaves (default: all).
   *
   * @throws {RangeError} when `size` exceeds the tree.
   */
  root(size: number = this.size): Uint8Array {
    this.#checkSize(size, 'size')
    if (size === 0) return EMPTY_ROOT.slice()
    return this.#hash(0, size).slice()
  }

  /**
   * The inclusion proof (RFC 6962 §2.1.1 PATH) of leaf `index` in the tree of `size` leaves.
   *
   * @throws {RangeError} when `index >= size` or `size` exceeds the tree.
   */
  inclusionProof(index: number, size: number = this.size): Uint8Array[] {
    this.#checkSize(size, 'size')
    if (!Number.isSafeInteger(index) || index < 0 || index >= size)
      throw new RangeError('"index" out of range')
    // RFC 6962 §2.1.1 (RFC 9162 §2.1.3.1): PATH(m, D[n]) for n > 1 =
    //   PATH(m, D[0:k]) : MTH(D[k:n])        for m < k
    //   PATH(m - k, D[k:n]) : MTH(D[0:k])    for m >= k
    // and PATH(0, {d(0)}) = {}.
    return this.#descend(
      index,
      size,
      (_m, n) => n <= 1,
      (m, k) => m < k,
    ).out
  }

  /**
   * The RFC 6962 §2.1.1/§2.1.2 recursions unrolled: from the whole range down to the subrange
   * holding `m`, collecting the sibling subtree of each step (nearest the root first; the proofs
   * list them leaf side first, hence the reverse). `goLeft(m, k)` says whether `m` lies in D[0:k].
   */
  #descend(
    m0: number,
    n0: number,
    stop: (m: number, n: number) => boolean,
    goLeft: (m: number, k: number) => boolean,
  ): { out: Uint8Array[]; start: number; n: number; wentRight: boolean } {
    const out: Uint8Array[] = []
    let start = 0
    let n = n0
    let m = m0
    let wentRight = false
    while (!stop(m, n)) {
      const k = largestPowerOfTwoBelow(n)
      if (goLeft(m, k)) {
        out.push(this.#hash(start + k, n - k).slice()) // : MTH(D[k:n])
        n = k
      } else {
        out.push(this.#hash(start, k).slice()) // : MTH(D[0:k])
        start += k
        n -= k
        m -= k
        wentRight = true
      }
    }
    out.reverse()
    return { out, start, n, wentRight }
  }

  /**
   * The consistency proof (RFC 6962 §2.1.2 PROOF) between sizes `size1` and `size2`.
   *
   * @throws {RangeError} unless `0 < size1 <= size2 <= size`.
   */
  consistencyProof(size1: number, size2: number = this.size): Uint8Array[] {
    this.#checkSize(size2, 'size2')
    if (!Number.isSafeInteger(size1) || size1 < 1 || size1 > size2)
      throw new RangeError('"size1" out of range')
    // RFC 6962 §2.1.2 (RFC 9162 §2.1.4.1): PROOF(m, D[n]) = SUBPROOF(m, D[n], true), where for m < n
    //   SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])          for m <= k
    //   SUBPROOF(m, D[n], b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])  for m > k
    // and SUBPROOF(m, D[m], true) = {}, SUBPROOF(m, D[m], false) = {MTH(D[m])}.
    const d = this.#descend(
      size1,
      size2,
      (m, n) => m === n,
      (m, k) => m <= k,
    )
    if (d.wentRight) d.out.unshift(this.#hash(d.start, d.n).slice())
    return d.out
  }
}

/**
 * The proof walk shared by RFC 9162 §2.1.3.2 (step 4) and §2.1.4.2 (step 6): for each proof hash,
 * the sibling is on the left (`left`) or the right (`right`) of the running hash. True when the walk
 * ends at the root (sn = 0).
 */
function walkProof(
  fn0: number,
  sn0: number,
  proof: readonly Uint8Array[],
  left: (p: Uint8Array) => void,
  right: (p: Uint8Array) => void,
): boolean {
  let fn = fn0
  let sn = sn0
  for (const p of proof) {
    // a. If sn is 0, stop the iteration and fail the proof verification.
    if (sn === 0) return false
    // b. If LSB(fn) is set, or if fn is equal to sn: r = HASH(0x01 || p || r) ...
    if (fn % 2 === 1 || fn === sn) {
      left(p)
      // ... then, if LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2)
        sn = Math.floor(sn / 2)
      }
    } else {
      // Otherwise: r = HASH(0x01 || r || p).
      right(p)
    }
    // c. Finally, right-shift both fn and sn one time.
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  // §2.1.3.2 step 5 / §2.1.4.2 step 7: sn must be 0.
  return sn === 0
}

function is32(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === 32
}

/**
 * Verifies an inclusion proof (RFC 9162 §2.1.3.2). Returns false for any malformed or wrong proof.
 *
 * HIPAA: 164.312(b) audit controls (an auditor checks one record against a signed root).
 *
 * @throws never (a malformed proof is a `false`).
 * @example
 * ```ts
 * verifyInclusion(leafHash(bytes), seq, checkpoint.size, proof, checkpoint.root) // true
 * ```
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!is32(leaf) || !is32(root) || !Array.isArray(proof) || !proof.every(is32)) return false
  // RFC 9162 §2.1.3.2 step 1: leaf_index >= tree_size fails.
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false
  // Steps 2-3: fn = leaf_index, sn = tree_size - 1, r = hash.
  let r = leaf
  const ok = walkProof(
    index,
    size - 1,
    proof,
    (p) => {
      r = nodeHashOf(p, r)
    },
    (p) => {
      r = nodeHashOf(r, p)
    },
  )
  // Step 5: r must equal root_hash.
  return ok && timingSafeEqual(r, root)
}

/**
 * Verifies a consistency proof between two tree heads (RFC 9162 §2.1.4.2): the tree of `size2`
 * leaves extends the tree of `size1` leaves. Returns false for any malformed or wrong proof,
 * including `size1 = 0` and `size1 > size2`.
 *
 * HIPAA: 164.312(b) audit controls (a later checkpoint provably extends an earlier one: no history
 * was rewritten in between).
 *
 * @throws never (a malformed proof is a `false`).
 * @example
 * ```ts
 * verifyConsistency(old.size, cur.size, old.root, cur.root, proof) // true
 * ```
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || !Array.isArray(proof)) return false
  if (!(root1 instanceof Uint8Array) || !(root2 instanceof Uint8Array)) return false
  // transparency-dev/merkle: size1 = 0 is refused (nothing to be consistent with).
  if (size1 < 1 || size2 < size1) return false
  // RFC 9162 §2.1.4.2 (before step 1): equal sizes need an empty proof and equal roots.
  if (size1 === size2) {
    return proof.length === 0 && root1.length === root2.length && timingSafeEqual(root1, root2)
  }
  // Step 1: an empty consistency_path fails.
  if (!is32(root1) || !is32(root2) || proof.length === 0 || !proof.every(is32)) return false
  // Step 2: if first is an exact power of 2, prepend first_hash to the path.
  const path = (size1 & (size1 - 1)) === 0 ? [root1, ...proof] : [...proof]
  // Step 3: fn = first - 1, sn = second - 1.
  let fn = size1 - 1
  let sn = size2 - 1
  // Step 4: if LSB(fn) is set, right-shift fn and sn equally until it is not.
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  // Step 5: fr and sr start at the first value of the path; step 6 walks the rest.
  let fr = path[0]!
  let sr = path[0]!
  const ok = walkProof(
    fn,
    sn,
    path.slice(1),
    (c) => {
      fr = nodeHashOf(c, fr)
      sr = nodeHashOf(c, sr)
    },
    (c) => {
      sr = nodeHashOf(sr, c)
    },
  )
  // Step 7: fr must equal first_hash, sr second_hash, and sn be 0.
  return ok && timingSafeEqual(fr, root1) && timingSafeEqual(sr, root2)
}

/**
 * An RFC 6962 compact range over the leaves `[0, size)`: the roots of the complete subtrees that
 * make up the tree (one per set bit of `size`), O(log n) memory. Enough to append and to compute the
 * root at the current size, which is what a writer and a streaming verifier need.
 *
 * HIPAA: 164.312(b) audit controls (protection of the trail, SP 800-53 AU-9).
 *
 * @example
 * ```ts
 * const range = new CompactRange()
 * range.append(leafHash(bytes))
 * range.root() // equals new MerkleTree(...).root()
 * ```
 */
export class CompactRange {
  /** The subtree root at height h (present when bit h of size is set) at bytes [32h, 32h + 32). */
  readonly #slots = new Uint8Array(54 * 32)
  #size = 0

  /** Number of leaves appended. */
  get size(): number {
    return this.#size
  }

  /** Appends a 32-byte leaf hash. @throws {RangeError} when it is not 32 bytes. */
  append(leaf: Uint8Array): void {
    if (!(leaf instanceof Uint8Array) || leaf.length !== 32) throw new RangeError('"leaf" expected 32 bytes')
    const slots = this.#slots
    let h = leaf
    let height = 0
    // RFC 9162 §2.1.2 step 2: push the leaf, then merge merge_count times, merge_count being the
    // number of low set bits of the old size (each is a complete subtree the new one completes).
    for (let s = this.#size; s % 2 === 1; s = (s - 1) / 2) {
      h = nodeHashAt(slots, height * 32, h)
      height++
    }
    slots.set(h, height * 32)
    this.#size++
  }

  /**
   * Appends a complete subtree of `2^height` leaves by its root: the same as appending its leaves
   * one by one. RFC 6962 subtrees are aligned, so the current size must be a multiple of
   * `2^height`. This is how ranges computed apart (on other threads) are joined.
   *
   * @throws {RangeError} when the root is not 32 bytes, the height is not an integer in 0..52, or the
   *   size is not a multiple of `2^height`.
   * @example
   * ```ts
   * const whole = new CompactRange()
   * for (const l of leaves) whole.append(l) // 4 leaves
   * const joined = new CompactRange()
   * joined.appendSubtree(nodeHash(leaves[0], leaves[1]), 1)
   * joined.appendSubtree(nodeHash(leaves[2], leaves[3]), 1)
   * joined.root() // equals whole.root()
   * ```
   */
  appendSubtree(root: Uint8Array, height: number): void {
    if (!(root instanceof Uint8Array) || root.length !== 32) throw new RangeError('"root" expected 32 bytes')
    if (!Number.isInteger(height) || height < 0 || height > 52) throw new RangeError('"height" out of range')
    const leaves = 2 ** height
    if (this.#size % leaves !== 0 || !Number.isSafeInteger(this.#size + leaves))
      throw new RangeError('"root" is not aligned at the current size')
    const slots = this.#slots
    let h = root
    let level = height
    for (let s = this.#size / leaves; s % 2 === 1; s = (s - 1) / 2) {
      h = nodeHashAt(slots, level * 32, h)
      level++
    }
    slots.set(h, level * 32)
    this.#size += leaves
  }

  /** The root of the tree of all appended leaves (the empty root for none). */
  root(): Uint8Array {
    // RFC 6962 §2.1: MTH({}) = SHA-256().
    if (this.#size === 0) return EMPTY_ROOT.slice()
    // RFC 9162 §2.1.2 step 3: merge what is left on the stack, smallest subtree first (right), into
    // one root (step 4).
    const slots = this.#slots
    let r: Uint8Array | null = null
    let height = 0
    for (let s = this.#size; s > 0; s = Math.floor(s / 2), height++) {
      if (s % 2 === 0) continue
      r = r === null ? slots.slice(height * 32, height * 32 + 32) : nodeHashAt(slots, height * 32, r)
    }
    return new Uint8Array(r!)
  }
}
