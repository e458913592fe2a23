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
  bytesToHex,
  type Clock,
  createEmitter,
  type Emitter,
  type EventOptions,
  isSafeguardsError,
  systemClock,
} from '@safeguards/core'
import type { AnchorSink } from './anchor.js'
import { type CheckpointBody, checkpointHash, type Keyring, readCheckpointUnverified } from './checkpoint.js'
import { type RecordRun, readRuns } from './internal/runs.js'
import { checkRuns, threadsFor } from './internal/verify-pool.js'
import {
  DEEP_OK,
  LINK_OK,
  latin1ToHex,
  RECOVERED,
  type RunConfig,
  type RunFacts,
  type RunTask,
  STREAM_OK,
} from './internal/verify-run.js'
import { CompactRange } from './merkle.js'
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
  /** Also parse every event, check schema v1 and exact canonical form (slower). Default false. */
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

interface Cp {
  source: 'store' | 'anchor'
  position: number
  stored: StoredCheckpoint
  body: CheckpointBody
  root: Uint8Array
  trusted: boolean
  matched: boolean | null
}

const ZERO_HEX = '0'.repeat(64)
const ANCHOR_POLL_MS = 50

function rootsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return bytesToHex(a) === bytesToHex(b)
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
  const findings: Finding[] = []
  const add = (f: Finding): void => {
    if (findings.length < maxFindings) findings.push(f)
  }

  const head = await store.head()
  const total = head.size

  // ---- checkpoints: parse and check signatures and chain -------------------------------------
  // Read order matters while other writers are live. A writer stores a checkpoint (after its
  // records) and only then anchors it, so reading the anchor first, then the stored checkpoints,
  // then the records gives a consistent cut: every anchored checkpoint read is among the stored ones
  // read after it, and every stored checkpoint covers records that are read after it. Read the
  // other way round, a checkpoint stored and anchored between the two reads shows up as "anchored
  // but missing from the log" (a false ROLLBACK).
  const rawAnchored = options.anchor === undefined ? [] : await options.anchor.list(stream)
  let rawStored: readonly StoredCheckpoint[] = []
  try {
    rawStored = await store.readCheckpoints()
  } catch (e) {
    if (!isSafeguardsError(e, 'ERR_AUDIT_CHECKPOINT')) throw e
    add({
      seq: 0,
      code: 'CHECKPOINT_MALFORMED',
      severity: 'error',
      message: 'stored checkpoints are unreadable',
    })
  }
  if (options.keyring === undefined && rawStored.length + rawAnchored.length > 0)
    add({
      seq: 0,
      code: 'CHECKPOINT_UNVERIFIED',
      severity: 'warning',
      message: 'no public keys given: checkpoint signatures were not checked',
    })

  const load = async (
    stored: StoredCheckpoint,
    source: Cp['source'],
    position: number,
  ): Promise<Cp | null> => {
    const at = Math.max(0, stored.size - 1)
    try {
      let body: CheckpointBody
      let root: Uint8Array
      if (options.keyring !== undefined) {
        ;({ body, root } = await options.keyring.verify(stored.jws))
      } else {
        ;({ body, root } = readCheckpointUnverified(stored.jws))
      }
      if (body.origin !== stream) {
        add({
          seq: at,
          code: 'CHECKPOINT_MALFORMED',
          severity: 'error',
          message: `${source} checkpoint ${position} is for another stream`,
          checkpoint: position,
        })
        return null
      }
      if (body.size !== stored.size) {
        add({
          seq: at,
          code: 'CHECKPOINT_MALFORMED',
          severity: 'error',
          message: `${source} checkpoint ${position} size does not match its signed size`,
          checkpoint: position,
        })
        return null
      }
      return { source, position, stored, body, root, trusted: options.keyring !== undefined, matched: null }
    } catch (e) {
      // The error code says what failed (never the message: custom keyrings word it their own way).
      const code: FindingCode = isSafeguardsError(e, 'ERR_AUDIT_UNKNOWN_KEY')
        ? 'UNKNOWN_KEY'
        : isSafeguardsError(e, 'ERR_AUDIT_CHECKPOINT_SIGNATURE')
          ? 'CHECKPOINT_SIG_INVALID'
          : 'CHECKPOINT_MALFORMED'
      const msg = e instanceof Error ? e.message : 'not readable'
      add({
        seq: at,
        code,
        severity: 'error',
        message: `${source} checkpoint ${position}: ${msg}`,
        checkpoint: position,
      })
      return null
    }
  }

  const storeCps: (Cp | null)[] = []
  for (let i = 0; i < rawStored.length; i++) storeCps.push(await load(rawStored[i]!, 'store', i))
  const anchorCps: (Cp | null)[] = []
  for (const a of rawAnchored) anchorCps.push(await load(a, 'anchor', a.index))

  // Chain of stored checkpoints: index, prev link, no rollback, no replay.
  const seenJws = new Set<string>()
  let prevCp: Cp | null = null
  for (let i = 0; i < storeCps.length; i++) {
    const cp = storeCps[i]
    const raw = rawStored[i]!
    if (seenJws.has(raw.jws)) {
      add({
        seq: Math.max(0, raw.size - 1),
        code: 'CHECKPOINT_REPLAY',
        severity: 'error',
        message: `stored checkpoint ${i} repeats an earlier checkpoint`,
        checkpoint: i,
      })
      prevCp = null
      continue
    }
    seenJws.add(raw.jws)
    if (cp === null || cp === undefined) {
      prevCp = null
      continue
    }
    const expectPrev = i === 0 ? ZERO_HEX : checkpointHash(rawStored[i - 1]!.jws)
    if (cp.body.index !== i || cp.body.prev !== expectPrev) {
      add({
        seq: Math.max(0, cp.body.size - 1),
        code: 'CHECKPOINT_REPLAY',
        severity: 'error',
        message: `stored checkpoint ${i} is out of its chain (index ${cp.body.index})`,
        checkpoint: i,
      })
    } else if (prevCp !== null && cp.body.size < prevCp.body.size) {
      add({
        seq: Math.max(0, cp.body.size - 1),
        code: 'ROLLBACK',
        severity: 'error',
        message: `stored checkpoint ${i} has size ${cp.body.size}, below the previous ${prevCp.body.size}`,
        checkpoint: i,
      })
    } else if (prevCp !== null && cp.body.timestamp < prevCp.body.timestamp) {
      add({
        seq: Math.max(0, cp.body.size - 1),
        code: 'ROLLBACK',
        severity: 'error',
        message: `stored checkpoint ${i} is dated before the previous one`,
        checkpoint: i,
      })
    }
    prevCp = cp
  }

  // Anchored checkpoints against the stored ones.
  for (const a of anchorCps) {
    if (a === null) continue
    if (a.body.index !== a.position) {
      add({
        seq: Math.max(0, a.body.size - 1),
        code: 'CHECKPOINT_REPLAY',
        severity: 'error',
        message: `anchored checkpoint ${a.position} carries index ${a.body.index}`,
        checkpoint: a.position,
      })
      continue
    }
    const s = rawStored[a.position]
    if (s === undefined) {
      add({
        seq: Math.max(0, a.body.size - 1),
        code: 'ROLLBACK',
        severity: 'error',
        message: `anchored checkpoint ${a.position} is missing from the log's checkpoints`,
        checkpoint: a.position,
      })
    } else if (s.jws !== a.stored.jws) {
      add({
        seq: Math.max(0, a.body.size - 1),
        code: 'ANCHOR_MISMATCH',
        severity: 'error',
        message: `stored checkpoint ${a.position} differs from the anchored one`,
        checkpoint: a.position,
      })
    }
  }

  const valid: Cp[] = [...storeCps, ...anchorCps].filter((c): c is Cp => c !== null)
  // Equivocation: two roots for one size.
  const bySize = new Map<number, Cp[]>()
  for (const c of valid) {
    const list = bySize.get(c.body.size) ?? []
    list.push(c)
    bySize.set(c.body.size, list)
  }
  for (const [size, list] of bySize) {
    const first = list[0]!
    const other = list.find((c) => !rootsEqual(c.root, first.root))
    if (other !== undefined)
      add({
        seq: Math.max(0, size - 1),
        code: 'EQUIVOCATION',
        severity: 'error',
        message: `two checkpoints of size ${size} have different roots (${first.source} ${first.position}, ${other.source} ${other.position})`,
        checkpoint: other.position,
      })
  }

  // ---- records ----------------------------------------------------------------------------------
  const range = new CompactRange()
  const needed = [...bySize.keys()].filter((s) => s > 0).sort((a, b) => a - b)
  let nextNeeded = 0
  const checkRootsAt = (size: number): void => {
    const root = range.root()
    for (const c of bySize.get(size) ?? []) {
      c.matched = rootsEqual(root, c.root)
      if (!c.matched)
        add({
          seq: size - 1,
          code: 'ROOT_MISMATCH',
          severity: 'error',
          message: `${c.source} checkpoint ${c.position} root does not match records 0..${size - 1}`,
          checkpoint: c.position,
        })
    }
  }
  for (const c of bySize.get(0) ?? []) c.matched = true

  let position = 0
  let expected = 0
  /** The entry hash of the record before the next run, as the hex its `prev` must be. */
  let lastHex = ZERO_HEX
  let skipLink = false
  /** Position of a broken link not yet attributed (the link into record `pending`). */
  let pending = -1
  const blamed = new Set<number>()
  const blame = (f: Finding): void => {
    if (blamed.has(f.seq)) return
    blamed.add(f.seq)
    add(f)
  }
  const progressEvery = 65536

  /** One record's facts, in order: the findings it causes (the same whichever thread read it). */
  const record = (seq: number, flag: number, prevOk: boolean): void => {
    const p = position
    position++
    if (nextNeeded < needed.length && needed[nextNeeded] === position) {
      checkRootsAt(position)
      nextNeeded++
    }
    let linkOk = true
    let anomaly = false
    if (seq < 0) {
      blame({
        seq: expected,
        code: 'MALFORMED',
        severity: 'error',
        message: `record at position ${p} is not a canonical v1 record`,
      })
      anomaly = true
      expected++
    } else {
      if ((flag & STREAM_OK) === 0) {
        blame({
          seq,
          code: 'STREAM_MISMATCH',
          severity: 'error',
          message: `record ${seq} belongs to another stream`,
        })
      }
      if (seq > expected) {
        blame({
          seq: expected,
          code: 'SEQ_GAP',
          severity: 'error',
          message: `expected seq ${expected}, found ${seq}: records missing or out of order`,
        })
        anomaly = true
        expected = seq + 1
      } else if (seq < expected) {
        blame({
          seq,
          code: 'SEQ_DUP',
          severity: 'error',
          message: `seq ${seq} appears again after ${expected - 1} (duplicated or reordered)`,
        })
        anomaly = true
      } else {
        expected++
      }
      if (!anomaly && !skipLink) linkOk = prevOk
      if ((flag & RECOVERED) !== 0)
        add({
          seq,
          code: 'RECOVERED',
          severity: 'warning',
          message: `record ${seq}: a crashed writer's torn tail was discarded here`,
        })
      if (options.deep === true && !anomaly && (flag & DEEP_OK) === 0)
        blame({
          seq,
          code: 'NON_CANONICAL',
          severity: 'error',
          message: `record ${seq} is not a canonical, schema-valid v1 record`,
        })
    }
    // Attribute broken links: a record whose bytes changed breaks only the link after it; one whose
    // `prev` changed breaks the links on both sides.
    if (pending >= 0) {
      if (!linkOk && pending === p - 1) {
        blame({
          seq: pending,
          code: 'CHAIN_BREAK',
          severity: 'error',
          message: `record ${pending}: prev does not match the previous record (altered)`,
        })
      } else {
        blame({
          seq: pending - 1,
          code: 'HASH_MISMATCH',
          severity: 'error',
          message: `record ${pending - 1}: bytes do not match the hash record ${pending} commits to (altered)`,
        })
      }
      pending = -1
      if (!linkOk) linkOk = true // explained by the record just blamed
    }
    if (!linkOk) {
      if (p === 0)
        blame({
          seq: 0,
          code: 'CHAIN_BREAK',
          severity: 'error',
          message: 'record 0: prev is not the genesis value',
        })
      else pending = p
    }
    skipLink = anomaly
    if (position % progressEvery === 0) options.onProgress?.(position, total)
  }

  /** A run's facts: its records in order, its subtrees into the range before each root is needed. */
  const consume = (f: RunFacts): void => {
    let segment = 0
    let tree = 0
    const grow = (size: number): void => {
      for (; segment < f.segmentEnds.length && range.size < size; segment++)
        for (let t = 0; t < f.segmentTrees[segment]!; t++, tree++)
          range.appendSubtree(f.roots.subarray(32 * tree, 32 * tree + 32), f.heights[tree]!)
    }
    if (f.clean && expected === position && pending < 0 && !skipLink && f.firstPrev === lastHex) {
      // Every record is the expected one and the run links to the previous one: no finding can
      // arise, only the roots at checkpoint sizes and the progress calls (what `record` would do).
      const end = position + f.count
      expected = end
      while (position < end) {
        let stop = Math.min(end, (Math.floor(position / progressEvery) + 1) * progressEvery)
        if (nextNeeded < needed.length && needed[nextNeeded]! < stop) stop = needed[nextNeeded]!
        position = stop
        if (nextNeeded < needed.length && needed[nextNeeded] === position) {
          grow(position)
          checkRootsAt(position)
          nextNeeded++
        }
        if (position % progressEvery === 0) options.onProgress?.(position, total)
      }
    } else
      for (let i = 0; i < f.count; i++) {
        if (nextNeeded < needed.length && needed[nextNeeded] === position + 1) grow(position + 1)
        const flag = f.flags[i]!
        record(f.seqs[i]!, flag, i === 0 ? f.firstPrev === lastHex : (flag & LINK_OK) !== 0)
      }
    grow(Number.POSITIVE_INFINITY)
    lastHex = latin1ToHex(f.lastHash)
  }

  const config: RunConfig = { stream, deep: options.deep === true }
  const treeEnd = needed.length === 0 ? 0 : needed[needed.length - 1]!
  // Positions count the records as read, in order (runs are made into tasks in read order): a
  // damaged store's own positions can skip or repeat (a file store numbers a segment's lines from
  // the segment's name), and the Merkle leaves, like the findings, follow what was read.
  let nextFrom = 0
  const task = (run: RecordRun): RunTask => {
    const from = nextFrom
    const to = from + run.ends.length
    nextFrom = to
    const cuts: number[] = []
    for (const s of needed) if (s > from && s < to) cuts.push(s)
    return { from, bytes: run.bytes, ends: run.ends, cuts, treeEnd }
  }
  const read = (alloc: (size: number) => Uint8Array): AsyncIterable<RecordRun> =>
    readRuns(store, 0, Number.MAX_SAFE_INTEGER, {
      maxRecords: chunkRecords,
      alloc,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })
  await checkRuns(read, task, config, threadsFor(workers, total), consume)
  if (pending >= 0)
    blame({
      seq: pending - 1,
      code: 'HASH_MISMATCH',
      severity: 'error',
      message: `record ${pending - 1} or the prev of record ${pending} was altered`,
    })
  options.onProgress?.(position, total)

  const torn = store.tornTailBytes === undefined ? 0 : await store.tornTailBytes()
  if (torn > 0)
    add({
      seq: position,
      code: 'TORN_TAIL',
      severity: 'warning',
      message: `${torn} bytes of an unfinished write after the last record (a writer crashed; the next writer discards them)`,
    })

  // ---- coverage ---------------------------------------------------------------------------------
  if (options.anchor !== undefined && rawAnchored.length === 0 && rawStored.length > 0) {
    // The log has checkpoints but the anchor holds none of them: wiped, or never written there. A
    // writer anchors each checkpoint just after storing it, so the very first one may have been
    // stored after the anchor was listed: give it `anchorGraceMs` before calling it an attack. The
    // checks above keep using the first listing (the consistent cut).
    const anchor = options.anchor
    const graceMs = options.anchorGraceMs ?? 2000
    let empty = (await anchor.list(stream)).length === 0
    for (let waited = 0; empty && waited < graceMs; waited += ANCHOR_POLL_MS) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(ANCHOR_POLL_MS, graceMs - waited)))
      options.signal?.throwIfAborted()
      empty = (await anchor.list(stream)).length === 0
    }
    if (empty)
      add({
        seq: 0,
        code: 'ANCHOR_EMPTY',
        severity: 'error',
        message: `the anchor holds no checkpoint of this stream, but the log has ${rawStored.length}: the anchor was wiped, or this log was never anchored there`,
      })
  }
  if (position === 0)
    add({
      seq: 0,
      code: 'EMPTY_LOG',
      severity: 'warning',
      message:
        rawAnchored.length > 0
          ? 'the log is empty'
          : `the log is empty and unanchored: a log whose records and checkpoints were all removed looks the same${options.anchor === undefined ? ' (verify against an anchor)' : ''}`,
    })
  for (const c of valid) {
    if (c.body.size > position)
      add({
        seq: position,
        code: 'TRUNCATED',
        severity: 'error',
        message: `${c.source} checkpoint ${c.position} commits to ${c.body.size} records; the log has ${position}`,
        checkpoint: c.position,
      })
  }
  const matchedMax = (list: Cp[]): number =>
    list.reduce((m, c) => (c.matched === true && c.body.size > m ? c.body.size : m), 0)
  const anchoredSize = matchedMax(valid.filter((c) => c.source === 'anchor'))
  const checkpointedSize = matchedMax(valid)
  const coverage = options.anchor !== undefined ? anchoredSize : checkpointedSize
  if (position > coverage)
    add({
      seq: coverage,
      code: 'UNANCHORED_TAIL',
      severity: 'warning',
      message: `records ${coverage}..${position - 1} are not covered by ${options.anchor !== undefined ? 'an anchored' : 'any'} checkpoint: truncation or rewriting there would not be detected`,
    })

  // Errors first, then by seq; at one seq, record findings before checkpoint findings.
  const rank = (f: Finding): number => (f.severity === 'error' ? 0 : 4) + (f.checkpoint === undefined ? 0 : 1)
  findings.sort((a, b) => {
    const ea = a.severity === 'error' ? 0 : 1
    const eb = b.severity === 'error' ? 0 : 1
    return ea !== eb ? ea - eb : a.seq !== b.seq ? a.seq - b.seq : rank(a) - rank(b)
  })
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
