/**
 * Queries over a stored log: the records of one patient, one user, one kind of event or one time
 * range, in sequence order, on any {@link AuditStore}.
 *
 * A query answers over a snapshot: it reads the store's head once, and its answer is complete
 * through that size ({@link QueryResult.size}); records appended later are not part of it. A store
 * with an index ({@link AuditStore.queryIndex}) hands back the candidate records of the part of the
 * log its index covers, and the rest is scanned; every candidate is parsed and checked against the
 * whole query here, so an index can only make a query faster, never change its answer (`scan: true`
 * bypasses the index and must give the same rows; the tests hold every store to that).
 *
 * What the filters match (every filter given must match; none given: every record):
 * - `patient`: the event's `patient`, exactly as stored (pseudonyms stay pseudonyms);
 * - `who`: the `who` of any of the event's agents;
 * - `from` / `to`: the record's `recorded` time, `from <= recorded < to`;
 * - `type`, `action`, `outcome`: the event's fields of those names;
 * - `after`: only records with `seq > after` (resume a query where a page ended);
 * - `limit`: stop after that many records.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review (find the records a review needs),
 * 164.312(b) audit controls (examine recorded activity).
 *
 * @module
 */
import { assertKnownOptions, utf8Decode } from '@safeguards/core'
import { AuditCorruptionError } from './errors.js'
import { type AuditAction, type AuditOutcome, type AuditRecord, formatRecorded } from './record.js'
import type { AuditStore, StoredRecord } from './store.js'

/** What to look for. Every filter given must match. */
export interface AuditQuery {
  /** The event's `patient`, exactly as stored. */
  patient?: string
  /** The `who` of any agent of the event. */
  who?: string
  /** Recorded at or after this time (a `Date`, or RFC 3339 text). */
  from?: Date | string
  /** Recorded before this time (a `Date`, or RFC 3339 text). */
  to?: Date | string
  /** The event's `type` code (for example `rest`, `110114`). */
  type?: string
  /** The event's action. */
  action?: AuditAction
  /** The event's outcome. */
  outcome?: AuditOutcome
  /** Only records with a sequence number greater than this. */
  after?: number
  /** At most this many records (a positive integer). */
  limit?: number
}

/** How a query is run. */
export interface QueryOptions {
  /** Ignore the store's index and read every record (the reference answer; default false). */
  scan?: boolean
  /** Stop early: the iteration ends by throwing the signal's reason. */
  signal?: AbortSignal
  /**
   * Answer over the first `size` records only (at most the head; default the head), for example the
   * size of a signed checkpoint, so every row can be proven against it.
   */
  size?: number
}

/** One record a query found. */
export interface QueriedRecord {
  /** The record's sequence number (its Merkle leaf index). */
  readonly seq: number
  /** The exact stored bytes (what an inclusion proof covers). */
  readonly bytes: Uint8Array
  /** The record, parsed. */
  readonly record: AuditRecord
}

/** The answer to a query: an async iterable of records in sequence order, over a snapshot. */
export interface QueryResult extends AsyncIterable<QueriedRecord> {
  /** The log size the answer is complete through: every match with `seq < size` is yielded. */
  readonly size: number
  /** How many records below `size` the store's index covered (0 when it has none or `scan`). */
  readonly indexed: number
}

/**
 * The keys a store may index. A store's {@link AuditStore.queryIndex} narrows by those it has and
 * may return extra candidates (the query checks each one); it must never leave a match out.
 */
export interface IndexQuery {
  /** The event's `patient`. */
  readonly patient?: string
  /** The `who` of any agent. */
  readonly who?: string
  /** Only records with `seq > after` (−1 for all). */
  readonly after: number
  /** Only records with `seq < size`. */
  readonly size: number
}

/** A store index's answer: the candidates among the records it covers, in sequence order. */
export interface IndexAnswer {
  /** The index covers the records with `seq < through` (at most the query's `size`). */
  readonly through: number
  /** Candidate records with `after < seq < through`, ascending; a superset of the matches. */
  readonly records: AsyncIterable<StoredRecord>
}

const KNOWN: ReadonlySet<string> = new Set([
  'patient',
  'who',
  'from',
  'to',
  'type',
  'action',
  'outcome',
  'after',
  'limit',
])
const ACTIONS = new Set(['C', 'R', 'U', 'D', 'E'])
const OUTCOMES = new Set([0, 4, 8, 12])

/** A query checked and normalised: times as `recorded` text, bounds as numbers. */
interface Checked {
  readonly patient: string | undefined
  readonly who: string | undefined
  readonly from: string | undefined
  readonly to: string | undefined
  readonly type: string | undefined
  readonly action: string | undefined
  readonly outcome: number | undefined
  readonly after: number
  readonly limit: number
}

function optionalString(q: AuditQuery, key: 'patient' | 'who' | 'type'): string | undefined {
  const v = q[key]
  if (v === undefined) return undefined
  if (typeof v !== 'string' || v.length === 0 || v.length > 256)
    throw new TypeError(`"${key}" expected a non-empty string of at most 256 characters`)
  return v
}

function optionalTime(q: AuditQuery, key: 'from' | 'to'): string | undefined {
  const v = q[key]
  if (v === undefined) return undefined
  const ms = v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : Number.NaN
  if (!Number.isFinite(ms)) throw new TypeError(`"${key}" expected a valid Date or RFC 3339 time`)
  return formatRecorded(ms)
}

