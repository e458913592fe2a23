/**
 * Access reports: "who looked at my record" for one patient, or one user's activity, a row per
 * record, each row optionally carrying an inclusion proof an auditor checks offline.
 *
 * A report answers over a snapshot of the log. Without proofs it is the head when the report
 * starts; with proofs it is the newest signed checkpoint, so that every row is proven against the
 * same signed tree (records appended after it are not part of the report, and the report says how
 * far it reaches). Identifiers appear exactly as stored: pseudonyms stay pseudonyms.
 *
 * Row fields follow what the 2011 HHS access-report proposal (76 FR 31426) lists for each access:
 * date and time, the person, what was accessed and the action, plus the outcome, the purpose of use
 * and whether it was an emergency ("break the glass") access.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review, 164.312(b) audit controls.
 *
 * @module
 */
import { InvalidArgumentError } from '@safeguards/core'
import { type InclusionBundle, proveInclusions } from './prove.js'
import { type AuditQuery, type QueriedRecord, queryLog } from './query.js'
import type { AuditAction, AuditOutcome, AuditRecord } from './record.js'
import type { AuditStore, StoredCheckpoint } from './store.js'

/** Whose accesses to report: one patient's record, or one user's activity (or both). */
export interface AccessReportQuery {
  /** The patient whose record was accessed (as stored). */
  patient?: string
  /** The user whose activity to list (any agent's `who`, as stored). */
  who?: string
  /** Recorded at or after this time. */
  from?: Date | string
  /** Recorded before this time. */
  to?: Date | string
}

/** How a report is built. */
export interface AccessReportOptions {
  /** Attach an inclusion proof to every row, against the newest signed checkpoint (default false). */
  prove?: boolean
  /** Read every record instead of using the store's index (the rows must be the same). */
  scan?: boolean
  /** Refuse reports longer than this many rows (default 100,000): narrow the time range instead. */
  maxRows?: number
}

/** One accessed record. */
export interface AccessRow {
  /** The record's sequence number (its Merkle leaf index). */
  seq: number
  /** When it happened: the event's `occurred`, else when it was recorded. */
  time: string
  /** When the log recorded it. */
  recorded: string
  /** The requesting agent's `who` (the first requestor), or null when no agent requested. */
  who: string | null
  /** That agent's role codes. */
  role: string[]
  /** The event type code. */
  type: string
  /** C, R, U, D or E. */
  action: AuditAction
  /** The interaction codes (the event's `subtype`, for example the FHIR `read`, `search-type`). */
  interaction: string[]
  /** 0 success, 4 minor failure, 8 serious failure, 12 major failure. */
  outcome: AuditOutcome
  /** The patient the event concerns, or null. */
  patient: string | null
  /** The requesting agent's purpose-of-use codes. */
  purposeOfUse: string[]
  /** True when the purpose of use includes `BTG` (break the glass): an emergency access. */
  emergency: boolean
  /** With `prove`: the row's inclusion proof against the report's checkpoint. */
  proof?: InclusionBundle
}

/** An access report. */
export interface AccessReport {
  /** The query the report answers. */
  query: AccessReportQuery
  /** The stream id. */
  stream: string
  /** The log size the report is complete through. */
  size: number
  /** With `prove`: the signed checkpoint every proof is against (its size equals `size`). */
  checkpoint?: StoredCheckpoint
  /** The rows, in sequence order. */
  rows: AccessRow[]
}

/** One row of a parsed record. */
function accessRow(seq: number, record: AuditRecord): AccessRow {
  const e = record.event
  const requestor = e.agents.find((a) => a.requestor)
  const purposeOfUse = requestor?.purposeOfUse ?? []
  return {
    seq,
    time: e.occurred ?? record.recorded,
    recorded: record.recorded,
    who: requestor?.who ?? null,
    role: requestor?.role ?? [],
    type: e.type,
    action: e.action,
    interaction: e.subtype ?? [],
    outcome: e.outcome,
    patient: e.patient ?? null,
    purposeOfUse,
    emergency: purposeOfUse.includes('BTG'),
  }
}

function checkReportQuery(q: AccessReportQuery): AuditQuery {
  if (typeof q !== 'object' || q === null) throw new TypeError('"query" expected an object')
  if (q.patient === undefined && q.who === undefined)
    throw new InvalidArgumentError('an access report needs "patient" or "who"')
  const out: AuditQuery = {}
  if (q.patient !== undefined) out.patient = q.patient
  if (q.who !== undefined) out.who = q.who
  if (q.from !== undefined) out.from = q.from
  if (q.to !== undefined) out.to = q.to
  return out
}

/**
 * Builds an access report: every record of the patient (or by the user) in the time range, a row
 * each, in sequence order; with `prove`, every row with an inclusion proof against the newest signed
 * checkpoint, and the report then reaches exactly that checkpoint's size.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review, 164.312(b) audit controls.
 *
 * @param store - the log's store.
 * @param query - `patient` and/or `who`, and an optional time range.
 * @param options - `prove`, `scan`, `maxRows`.
 * @returns the report (query, stream, size, checkpoint with `prove`, rows).
 * @throws {InvalidArgumentError} when neither `patient` nor `who` is given.
 * @throws {RangeError} with `prove` when the log has no signed checkpoint yet, or when the report
 *   would exceed `maxRows`.
 * @throws {TypeError} for a malformed query value (see {@link queryLog}).
 * @throws {AuditCorruptionError} when a record does not parse or the records do not match the
 *   checkpoint (run `verifyLog`).
 * @example
 * ```ts
 * const report = await accessReport(store, { patient: 'Patient/123' }, { prove: true })
 * for (const row of report.rows) console.log(row.time, row.who, row.action, row.emergency)
 * ```
 */
export async function accessReport(
  store: AuditStore,
  query: AccessReportQuery,
  options: AccessReportOptions = {},
): Promise<AccessReport> {
  const q = checkReportQuery(query)
  const maxRows = options.maxRows ?? 100_000
  if (!Number.isSafeInteger(maxRows) || maxRows < 1)
    throw new RangeError('"maxRows" expected a positive integer')
  let checkpoint: StoredCheckpoint | undefined
  if (options.prove === true) {
    checkpoint = (await store.checkpointHead()).latest ?? undefined
    if (checkpoint === undefined) throw new RangeError('the log has no signed checkpoint to prove against')
  }
  const result = await queryLog(store, q, {
    ...(options.scan === true ? { scan: true } : {}),
    ...(checkpoint === undefined ? {} : { size: checkpoint.size }),
  })
  const found: QueriedRecord[] = []
  for await (const r of result) {
    if (found.length === maxRows)
      throw new RangeError(`the report has more than ${maxRows} rows; narrow the time range`)
    found.push(r)
  }
  const rows = found.map((r) => accessRow(r.seq, r.record))
  if (checkpoint !== undefined && rows.length > 0) {
    const proofs = await proveInclusions(
      store,
      rows.map((r) => r.seq),
      checkpoint,
    )
    rows.forEach((row, i) => {
      row.proof = proofs[i]!
    })
  }
  return {
    query: { ...query },
    stream: store.stream,
    size: result.size,
    ...(checkpoint === undefined ? {} : { checkpoint: { size: checkpoint.size, jws: checkpoint.jws } }),
    rows,
  }
}
