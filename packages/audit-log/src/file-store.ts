/**
 * The embedded default store: JSON Lines files, one canonical record per line.
 *
 * Layout of a log directory:
 * - `stream.json`: `{"stream":"…","v":1}`, written once.
 * - `segments/<first seq, 20 digits>.jsonl`: the records. A segment is never rewritten; when one
 *   passes `segmentMaxBytes` the next batch starts a new one, and the chain continues across files.
 * - `checkpoints.jsonl`: signed checkpoints, one per line, in write order.
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
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { open as openAsync } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex, canonicalize, utf8Encode } from '@safeguards/core'
import { fsyncDirSync } from '@safeguards/core/node'
import {
  AuditClosedError,
  AuditConflictError,
  AuditCorruptionError,
  AuditStoreError,
  CheckpointError,
} from './errors.js'
import { acquireDirLock, type HeldLock } from './internal/file-lock.js'
import { readRecordHeader } from './internal/record-header.js'
import { indexOfByte, READ_RUNS, type RecordRun, type RunReadOptions, recordsOf } from './internal/runs.js'
import { leafHashOf, sha256Fast } from './internal/sha256.js'
import { assertStreamId } from './record.js'
import type {
  AppendRecord,
  AuditStore,
  CheckpointHead,
  ReadOptions,
  StoredCheckpoint,
  StoredRecord,
  StoreHead,
  TailRecovery,
} from './store.js'
import { ZERO_HASH } from './store.js'

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
}

/** A file store: an {@link AuditStore} plus file-specific details. */
export interface FileStore extends AuditStore {
  /** The log directory. */
  readonly dir: string
  /** Segment file names, oldest first. */
  segments(): string[]
}

const NL = 0x0a
const CHUNK = 4 << 20
const LEASE_MS = 200
const IDLE_RELEASE_MS = 0
const MAX_HOLD_MS = 10
const YIELD_MS = 5

function segName(start: number): string {
  return `${String(start).padStart(20, '0')}.jsonl`
}

function ioError(op: string, e: unknown): AuditStoreError {
  return new AuditStoreError(`${op} failed (${(e as { code?: string }).code ?? 'unknown'})`, { cause: e })
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

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
    if ((e as { code?: string }).code !== 'ENOENT') throw ioError('open', e)
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
          const tmp = `${metaPath}.${process.pid}.tmp`
          writeFileSync(tmp, `${canonicalize({ stream: options.stream, v: 1 })}\n`)
          const fd = openSync(tmp, 'r')
          fdatasyncSync(fd)
          closeSync(fd)
          renameSync(tmp, metaPath)
          fsyncDirSync(dir)
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
  store.init()
  return store
}

interface Tail {
  /** First seq of the last segment (-1: no segment yet). */
  segStart: number
  /** Bytes of complete lines in the last segment. */
  offset: number
  size: number
  hash: Uint8Array
}

