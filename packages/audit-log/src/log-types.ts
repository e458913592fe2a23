/**
 * The audit log's public types: its options, what an append resolves with, and the log's interface
 * (the writer itself is `log.ts`).
 *
 * @module
 */
import type { Clock } from '@safeguards/core'
import type { AnchorSink } from './anchor.js'
import type { CheckpointSigner } from './checkpoint.js'
import type { AuditQuery, QueryOptions, QueryResult } from './query.js'
import type { AuditEvent } from './record.js'
import type { AuditStore, StoredCheckpoint } from './store.js'

/** Timer functions (inject fakes in tests). */
export interface Timers {
  /** Like the global `setInterval`. */
  setInterval(callback: () => void, ms: number): unknown
  /** Like the global `clearInterval`. */
  clearInterval(handle: unknown): void
}

/** Options for `openAuditLog`. */
export interface AuditLogOptions {
  /** Where records live. */
  store: AuditStore
  /** Signs checkpoints. Without one, no checkpoints are written (verify then warns). */
  signer?: CheckpointSigner
  /** Where checkpoints are also copied (recommended: off-host, write-once). */
  anchor?: AnchorSink
  /**
   * Checkpoint policy: every `records` appended (default 1000) and every `ms` (default 60 000; 0
   * off). A log that has not grown since its newest checkpoint gets none.
   */
  checkpointEvery?: { records?: number; ms?: number }
  /** The clock for `recorded` and checkpoint timestamps (default the system clock). */
  clock?: Clock
  /** Timer functions for the periodic checkpoint (default the globals). */
  timers?: Timers
  /** Most events per batch (default 4096). */
  maxBatch?: number
  /** Close the store on `close()` (default true). */
  closeStore?: boolean
  /** Called with errors of background checkpoints (timer-driven); default: ignored. */
  onError?: (error: unknown) => void
}

/** What `append` resolves with, once the record is durable. */
export interface AppendResult {
  /** The record's sequence number. */
  seq: number
  /** The record's entry hash (hex). */
  hash: string
}

/** An open audit log. */
export interface AuditLog {
  /** The stream id. */
  readonly stream: string
  /** Records acknowledged by this writer's view of the log (may lag other writers). */
  readonly size: number
  /**
   * Appends an event (an object, or JSON text) and resolves once it is durable.
   *
   * @throws {AuditEventError} / {NonCanonicalInputError} for a bad event (nothing is queued).
   * @throws {AuditStoreError} / {AuditCorruptionError} when the store fails.
   * @throws {AuditClosedError} after `close`.
   */
  append(event: AuditEvent | string): Promise<AppendResult>
  /**
   * Writes a signed checkpoint now (and anchors it), unless the log has not grown since its newest
   * checkpoint: then nothing is written (the newest is anchored if this writer has not yet done so).
   * Resolves with the newest stored checkpoint, which covers the log as this writer sees it, or
   * null when the log has no signer, or is empty and has no checkpoint.
   */
  checkpoint(): Promise<StoredCheckpoint | null>
  /**
   * Finds stored records by patient, user, type, action, outcome or time, in sequence order, over a
   * snapshot of the store (see `queryLog`): records this writer has queued but not yet made
   * durable are not part of it.
   *
   * @throws {TypeError} / {RangeError} for a malformed query. @throws {AuditCorruptionError} when a
   * record in the range does not parse. @throws {AuditClosedError} after `close`.
   */
  query(query: AuditQuery, options?: QueryOptions): Promise<QueryResult>
  /** Flushes, writes a final checkpoint, stops the timer and (by default) closes the store. */
  close(): Promise<void>
}