function checkQuery(q: AuditQuery): Checked {
  if (typeof q !== 'object' || q === null) throw new TypeError('"query" expected an object')
  assertKnownOptions(q, KNOWN, (m) => new TypeError(m))
  if (q.action !== undefined && !ACTIONS.has(q.action))
    throw new TypeError('"action" expected C, R, U, D or E')
  if (q.outcome !== undefined && !OUTCOMES.has(q.outcome))
    throw new TypeError('"outcome" expected 0, 4, 8 or 12')
  const after = q.after ?? -1
  if (!Number.isSafeInteger(after) || after < -1) throw new RangeError('"after" expected an integer >= -1')
  const limit = q.limit ?? Number.POSITIVE_INFINITY
  if (limit !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(limit) || limit < 1))
    throw new RangeError('"limit" expected a positive integer')
  const checked: Checked = {
    patient: optionalString(q, 'patient'),
    who: optionalString(q, 'who'),
    from: optionalTime(q, 'from'),
    to: optionalTime(q, 'to'),
    type: optionalString(q, 'type'),
    action: q.action,
    outcome: q.outcome,
    after,
    limit,
  }
  return checked
}

/** Whether a parsed record satisfies every filter (the one definition of a match). */
function matches(r: AuditRecord, q: Checked): boolean {
  const e = r.event
  if (q.patient !== undefined && e.patient !== q.patient) return false
  if (q.type !== undefined && e.type !== q.type) return false
  if (q.action !== undefined && e.action !== q.action) return false
  if (q.outcome !== undefined && e.outcome !== q.outcome) return false
  if (q.from !== undefined && r.recorded < q.from) return false
  if (q.to !== undefined && r.recorded >= q.to) return false
  if (q.who !== undefined && !e.agents.some((a) => a.who === q.who)) return false
  return true
}

function parseStored(s: StoredRecord): AuditRecord {
  let r: unknown
  try {
    r = JSON.parse(utf8Decode(s.bytes))
  } catch {
    throw new AuditCorruptionError('a stored record does not parse (run verify)', s.seq)
  }
  const rec = r as Partial<AuditRecord> | null
  if (
    typeof rec !== 'object' ||
    rec === null ||
    rec.seq !== s.seq ||
    typeof rec.recorded !== 'string' ||
    typeof rec.event !== 'object' ||
    rec.event === null ||
    !Array.isArray(rec.event.agents)
  )
    throw new AuditCorruptionError('a stored record is not a v1 record (run verify)', s.seq)
  return rec as AuditRecord
}

async function* run(
  store: AuditStore,
  q: Checked,
  size: number,
  index: IndexAnswer | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<QueriedRecord> {
  let left = q.limit
  let next = q.after + 1
  const sources: AsyncIterable<StoredRecord>[] = []
  if (index !== undefined) {
    sources.push(index.records)
    next = Math.max(next, index.through)
  }
  if (next < size) sources.push(store.read(next, size, signal === undefined ? {} : { signal }))
  let last = q.after
  for (const source of sources) {
    for await (const s of source) {
      signal?.throwIfAborted()
      // An index must answer in order and within its bounds; anything else would silently reorder
      // or repeat rows, so it is refused rather than trusted.
      if (s.seq <= last || s.seq >= size)
        throw new AuditCorruptionError('the store index answered out of order (rebuild it)', s.seq)
      last = s.seq
      const record = parseStored(s)
      if (!matches(record, q)) continue
      yield { seq: s.seq, bytes: s.bytes, record }
      if (--left === 0) return
    }
  }
}

/**
 * Finds the records of a stored log that match `query`, in sequence order, over a snapshot of the
 * log taken when the call starts (see {@link QueryResult.size}). Uses the store's index where it has
 * one, and reads the rest.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review, 164.312(b) audit controls.
 *
 * @param store - any audit store (file, PostgreSQL, or your own).
 * @param query - the filters (see the module description for what each matches).
 * @param options - `scan: true` to bypass the index; `signal` to stop early; `size` to answer over a
 *   prefix of the log.
 * @returns the snapshot size and an async iterable of the matching records.
 * @throws {TypeError} / {RangeError} for a malformed query (an unknown key, a bad time, a bad limit).
 * @throws {AuditCorruptionError} when a record in the range does not parse (run `verifyLog`), or an
 * index answers out of order.
 * @throws {AuditStoreError} on I/O failure.
 * @example
 * ```ts
 * const result = await queryLog(store, { patient: 'Patient/123', from: '2026-01-01T00:00:00Z' })
 * for await (const row of result) console.log(row.seq, row.record.recorded, row.record.event.action)
 * console.log(`complete through ${result.size} records`)
 * ```
 */
export async function queryLog(
  store: AuditStore,
  query: AuditQuery,
  options: QueryOptions = {},
): Promise<QueryResult> {
  const q = checkQuery(query)
  const head = (await store.head()).size
  const size = options.size ?? head
  if (!Number.isSafeInteger(size) || size < 0 || size > head)
    throw new RangeError('"size" expected an integer from 0 to the log size')
  const keyed = q.patient !== undefined || q.who !== undefined
  const index =
    options.scan !== true && keyed && store.queryIndex !== undefined
      ? await store.queryIndex({
          ...(q.patient === undefined ? {} : { patient: q.patient }),
          ...(q.who === undefined ? {} : { who: q.who }),
          after: q.after,
          size,
        })
      : undefined
  if (
    index !== undefined &&
    (!Number.isSafeInteger(index.through) || index.through < 0 || index.through > size)
  )
    throw new AuditCorruptionError('the store index claims records the log does not have (rebuild it)')
  const indexed = index === undefined ? 0 : index.through
  return {
    size,
    indexed,
    [Symbol.asyncIterator]: () => run(store, q, size, index, options.signal)[Symbol.asyncIterator](),
  }
}
