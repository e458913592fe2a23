/**
 * The verifier's record stage: the facts of each run of records (from whichever thread read it),
 * in order, turned into findings at the record where they are (sequence gaps and duplicates,
 * broken links told apart from altered bytes, stream, recovery, canonical form), and the Merkle
 * leaves grown into a compact range whose root is compared with every checkpoint at its size.
 *
 * @module
 */

import { CompactRange } from '../../merkle.js'
import type { Finding } from '../../verify.js'
import type { RecordRun } from '../runs.js'
import {
  DEEP_OK,
  LINK_OK,
  latin1ToHex,
  RECOVERED,
  type RunFacts,
  type RunTask,
  STREAM_OK,
} from '../verify-run.js'
import { type AddFinding, type Cp, rootsEqual, ZERO_HEX } from './checkpoints.js'

const PROGRESS_EVERY = 65536

/** What the record stage reports to and checks against. */
export interface RecordContext {
  add: AddFinding
  /** The checkpoints by size (their `matched` is set when the records reach their size). */
  bySize: Map<number, Cp[]>
  deep: boolean
  onProgress: ((done: number, total: number) => void) | undefined
  total: number
}

/** Consumes runs' facts in read order; `position` counts the records read. */
export class RecordChecker {
  /** The Merkle leaves so far (RFC 6962 §2.1 leaf hashes, as subtrees). */
  readonly range: CompactRange = new CompactRange()
  /** Records read so far. */
  position = 0
  /** The checkpoint sizes, ascending, where a root must be computed. */
  readonly needed: number[]
  readonly #ctx: RecordContext
  #nextNeeded = 0
  #expected = 0
  /** The entry hash of the record before the next run, as the hex its `prev` must be. */
  #lastHex = ZERO_HEX
  #skipLink = false
  /** Position of a broken link not yet attributed (the link into record `pending`). */
  #pending = -1
  readonly #blamed = new Set<number>()
  #nextFrom = 0

  constructor(ctx: RecordContext) {
    this.#ctx = ctx
    this.needed = [...ctx.bySize.keys()].filter((s) => s > 0).sort((a, b) => a - b)
    for (const c of ctx.bySize.get(0) ?? []) c.matched = true
  }

  /** The unit of work for the next run read (positions count the records as read, in order). */
  task(run: RecordRun): RunTask {
    const from = this.#nextFrom
    const to = from + run.ends.length
    this.#nextFrom = to
    const cuts: number[] = []
    for (const s of this.needed) if (s > from && s < to) cuts.push(s)
    const treeEnd = this.needed.length === 0 ? 0 : this.needed[this.needed.length - 1]!
    return { from, bytes: run.bytes, ends: run.ends, cuts, treeEnd }
  }

