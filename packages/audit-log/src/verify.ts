/**
 * The verifier: reads a log once and reports every integrity finding at the record where it is.
 *
 * Checks, in one streaming pass:
 * - each record's envelope (canonical v1 shape, stream id), with `deep: true` also the event schema
 *   and that the bytes are exactly the canonical form of what they parse to;
 * - sequence numbers (gaps, duplicates, reordering) and hash links (`prev` equals the previous
 *   record's entry hash). A changed byte breaks the link after the record; a changed `prev` breaks
 *   the links on both sides. The verifier tells the two apart and names the altered record;
 * - every checkpoint (stored and anchored): signature and key id (with a keyring), chain (`index`,
 *   `prev`), no size rollback, no two roots for one size (equivocation), and the root recomputed at
 *   its size from the records. A checkpoint larger than the log means records were truncated.
 *
 * It may run while writers (in this process or others) append and checkpoint: it reads the anchor,
 * then the stored checkpoints, then the records, so what it sees is a consistent cut of the log.
 *
 * What it cannot see without anchors: an attacker who can write the log can truncate it (and its
 * stored checkpoints), or rewrite a suffix and re-sign nothing; only the unanchored tail is exposed
 * to that, and the report says which records it is.
 *
 * HIPAA: 164.312(b) audit controls (the trail's own integrity, SP 800-53 AU-9) and
 * 164.308(a)(1)(ii)(D) information system activity review (evidence that the reviewed records are
 * complete and unaltered).
 *
 * @module
 */
import {
  type Clock,
  createEmitter,
  type Emitter,
  type EventOptions,
  isSafeguardsError,
  systemClock,
} from '@safeguards/core'
import type { AnchoredCheckpoint, AnchorSink } from './anchor.js'
import type { Keyring } from './checkpoint.js'
import { type RecordRun, readRuns } from './internal/runs.js'
import { anchorStaysEmpty, coverageFindings } from './internal/verify/anchors.js'
import {
  type Cp,
  checkAnchored,
  checkStoredChain,
  loadCheckpoints,
  rootsBySize,
} from './internal/verify/checkpoints.js'
import { RecordChecker } from './internal/verify/records.js'
import { checkRuns, threadsFor } from './internal/verify-pool.js'
import type { RunConfig } from './internal/verify-run.js'
import type { AuditStore, StoredCheckpoint } from './store.js'

/** Finding codes of {@link verifyLog}. */
export type FindingCode =
  | 'MALFORMED'
  | 'NON_CANONICAL'
  | 'STREAM_MISMATCH'
  | 'HASH_MISMATCH'
  | 'CHAIN_BREAK'
  | 'SEQ_GAP'
  | 'SEQ_DUP'
  | 'TORN_TAIL'
  | 'RECOVERED'
  | 'TRUNCATED'
  | 'UNANCHORED_TAIL'
  | 'ROOT_MISMATCH'
  | 'EQUIVOCATION'
  | 'ROLLBACK'
  | 'CHECKPOINT_REPLAY'
  | 'CHECKPOINT_MALFORMED'
  | 'CHECKPOINT_SIG_INVALID'
  | 'UNKNOWN_KEY'
  | 'CHECKPOINT_UNVERIFIED'
  | 'ANCHOR_MISMATCH'
  | 'ANCHOR_EMPTY'
  | 'EMPTY_LOG'
  | 'INDEX_MISMATCH'

/** One problem, at one record. */
export interface Finding {
  /** The sequence number of the record concerned (for checkpoints: the last record it covers). */
  seq: number
  /** Stable code. */
  code: FindingCode
  /** `error` fails verification; `warning` limits assurance but is not tampering evidence. */
  severity: 'error' | 'warning'
  /** One safe line (no record contents). */
  message: string
  /** The checkpoint index, for checkpoint findings. */
  checkpoint?: number
}

/** The outcome of {@link verifyLog}. */
export interface VerifyReport {
  /** True when there is no `error` finding. */
  ok: boolean
  /** The stream id. */
  stream: string
  /** Records read. */
  records: number
  /** Checkpoints examined (stored and anchored) and how many passed every check. */
  checkpoints: { total: number; verified: number }
  /** The last seq covered by an anchored checkpoint whose root matched, or null. */
  anchoredThrough: number | null
  /** The last seq covered by any checkpoint whose root matched, or null. */
  checkpointedThrough: number | null
  /** Findings: errors first, then warnings, each by seq. */
  findings: Finding[]
}

