/**
 * The storage interface of an audit log. `@safeguards/audit-log` ships a JSON Lines file store
 * ({@link openFileStore}); `@safeguards/audit-log-postgres` implements the same interface on
 * PostgreSQL. The log ({@link openAuditLog}) and the verifier ({@link verifyLog}) only talk to this
 * interface, so every store gets the same hashing, Merkle checkpoints and findings.
 *
 * Contract, in short:
 * - Records are opaque canonical JSON bytes plus their sequence number. A store never re-serialises
 *   them: `read` returns exactly the bytes `append` was given (the hash covers those bytes).
 * - `append(expected, records)` is atomic and durable: either every record is stored and on stable
 *   storage when the promise resolves, or none is (a file store that crashes mid-write may keep a
 *   prefix of an unacknowledged batch, never a gap). It refuses with {@link AuditConflictError} when
 *   the store's head is not `expected` (another writer appended first); the writer then catches up
 *   with `read` and retries. Sequence numbers are contiguous from 0 and never reused.
 * - Checkpoints are stored in write order, and appending one is also conditional (on the number
 *   already stored), so concurrent writers cannot fork the checkpoint chain.
 *
 * HIPAA: 164.312(b) audit controls, including the trail's integrity (stores keep records and
 * checkpoints; pruning is not part of this interface, so retention is the operator's choice).
 *
 * @module
 */

import type { IndexAnswer, IndexQuery } from './query.js'

/** The hash of "no record": the `prev` of sequence number 0, 32 zero bytes. */
export const ZERO_HASH: Uint8Array = new Uint8Array(32)

/** One record as a store keeps it. */
export interface StoredRecord {
  /** Sequence number: 0-based, contiguous, equal to the record's Merkle leaf index. */
  readonly seq: number
  /** The exact canonical JSON bytes of the record (UTF-8, no trailing newline). */
  readonly bytes: Uint8Array
}

/** A record handed to {@link AuditStore.append}, with its hashes computed by the log. */
export interface AppendRecord extends StoredRecord {
  /** The record's entry hash, `SHA-256(0x00 || bytes)` (its RFC 6962 leaf hash), 32 bytes. */
  readonly hash: Uint8Array
  /** The entry hash of record `seq - 1`, or {@link ZERO_HASH} for seq 0; equals the record's `prev`. */
  readonly prevHash: Uint8Array
}

/** Where a log ends. */
export interface StoreHead {
  /** Number of records, which is also the next sequence number. */
  readonly size: number
  /** Entry hash of the last record, or {@link ZERO_HASH} when the log is empty. */
  readonly hash: Uint8Array
}

/** A signed checkpoint as stored: the tree size it commits to and its flattened JWS, as text. */
export interface StoredCheckpoint {
  /** Tree size (number of records) the checkpoint commits to. */
  readonly size: number
  /** The flattened JWS JSON serialisation (canonical JSON text) of the checkpoint. */
  readonly jws: string
}

/** The newest stored checkpoint and how many are stored (the chain position of the next one). */
export interface CheckpointHead {
  /** Number of checkpoints stored. */
  readonly count: number
  /** The last stored checkpoint, or null when there is none. */
  readonly latest: StoredCheckpoint | null
}

/** A torn tail a store cut off when it opened or took its lock (a writer crashed mid-write). */
export interface TailRecovery {
  /** The size of the log after the cut (the seq the recovery record will get). */
  readonly size: number
  /** How many bytes were discarded. */
  readonly discardedBytes: number
  /** SHA-256 of the discarded bytes, so the recovery record commits to what was lost. */
  readonly discardedSha256: Uint8Array
}

/**
 * A disagreement between a store's index and its records, found by {@link AuditStore.checkIndex}.
 * `verifyLog` with `deep: true` reports each as an `INDEX_MISMATCH` finding.
 */
export interface IndexProblem {
  /** The first record concerned (for a whole index file: the first seq it covers). */
  readonly seq: number
  /**
   * `error`: the store would use this index and answer queries wrongly (a posting missing, one too
   * many, a wrong offset); `warning`: a damaged or stale index the store does not use (it rebuilds
   * it, or reads the records instead).
   */
  readonly severity: 'error' | 'warning'
  /** One safe line (no record contents, no keys). */
  readonly message: string
}

/** Options for {@link AuditStore.read}. */
export interface ReadOptions {
  /** Stop early when aborted (the iterator ends by throwing the signal's reason). */
  signal?: AbortSignal
}