  /** RFC 9162 §2.1.2: the root recomputed from the first `size` entries must be the signed root. */
  #checkRootsAt(size: number): void {
    const root = this.range.root()
    for (const c of this.#ctx.bySize.get(size) ?? []) {
      c.matched = rootsEqual(root, c.root)
      if (!c.matched)
        this.#ctx.add({
          seq: size - 1,
          code: 'ROOT_MISMATCH',
          severity: 'error',
          message: `${c.source} checkpoint ${c.position} root does not match records 0..${size - 1}`,
          checkpoint: c.position,
        })
    }
  }

  #blame(f: Finding): void {
    if (this.#blamed.has(f.seq)) return
    this.#blamed.add(f.seq)
    this.#ctx.add(f)
  }

  #rootDue(size: number): boolean {
    return this.#nextNeeded < this.needed.length && this.needed[this.#nextNeeded] === size
  }

  /** One record's facts, in order: the findings it causes (the same whichever thread read it). */
  #record(seq: number, flag: number, prevOk: boolean): void {
    const p = this.position
    this.position++
    if (this.#rootDue(this.position)) {
      this.#checkRootsAt(this.position)
      this.#nextNeeded++
    }
    const anomaly = seq < 0 ? this.#malformed(p) : this.#sequence(seq, flag)
    const linkOk = this.#attributeLinks(p, anomaly || this.#skipLink ? true : prevOk)
    if (!linkOk) {
      if (p === 0)
        this.#blame({
          seq: 0,
          code: 'CHAIN_BREAK',
          severity: 'error',
          message: 'record 0: prev is not the genesis value',
        })
      else this.#pending = p
    }
    this.#skipLink = anomaly
    if (this.position % PROGRESS_EVERY === 0) this.#ctx.onProgress?.(this.position, this.#ctx.total)
  }

  /** A line that is no canonical v1 record; returns true (an anomaly). */
  #malformed(p: number): boolean {
    const message = `record at position ${p} is not a canonical v1 record`
    this.#blame({ seq: this.#expected, code: 'MALFORMED', severity: 'error', message })
    this.#expected++
    return true
  }

  /** Stream, sequence, recovery and canonical-form findings; returns whether seq is out of order. */
  #sequence(seq: number, flag: number): boolean {
    let anomaly = false
    if ((flag & STREAM_OK) === 0)
      this.#blame({
        seq,
        code: 'STREAM_MISMATCH',
        severity: 'error',
        message: `record ${seq} belongs to another stream`,
      })
    if (seq > this.#expected) {
      const message = `expected seq ${this.#expected}, found ${seq}: records missing or out of order`
      this.#blame({ seq: this.#expected, code: 'SEQ_GAP', severity: 'error', message })
      anomaly = true
      this.#expected = seq + 1
    } else if (seq < this.#expected) {
      const message = `seq ${seq} appears again after ${this.#expected - 1} (duplicated or reordered)`
      this.#blame({ seq, code: 'SEQ_DUP', severity: 'error', message })
      anomaly = true
    } else {
      this.#expected++
    }
    if ((flag & RECOVERED) !== 0)
      this.#ctx.add({
        seq,
        code: 'RECOVERED',
        severity: 'warning',
        message: `record ${seq}: a crashed writer's torn tail was discarded here`,
      })
    if (this.#ctx.deep && !anomaly && (flag & DEEP_OK) === 0)
      this.#blame({
        seq,
        code: 'NON_CANONICAL',
        severity: 'error',
        message: `record ${seq} is not a canonical, schema-valid v1 record`,
      })
    return anomaly
  }

  /**
   * Attributes a pending broken link: a record whose bytes changed breaks only the link after it;
   * one whose `prev` changed breaks the links on both sides. Returns whether the link into record
   * `p` is still unexplained-broken (false) or fine (true).
   */
  #attributeLinks(p: number, linkOk: boolean): boolean {
    const pending = this.#pending
    if (pending < 0) return linkOk
    if (!linkOk && pending === p - 1) {
      const message = `record ${pending}: prev does not match the previous record (altered)`
      this.#blame({ seq: pending, code: 'CHAIN_BREAK', severity: 'error', message })
    } else {
      const message = `record ${pending - 1}: bytes do not match the hash record ${pending} commits to (altered)`
      this.#blame({ seq: pending - 1, code: 'HASH_MISMATCH', severity: 'error', message })
    }
    this.#pending = -1
    return true // explained by the record just blamed
  }

  /** A run's facts: its records in order, its subtrees into the range before each root is needed. */
  consume(f: RunFacts): void {
    let segment = 0
    let tree = 0
    const grow = (size: number): void => {
      for (; segment < f.segmentEnds.length && this.range.size < size; segment++)
        for (let t = 0; t < f.segmentTrees[segment]!; t++, tree++)
          this.range.appendSubtree(f.roots.subarray(32 * tree, 32 * tree + 32), f.heights[tree]!)
    }
    if (
      f.clean &&
      this.#expected === this.position &&
      this.#pending < 0 &&
      !this.#skipLink &&
      f.firstPrev === this.#lastHex
    )
      this.#consumeClean(f.count, grow)
    else
      for (let i = 0; i < f.count; i++) {
        if (this.#rootDue(this.position + 1)) grow(this.position + 1)
        const flag = f.flags[i]!
        this.#record(f.seqs[i]!, flag, i === 0 ? f.firstPrev === this.#lastHex : (flag & LINK_OK) !== 0)
      }
    grow(Number.POSITIVE_INFINITY)
    this.#lastHex = latin1ToHex(f.lastHash)
  }

  /**
   * Every record of the run is the expected one and the run links to the previous one: no finding
   * can arise, only the roots at checkpoint sizes and the progress calls (what `#record` would do).
   */
  #consumeClean(count: number, grow: (size: number) => void): void {
    const end = this.position + count
    this.#expected = end
    while (this.position < end) {
      let stop = Math.min(end, (Math.floor(this.position / PROGRESS_EVERY) + 1) * PROGRESS_EVERY)
      if (this.#nextNeeded < this.needed.length && this.needed[this.#nextNeeded]! < stop)
        stop = this.needed[this.#nextNeeded]!
      this.position = stop
      if (this.#rootDue(this.position)) {
        grow(this.position)
        this.#checkRootsAt(this.position)
        this.#nextNeeded++
      }
      if (this.position % PROGRESS_EVERY === 0) this.#ctx.onProgress?.(this.position, this.#ctx.total)
    }
  }

  /** After the last run: a broken link into the last record read, and the final progress call. */
  finish(): void {
    if (this.#pending >= 0)
      this.#blame({
        seq: this.#pending - 1,
        code: 'HASH_MISMATCH',
        severity: 'error',
        message: `record ${this.#pending - 1} or the prev of record ${this.#pending} was altered`,
      })
    this.#ctx.onProgress?.(this.position, this.#ctx.total)
  }
}