/**
 * Options for {@link verifyLog}. `events` receives `audit.finding` for each finding and then
 * `audit.verified` (`counts.records`, `counts.checkpoints`; `outcome` failure when not ok).
 */
export interface VerifyOptions extends EventOptions {
  /** The clock for the events' `at` (default the system clock). */
  clock?: Clock
  /** Trusted checkpoint keys. Without it, signatures are not checked (a warning says so). */
  keyring?: Keyring
  /** The anchor to compare against (strongly recommended). */
  anchor?: AnchorSink
  /**
   * When the anchor holds none of the log's checkpoints, how long (ms) to wait for one to appear
   * before reporting `ANCHOR_EMPTY` (default 2000): a writer anchors each checkpoint just after
   * storing it, so a verifier racing the very first checkpoint may see it stored but not yet
   * anchored. Only that case waits.
   */
  anchorGraceMs?: number
  /**
   * Also parse every event, check schema v1 and exact canonical form, and check the store's index
   * against the records ({@link AuditStore.checkIndex}: `INDEX_MISMATCH`) (slower). Default false.
   */
  deep?: boolean
  /** Progress callback, called every 65 536 records and at the end. */
  onProgress?: (done: number, total: number) => void
  /** Abort a long verification. */
  signal?: AbortSignal
  /** Stop recording findings after this many (default 1000); counting continues. */
  maxFindings?: number
  /**
   * Worker threads that check records beside the main thread: a count (0: the main thread alone;
   * verification waits for them to start, and fails if one cannot), or `'auto'` (default): one per
   * core but one (at most 8), none for logs under 32 768 records where starting threads costs more
   * than it saves, and the main thread works while they start. Workers are kept 5 s after a
   * verification for the next one. The report is the same either way.
   */
  workers?: number | 'auto'
  /** Records per unit of work handed to a thread (default 16 384; a file store also ends one at 4 MiB). */
  chunkRecords?: number
}

/**
 * Verifies a log and returns a report. A normal "no" is a report with `ok: false`; only I/O
 * failures throw.
 *
 * HIPAA: supports 164.312(b) audit controls (examining the log's integrity) and
 * 164.308(a)(1)(ii)(D) activity review.
 *
 * @hipaa 164.312(b) supports
 * @hipaa 164.308(a)(1)(ii)(D) supports
 * @nist AU-6 164.308(a)(1)(ii)(D)
 * @nist AU-9 164.312(b): finds altered, removed, reordered or truncated records and names the first one
 * @nist AU-9(3) 164.312(b): checks the SHA-256 chain and the Ed25519 checkpoint signatures against trusted keys
 * @evidence a verification report: records and checkpoints verified, anchored through which sequence number, and each finding at its record
 * @appResponsibility Run verification on a schedule and investigate every finding.
 * @verifiedBy packages/audit-log/test/checkpoint.test.ts
 * @verifiedBy packages/audit-log/test/log.test.ts
 * @throws {AuditStoreError} on I/O failure, or when the worker threads asked for cannot start.
 * @throws the signal's reason when aborted.
 * @throws {RangeError} when `workers`, `chunkRecords` or `anchorGraceMs` is out of range.
 * @throws {EventSinkError} (`ERR_EVENT_SINK`) when a critical `events` sink fails.
 * @example
 * ```ts
 * const report = await verifyLog(await openFileStore({ dir, readOnly: true }), {
 *   keyring: await createKeyring([{ publicJwk }]),
 *   anchor: directoryAnchor('/mnt/worm/anchors'),
 * })
 * if (!report.ok) console.error(report.findings[0]) // { seq: 41, code: 'HASH_MISMATCH', ... }
 * ```
 */