/**
 * The storage interface a log runs on. Implementations: {@link openFileStore} (this package),
 * `openPostgresStore` (`@safeguards/audit-log-postgres`).
 *
 * HIPAA: 164.312(b) audit controls (durable recording; the trail's integrity: exact bytes, no
 * overwrite).
 *
 * @example
 * ```ts
 * const store: AuditStore = await openFileStore({ dir: '/var/log/app/audit' })
 * const head = await store.head()
 * for await (const r of store.read(0, head.size)) console.log(r.seq, r.bytes.length)
 * ```
 */
export interface AuditStore {
  /** The stream identifier (the checkpoint `origin`); every record carries it. */
  readonly stream: string

  /**
   * The current head, read from storage (not a cached value: another process may have appended).
   *
   * @throws {AuditStoreError} on I/O failure. @throws {AuditCorruptionError} when the tail is damaged.
   */
  head(): Promise<StoreHead>

  /**
   * Appends `records` atomically and durably, if and only if the store's head is `expected`.
   * `records[0].seq` must equal `expected.size` and `records[0].prevHash` must equal `expected.hash`;
   * the rest continue the chain. Resolves with the new head once the records are on stable storage.
   *
   * @throws {AuditConflictError} when the head moved (nothing was written).
   * @throws {AuditStoreError} on I/O failure (nothing acknowledged).
   * @throws {AuditClosedError} after `close`.
   */
  append(expected: StoreHead, records: readonly AppendRecord[]): Promise<StoreHead>

  /**
   * Streams records with `from <= seq < to` (`to` defaults to the head at the time of the call) in
   * sequence order, exactly as stored. A file store yields a damaged line as it is (the verifier
   * reports it); `seq` is then the store's position of the line.
   *
   * @throws {AuditStoreError} on I/O failure.
   */
  read(from: number, to?: number, options?: ReadOptions): AsyncIterable<StoredRecord>

  /**
   * Optional fast path of {@link AuditStore.read}: the same records, in the same order, delivered in
   * arrays (one per storage chunk or page) so a verifier avoids a promise per record. Stores that
   * omit it are read through `read`.
   *
   * @throws {AuditStoreError} on I/O failure.
   */
  readBatches?(from: number, to?: number, options?: ReadOptions): AsyncIterable<readonly StoredRecord[]>

  /**
   * Appends a checkpoint, if and only if exactly `expectedCount` checkpoints are stored now.
   *
   * @throws {AuditConflictError} when another writer stored a checkpoint first.
   * @throws {AuditStoreError} on I/O failure.
   */
  appendCheckpoint(expectedCount: number, checkpoint: StoredCheckpoint): Promise<void>

  /** The newest checkpoint and the number stored. @throws {AuditStoreError} on I/O failure. */
  checkpointHead(): Promise<CheckpointHead>

  /** Every stored checkpoint, in the order written. @throws {AuditStoreError} on I/O failure. */
  readCheckpoints(): Promise<readonly StoredCheckpoint[]>

  /**
   * Torn tails cut off since the last call (drained). The log appends a `safeguards.recovered`
   * record for each. Stores whose appends are transactional never have any and may omit this.
   */
  takeRecoveries?(): readonly TailRecovery[]

  /**
   * Optional index for {@link queryLog}: the stored records with `after < seq < through` that may
   * match `query.patient` and `query.who` (every key given), ascending, where `through <= query.size`
   * is how far the index reaches; `undefined` when it cannot help (the query then reads every
   * record). It may return extra candidates (each is checked against the whole query) but must never
   * leave a match out. An index is derived data: losing it loses nothing.
   *
   * @throws {AuditStoreError} on I/O failure.
   */
  queryIndex?(query: IndexQuery): Promise<IndexAnswer | undefined>

  /**
   * Optional: checks the store's index against its records (the first `size` of them), without
   * changing anything. `verifyLog` runs it with `deep: true` and reports each problem as an
   * `INDEX_MISMATCH` finding. Stores without an index omit it.
   *
   * @throws {AuditStoreError} on I/O failure.
   */
  checkIndex?(size: number, options?: ReadOptions): Promise<readonly IndexProblem[]>

  /**
   * Bytes after the last complete record left by a writer that crashed mid-write and not yet cut
   * off (file stores). The verifier reports them as a warning. Stores with transactional appends
   * never have any and may omit this.
   */
  tornTailBytes?(): Promise<number>

  /** Releases files, locks and connections. Idempotent. */
  close(): Promise<void>
}
