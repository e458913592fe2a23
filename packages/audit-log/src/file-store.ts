/**
 * The embedded default store: JSON Lines files, one canonical record per line.
 *
 * Layout of a log directory:
 * - `stream.json`: `{"stream":"…","v":1}`, written once.
 * - `segments/<first seq, 20 digits>.jsonl`: the records. A segment is never rewritten; when one
 *   passes `segmentMaxBytes` the next batch starts a new one, and the chain continues across files.
 * - `checkpoints.jsonl`: signed checkpoints, one per line, in write order.
 * - `index/`: the sidecar index `queryLog` uses for `patient` and `who` (derived data, rebuilt
 *   when missing, damaged or stale; see the README's "Queries").
 * - `lock/`: the inter-process lock (see below).
 *
 * Durability: an append writes the whole batch with one `write` on an `O_APPEND` descriptor and one
 * `fdatasync` before it resolves (group commit happens one level up, in the log, which batches every
 * event waiting while the previous batch syncs). New segment files and `checkpoints.jsonl` are made
 * durable with a directory fsync.
 *
 * Several processes may append to one log: every append takes an inter-process lock
 * (`mkdir`-based, stale locks of dead pids are broken), re-reads the tail under it, and refuses with
 * a conflict if another process appended first. A refused writer keeps the lock for a short lease,
 * so its retry (after catching up) is not starved by the others.
 *
 * Crash recovery: a last line without its newline was being written when a process died; it was
 * never acknowledged. The next writer to take the lock cuts it off (after an fsync) and reports a
 * {@link TailRecovery}, which the log turns into a `safeguards.recovered` record. A complete last
 * line that is not a valid record, or that does not chain, is tampering or corruption: the store
 * refuses to append (fail closed) and `verifyLog` locates it.
 *
 * HIPAA: 164.312(b) audit controls (the trail and its integrity; no pruning: retention is yours).
 *
 * @module
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { canonicalize, utf8Encode } from '@safeguards/core'
import { errorCode, fsyncDirSync, writeFileAtomic } from '@safeguards/core/node'
import { AuditClosedError, AuditConflictError, AuditCorruptionError, AuditStoreError } from './errors.js'
import { FileIndex } from './internal/file-index/file-index.js'
import { acquireDirLock } from './internal/file-lock.js'
import { appendCheckpointLine, readCheckpointLines } from './internal/file-store/checkpoints.js'
import { LockLease } from './internal/file-store/lease.js'
import { type KnownLine, readSegmentRuns } from './internal/file-store/run-reader.js'
import {
  bytesEqual,
  checkBatch,
  datasync,
  ioError,
  joinLines,
  segmentStarts,
  segName,
  writeAll,
} from './internal/file-store/segments.js'
import { SegmentTail } from './internal/file-store/tail.js'
import { READ_RUNS, type RecordRun, type RunReadOptions, recordsOf } from './internal/runs.js'
import type { IndexAnswer, IndexQuery } from './query.js'
import { assertStreamId } from './record.js'
import type * as S from './store.js'

/** Options for {@link openFileStore}. */
export interface FileStoreOptions {
  /** The log directory (created when `create` is true and it does not exist). */
  dir: string
  /** The stream id. Required to create a log; checked against `stream.json` when given. */
  stream?: string
  /** Create the log when absent (default true; false for verifiers). */
  create?: boolean
  /** Open without the lock and never modify anything (verifiers). Appends throw. Default false. */
  readOnly?: boolean
  /** Start a new segment once the current one reaches this many bytes (default 128 MiB). */
  segmentMaxBytes?: number
  /** How long to wait for the inter-process lock (default 30 000 ms). */
  lockTimeoutMs?: number
  /**
   * `'fsync'` (default): an append resolves after `fdatasync`. `'none'`: after `write` only; for
   * tests and throw-away logs, never for audit data you must keep.
   */
  durability?: 'fsync' | 'none'
  /**
   * Keep the sidecar index (`index/`) that `queryLog` uses for `patient` and `who` (default
   * true). Derived data: deleting the directory loses nothing (it is rebuilt). `false`: queries
   * read every record.
   */
  index?: boolean
}