export async function verifyLog(store: AuditStore, options: VerifyOptions = {}): Promise<VerifyReport> {
  const stream = store.stream
  const emitter = createEmitter(options)
  const { maxFindings, workers, chunkRecords } = checkOptions(options)
  const findings: Finding[] = []
  const add = (f: Finding): void => {
    if (findings.length < maxFindings) findings.push(f)
  }

  const head = await store.head()
  const total = head.size

  const { rawStored, rawAnchored, valid, bySize } = await checkpointStage(store, options, add)

  // ---- records ----------------------------------------------------------------------------------
  const position = await recordStage(store, options, { add, bySize, total, chunkRecords, workers })
  await storeFindings(store, options, position, add)

  // ---- coverage ---------------------------------------------------------------------------------
  if (options.anchor !== undefined && rawAnchored.length === 0 && rawStored.length > 0) {
    // The log has checkpoints but the anchor holds none of them: wiped, or never written there. A
    // writer anchors each checkpoint just after storing it, so the very first one may have been
    // stored after the anchor was listed: give it `anchorGraceMs` before calling it an attack. The
    // checks above keep using the first listing (the consistent cut).
    if (await anchorStaysEmpty(options.anchor, stream, options.anchorGraceMs ?? 2000, options.signal))
      add({
        seq: 0,
        code: 'ANCHOR_EMPTY',
        severity: 'error',
        message: `the anchor holds no checkpoint of this stream, but the log has ${rawStored.length}: the anchor was wiped, or this log was never anchored there`,
      })
  }
  const { anchoredSize, checkpointedSize } = coverageFindings(
    { records: position, valid, anchored: options.anchor !== undefined, anchoredCount: rawAnchored.length },
    add,
  )

  sortFindings(findings)
  const report: VerifyReport = {
    ok: !findings.some((f) => f.severity === 'error'),
    stream,
    records: position,
    checkpoints: {
      total: rawStored.length + rawAnchored.length,
      verified: valid.filter((c) => c.trusted && c.matched === true).length,
    },
    anchoredThrough: anchoredSize > 0 ? anchoredSize - 1 : null,
    checkpointedThrough: checkpointedSize > 0 ? checkpointedSize - 1 : null,
    findings,
  }
  if (emitter.active) await emitReport(emitter, options.clock ?? systemClock, report)
  return report
}

/**
 * The record stage: every record read in runs (in worker threads for a large log), its hash,
 * link, seq and stream checked and its Merkle leaf folded into the checkpoints' trees. Returns
 * the number of records read.
 */
async function recordStage(
  store: AuditStore,
  options: VerifyOptions,
  s: {
    add: (f: Finding) => void
    bySize: ConstructorParameters<typeof RecordChecker>[0]['bySize']
    total: number
    chunkRecords: number
    workers: ReturnType<typeof checkOptions>['workers']
  },
): Promise<number> {
  const { add, bySize, total, chunkRecords, workers } = s
  const stream = store.stream
  const records = new RecordChecker({
    add,
    bySize,
    deep: options.deep === true,
    onProgress: options.onProgress,
    total,
  })
  const config: RunConfig = { stream, deep: options.deep === true }
  // Positions count the records as read, in order (runs are made into tasks in read order): a
  // damaged store's own positions can skip or repeat (a file store numbers a segment's lines from
  // the segment's name), and the Merkle leaves, like the findings, follow what was read.
  const read = (alloc: (size: number) => Uint8Array): AsyncIterable<RecordRun> =>
    readRuns(store, 0, Number.MAX_SAFE_INTEGER, {
      maxRecords: chunkRecords,
      alloc,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })
  await checkRuns(
    read,
    (run) => records.task(run),
    config,
    threadsFor(workers, total),
    (f) => records.consume(f),
  )
  records.finish()
  return records.position
}

/** What the store itself reports after the records: index mismatches (deep) and a torn tail. */
async function storeFindings(
  store: AuditStore,
  options: VerifyOptions,
  position: number,
  add: (f: Finding) => void,
): Promise<void> {
  if (options.deep === true && store.checkIndex !== undefined) {
    const signal = options.signal === undefined ? {} : { signal: options.signal }
    for (const p of await store.checkIndex(position, signal))
      add({ seq: p.seq, code: 'INDEX_MISMATCH', severity: p.severity, message: p.message })
  }

  const torn = store.tornTailBytes === undefined ? 0 : await store.tornTailBytes()
  if (torn > 0)
    add({
      seq: position,
      code: 'TORN_TAIL',
      severity: 'warning',
      message: `${torn} bytes of an unfinished write after the last record (a writer crashed; the next writer discards them)`,
    })
}

