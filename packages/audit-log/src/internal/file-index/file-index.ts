/**
 * The file store's sidecar index (`index/` beside `segments/`): derived data, rebuilt from the
 * records whenever it is missing or does not match them, never trusted blindly.
 *
 * - A sealed segment (one a newer segment follows) gets an immutable file `index/<first seq>.idx`
 *   ({@link encodeIndex}), written crash-safely (temporary file, fsync, rename, directory fsync) when
 *   the segment is sealed, or when a query finds it missing. Before a file is used, its checksum
 *   and its header are checked against the segment: stream, first seq, record count, the segment's
 *   size in bytes and the entry hash of its last record. A file that fails is not used: a writable
 *   store rebuilds it, a read-only store reads that segment's records instead.
 * - The open segment is indexed in memory, line by line as this process writes records or reads
 *   other writers' records at the tail, and caught up by reading whatever it has not seen (the
 *   records before the store was opened, at the first query) up to the query's snapshot.
 * - A temporary file left by a crash is never read; the next write of that file removes it.
 *
 * @module
 */
import { readFileSync, statSync, unlinkSync } from 'node:fs'
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex } from '@safeguards/core'
import { errorCode, writeFileAtomic } from '@safeguards/core/node'
import type { IndexAnswer, IndexQuery } from '../../query.js'
import type { IndexProblem, StoredRecord } from '../../store.js'
import { type KnownLine, readSegmentRuns } from '../file-store/run-reader.js'
import { ioError, lastLine, segmentStarts, segName } from '../file-store/segments.js'
import { leafHashOf } from '../sha256.js'
import { fileLookup, SegmentBuilder, type SegmentLookup } from './builder.js'
import { fetchRecords } from './fetch.js'
import { encodeIndex, type IndexContent, IndexFile, IndexFormatError, type IndexHeader } from './format.js'
import { compareContent, mergeCandidates } from './postings.js'
import { patientTerm, UNINDEXED, whoTerm } from './terms.js'

/** What the index needs of its store. */
export interface FileIndexOptions {
  /** The log directory. */
  readonly dir: string
  readonly stream: string
  /** Never write (a read-only store). */
  readonly readOnly: boolean
  /** The store's `read`, for segments the index cannot answer for. */
  readonly read: (from: number, to: number, signal?: AbortSignal) => AsyncIterable<StoredRecord>
}

/** The name of the index file of the segment starting at `seg`. */
export function indexName(seg: number): string {
  return `${String(seg).padStart(20, '0')}.idx`
}

interface Cached {
  readonly lookup: SegmentLookup
  readonly header: IndexHeader
}

/** One segment of a query's snapshot and what answers for it (null: read every record). */
interface Part {
  readonly seg: number
  readonly end: number
  readonly lookup: SegmentLookup | null
  readonly seqs: readonly number[]
}

/** The index of one log directory. */
export class FileIndex {
  readonly #o: FileIndexOptions
  readonly #segDir: string
  readonly #idxDir: string
  /** The newest segment's in-memory index. */
  #open: SegmentBuilder | undefined
  /** Sealed segments' in-memory indexes whose files are not written yet. */
  readonly #sealed: Map<number, SegmentBuilder> = new Map()
  /** Index files (or complete in-memory indexes) checked against their sealed segment. */
  readonly #cache: Map<number, Cached> = new Map()
  readonly #building: Map<number, Promise<Cached | null>> = new Map()
  readonly #pending: Set<Promise<unknown>> = new Set()

  constructor(options: FileIndexOptions) {
    this.#o = options
    this.#segDir = join(options.dir, 'segments')
    this.#idxDir = join(options.dir, 'index')
  }

  /** The store opened with its tail in segment `seg`: record `size` is next, at `offset`. */
  start(seg: number, size: number, offset: number): void {
    if (seg >= 0) this.#open = new SegmentBuilder(seg, size, offset)
  }