/** A file store: an {@link AuditStore} plus file-specific details. */
export interface FileStore extends S.AuditStore {
  /** The log directory. */
  readonly dir: string
  /** Segment file names, oldest first. */
  segments(): string[]
}

const LEASE_MS = 200
const IDLE_RELEASE_MS = 0

/**
 * Opens (or creates) a JSON Lines audit log directory.
 *
 * HIPAA: 164.312(b) audit controls (durable, append-only recording).
 *
 * @throws {TypeError} / {RangeError} for bad options.
 * @throws {AuditStoreError} when the directory cannot be read or created, or the stream id differs.
 * @throws {AuditCorruptionError} when the tail of the log is not a valid record.
 * @example
 * ```ts
 * const store = await openFileStore({ dir: '/var/lib/app/audit', stream: 'ehr-prod' })
 * const log = await openAuditLog({ store, signer })
 * ```
 */
export async function openFileStore(options: FileStoreOptions): Promise<FileStore> {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" expected an object')
  if (typeof options.dir !== 'string' || options.dir === '') throw new TypeError('"dir" expected a path')
  const segmentMaxBytes = options.segmentMaxBytes ?? 128 * 1024 * 1024
  if (!Number.isSafeInteger(segmentMaxBytes) || segmentMaxBytes < 1)
    throw new RangeError('"segmentMaxBytes" expected a positive integer')
  if (options.index !== undefined && typeof options.index !== 'boolean')
    throw new TypeError('"index" expected a boolean')
  const lockTimeoutMs = options.lockTimeoutMs ?? 30_000
  const readOnly = options.readOnly === true
  const create = options.create ?? !readOnly
  const durable = (options.durability ?? 'fsync') === 'fsync'
  if (options.stream !== undefined) assertStreamId(options.stream)
  const dir = options.dir
  const segDir = join(dir, 'segments')
  const metaPath = join(dir, 'stream.json')

  let stream: string
  let meta: string | undefined
  try {
    meta = readFileSync(metaPath, 'utf8')
  } catch (e) {
    if (errorCode(e) !== 'ENOENT') throw ioError('open', e)
  }
  if (meta === undefined) {
    if (!create) throw new AuditStoreError('no audit log at this path (stream.json missing)')
    if (options.stream === undefined) throw new TypeError('"stream" is required to create a log')
    try {
      mkdirSync(segDir, { recursive: true })
      const lock = await acquireDirLock(dir, lockTimeoutMs)
      try {
        try {
          meta = readFileSync(metaPath, 'utf8')
        } catch {
          // Mode 0666 less the umask, as any file the store creates (verifiers may run as others).
          const text = `${canonicalize({ stream: options.stream, v: 1 })}\n`
          await writeFileAtomic(metaPath, utf8Encode(text), { mode: 0o666 })
          meta = readFileSync(metaPath, 'utf8')
        }
      } finally {
        lock.release()
      }
    } catch (e) {
      if (e instanceof AuditStoreError) throw e
      throw ioError('create', e)
    }
  }
  try {
    const parsed = JSON.parse(meta) as { stream?: unknown; v?: unknown }
    assertStreamId(parsed.stream)
    if (parsed.v !== 1) throw new Error('version')
    stream = parsed.stream
  } catch {
    throw new AuditCorruptionError('stream.json is not a valid v1 stream descriptor', undefined)
  }
  if (options.stream !== undefined && options.stream !== stream)
    throw new AuditStoreError('stream id does not match the log at this path')

  const store = new FileStoreImpl(dir, stream, segmentMaxBytes, lockTimeoutMs, readOnly, durable)
  if (options.index === false) store.dropIndex()
  store.init()
  return store
}

class FileStoreImpl implements FileStore {
  readonly dir: string
  readonly stream: string
  readonly #segDir: string
  readonly #cpPath: string
  readonly #segmentMaxBytes: number
  readonly #readOnly: boolean
  readonly #durable: boolean
  readonly #tail: SegmentTail
  readonly #lease: LockLease
  #index: FileIndex | undefined
  #fd = -1
  #fdSeg = -1
  #closed = false
  #queue: Promise<unknown> = Promise.resolve()

