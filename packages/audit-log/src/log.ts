/**
 * The audit log writer: validates events, chains them, commits them in groups, and writes signed
 * checkpoints every N records, every T milliseconds and on close, but never one of a log that has
 * not grown since its newest checkpoint (nor of an empty log): a second checkpoint of one size adds
 * nothing a verifier can check.
 *
 * Group commit: `append` queues the event; one batch is in flight at a time, and every event that
 * arrives while it syncs joins the next batch, so one fsync acknowledges many events. An append's
 * promise resolves only after its record is durable in the store.
 *
 * Several writers (threads, processes) may share a store: a writer whose append is refused because
 * the head moved reads the records it missed, checks that they chain, and retries. Checkpoints
 * are appended to the store conditionally (one checkpoint chain, sizes never decreasing, dates
 * never going back) and anchored only once stored.
 *
 * HIPAA: 164.312(b) audit controls (recording, and the trail's own integrity) and
 * 164.308(a)(1)(ii)(D) information system activity review.
 *
 * @module
 */
import {
  bytesToHex,
  type Clock,
  isSafeguardsError,
  systemClock,
  timingSafeEqual,
  utf8Encode,
} from '@safeguards/core'
import type { AnchorSink } from './anchor.js'
import {
  type CheckpointSigner,
  checkpointHash,
  readCheckpointUnverified,
  signCheckpoint,
} from './checkpoint.js'
import { AuditClosedError, AuditConflictError, AuditCorruptionError } from './errors.js'
import { readInBatches } from './internal/batches.js'
import { eventText, hex, hexInto, RecordArena, recordText } from './internal/encode.js'
import { bytesAt, scanRecord } from './internal/record-header.js'
import { leafHashOf, sha256Fast } from './internal/sha256.js'
import type { AppendResult, AuditLog, AuditLogOptions, Timers } from './log-types.js'
import { CompactRange } from './merkle.js'
import { type AuditQuery, type QueryOptions, type QueryResult, queryLog } from './query.js'
import { type AuditEvent, formatRecorded, validateEvent } from './record.js'
import type { AppendRecord, AuditStore, StoredCheckpoint, StoreHead, TailRecovery } from './store.js'

export type { AppendResult, AuditLog, AuditLogOptions, Timers } from './log-types.js'

/**
 * A store that builds the records itself, under its writer lock, from the events and the recorded
 * time (the PostgreSQL store): `appendEvents` returns the entry hashes of the records stored after
 * `known` that this writer had not seen, then those of the new records. The log recomputes the new
 * records from what it sent and checks those hashes.
 */
interface BuildingStore {
  appendEvents(
    known: StoreHead,
    events: readonly string[],
    recorded: string,
  ): Promise<{ missed: readonly Uint8Array[]; hashes: readonly Uint8Array[] }>
}

function buildingStore(store: AuditStore): BuildingStore | undefined {
  const s = store as Partial<BuildingStore>
  return typeof s.appendEvents === 'function' ? (s as BuildingStore) : undefined
}

/** A batch encoded on a head: its records, their entry hashes as hex, and the new head hash. */
interface Encoded {
  out: AppendRecord[]
  hexes: string[]
  last: Uint8Array
}

interface Pending {
  event: string
  resolve: (r: AppendResult) => void
  reject: (e: unknown) => void
}

const SYSTEM_AGENT = [{ who: 'safeguards-audit-log', requestor: false, type: 'application' }]

