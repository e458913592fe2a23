/**
 * The file store's sidecar index (`index/` beside `segments/`): derived data, rebuilt from the
 * records whenever it is missing or does not match them, never trusted blindly.
 *
 * - A segment's index is a chain of immutable files, one per run of {@link RUN} records,
 *   `index/<segment>-<first seq>.idx` ({@link encodeIndex}); a sealed segment's last run is
 *   shorter. Each is written crash-safely (temporary file, fsync, rename, directory fsync) when its
 *   run is complete (or its segment is sealed), in the background, from what is in memory: the
 *   cost of a run is paid once, and sealing a segment costs no more than one run.
 * - Before a file is used, its checksum and header are checked: stream, first seq, record count,
 *   its first record's offset (the previous file's end), and the entry hash of the line its last
 *   record ends at. The chain stops at the first file that fails; the records after it are read.
 *   A writable store then writes the missing files; a read-only store writes nothing.
 * - The open segment is indexed in memory, line by line as this process writes records or reads
 *   other writers' records at the tail, and caught up by reading whatever it has not seen up to a
 *   query's snapshot.
 * - A temporary file left by a crash is never read; the next write of that file removes it.
 * - A failed index write is not an error of the append or query that caused it: the index is
 *   rebuilt later, and nothing is logged (no identifiers leave the store this way).
 *
 * @module
 */
import { readFileSync, unlinkSync } from 'node:fs'
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex } from '@safeguards/core'
import { errorCode, writeFileAtomic } from '@safeguards/core/node'
import type { IndexAnswer, IndexQuery } from '../../query.js'
import type { IndexProblem, StoredRecord } from '../../store.js'
import { type KnownLine, readSegmentRuns } from '../file-store/run-reader.js'
import { ioError, lineEndingAt, segmentStarts, segName } from '../file-store/segments.js'
import { leafHashOf } from '../sha256.js'
import { RUN, SegmentBuilder, type SegmentLookup } from './builder.js'
import { fetchRecords } from './fetch.js'
import { encodeIndex, type IndexContent, IndexFile, IndexFormatError } from './format.js'
import { compareContent, mergeCandidates } from './postings.js'
import { patientTerm, termsOf, UNINDEXED, whoTerm } from './terms.js'

/** What the index needs of its store. */
export interface FileIndexOptions {
  /** The log directory. */
  readonly dir: string
  readonly stream: string
  /** Never write (a read-only store). */
  readonly readOnly: boolean
  /** The store's `read`, for records the index cannot answer for. */
  readonly read: (from: number, to: number, signal?: AbortSignal) => AsyncIterable<StoredRecord>
}

/** The name of the index file of segment `seg` for the run starting at `first`. */
export function runName(seg: number, first: number): string {
  return `${String(seg).padStart(20, '0')}-${String(first).padStart(20, '0')}.idx`
}