/** The checkpoint stage: what the anchor and the store hold, parsed and checked against each other. */
async function checkpointStage(
  store: AuditStore,
  options: VerifyOptions,
  add: (f: Finding) => void,
): Promise<{
  rawStored: readonly StoredCheckpoint[]
  rawAnchored: readonly AnchoredCheckpoint[]
  valid: Cp[]
  bySize: Map<number, Cp[]>
}> {
  const stream = store.stream
  // ---- checkpoints: parse and check signatures and chain -------------------------------------
  // Read order matters while other writers are live. A writer stores a checkpoint (after its
  // records) and only then anchors it, so reading the anchor first, then the stored checkpoints,
  // then the records gives a consistent cut: every anchored checkpoint read is among the stored ones
  // read after it, and every stored checkpoint covers records that are read after it. Read the
  // other way round, a checkpoint stored and anchored between the two reads shows up as "anchored
  // but missing from the log" (a false ROLLBACK).
  const rawAnchored = options.anchor === undefined ? [] : await options.anchor.list(stream)
  const rawStored = await readStoredCheckpoints(store, add)
  if (options.keyring === undefined && rawStored.length + rawAnchored.length > 0)
    add({
      seq: 0,
      code: 'CHECKPOINT_UNVERIFIED',
      severity: 'warning',
      message: 'no public keys given: checkpoint signatures were not checked',
    })
  const ctx = { stream, keyring: options.keyring, add }
  const { storeCps, anchorCps } = await loadCheckpoints(rawStored, rawAnchored, ctx)
  checkStoredChain(storeCps, rawStored, add)
  checkAnchored(anchorCps, rawStored, add)
  const valid: Cp[] = [...storeCps, ...anchorCps].filter((c): c is Cp => c !== null)
  return { rawStored, rawAnchored, valid, bySize: rootsBySize(valid, add) }
}

function checkOptions(options: VerifyOptions): {
  maxFindings: number
  workers: number | 'auto'
  chunkRecords: number
} {
  const maxFindings = options.maxFindings ?? 1000
  const workers = options.workers ?? 'auto'
  if (workers !== 'auto' && (!Number.isSafeInteger(workers) || workers < 0 || workers > 256))
    throw new RangeError('"workers" expected an integer 0..256 or "auto"')
  if (
    options.anchorGraceMs !== undefined &&
    (!Number.isSafeInteger(options.anchorGraceMs) || options.anchorGraceMs < 0)
  )
    throw new RangeError('"anchorGraceMs" expected a non-negative integer')
  const chunkRecords = options.chunkRecords ?? 16_384
  if (!Number.isSafeInteger(chunkRecords) || chunkRecords < 1)
    throw new RangeError('"chunkRecords" expected a positive integer')
  return { maxFindings, workers, chunkRecords }
}

/** The stored checkpoints, or none with a CHECKPOINT_MALFORMED finding when they are unreadable. */
async function readStoredCheckpoints(
  store: AuditStore,
  add: (f: Finding) => void,
): Promise<readonly StoredCheckpoint[]> {
  try {
    return await store.readCheckpoints()
  } catch (e) {
    if (!isSafeguardsError(e, 'ERR_AUDIT_CHECKPOINT')) throw e
    add({
      seq: 0,
      code: 'CHECKPOINT_MALFORMED',
      severity: 'error',
      message: 'stored checkpoints are unreadable',
    })
    return []
  }
}

/** Errors first, then by seq; at one seq, record findings before checkpoint findings. */
function sortFindings(findings: Finding[]): void {
  const rank = (f: Finding): number => (f.severity === 'error' ? 0 : 4) + (f.checkpoint === undefined ? 0 : 1)
  findings.sort((a, b) => {
    const ea = a.severity === 'error' ? 0 : 1
    const eb = b.severity === 'error' ? 0 : 1
    return ea !== eb ? ea - eb : a.seq !== b.seq ? a.seq - b.seq : rank(a) - rank(b)
  })
}

const SOURCE = '@safeguards/audit-log'

/** `audit.finding` per finding, then `audit.verified` (critical sinks awaited in order). */
async function emitReport(emitter: Emitter, clock: Clock, report: VerifyReport): Promise<void> {
  const { stream } = report
  for (const f of report.findings)
    await emitter.emit({
      type: 'audit.finding',
      at: clock.now(),
      source: SOURCE,
      outcome: 'failure',
      stream,
      severity: f.severity,
      code: f.code,
      counts: { seq: f.seq },
    })
  await emitter.emit({
    type: 'audit.verified',
    at: clock.now(),
    source: SOURCE,
    outcome: report.ok ? 'success' : 'failure',
    stream,
    counts: { records: report.records, checkpoints: report.checkpoints.total },
  })
}