  /** A complete line the store wrote or read at the tail: record `seq` at `offset` of segment `seg`. */
  observe(seg: number, seq: number, offset: number, line: Uint8Array): void {
    let b = this.#open
    if (b === undefined || b.seg !== seg) {
      if (b !== undefined && seg < b.seg) return
      if (b !== undefined) this.#seal(b, seg)
      b = new SegmentBuilder(seg, seq, offset)
      this.#open = b
    }
    b.add(seq, offset, line)
  }

  /** The open segment's builder became sealed at `end`: keep it, and write its file (writable). */
  #seal(b: SegmentBuilder, end: number): void {
    this.#sealed.set(b.seg, b)
    if (this.#o.readOnly) return
    const p = this.#sealedIndex(b.seg, end).catch(() => null)
    this.#pending.add(p)
    void p.finally(() => this.#pending.delete(p))
  }

  /** Waits for background index writes (close). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  /** A line start at or before `from`, from what is in memory, or undefined. */
  known(from: number): KnownLine | undefined {
    const b = this.#open
    if (b !== undefined && b.from === b.seg && from >= b.seg && from < b.to)
      return { seg: b.seg, ...b.anchor(from) }
    for (const [seg, c] of this.#cache)
      if (from >= seg && from < seg + c.header.count) return { seg, ...c.lookup.anchor(from) }
    return undefined
  }

  /** The answer to `q` ({@link AuditStore.queryIndex}), or undefined when no key is given. */
  async query(q: IndexQuery, signal?: AbortSignal): Promise<IndexAnswer | undefined> {
    const terms: string[] = []
    if (q.patient !== undefined) terms.push(patientTerm(q.patient))
    if (q.who !== undefined) terms.push(whoTerm(q.who))
    if (terms.length === 0) return undefined
    const starts = segmentStarts(this.#segDir).filter((s) => s < q.size)
    const parts: Part[] = []
    for (let i = 0; i < starts.length; i++) {
      const seg = starts[i]!
      const next = starts[i + 1]
      const end = next === undefined ? q.size : Math.min(next, q.size)
      if (end <= q.after + 1) continue
      parts.push(await this.#part(seg, end, next, terms, q.after))
    }
    return { through: q.size, records: this.#records(parts, q.after, signal) }
  }

  async #part(
    seg: number,
    end: number,
    next: number | undefined,
    terms: string[],
    after: number,
  ): Promise<Part> {
    const lookup = next === undefined ? await this.#openIndex(seg, end) : await this.#sealedLookup(seg, next)
    if (lookup === null) return { seg, end, lookup, seqs: [] }
    try {
      const seqs = mergeCandidates(
        terms.map((t) => lookup.postings(t)),
        lookup.postings(UNINDEXED),
        after,
        end,
      )
      return { seg, end, lookup, seqs }
    } catch (e) {
      if (!(e instanceof IndexFormatError)) throw e
      this.#cache.delete(seg)
      return { seg, end, lookup: null, seqs: [] }
    }
  }

  async *#records(parts: readonly Part[], after: number, signal?: AbortSignal): AsyncGenerator<StoredRecord> {
    for (const p of parts) {
      if (p.lookup === null) yield* this.#o.read(Math.max(p.seg, after + 1), p.end, signal)
      else yield* fetchRecords(join(this.#segDir, segName(p.seg)), p.seqs, p.lookup, signal)
    }
  }

  /** The open segment's index, caught up to `end` by reading what it has not seen. */
  async #openIndex(seg: number, end: number): Promise<SegmentLookup | null> {
    let b = this.#open
    if (b === undefined || b.seg < seg) {
      b = new SegmentBuilder(seg, seg, 0)
      this.#open = b
    } else if (b.seg > seg) return this.#sealedLookup(seg, b.seg)
    if (b.from > seg) {
      const prefix = new SegmentBuilder(seg, seg, 0)
      await this.#readInto(prefix, b.from)
      if (prefix.to === b.from && b.from > seg) b.absorb(prefix)
    }
    if (b.to < end) await this.#readInto(b, end)
    return b.from === seg && b.to >= end ? b : null
  }

  /** Reads records `[b.to, end)` of b's segment into `b`. */
  async #readInto(b: SegmentBuilder, end: number): Promise<void> {
    const range = {
      segDir: this.#segDir,
      starts: [b.seg],
      from: b.to,
      end,
      known: { seg: b.seg, seq: b.to, offset: b.nextOffset },
    }
    let seq = b.to
    let offset = b.nextOffset
    for await (const run of readSegmentRuns(range, { maxRecords: Number.MAX_SAFE_INTEGER })) {
      let start = 0
      for (let i = 0; i < run.ends.length; i++) {
        const stop = run.ends[i]!
        b.add(seq++, offset, run.bytes.subarray(start, stop))
        offset += stop - start + 1
        start = stop + 1
      }
    }
  }

  /** A sealed segment's index: cached, in memory, from its file, or (writable) rebuilt and written. */
  async #sealedLookup(seg: number, next: number): Promise<SegmentLookup | null> {
    const cached = this.#cache.get(seg)
    if (cached !== undefined && this.#segmentBytes(seg) === cached.header.segmentBytes) return cached.lookup
    this.#cache.delete(seg)
    const loaded = this.#load(seg, next)
    if (loaded !== null) return loaded.lookup
    if (this.#o.readOnly) {
      const b = this.#sealed.get(seg)
      return b !== undefined && b.from === seg && b.to === next ? b : null
    }
    return (await this.#sealedIndex(seg, next))?.lookup ?? null
  }

  #segmentBytes(seg: number): number {
    try {
      return statSync(join(this.#segDir, segName(seg))).size
    } catch (e) {
      throw ioError('stat segment', e)
    }
  }

  /** What a sealed segment's index file must say. */
  #expectedHeader(seg: number, next: number): Omit<IndexHeader, 'v' | 'every' | 'terms'> | null {
    const { line, offset, torn } = lastLine(join(this.#segDir, segName(seg)))
    if (line === null || torn !== 0) return null
    return {
      stream: this.#o.stream,
      firstSeq: seg,
      count: next - seg,
      segmentBytes: offset,
      lastEntryHash: bytesToHex(leafHashOf(line)),
    }
  }

  /** The bytes of an index file, or null when there is none. */
  #readFile(seg: number): Uint8Array | null {
    try {
      return readFileSync(join(this.#idxDir, indexName(seg)))
    } catch (e) {
      if (errorCode(e) === 'ENOENT' || errorCode(e) === 'ENOTDIR') return null
      throw ioError('read index', e)
    }
  }

  /** The index file of a sealed segment if it is whole and its header matches the segment. */
  #load(seg: number, next: number): Cached | null {
    const bytes = this.#readFile(seg)
    if (bytes === null) return null
    const expected = this.#expectedHeader(seg, next)
    if (expected === null) return null
    let file: IndexFile
    try {
      file = new IndexFile(bytes)
    } catch (e) {
      if (e instanceof IndexFormatError) return null
      throw e
    }
    if (!sameHeader(file.header, expected)) return null
    const c = { lookup: fileLookup(file), header: file.header }
    this.#cache.set(seg, c)
    return c
  }

  /** Builds (from memory, or by reading the segment) and writes a sealed segment's index, once. */
  #sealedIndex(seg: number, next: number): Promise<Cached | null> {
    let p = this.#building.get(seg)
    if (p === undefined) {
      p = this.#build(seg, next).finally(() => this.#building.delete(seg))
      this.#building.set(seg, p)
    }
    return p
  }

  async #build(seg: number, next: number): Promise<Cached | null> {
    const existing = this.#load(seg, next)
    if (existing !== null) return existing
    const b = this.#sealed.get(seg) ?? new SegmentBuilder(seg, seg, 0)
    const content = await this.#complete(b, next)
    const expected = this.#expectedHeader(seg, next)
    if (content === null || expected === null || expected.segmentBytes !== b.nextOffset) return null
    const bytes = encodeIndex(expected, content)
    const file = new IndexFile(bytes)
    const c = { lookup: fileLookup(file), header: file.header }
    this.#cache.set(seg, c)
    this.#sealed.delete(seg)
    if (!this.#o.readOnly) await this.#write(seg, bytes)
    return c
  }

  /** Fills `b` to cover `[seg, next)`; its content, or null when the segment holds fewer records. */
  async #complete(b: SegmentBuilder, next: number): Promise<IndexContent | null> {
    if (b.from > b.seg) {
      const prefix = new SegmentBuilder(b.seg, b.seg, 0)
      await this.#readInto(prefix, b.from)
      if (prefix.to !== b.from) return null
      b.absorb(prefix)
    }
    if (b.to < next) await this.#readInto(b, next)
    return b.to === next ? b.content() : null
  }

  /** Writes an index file crash-safely; a failure leaves the index to be rebuilt later. */
  async #write(seg: number, bytes: Uint8Array): Promise<void> {
    const name = indexName(seg)
    try {
      await mkdir(this.#idxDir, { recursive: true })
      await writeFileAtomic(join(this.#idxDir, name), bytes, { mode: 0o666 })
    } catch {
      return // derived data: the next query rebuilds it
    }
    await this.#removeTemporaries(name)
  }

  /** Removes temporary files of `name` left by a crash (or by a racing writer, whose write then fails harmlessly). */
  async #removeTemporaries(name: string): Promise<void> {
    let names: string[]
    try {
      names = await readdir(this.#idxDir)
    } catch {
      return
    }
    for (const n of names)
      if (n.startsWith(`.${name}.tmp-`))
        try {
          unlinkSync(join(this.#idxDir, n))
        } catch {
          /* gone already */
        }
  }

  /**
   * Checks every sealed segment's index file against the records (`verifyLog` with `deep`): a file
   * the store would use whose postings or offsets disagree is an error; a file it would not use (a
   * damaged or stale one) a warning. Writes nothing.
   */
  async check(size: number, signal?: AbortSignal): Promise<IndexProblem[]> {
    const out: IndexProblem[] = []
    const starts = segmentStarts(this.#segDir)
    for (let i = 0; i + 1 < starts.length && starts[i + 1]! <= size; i++) {
      signal?.throwIfAborted()
      const seg = starts[i]!
      const next = starts[i + 1]!
      const bytes = this.#readFile(seg)
      if (bytes === null) continue
      let file: IndexFile
      try {
        file = new IndexFile(bytes)
      } catch (e) {
        if (!(e instanceof IndexFormatError)) throw e
        out.push({
          seq: seg,
          severity: 'warning',
          message: `${problemAt(seg)} is damaged (${e.message}); not used`,
        })
        continue
      }
      const expected = this.#expectedHeader(seg, next)
      if (expected === null || !sameHeader(file.header, expected)) {
        out.push({
          seq: seg,
          severity: 'warning',
          message: `${problemAt(seg)} does not match its segment (stale); not used`,
        })
        continue
      }
      const b = new SegmentBuilder(seg, seg, 0)
      const truth = await this.#complete(b, next)
      if (truth === null) continue // the segment itself is damaged: the record checks report it
      let actual: IndexContent
      try {
        actual = file.content()
      } catch (e) {
        if (!(e instanceof IndexFormatError)) throw e
        out.push({ seq: seg, severity: 'error', message: `${problemAt(seg)} has undecodable postings` })
        continue
      }
      const d = compareContent(truth, actual)
      if (d !== null)
        out.push({
          seq: d.seq < 0 ? seg : d.seq,
          severity: 'error',
          message: `${problemAt(seg)} disagrees with the records: ${d.missing} missing and ${d.extra} extra postings, ${d.offsets} wrong offsets`,
        })
    }
    return out
  }
}

function problemAt(seg: number): string {
  return `the index file of the segment starting at seq ${seg}`
}

function sameHeader(h: IndexHeader, e: Omit<IndexHeader, 'v' | 'every' | 'terms'>): boolean {
  return (
    h.stream === e.stream &&
    h.firstSeq === e.firstSeq &&
    h.count === e.count &&
    h.segmentBytes === e.segmentBytes &&
    h.lastEntryHash === e.lastEntryHash
  )
}