/** Sealed segments whose indexes stay in memory (most recently used). */
const KEEP = 16

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
  /** Sealed segments' indexes (files, and what is not in files yet), least recently used first. */
  readonly #sealed: Map<number, SegmentBuilder> = new Map()
  /** Per segment: the runs below this seq have a file (written or being written). */
  readonly #flushed: Map<number, number> = new Map()
  readonly #filling: Set<number> = new Set()
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

  /** The terms of each record (what {@link observe} takes, worked out ahead, during a sync). */
  termsOf(records: readonly { readonly bytes: Uint8Array }[]): number[][] {
    return records.map((r) => termsOf(r.bytes))
  }

  /**
   * A complete line the store wrote or read at the tail: record `seq` at `offset` of segment `seg`
   * (with its terms when they were worked out ahead). A run it completes is written out after the
   * current task (so not in the append that completed it).
   */
  observe(seg: number, seq: number, offset: number, line: Uint8Array, terms?: readonly number[]): void {
    let b = this.#open
    if (b === undefined || b.seg !== seg) {
      if (b !== undefined && seg < b.seg) return
      if (b !== undefined) this.#seal(b, seg)
      b = new SegmentBuilder(seg, seq, offset)
      this.#open = b
    }
    if (b.add(seq, offset, line, terms) && !this.#o.readOnly && (b.to - b.seg) % RUN === 1) {
      const open = b
      this.#track(
        new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#flush(open, undefined)),
      )
    }
  }

  /** The open segment ended at `end`: keep its index, and write its last run (writable). */
  #seal(b: SegmentBuilder, end: number): void {
    this.#keep(b)
    if (!this.#o.readOnly) this.#track(this.#complete(b, end).then((ok) => ok && this.#flush(b, end)))
  }

  #keep(b: SegmentBuilder): void {
    this.#sealed.delete(b.seg)
    this.#sealed.set(b.seg, b)
    if (this.#sealed.size > KEEP) this.#sealed.delete(this.#sealed.keys().next().value!)
  }

  /**
   * Writes the files of `b`'s complete runs not written yet, and with `end` (a sealed segment) the
   * last, shorter one. A builder that does not cover its segment's start (records written before
   * this process opened the store) is filled first, in the background.
   */
  #flush(b: SegmentBuilder, end: number | undefined): void {
    if (b.from !== b.seg) {
      if (this.#filling.has(b.seg)) return
      this.#filling.add(b.seg)
      const fill = this.#fillFront(b).finally(() => this.#filling.delete(b.seg))
      this.#track(fill.then((ok) => ok && this.#flush(b, end)))
      return
    }
    let lo = Math.max(this.#flushed.get(b.seg) ?? b.ownFrom, b.ownFrom)
    for (;;) {
      const hi = end === undefined ? lo + RUN : Math.min(lo + RUN, end)
      if (end === undefined ? b.to <= hi : b.to < hi || lo >= end) break
      const endOffset = hi === b.to ? b.nextOffset : b.offsetOf(hi)
      if (endOffset === undefined) break
      this.#track(this.#writeRun(b.seg, lo, hi - lo, endOffset, b.runContent(lo, hi)))
      lo = hi
    }
    this.#flushed.set(b.seg, lo)
  }

  #track(p: Promise<unknown>): void {
    const q = p.catch(() => undefined)
    this.#pending.add(q)
    void q.finally(() => this.#pending.delete(q))
  }

  async #writeRun(
    seg: number,
    first: number,
    count: number,
    end: number,
    content: IndexContent,
  ): Promise<void> {
    const lastEntryHash = lineHash(join(this.#segDir, segName(seg)), end)
    if (lastEntryHash === null) return
    const header = { stream: this.#o.stream, firstSeq: first, count, segmentBytes: end, lastEntryHash }
    await this.#write(runName(seg, first), encodeIndex(header, content))
  }

  /** Waits for background index writes (close). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  /**
   * A line start at or before `from` (so `read(from)` skips most of its segment): from an index in
   * memory, or the segment's index files (loaded and checked), or undefined.
   */
  known(from: number): KnownLine | undefined {
    const starts = segmentStarts(this.#segDir)
    let i = starts.length - 1
    while (i >= 0 && starts[i]! > from) i--
    const seg = starts[i]
    if (seg === undefined) return undefined
    const b =
      this.#open?.seg === seg ? this.#open : (this.#sealed.get(seg) ?? this.#chain(seg, starts[i + 1]))
    if (b.from !== seg || from >= b.to) return undefined
    if (b !== this.#open && !this.#sealed.has(seg)) this.#keep(b)
    return { seg, ...b.anchor(from) }
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
    const lookup = await this.#lookup(seg, end, next)
    if (lookup === null) return { seg, end, lookup, seqs: [] }
    try {
      const keys = terms.map((t) => lookup.postings(t))
      const seqs = mergeCandidates(keys, lookup.postings(UNINDEXED), after, end)
      return { seg, end, lookup, seqs }
    } catch (e) {
      if (!(e instanceof IndexFormatError)) throw e
      this.#sealed.delete(seg)
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

  /**
   * The index of records `[seg, end)` of segment `seg` (`next`: the segment after it, if any):
   * its files, then what is in memory, caught up by reading. A read-only store keeps in memory
   * only what files cover: the rest of a sealed segment is read for one query, and a sealed
   * segment without files is read as a scan would (null).
   */
  async #lookup(seg: number, end: number, next: number | undefined): Promise<SegmentLookup | null> {
    let b = this.#open?.seg === seg ? this.#open : this.#sealed.get(seg)
    if (b === undefined) {
      b = this.#chain(seg, next)
      const open = this.#open
      if (open === undefined || seg > open.seg) {
        if (open !== undefined) this.#seal(open, seg)
        this.#open = b
      } else if (!this.#o.readOnly || b.to >= end) this.#keep(b)
      else if (b.to === seg) return null // no files at all: read the segment as a scan would
      // else: the files cover most of it; the rest is read for this query only (kept nowhere)
    }
    if (!(await this.#complete(b, end))) return null
    if (!this.#o.readOnly && next !== undefined && b.to === next) this.#flush(b, next)
    return b
  }

  /** Fills `b` to cover `[seg, end)` (its front, then reading); false if the segment holds fewer. */
  async #complete(b: SegmentBuilder, end: number): Promise<boolean> {
    if (!(await this.#fillFront(b))) return false
    if (b.to < end) await this.#readInto(b, end)
    return b.from === b.seg && b.to >= end
  }

  /** Makes `b` cover its segment from the start (its files, then reading); false if it cannot. */
  async #fillFront(b: SegmentBuilder): Promise<boolean> {
    if (b.from === b.seg) return true
    let p = this.#chain(b.seg, undefined)
    if (p.to > b.from) p = new SegmentBuilder(b.seg, b.seg, 0)
    await this.#readInto(p, b.from)
    if (p.to !== b.from) return false
    if (b.from > b.seg) b.absorb(p)
    return true
  }

  /**
   * A builder for segment `seg` over its index files: the chain of runs from the segment's start
   * whose files are whole and match the segment; the builder continues after the last one.
   */
  #chain(seg: number, next: number | undefined): SegmentBuilder {
    const files: IndexFile[] = []
    let first = seg
    let offset = 0
    while (next === undefined || first < next) {
      const file = this.#runFile(seg, first, offset, next)
      if (file === null) break
      files.push(file)
      first += file.header.count
      offset = file.header.segmentBytes
      if (file.header.count < RUN) break
    }
    return new SegmentBuilder(seg, first, offset, files)
  }

  /** The file of the run at `first` if it is whole and matches the segment, else null. */
  #runFile(seg: number, first: number, offset: number, next: number | undefined): IndexFile | null {
    const bytes = this.#readFile(runName(seg, first))
    if (bytes === null) return null
    try {
      const file = new IndexFile(bytes)
      return this.#matches(seg, first, offset, next, file) ? file : null
    } catch (e) {
      if (e instanceof IndexFormatError) return null
      throw e
    }
  }

  /** Whether a run file's header fits its place in the segment (a short run ends a sealed one). */
  #matches(seg: number, first: number, offset: number, next: number | undefined, file: IndexFile): boolean {
    const h = file.header
    const fits =
      h.stream === this.#o.stream &&
      h.firstSeq === first &&
      file.offsets[0] === offset &&
      h.count > 0 &&
      (h.count === RUN ? next === undefined || first + RUN <= next : first + h.count === next)
    return fits && lineHash(join(this.#segDir, segName(seg)), h.segmentBytes) === h.lastEntryHash
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

  /** The bytes of an index file, or null when there is none. */
  #readFile(name: string): Uint8Array | null {
    try {
      const b = readFileSync(join(this.#idxDir, name))
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength) // a plain view: no Buffer methods
    } catch (e) {
      if (errorCode(e) === 'ENOENT' || errorCode(e) === 'ENOTDIR') return null
      throw ioError('read index', e)
    }
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
   * Checks every index file of the first `size` records against the records (`verifyLog` with
   * `deep`): a file the store would use whose postings or offsets disagree is an error; a file it
   * would not use (damaged, or not matching its segment) a warning. Writes nothing.
   */
  async check(size: number, signal?: AbortSignal): Promise<IndexProblem[]> {
    const out: IndexProblem[] = []
    const starts = segmentStarts(this.#segDir).filter((s) => s < size)
    const names = await this.#list()
    for (let i = 0; i < starts.length; i++) {
      const seg = starts[i]!
      const next = starts[i + 1]
      const prefix = `${String(seg).padStart(20, '0')}-`
      for (const n of names.filter((x) => x.startsWith(prefix) && x.endsWith('.idx')).sort()) {
        signal?.throwIfAborted()
        await this.#checkFile(n, seg, Number(n.slice(21, 41)), next, out)
      }
    }
    return out
  }

  /** Checks one run file: whole and fitting (else a warning), then its content (else an error). */
  async #checkFile(
    name: string,
    seg: number,
    first: number,
    next: number | undefined,
    out: IndexProblem[],
  ): Promise<void> {
    const bytes = this.#readFile(name)
    if (bytes === null) return
    const what = `the index file ${name}`
    let file: IndexFile
    try {
      file = new IndexFile(bytes)
    } catch (e) {
      if (!(e instanceof IndexFormatError)) throw e
      out.push({ seq: first, severity: 'warning', message: `${what} is damaged (${e.message}); not used` })
      return
    }
    const offset = file.offsets[0] ?? -1
    if (!this.#matches(seg, first, offset, next, file)) {
      out.push({
        seq: first,
        severity: 'warning',
        message: `${what} does not match its segment (stale); not used`,
      })
      return
    }
    let actual: IndexContent
    try {
      actual = file.content()
    } catch (e) {
      if (!(e instanceof IndexFormatError)) throw e
      // Whole and fitting, so a query would use it: its table is wrong, not merely damaged.
      out.push({
        seq: first,
        severity: 'error',
        message: `${what} has a malformed term table (${e.message})`,
      })
      return
    }
    const b = new SegmentBuilder(seg, first, offset)
    const hi = first + file.header.count
    await this.#readInto(b, hi)
    if (b.to !== hi || b.nextOffset !== file.header.segmentBytes) return // a damaged segment: the record checks report it
    const d = compareContent(b.runContent(first, hi), actual)
    if (d !== null)
      out.push({
        seq: d.seq < 0 ? first : d.seq,
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
