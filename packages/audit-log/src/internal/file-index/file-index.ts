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
 *   records before the store was opened) up to the query's snapshot. A writable store also writes
 *   it out as one partial file per run of {@link RUN} records (`index/<segment>-<first seq>.idx`,
 *   the same format, its header checked against the line its last record ends at), so a reader
 *   that opens the store later reads at most one run of the open segment.
 * - A temporary file left by a crash is never read; the next write of that file removes it.
 * - A failed index write is not an error of the append or query that caused it: the index is
 *   rebuilt later, and nothing is logged (no identifiers leave the store this way).
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
import { ioError, lastLine, lineEndingAt, segmentStarts, segName } from '../file-store/segments.js'
import { leafHashOf } from '../sha256.js'
import { fileLookup, RUN, SegmentBuilder, type SegmentLookup } from './builder.js'
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

/** The name of the partial index file of the open segment `seg` for the run starting at `first`. */
export function partName(seg: number, first: number): string {
  return `${String(seg).padStart(20, '0')}-${String(first).padStart(20, '0')}.idx`
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
  /** The open segment's runs below this seq have a partial file (written or being written). */
  #flushed = -1
  #filling = false

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
      this.#flushed = -1
    }
    if (b.add(seq, offset, line) && !this.#o.readOnly && (b.to - b.seg) % RUN === 1) this.#flush(b)
  }

  /**
   * Writes the partial files of the open segment's whole runs not written yet (a fresh reader then
   * reads at most one run of the open segment). A builder that does not cover its segment's start
   * (records written before this process opened the store) is filled first, in the background.
   */
  #flush(b: SegmentBuilder): void {
    if (b.from !== b.seg) {
      if (this.#filling) return
      this.#filling = true
      this.#track(this.#fillFront(b).finally(() => (this.#filling = false)))
      return
    }
    if (this.#flushed < b.ownFrom) this.#flushed = b.ownFrom
    while (b.to > this.#flushed + RUN) {
      const lo = this.#flushed
      this.#flushed += RUN
      const content = b.runContent(lo)
      const end = b.offsetOf(lo + RUN)
      if (end === undefined) return
      this.#track(this.#writePart(b.seg, lo, end, content))
    }
  }

  #track(p: Promise<unknown>): void {
    const q = p.catch(() => undefined)
    this.#pending.add(q)
    void q.finally(() => this.#pending.delete(q))
  }

  async #writePart(seg: number, lo: number, end: number, content: IndexContent): Promise<void> {
    const lastEntryHash = lineHash(join(this.#segDir, segName(seg)), end)
    if (lastEntryHash === null) return
    const header = { stream: this.#o.stream, firstSeq: lo, count: RUN, segmentBytes: end, lastEntryHash }
    await this.#write(partName(seg, lo), encodeIndex(header, content))
  }

  /** The open segment's builder became sealed at `end`: keep it, and write its file (writable). */
  #seal(b: SegmentBuilder, end: number): void {
    this.#sealed.set(b.seg, b)
    if (!this.#o.readOnly) this.#track(this.#sealedIndex(b.seg, end))
  }

  /** Waits for background index writes (close). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  /**
   * A line start at or before `from` (so `read(from)` skips most of its segment): from the open
   * segment's index, or the sealed segment's index file (loaded, checked and kept), or undefined.
   */
  known(from: number): KnownLine | undefined {
    const b = this.#open
    if (b !== undefined && b.from === b.seg && from >= b.seg && from < b.to)
      return { seg: b.seg, ...b.anchor(from) }
    for (const [seg, c] of this.#cache)
      if (from >= seg && from < seg + c.header.count) return { seg, ...c.lookup.anchor(from) }
    const starts = segmentStarts(this.#segDir)
    let i = starts.length - 1
    while (i >= 0 && starts[i]! > from) i--
    const seg = starts[i]
    const next = starts[i + 1]
    if (seg === undefined || next === undefined || from >= next) return undefined
    const c = this.#load(seg, next)
    return c === null ? undefined : { seg, ...c.lookup.anchor(from) }
  }

  /** The answer to `q` ({@link AuditStore.queryIndex}), or undefined when no key is given. */
  async query(q: IndexQuery, signal?: AbortSignal): Promise<IndexAnswer | undefined> {
    const terms: number[] = []
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
    terms: number[],
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
      else {
        const rest = (from: number): AsyncIterable<StoredRecord> => this.#o.read(from, p.end, signal)
        yield* fetchRecords(join(this.#segDir, segName(p.seg)), p.seqs, p.lookup, rest, signal)
      }
    }
  }

  /** The open segment's index, caught up to `end` by reading what it has not seen. */
  async #openIndex(seg: number, end: number): Promise<SegmentLookup | null> {
    let b = this.#open
    if (b !== undefined && b.seg > seg) return this.#sealedLookup(seg, b.seg)
    if (b === undefined || b.seg < seg) {
      if (b !== undefined) this.#seal(b, seg)
      b = this.#prefix(seg)
      this.#open = b
      this.#flushed = -1
    }
    if (!(await this.#fillFront(b))) return null
    if (b.to < end) await this.#readInto(b, end)
    return b.from === seg && b.to >= end ? b : null
  }

  /** Makes `b` cover its segment from the start (partial files, then reading); false if it cannot. */
  async #fillFront(b: SegmentBuilder): Promise<boolean> {
    if (b.from === b.seg) return true
    let p = this.#prefix(b.seg)
    if (p.to > b.from) p = new SegmentBuilder(b.seg, b.seg, 0)
    await this.#readInto(p, b.from)
    if (p.to !== b.from) return false
    if (b.from > b.seg) b.absorb(p)
    return true
  }

  /**
   * A builder for segment `seg` starting after its partial files (the chain of runs from the
   * segment's start whose files are whole and match the segment), or at the segment's start.
   */
  #prefix(seg: number): SegmentBuilder {
    const parts: IndexFile[] = []
    let first = seg
    let offset = 0
    for (;;) {
      const file = this.#partFile(seg, first, offset)
      if (file === null) break
      parts.push(file)
      first += RUN
      offset = file.header.segmentBytes
    }
    return new SegmentBuilder(seg, first, offset, parts)
  }

  /** The partial file for the run at `first` if it is whole and matches the segment. */
  #partFile(seg: number, first: number, offset: number): IndexFile | null {
    const bytes = this.#readFile(partName(seg, first))
    if (bytes === null) return null
    try {
      const file = new IndexFile(bytes)
      const h = file.header
      if (
        h.stream !== this.#o.stream ||
        h.firstSeq !== first ||
        h.count !== RUN ||
        file.offsets[0] !== offset
      )
        return null
      return lineHash(join(this.#segDir, segName(seg)), h.segmentBytes) === h.lastEntryHash ? file : null
    } catch (e) {
      if (e instanceof IndexFormatError) return null
      throw e
    }
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
  #readFile(name: string): Uint8Array | null {
    try {
      return readFileSync(join(this.#idxDir, name))
    } catch (e) {
      if (errorCode(e) === 'ENOENT' || errorCode(e) === 'ENOTDIR') return null
      throw ioError('read index', e)
    }
  }

  /** The index file of a sealed segment if it is whole and its header matches the segment. */
  #load(seg: number, next: number): Cached | null {
    const bytes = this.#readFile(indexName(seg))
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
    const b = this.#sealed.get(seg) ?? this.#prefix(seg)
    const content = await this.#complete(b, next)
    const expected = this.#expectedHeader(seg, next)
    if (content === null || expected === null || expected.segmentBytes !== b.nextOffset) return null
    const bytes = encodeIndex(expected, content)
    const file = new IndexFile(bytes)
    const c = { lookup: fileLookup(file), header: file.header }
    this.#cache.set(seg, c)
    this.#sealed.delete(seg)
    if (!this.#o.readOnly) {
      await this.#write(indexName(seg), bytes)
      await this.#removeParts(seg)
    }
    return c
  }

  /** Fills `b` to cover `[seg, next)`; its content, or null when the segment holds fewer records. */
  async #complete(b: SegmentBuilder, next: number): Promise<IndexContent | null> {
    if (!(await this.#fillFront(b))) return null
    if (b.to < next) await this.#readInto(b, next)
    return b.to === next ? b.content() : null
  }

  /** Writes an index file crash-safely; a failure leaves the index to be rebuilt later. */
  async #write(name: string, bytes: Uint8Array): Promise<void> {
    try {
      await mkdir(this.#idxDir, { recursive: true })
      await writeFileAtomic(join(this.#idxDir, name), bytes, { mode: 0o666 })
    } catch {
      return // derived data: the next query rebuilds it
    }
    await this.#removeTemporaries(name)
  }

  /** Removes the partial files of a segment once its whole file is written. */
  async #removeParts(seg: number): Promise<void> {
    const prefix = `${String(seg).padStart(20, '0')}-`
    for (const n of await this.#list())
      if (n.startsWith(prefix) && n.endsWith('.idx'))
        try {
          unlinkSync(join(this.#idxDir, n))
        } catch {
          /* gone already */
        }
  }

  async #list(): Promise<string[]> {
    try {
      return await readdir(this.#idxDir)
    } catch {
      return []
    }
  }

  /** Removes temporary files of `name` left by a crash (or by a racing writer, whose write then fails harmlessly). */
  async #removeTemporaries(name: string): Promise<void> {
    for (const n of await this.#list())
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
    const starts = segmentStarts(this.#segDir).filter((s) => s < size)
    const names = await this.#list()
    for (let i = 0; i < starts.length; i++) {
      signal?.throwIfAborted()
      const seg = starts[i]!
      const next = starts[i + 1]
      if (next !== undefined && next <= size)
        await this.#checkFile(indexName(seg), seg, out, {
          matches: (h) => {
            const e = this.#expectedHeader(seg, next)
            return e !== null && sameHeader(h, e)
          },
          truth: () => this.#complete(new SegmentBuilder(seg, seg, 0), next),
        })
      const prefix = `${String(seg).padStart(20, '0')}-`
      for (const n of names.filter((x) => x.startsWith(prefix) && x.endsWith('.idx')).sort()) {
        const first = Number(n.slice(21, 41))
        await this.#checkFile(n, first, out, {
          matches: (h, file) =>
            h.stream === this.#o.stream &&
            h.firstSeq === first &&
            h.count === RUN &&
            file.offsets[0] !== undefined &&
            lineHash(join(this.#segDir, segName(seg)), h.segmentBytes) === h.lastEntryHash,
          truth: async (file) => {
            const b = new SegmentBuilder(seg, first, file.offsets[0]!)
            await this.#readInto(b, first + RUN)
            return b.to === first + RUN && b.nextOffset === file.header.segmentBytes
              ? b.runContent(first)
              : null
          },
        })
      }
    }
    return out
  }

  /** Checks one index file: whole and matching (else a warning), then its content (else an error). */
  async #checkFile(
    name: string,
    seq: number,
    out: IndexProblem[],
    how: {
      matches: (h: IndexHeader, file: IndexFile) => boolean
      truth: (file: IndexFile) => Promise<IndexContent | null>
    },
  ): Promise<void> {
    const bytes = this.#readFile(name)
    if (bytes === null) return
    const what = `the index file ${name}`
    let file: IndexFile
    let actual: IndexContent
    try {
      file = new IndexFile(bytes)
      actual = file.content()
    } catch (e) {
      if (!(e instanceof IndexFormatError)) throw e
      out.push({ seq, severity: 'warning', message: `${what} is damaged (${e.message}); not used` })
      return
    }
    if (!how.matches(file.header, file)) {
      out.push({ seq, severity: 'warning', message: `${what} does not match its segment (stale); not used` })
      return
    }
    const truth = await how.truth(file)
    if (truth === null) return // the segment itself is damaged: the record checks report it
    const d = compareContent(truth, actual)
    if (d !== null)
      out.push({
        seq: d.seq < 0 ? seq : d.seq,
        severity: 'error',
        message: `${what} disagrees with the records: ${d.missing} missing and ${d.extra} extra postings, ${d.offsets} wrong offsets`,
      })
  }
}

/** Lowercase hex of the entry hash of the line ending at `end`, or null. */
function lineHash(path: string, end: number): string | null {
  const line = lineEndingAt(path, end)
  return line === null ? null : bytesToHex(leafHashOf(line))
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
