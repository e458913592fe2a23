/**
 * Batch review: reads a range of a store (or any async iterable of records) through a monitor and
 * returns the result; {@link formatResult} renders it as canonical JSON, byte-identical for the
 * same log and rules.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review.
 *
 * @module
 */
import type { AuditStore, StoredRecord } from '@safeguards/audit-log'
import { canonicalize } from '@safeguards/core'
import { createMonitor, type MonitorOptions, type MonitorResult } from './monitor.js'

/** Options of {@link reviewLog}. */
export interface ReviewOptions extends Omit<MonitorOptions, 'stream'> {
  /** Required when the source is not a store (a store names its own stream). */
  stream?: string
  /** First seq to review (default 0; stores only). */
  from?: number
  /** Review up to this seq, exclusive (default: the head when the review starts; stores only). */
  to?: number
  /** Stop early. */
  signal?: AbortSignal
}

/** What {@link reviewLog} reads: a store, or records (one by one or in arrays) in seq order. */
export type ReviewSource = AuditStore | AsyncIterable<StoredRecord | readonly StoredRecord[]>

const isStore = (s: ReviewSource): s is AuditStore => typeof (s as AuditStore).read === 'function'

async function* batches(
  source: ReviewSource,
  options: ReviewOptions,
): AsyncIterable<readonly StoredRecord[]> {
  if (!isStore(source)) {
    for await (const r of source)
      yield Array.isArray(r) ? (r as readonly StoredRecord[]) : [r as StoredRecord]
    return
  }
  const from = options.from ?? 0
  const opts = options.signal === undefined ? {} : { signal: options.signal }
  if (source.readBatches !== undefined) {
    yield* source.readBatches(from, options.to, opts)
    return
  }
  let batch: StoredRecord[] = []
  for await (const r of source.read(from, options.to, opts)) {
    batch.push(r)
    if (batch.length === 1024) {
      yield batch
      batch = []
    }
  }
  if (batch.length > 0) yield batch
}

/**
 * Reviews a range of a log: every enabled detector over every record, episodes closed at the end.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review; 164.308(a)(5)(ii)(C) log-in
 * monitoring; 164.308(a)(6)(ii) identifying suspected security incidents.
 *
 * @hipaa 164.308(a)(1)(ii)(D) supports
 * @hipaa 164.308(a)(5)(ii)(C) supports
 * @hipaa 164.308(a)(6)(ii) supports
 * @nist AU-6 164.308(a)(1)(ii)(D): reviews the audit records with ten deterministic detectors, each finding citing the seqs of its records
 * @nist SI-4 164.308(a)(1)(ii)(D): flags bulk access, off-hours access, emergency-access overuse, access outside the care team, to restricted patients, to oneself and to coworkers
 * @nist AU-6 164.308(a)(5)(ii)(C): flags bursts of failed sign-ins per account, password spraying per source address, and dormant accounts signing in again
 * @nist IR-5 164.308(a)(6)(ii): findings carry stable ids (the same episode, the same id on every run), so suspected incidents can be tracked
 * @evidence a review result in canonical JSON: the records and seqs covered, the rule set's hash, and each finding with detector, severity, key and the seqs of its records
 * @appResponsibility Run the review on a schedule (or follow the log), supply the care-relationship, staff and schedule resolvers, and disposition every finding; record each review run in the audit log.
 * @config rules file (thresholds, windows, severities, time zone, schedules, restricted patients), resolvers, resolver timeout
 * @verifiedBy packages/monitor/test/clinic.test.ts
 * @throws {TypeError} when the source is not a store and no `stream` is given.
 * @throws {AuditStoreError} on I/O failure of the store.
 * @throws the signal's reason when aborted.
 * @example
 * ```ts
 * const store = await openFileStore({ dir: '/var/log/app/audit' })
 * const result = await reviewLog(store, { rules: parseRules(rulesText) })
 * process.stdout.write(formatResult(result))
 * ```
 */
export async function reviewLog(source: ReviewSource, options: ReviewOptions = {}): Promise<MonitorResult> {
  const stream = isStore(source) ? source.stream : options.stream
  if (stream === undefined) throw new TypeError('"stream" is required when the source is not a store')
  const { from: _f, to: _t, signal: _s, ...rest } = options
  const monitor = createMonitor({ ...rest, stream })
  for await (const batch of batches(source, options)) await monitor.feed(batch)
  monitor.flush()
  return monitor.result()
}

/**
 * A result as canonical JSON (RFC 8785) and a newline: the same log and rules give the same bytes.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review (reproducible evidence).
 *
 * @throws never.
 * @example
 * ```ts
 * writeFileSync('review.json', formatResult(result))
 * ```
 */
export function formatResult(result: MonitorResult): string {
  return `${canonicalize(result)}\n`
}