  constructor(
    dir: string,
    stream: string,
    segmentMaxBytes: number,
    lockTimeoutMs: number,
    readOnly: boolean,
    durable: boolean,
  ) {
    this.dir = dir
    this.stream = stream
    this.#segDir = join(dir, 'segments')
    this.#cpPath = join(dir, 'checkpoints.jsonl')
    this.#segmentMaxBytes = segmentMaxBytes
    this.#readOnly = readOnly
    this.#durable = durable
    this.#index = new FileIndex({
      dir,
      stream,
      readOnly,
      read: (from, to, signal) => this.read(from, to, signal === undefined ? {} : { signal }),
    })
    this.#tail = new SegmentTail(this.#segDir, stream, (seg, seq, offset, line) =>
      this.#index?.observe(seg, seq, offset, line),
    )
    this.#lease = new LockLease(dir, lockTimeoutMs, (f) => this.#serial(f))
  }

  segments(): string[] {
    return segmentStarts(this.#segDir).map(segName)
  }

  init(): void {
    this.#tail.init()
    const t = this.#tail.tail
    this.#index?.start(t.segStart, t.size, t.offset)
  }

  /** No index upkeep and no index answers (`index: false`). */
  dropIndex(): void {
    this.#index = undefined
  }

  #serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(f, f)
    this.#queue = run.catch(() => undefined)
    return run
  }

  head(): Promise<S.StoreHead> {
    return this.#serial(async () => {
      this.#check()
      this.#tail.refresh(false)
      return this.#tail.head()
    })
  }

  #check(): void {
    if (this.#closed) throw new AuditClosedError()
  }

  #writable(): void {
    this.#check()
    if (this.#readOnly) throw new AuditStoreError('store is read-only')
  }

  append(expected: S.StoreHead, records: readonly S.AppendRecord[]): Promise<S.StoreHead> {
    return this.#serial(async () => {
      this.#writable()
      if (records.length === 0) return this.#tail.head()
      checkBatch(expected, records)
      const fresh = await this.#lease.take()
      let ok = false
      let conflict = false
      try {
        if (fresh) this.#tail.refresh(true)
        const t = this.#tail.tail
        if (t.size !== expected.size || !bytesEqual(t.hash, expected.hash)) {
          conflict = true
          throw new AuditConflictError(expected.size, t.size)
        }
        await this.#write(records)
        ok = true
        return this.#tail.head()
      } finally {
        if (ok) this.#lease.afterUse(IDLE_RELEASE_MS)
        else if (conflict) this.#lease.afterUse(LEASE_MS)
        else this.#lease.release()
      }
    })
  }

  /** Writes a batch that continues the tail (under the lock), starting a new segment if due. */
  async #write(records: readonly S.AppendRecord[]): Promise<void> {
    const t = this.#tail.tail
    let seg = t.segStart
    if (seg < 0 || t.offset >= this.#segmentMaxBytes) {
      seg = t.size
      try {
        closeSync(openSync(join(this.#segDir, segName(seg)), 'a'))
        fsyncDirSync(this.#segDir)
      } catch (e) {
        throw ioError('create segment', e)
      }
      this.#tail.tail = { segStart: seg, offset: 0, size: t.size, hash: t.hash }
    }
    const buf = joinLines(records)
    // Never write under a lock that is no longer ours (see @safeguards/core/node's file lock).
    this.#lease.assertHeld()
    const fd = this.#segmentFd(seg)
    const before = this.#tail.tail.offset
    try {
      writeAll(fd, buf)
    } catch (e) {
      try {
        ftruncateSync(fd, before)
      } catch {
        /* the next writer's torn-tail recovery cuts it */
      }
      throw ioError('write', e)
    }
    // The index's share of the batch (reading each record's terms) is done while the disk syncs.
    let terms: readonly (readonly number[])[] | undefined
    if (this.#durable) {
      const synced = datasync(fd)
      terms = this.#index?.termsOf(records)
      try {
        await synced
      } catch (e) {
        // Not acknowledged: take the batch back out so a retry cannot duplicate it.
        try {
          ftruncateSync(fd, before)
        } catch {
          /* the next writer's refresh sees whatever is left, complete lines only */
        }
        throw e
      }
    }
    const last = records[records.length - 1]!
    this.#tail.tail = {
      segStart: seg,
      offset: before + buf.length,
      size: last.seq + 1,
      hash: last.hash.slice(),
    }
    this.#tail.remember(last.seq + 1, seg, before + buf.length)
    const index = this.#index
    if (index !== undefined) {
      let offset = before
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!
        index.observe(seg, r.seq, offset, r.bytes, terms?.[i])
        offset += r.bytes.length + 1
      }
    }
  }

  #segmentFd(seg: number): number {
    if (this.#fdSeg !== seg) {
      if (this.#fd >= 0) closeSync(this.#fd)
      this.#fd = -1
      try {
        this.#fd = openSync(join(this.#segDir, segName(seg)), 'a')
      } catch (e) {
        throw ioError('open segment', e)
      }
      this.#fdSeg = seg
    }
    return this.#fd
  }

  async *read(from: number, to?: number, options?: S.ReadOptions): AsyncIterable<S.StoredRecord> {
    for await (const batch of this.readBatches(from, to, options)) yield* batch
  }

  async *readBatches(
    from: number,
    to?: number,
    options?: S.ReadOptions,
  ): AsyncIterable<readonly S.StoredRecord[]> {
    const runOptions: RunReadOptions = { ...options, maxRecords: Number.MAX_SAFE_INTEGER }
    for await (const run of this[READ_RUNS](from, to, runOptions)) yield recordsOf(run)
  }

  /** The complete lines `from <= seq < to` as runs (see the run reader). */
  async *[READ_RUNS](
    from: number,
    to: number | undefined,
    options: RunReadOptions,
  ): AsyncIterable<RecordRun> {
    if (!Number.isSafeInteger(from) || from < 0)
      throw new RangeError('"from" expected a non-negative integer')
    const end = to ?? (await this.head()).size
    if (!Number.isSafeInteger(end) || end < 0) throw new RangeError('"to" expected a non-negative integer')
    if (from >= end) return
    const range = {
      segDir: this.#segDir,
      starts: segmentStarts(this.#segDir),
      from,
      end,
      known: this.#known(from),
    }
    yield* readSegmentRuns(range, options)
  }

  #known(from: number): KnownLine | undefined {
    const p = this.#tail.positions.get(from)
    return p === undefined ? this.#index?.known(from) : { seg: p.seg, seq: from, offset: p.offset }
  }

  queryIndex(query: IndexQuery): Promise<IndexAnswer | undefined> {
    this.#check()
    return this.#index === undefined ? Promise.resolve(undefined) : this.#index.query(query)
  }

  async checkIndex(size: number, options?: S.ReadOptions): Promise<readonly S.IndexProblem[]> {
    this.#check()
    return this.#index === undefined ? [] : this.#index.check(size, options?.signal)
  }

  async tornTailBytes(): Promise<number> {
    await this.head()
    return this.#tail.torn
  }

  takeRecoveries(): readonly S.TailRecovery[] {
    return this.#tail.takeRecoveries()
  }

  appendCheckpoint(expectedCount: number, checkpoint: S.StoredCheckpoint): Promise<void> {
    return this.#serial(async () => {
      this.#writable()
      if (!Number.isSafeInteger(checkpoint.size) || typeof checkpoint.jws !== 'string')
        throw new TypeError('"checkpoint" expected { size, jws }')
      const fresh = await this.#lease.take()
      if (fresh) this.#tail.refresh(true)
      try {
        await appendCheckpointLine(this.#cpPath, expectedCount, checkpoint, {
          dir: this.dir,
          assertHeld: () => this.#lease.assertHeld(),
          durable: this.#durable,
        })
      } finally {
        this.#lease.afterUse(IDLE_RELEASE_MS)
      }
    })
  }

  async checkpointHead(): Promise<S.CheckpointHead> {
    const all = readCheckpointLines(this.#cpPath)
    return { count: all.length, latest: all[all.length - 1] ?? null }
  }

  async readCheckpoints(): Promise<readonly S.StoredCheckpoint[]> {
    return readCheckpointLines(this.#cpPath)
  }

  close(): Promise<void> {
    return this.#serial(async () => {
      if (this.#closed) return
      this.#closed = true
      await this.#index?.idle()
      this.#lease.release()
      if (this.#fd >= 0) closeSync(this.#fd)
      this.#fd = -1
    })
  }
}