class FileStoreImpl implements FileStore {
  readonly dir: string
  readonly stream: string
  readonly #segDir: string
  readonly #cpPath: string
  readonly #segmentMaxBytes: number
  readonly #lockTimeoutMs: number
  readonly #readOnly: boolean
  readonly #durable: boolean
  #tail: Tail = { segStart: -1, offset: 0, size: 0, hash: ZERO_HASH }
  #fd = -1
  #fdSeg = -1
  #closed = false
  #queue: Promise<unknown> = Promise.resolve()
  /** The inter-process lock while held (between batches of a busy writer, or a conflict lease). */
  #held: HeldLock | null = null
  #heldAt = 0
  #releaseTimer: ReturnType<typeof setTimeout> | null = null
  #yieldUntil = 0
  #recoveries: TailRecovery[] = []
  #torn = 0
  /** Known (seq → byte offset) positions in segments, for catch-up reads. */
  #positions = new Map<number, { seg: number; offset: number }>()

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
    this.#lockTimeoutMs = lockTimeoutMs
    this.#readOnly = readOnly
    this.#durable = durable
  }

  segments(): string[] {
    return this.#segStarts().map(segName)
  }

  #segStarts(): number[] {
    let names: string[]
    try {
      names = readdirSync(this.#segDir)
    } catch (e) {
      throw ioError('readdir', e)
    }
    const out: number[] = []
    for (const n of names) {
      const m = /^(\d{20})\.jsonl$/.exec(n)
      if (m !== null) out.push(Number(m[1]))
    }
    return out.sort((a, b) => a - b)
  }

  /** Finds the head from the last segment's last complete line (no lock; nothing modified). */
  init(): void {
    const starts = this.#segStarts()
    for (let i = starts.length - 1; i >= 0; i--) {
      const seg = starts[i]!
      const path = join(this.#segDir, segName(seg))
      const { line, offset, torn } = lastLine(path)
      if (i === starts.length - 1) this.#torn = torn
      if (line === null) {
        if (i === starts.length - 1 && i > 0) continue // an empty new segment: look at the previous one
        if (i === 0) {
          if (seg !== 0) throw new AuditCorruptionError('first segment does not start at seq 0', seg)
          this.#tail = { segStart: seg, offset: 0, size: 0, hash: ZERO_HASH }
          return
        }
      }
      if (line === null) continue
      const header = readRecordHeader(line)
      if (header === null || header.stream !== this.stream || header.seq < seg)
        throw new AuditCorruptionError('last record of the log is not a valid record', seg)
      const last = starts[starts.length - 1]!
      if (last !== seg && last !== header.seq + 1)
        throw new AuditCorruptionError('empty segment does not continue the log', last)
      this.#tail =
        last === seg
          ? { segStart: seg, offset, size: header.seq + 1, hash: leafHashOf(line) }
          : { segStart: last, offset: 0, size: header.seq + 1, hash: leafHashOf(line) }
      this.#positions.set(this.#tail.size, { seg: this.#tail.segStart, offset: this.#tail.offset })
      return
    }
  }

  /**
   * Brings the tail up to date with what other processes wrote. With the lock held, a torn last line
   * is cut off; without it, only complete lines count.
   */
  #refresh(locked: boolean): void {
    const starts = this.#segStarts()
    if (starts.length === 0) return
    const t = this.#tail
    let idx = starts.indexOf(t.segStart)
    if (idx < 0) {
      if (t.segStart === -1) idx = 0
      else throw new AuditCorruptionError('segment disappeared', t.segStart)
    }
    for (let i = idx; i < starts.length; i++) {
      const seg = starts[i]!
      if (seg !== this.#tail.segStart) {
        if (seg !== this.#tail.size) throw new AuditCorruptionError('segment does not continue the log', seg)
        this.#tail = { segStart: seg, offset: 0, size: this.#tail.size, hash: this.#tail.hash }
      }
      this.#scanFrom(seg, locked && i === starts.length - 1)
    }
  }

  #scanFrom(seg: number, cutTorn: boolean): void {
    const path = join(this.#segDir, segName(seg))
    let fd: number
    try {
      fd = openSync(path, cutTorn ? 'r+' : 'r')
    } catch (e) {
      throw ioError('open segment', e)
    }
    try {
      const end = fstatSync(fd).size
      let pos = this.#tail.offset
      if (end < pos)
        throw new AuditCorruptionError('segment shrank below acknowledged records', this.#tail.size)
      if (end === pos) return
      const buf = new Uint8Array(end - pos)
      let got = 0
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, pos + got)
        if (n === 0) break
        got += n
      }
      let start = 0
      for (;;) {
        const nl = buf.indexOf(NL, start)
        if (nl < 0 || nl >= got) break
        const line = buf.subarray(start, nl)
        const header = readRecordHeader(line)
        if (header === null || header.seq !== this.#tail.size || header.stream !== this.stream)
          throw new AuditCorruptionError('log tail is not a valid record', this.#tail.size)
        if (header.prev !== bytesToHex(this.#tail.hash))
          throw new AuditCorruptionError('log tail does not chain', this.#tail.size)
        this.#tail = {
          segStart: seg,
          offset: pos + nl + 1,
          size: this.#tail.size + 1,
          hash: leafHashOf(line),
        }
        start = nl + 1
      }
      pos = this.#tail.offset
      const rest = end - pos
      if (rest > 0) {
        if (cutTorn) {
          const torn = buf.subarray(start, got)
          ftruncateSync(fd, pos)
          fdatasyncSync(fd)
          this.#recoveries.push({
            size: this.#tail.size,
            discardedBytes: rest,
            discardedSha256: sha256Fast(torn),
          })
          this.#torn = 0
        } else {
          this.#torn = rest
        }
      } else {
        this.#torn = 0
      }
      this.#positions.set(this.#tail.size, { seg, offset: this.#tail.offset })
      if (this.#positions.size > 64) this.#positions.delete(this.#positions.keys().next().value!)
    } finally {
      closeSync(fd)
    }
  }

  #serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(f, f)
    this.#queue = run.catch(() => undefined)
    return run
  }

  head(): Promise<StoreHead> {
    return this.#serial(async () => {
      this.#check()
      this.#refresh(false)
      return { size: this.#tail.size, hash: this.#tail.hash.slice() }
    })
  }

  #check(): void {
    if (this.#closed) throw new AuditClosedError()
  }

  /**
   * Takes the inter-process lock, or keeps using it when still held. Returns whether it was just
   * taken (then the tail must be re-read: another process may have appended).
   */
  async #lock(): Promise<boolean> {
    if (this.#releaseTimer !== null) {
      clearTimeout(this.#releaseTimer)
      this.#releaseTimer = null
    }
    if (this.#held !== null) return false
    const wait = this.#yieldUntil - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    this.#held = await acquireDirLock(this.dir, this.#lockTimeoutMs)
    this.#heldAt = performance.now()
    return true
  }

  #releaseNow(): void {
    if (this.#releaseTimer !== null) clearTimeout(this.#releaseTimer)
    this.#releaseTimer = null
    const l = this.#held
    this.#held = null
    l?.release()
  }

  /**
   * After a batch: keep the lock while this writer is busy (its next batch usually follows at once),
   * release it when idle, and yield it after a long hold when another process is waiting.
   */
  #afterUse(ms: number): void {
    if (this.#held === null) return
    if (performance.now() - this.#heldAt > MAX_HOLD_MS && this.#held.contended()) {
      this.#releaseNow()
      this.#yieldUntil = performance.now() + YIELD_MS
      return
    }
    if (this.#releaseTimer === null) {
      const t = setTimeout(() => {
        void this.#serial(async () => {
          if (this.#releaseTimer === t) this.#releaseNow()
        })
      }, ms)
      t.unref?.()
      this.#releaseTimer = t
    }
  }

  append(expected: StoreHead, records: readonly AppendRecord[]): Promise<StoreHead> {
    return this.#serial(async () => {
      this.#check()
      if (this.#readOnly) throw new AuditStoreError('store is read-only')
      if (records.length === 0) return { size: this.#tail.size, hash: this.#tail.hash.slice() }
      checkBatch(expected, records)
      const fresh = await this.#lock()
      let ok = false
      let conflict = false
      try {
        if (fresh) this.#refresh(true)
        const t = this.#tail
        if (t.size !== expected.size || !bytesEqual(t.hash, expected.hash)) {
          conflict = true
          throw new AuditConflictError(expected.size, t.size)
        }
        let seg = t.segStart
        if (seg < 0 || t.offset >= this.#segmentMaxBytes) {
          seg = t.size
          const path = join(this.#segDir, segName(seg))
          try {
            closeSync(openSync(path, 'a'))
            fsyncDirSync(this.#segDir)
          } catch (e) {
            throw ioError('create segment', e)
          }
          this.#tail = { segStart: seg, offset: 0, size: t.size, hash: t.hash }
        }
        let total = 0
        for (const r of records) total += r.bytes.length + 1
        const buf = new Uint8Array(total)
        let at = 0
        for (const r of records) {
          buf.set(r.bytes, at)
          at += r.bytes.length
          buf[at++] = NL
        }
        // Never write under a lock that is no longer ours (see @safeguards/core/node's file lock).
        this.#held?.assertHeld()
        const fd = this.#segmentFd(seg)
        const before = this.#tail.offset
        try {
          let written = 0
          while (written < buf.length) written += writeSync(fd, buf, written, buf.length - written)
        } catch (e) {
          try {
            ftruncateSync(fd, before)
          } catch {
            /* the next writer's torn-tail recovery cuts it */
          }
          throw ioError('write', e)
        }
        if (this.#durable) {
          try {
            await datasync(fd)
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
        this.#tail = { segStart: seg, offset: before + total, size: last.seq + 1, hash: last.hash.slice() }
        this.#positions.set(this.#tail.size, { seg, offset: this.#tail.offset })
        if (this.#positions.size > 64) this.#positions.delete(this.#positions.keys().next().value!)
        ok = true
        return { size: this.#tail.size, hash: this.#tail.hash.slice() }
      } finally {
        if (ok) this.#afterUse(IDLE_RELEASE_MS)
        else if (conflict) this.#afterUse(LEASE_MS)
        else this.#releaseNow()
      }
    })
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

  async *read(from: number, to?: number, options?: ReadOptions): AsyncIterable<StoredRecord> {
    for await (const batch of this.readBatches(from, to, options)) yield* batch
  }

  async *readBatches(
    from: number,
    to?: number,
    options?: ReadOptions,
  ): AsyncIterable<readonly StoredRecord[]> {
    const runOptions: RunReadOptions = { ...options, maxRecords: Number.MAX_SAFE_INTEGER }
    for await (const run of this[READ_RUNS](from, to, runOptions)) yield recordsOf(run)
  }

  /**
   * The complete lines `from <= seq < to` as runs ({@link RecordRun}): one positional read of a
   * chunk per run, into a buffer the caller then owns. The next read starts after the last line
   * taken, so a line cut by the chunk's end is read again whole (no carry buffer, no copy); a line
   * longer than the chunk is read again with a bigger one.
   */
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
    const starts = this.#segStarts()
    let i = 0
    while (i + 1 < starts.length && starts[i + 1]! <= from) i++
    for (; i < starts.length; i++) {
      const seg = starts[i]!
      if (seg >= end) return
      let seq = seg
      let offset = 0
      const known = this.#positions.get(from)
      if (known !== undefined && known.seg === seg && from >= seg) {
        offset = known.offset
        seq = from
      }
      const path = join(this.#segDir, segName(seg))
      let fh: Awaited<ReturnType<typeof openAsync>>
      try {
        fh = await openAsync(path, 'r')
      } catch (e) {
        throw ioError('open segment', e)
      }
      try {
        let size = CHUNK
        for (;;) {
          options.signal?.throwIfAborted()
          const chunk = options.alloc?.(size) ?? new Uint8Array(size)
          const { bytesRead } = await fh.read(chunk, 0, size, offset)
          if (bytesRead === 0) break
          const data = chunk.subarray(0, bytesRead)
          let ends = new Float64Array(Math.min(options.maxRecords, 1024))
          let count = 0
          let first = -1
          let firstSeq = seq
          let next = 0
          let done = false
          for (;;) {
            const nl = indexOfByte(data, NL, next)
            if (nl < 0) break
            if (seq >= from) {
              if (first < 0) {
                first = next
                firstSeq = seq
              }
              if (count === ends.length) {
                const bigger = new Float64Array(count * 2)
                bigger.set(ends)
                ends = bigger
              }
              ends[count++] = nl - first
            }
            seq++
            next = nl + 1
            if (seq >= end) {
              done = true
              break
            }
            if (count >= options.maxRecords) break
          }
          if (next === 0) {
            if (bytesRead < size) break // a torn last line: not a record
            size *= 2
            continue
          }
          offset += next
          if (count > 0)
            yield { from: firstSeq, bytes: chunk.subarray(first, next), ends: ends.slice(0, count) }
          if (done) return
          // Runs capped at a few records: read about that much next time, not a whole chunk.
          if (count >= options.maxRecords)
            size = Math.min(CHUNK, Math.max(64 * 1024, Math.ceil((next / count) * (count + 1) * 1.25)))
        }
      } finally {
        await fh.close()
      }
    }
  }

  async tornTailBytes(): Promise<number> {
    await this.head()
    return this.#torn
  }

  takeRecoveries(): readonly TailRecovery[] {
    const r = this.#recoveries
    this.#recoveries = []
    return r
  }

  #readCheckpointLines(): StoredCheckpoint[] {
    let text: string
    try {
      text = readFileSync(this.#cpPath, 'utf8')
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return []
      throw ioError('read checkpoints', e)
    }
    const out: StoredCheckpoint[] = []
    const lines = text.split('\n')
    // A last line without newline is a torn checkpoint write: not acknowledged, ignored.
    for (let i = 0; i < lines.length - 1; i++) {
      const line = lines[i]!
      try {
        const v = JSON.parse(line) as { size?: unknown; jws?: unknown }
        if (!Number.isSafeInteger(v.size) || typeof v.jws !== 'string') throw new Error('shape')
        out.push({ size: v.size as number, jws: v.jws })
      } catch (e) {
        throw new CheckpointError(`checkpoint line ${i + 1} is not a stored checkpoint`, { cause: e })
      }
    }
    return out
  }

  appendCheckpoint(expectedCount: number, checkpoint: StoredCheckpoint): Promise<void> {
    return this.#serial(async () => {
      this.#check()
      if (this.#readOnly) throw new AuditStoreError('store is read-only')
      if (!Number.isSafeInteger(checkpoint.size) || typeof checkpoint.jws !== 'string')
        throw new TypeError('"checkpoint" expected { size, jws }')
      const fresh = await this.#lock()
      if (fresh) this.#refresh(true)
      try {
        let fd: number
        try {
          fd = openSync(this.#cpPath, 'a+')
        } catch (e) {
          throw ioError('open checkpoints', e)
        }
        try {
          // Cut a torn last line first, so the new line starts clean.
          const size = fstatSync(fd).size
          if (size > 0) {
            const all = readFileSync(this.#cpPath)
            const lastNl = all.lastIndexOf(NL)
            if (lastNl !== all.length - 1) ftruncateSync(fd, lastNl + 1)
          }
          const count = this.#readCheckpointLines().length
          if (count !== expectedCount) throw new AuditConflictError(expectedCount, count)
          const line = utf8Encode(`${canonicalize({ jws: checkpoint.jws, size: checkpoint.size })}\n`)
          this.#held?.assertHeld()
          let written = 0
          while (written < line.length) written += writeSync(fd, line, written, line.length - written)
          if (this.#durable) await datasync(fd)
          if (size === 0) fsyncDirSync(this.dir)
        } finally {
          closeSync(fd)
        }
      } finally {
        this.#afterUse(IDLE_RELEASE_MS)
      }
    })
  }

  async checkpointHead(): Promise<CheckpointHead> {
    const all = this.#readCheckpointLines()
    return { count: all.length, latest: all[all.length - 1] ?? null }
  }

  async readCheckpoints(): Promise<readonly StoredCheckpoint[]> {
    return this.#readCheckpointLines()
  }

  close(): Promise<void> {
    return this.#serial(async () => {
      if (this.#closed) return
      this.#closed = true
      this.#releaseNow()
      if (this.#fd >= 0) closeSync(this.#fd)
      this.#fd = -1
    })
  }
}

function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fdatasync(fd, (e) => (e === null ? resolve() : reject(ioError('fdatasync', e))))
  })
}

function checkBatch(expected: StoreHead, records: readonly AppendRecord[]): void {
  let seq = expected.size
  let prev = expected.hash
  for (const r of records) {
    if (r.seq !== seq || !bytesEqual(r.prevHash, prev) || r.hash.length !== 32)
      throw new RangeError('"records" do not continue the expected head')
    if (r.bytes.indexOf(NL) >= 0) throw new RangeError('"records" bytes contain a newline')
    seq++
    prev = r.hash
  }
}

/** The last complete line of a file, its end offset, and how many torn bytes follow it. */
function lastLine(path: string): { line: Uint8Array | null; offset: number; torn: number } {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (e) {
    throw ioError('open segment', e)
  }
  try {
    const size = statSync(path).size
    let window = 64 * 1024
    for (;;) {
      const start = Math.max(0, size - window)
      const buf = new Uint8Array(size - start)
      readSync(fd, buf, 0, buf.length, start)
      const lastNl = buf.lastIndexOf(NL)
      if (lastNl < 0) {
        if (start === 0) return { line: null, offset: 0, torn: size }
        window *= 4
        continue
      }
      const prevNl = lastNl > 0 ? buf.lastIndexOf(NL, lastNl - 1) : -1
      if (prevNl < 0 && start > 0) {
        window *= 4
        continue
      }
      return {
        line: buf.slice(prevNl + 1, lastNl),
        offset: start + lastNl + 1,
        torn: size - (start + lastNl + 1),
      }
    }
  } finally {
    closeSync(fd)
  }
}