/**
 * Opens an audit log on a store. Reads the existing records once to rebuild the Merkle state and
 * check that the chain is intact; a damaged log is refused (run `verifyLog` to locate the damage).
 *
 * HIPAA: supports 164.312(b) audit controls (the recording side: what is recorded, and examining
 * it, stay the application's).
 *
 * @hipaa 164.312(b) supports
 * @hipaa 164.308(a)(1)(ii)(D) supports
 * @hipaa 164.308(a)(5)(ii)(C) supports
 * @nist AU-2 164.312(b)
 * @nist AU-3 164.312(b)
 * @nist AU-8 164.312(b)
 * @nist AU-12 164.312(b): every append is generated as one canonical record at the point of the event, with sequence number and time
 * @nist AU-9 164.312(b): the hash chain and signed checkpoints make any change to stored records detectable
 * @nist AU-9(3) 164.312(b): records are protected by SHA-256 chaining and Ed25519-signed Merkle checkpoints
 * @nist AU-11 164.312(b): no deletion or pruning path, and checkpoints stay verifiable after key rotation, so records last as long as the retention you set
 * @evidence hash-chained canonical records with sequence numbers, and Ed25519-signed Merkle checkpoints copied to an anchor
 * @evidence sign-in events (for example DICOM 110122 Login) recorded with outcome, user and source, when the application appends them
 * @appResponsibility Decide which events to record, including sign-in attempts; anchor checkpoints outside the host (WORM storage or a witness); keep clocks synchronized; review the log regularly.
 * @appResponsibility Set log retention yourself: HIPAA sets no period for audit logs (164.316(b)(2)(i)'s six years apply to the Security Rule's required documentation, such as the records of your activity reviews); state law and your policy decide, and the logs must outlast the reviews that rely on them.
 * @config store (file or PostgreSQL), checkpoint every N records and T ms, signing keys, anchor, pseudonym key
 * @verifiedBy packages/audit-log/test/log.test.ts
 * @verifiedBy packages/audit-log/test/reliability.test.ts
 * @verifiedBy packages/audit-log/test/record.test.ts
 * @throws {AuditCorruptionError} when the stored chain is broken.
 * @throws {AuditStoreError} on I/O failure.
 * @example
 * ```ts
 * const log = await openAuditLog({ store: await openFileStore({ dir, stream: 'ehr' }), signer })
 * const { seq } = await log.append({
 *   type: 'rest', action: 'R', outcome: 0,
 *   agents: [{ who: 'Practitioner/7', requestor: true }],
 *   source: { observer: 'ehr-api' }, patient: 'Patient/42',
 * })
 * await log.close()
 * ```
 */
export async function openAuditLog(options: AuditLogOptions): Promise<AuditLog> {
  if (typeof options !== 'object' || options === null || typeof options.store !== 'object')
    throw new TypeError('"options.store" expected an AuditStore')
  const every = options.checkpointEvery ?? {}
  const records = every.records ?? 1000
  const ms = every.ms ?? 60_000
  if (!Number.isSafeInteger(records) || records < 1)
    throw new RangeError('"checkpointEvery.records" expected >= 1')
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError('"checkpointEvery.ms" expected >= 0')
  const maxBatch = options.maxBatch ?? 4096
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new RangeError('"maxBatch" expected >= 1')
  const log = new Log(options, records, ms, maxBatch)
  await log.catchUp()
  log.start()
  return log
}

class Log implements AuditLog {
  readonly stream: string
  readonly #store: AuditStore
  readonly #signer: CheckpointSigner | undefined
  readonly #anchor: AnchorSink | undefined
  readonly #clock: Clock
  readonly #timers: Timers
  readonly #everyRecords: number
  readonly #everyMs: number
  readonly #maxBatch: number
  readonly #closeStore: boolean
  readonly #onError: (e: unknown) => void
  #range = new CompactRange()
  #hash: Uint8Array = new Uint8Array(32)
  #queue: Pending[] = []
  #pump: Promise<void> | null = null
  #chain: Promise<unknown> = Promise.resolve()
  #sinceCheckpoint = 0
  /** The highest checkpoint index this writer anchored (-1: none yet). */
  #anchored = -1
  #timer: unknown = undefined
  #closed = false

  constructor(options: AuditLogOptions, records: number, ms: number, maxBatch: number) {
    this.#store = options.store
    this.stream = options.store.stream
    this.#signer = options.signer
    this.#anchor = options.anchor
    this.#clock = options.clock ?? systemClock
    this.#timers = options.timers ?? {
      setInterval: (f, t) => setInterval(f, t),
      clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>),
    }
    this.#everyRecords = records
    this.#everyMs = ms
    this.#maxBatch = maxBatch
    this.#closeStore = options.closeStore ?? true
    this.#onError = options.onError ?? (() => undefined)
  }

  get size(): number {
    return this.#range.size
  }

  start(): void {
    if (this.#signer !== undefined && this.#everyMs > 0) {
      // One timer checkpoint at a time: when one takes longer than the period (a slow store, a busy
      // host), skip the tick instead of queueing checkpoints faster than they are written (appends
      // would starve behind them).
      let busy = false
      const h = this.#timers.setInterval(() => {
        if (busy) return
        busy = true
        this.checkpoint()
          .catch(this.#onError)
          .finally(() => {
            busy = false
          })
      }, this.#everyMs)
      ;(h as { unref?: () => void } | null)?.unref?.()
      this.#timer = h
    }
  }

  /** Reads records this writer has not seen yet, checking that they chain. */
  async catchUp(): Promise<void> {
    const from = this.#range.size
    const stream = utf8Encode(this.stream)
    const prevHex = new Uint8Array(64)
    hexInto(this.#hash, prevHex)
    for await (const batch of readInBatches(this.#store, from))
      for (const r of batch) {
        const l = scanRecord(r.bytes)
        const expect = this.#range.size
        if (
          l === null ||
          l.seq !== expect ||
          r.seq !== expect ||
          l.streamEnd - l.streamAt !== stream.length ||
          !bytesAt(r.bytes, l.streamAt, stream)
        )
          throw new AuditCorruptionError('stored record is not the expected record', expect)
        if (!bytesAt(r.bytes, l.prevAt, prevHex))
          throw new AuditCorruptionError('stored chain is broken', expect)
        const h = leafHashOf(r.bytes)
        this.#range.append(h)
        this.#hash = h
        hexInto(h, prevHex)
      }
  }

  append(event: AuditEvent | string): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new AuditClosedError())
    let valid: AuditEvent
    try {
      valid = validateEvent(event)
    } catch (e) {
      return Promise.reject(e)
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.#queue.push({ event: eventText(valid), resolve, reject })
      this.#kick()
    })
  }

  /** Runs writer tasks (batches, checkpoints) one at a time: they share the Merkle state. */
  #serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(f, f)
    this.#chain = run.catch(() => undefined)
    return run
  }

  #kick(): void {
    if (this.#pump !== null) return
    this.#pump = this.#serial(() => this.#drain()).finally(() => {
      this.#pump = null
      if (this.#queue.length > 0) this.#kick()
    })
  }

  async #drain(): Promise<void> {
    const building = buildingStore(this.#store)
    if (building !== undefined) return this.#drainBuilt(building)
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch)
      try {
        const results = await this.#write(batch.map((p) => p.event))
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!)
      } catch (e) {
        for (const p of batch) p.reject(e)
      }
      if (this.#signer !== undefined && this.#sinceCheckpoint >= this.#everyRecords) {
        await this.#checkpointNow().catch(this.#onError)
      }
    }
  }

  /**
   * {@link Log.#drain} on a store that builds the records under its lock: one call per batch, never
   * refused for a moved head; the records the store built are recomputed here and their hashes
   * compared, so the store can only make the append fail, never record something else.
   */
  async #drainBuilt(store: BuildingStore): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch)
      try {
        const events = batch.map((p) => p.event)
        const recorded = formatRecorded(this.#clock.now())
        const known = { size: this.#range.size, hash: this.#hash }
        const { missed, hashes } = await store.appendEvents(known, events, recorded)
        for (const h of missed) this.#range.append(h)
        this.#hash = missed[missed.length - 1] ?? this.#hash
        const encoded = this.#encode(events, recorded)
        for (let i = 0; i < encoded.out.length; i++) {
          const r = encoded.out[i]!
          const h = hashes[i]
          if (h === undefined || !timingSafeEqual(h, r.hash))
            throw new AuditCorruptionError('the store recorded something other than the event sent', r.seq)
        }
        const results = this.#commit(encoded, 0)
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!)
      } catch (e) {
        for (const p of batch) p.reject(e)
      }
      if (this.#signer !== undefined && this.#sinceCheckpoint >= this.#everyRecords) {
        await this.#checkpointNow().catch(this.#onError)
      }
    }
  }

  /** Encodes events as records continuing this writer's head. */
  #encode(all: readonly string[], recorded = formatRecorded(this.#clock.now())): Encoded {
    const out: AppendRecord[] = []
    let prev = this.#hash
    let seq = this.#range.size
    let capacity = 0
    for (const event of all) capacity += event.length + 201 + this.stream.length
    const arena = new RecordArena(capacity)
    // The hex of each entry hash is both the next record's `prev` and this record's result.
    const hexes: string[] = []
    let prevHex = hex(prev)
    for (const event of all) {
      const [leafInput, bytes] = arena.put(recordText(event, prevHex, recorded, seq, this.stream))
      const hash = sha256Fast(leafInput)
      out.push({ seq, bytes, hash, prevHash: prev })
      prevHex = hex(hash)
      hexes.push(prevHex)
      prev = hash
      seq++
    }
    return { out, hexes, last: prev }
  }

  /** Takes a stored batch into this writer's state; the results of its last `out.length - skip` records. */
  #commit({ out, hexes, last }: Encoded, skip: number): AppendResult[] {
    for (const r of out) this.#range.append(r.hash)
    this.#hash = last
    this.#sinceCheckpoint += out.length
    const results: AppendResult[] = []
    for (let i = skip; i < out.length; i++) results.push({ seq: out[i]!.seq, hash: hexes[i]! })
    return results
  }

  #recoveryEvent(r: TailRecovery): string {
    return eventText(
      validateEvent(
        {
          type: 'safeguards.recovered',
          action: 'E',
          outcome: 4,
          outcomeCode: 'torn-tail-discarded',
          agents: SYSTEM_AGENT,
          source: { observer: 'safeguards-audit-log' },
          details: { discardedBytes: r.discardedBytes, discardedSha256: bytesToHex(r.discardedSha256) },
        },
        { allowReserved: true },
      ),
    )
  }

  /** Writes events as one batch, catching up and retrying when another writer got there first. */
  async #write(events: string[]): Promise<AppendResult[]> {
    let recoveries: string[] = []
    for (let attempt = 0; ; attempt++) {
      const all = recoveries.length > 0 ? [...recoveries, ...events] : events
      const expected = { size: this.#range.size, hash: this.#hash }
      const encoded = this.#encode(all)
      try {
        await this.#store.append(expected, encoded.out)
      } catch (e) {
        const more = this.#store.takeRecoveries?.() ?? []
        recoveries = [...recoveries, ...more.map((r) => this.#recoveryEvent(r))]
        if (e instanceof AuditConflictError || isSafeguardsError(e, 'ERR_AUDIT_CONFLICT')) {
          if (attempt > 10_000) throw e
          await this.catchUp()
          continue
        }
        throw e
      }
      const results = this.#commit(encoded, encoded.out.length - events.length)
      const more = this.#store.takeRecoveries?.() ?? []
      if (more.length > 0) {
        // The store cut a torn tail while taking its lock; record that right away.
        for (const r of more)
          this.#queue.unshift({
            event: this.#recoveryEvent(r),
            resolve: () => undefined,
            reject: this.#onError,
          })
      }
      return results
    }
  }

  checkpoint(): Promise<StoredCheckpoint | null> {
    return this.#serial(() => this.#checkpointNow())
  }

  query(query: AuditQuery, options?: QueryOptions): Promise<QueryResult> {
    if (this.#closed) return Promise.reject(new AuditClosedError())
    return queryLog(this.#store, query, options)
  }

  async #checkpointNow(): Promise<StoredCheckpoint | null> {
    const signer = this.#signer
    if (signer === undefined) return null
    for (let attempt = 0; attempt < 1000; attempt++) {
      const head = await this.#store.checkpointHead()
      let index = 0
      let prev = '0'.repeat(64)
      let at = this.#clock.now()
      if (head.latest !== null) {
        const last = readCheckpointUnverified(head.latest.jws)
        index = last.body.index + 1
        prev = checkpointHash(head.latest.jws)
        // Another writer's clock may run ahead of ours: a checkpoint is never dated before the one it
        // follows (the verifier reports that as a rollback).
        at = Math.max(at, Date.parse(last.body.timestamp))
        if (head.count !== index)
          throw new AuditCorruptionError('checkpoint chain index does not match its position')
        if (last.body.size > this.#range.size) await this.catchUp()
        if (last.body.size > this.#range.size)
          throw new AuditCorruptionError(
            'a checkpoint commits to more records than the log has',
            this.#range.size,
          )
      }
      const size = this.#range.size
      if (size === (head.latest?.size ?? 0)) {
        // Unchanged since the newest checkpoint (or empty with none): nothing new to commit to.
        this.#sinceCheckpoint = 0
        if (head.latest !== null) await this.#anchorOnce(index - 1, head.latest)
        return head.latest
      }
      const jws = await signCheckpoint(signer, {
        index,
        origin: this.stream,
        prev,
        root: this.#range.root(),
        size,
        timestamp: formatRecorded(at),
      })
      const cp = { size, jws }
      try {
        await this.#store.appendCheckpoint(head.count, cp)
      } catch (e) {
        if (isSafeguardsError(e, 'ERR_AUDIT_CONFLICT')) continue
        throw e
      }
      this.#sinceCheckpoint = 0
      await this.#anchorOnce(index, cp)
      return cp
    }
    throw new AuditConflictError(-1, -1)
  }

  /** Anchors checkpoint `index` unless this writer already anchored it (or a later one). */
  async #anchorOnce(index: number, cp: StoredCheckpoint): Promise<void> {
    if (this.#anchor === undefined || index <= this.#anchored) return
    await this.#anchor.put(this.stream, { ...cp, index })
    this.#anchored = index
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#timer !== undefined) this.#timers.clearInterval(this.#timer)
    while (this.#pump !== null) await this.#pump
    try {
      if (this.#signer !== undefined) await this.checkpoint()
    } finally {
      if (this.#closeStore) await this.#store.close()
    }
  }
}
