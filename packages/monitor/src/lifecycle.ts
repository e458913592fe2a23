/**
 * The lifecycle of a finding: `new` when first admitted, then `acknowledged` with a disposition or
 * `suppressed` until a time, each by a reviewer who is not the finding's subject. A store
 * ({@link FindingStore}) keeps the transitions; this module holds the types and the rules both
 * stores apply (the file store replays them, the PostgreSQL store applies them in SQL).
 *
 * Only identifiers, codes and times are stored: the finding id, detector, severity, the subject's
 * id (to refuse self-review), the reviewer's id, the disposition and the times. Never patients,
 * seqs or prose.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review; 164.308(a)(6)(ii) response and
 * reporting (every finding is dispositioned, by someone other than its subject).
 *
 * @module
 */
import type { DetectorName, Severity } from './detectors.js'
import type { Finding } from './finding.js'

/**
 * What a reviewer decided about a finding.
 *
 * @example
 * ```ts
 * const d: Disposition = 'false-positive'
 * ```
 */
export type Disposition = 'appropriate' | 'inappropriate' | 'false-positive'

/**
 * The dispositions, in a stable order.
 *
 * @example
 * ```ts
 * if (!DISPOSITIONS.includes(text as Disposition)) throw new Error('bad disposition')
 * ```
 */
export const DISPOSITIONS: readonly Disposition[] = Object.freeze([
  'appropriate',
  'inappropriate',
  'false-positive',
])

/**
 * Where a finding is in its lifecycle.
 *
 * @example
 * ```ts
 * const open = statuses.filter((s) => s.state === 'new')
 * ```
 */
export type FindingState = 'new' | 'acknowledged' | 'suppressed'

/**
 * A finding's lifecycle status: identifiers, codes and RFC 3339 times only.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review (who dispositioned what, and when).
 *
 * @example
 * ```ts
 * for (const s of await store.list()) console.log(s.id, s.detector, s.state, s.disposition ?? '-')
 * ```
 */
export interface FindingStatus {
  readonly id: string
  readonly detector: DetectorName
  readonly severity: Severity
  /** The finding's subject (user or account), when it has one: it may not review itself. */
  readonly who?: string
  readonly state: FindingState
  /** When the finding was first admitted. */
  readonly firstSeen: string
  /** When the state last changed. */
  readonly at: string
  /** The disposition (state `acknowledged`). */
  readonly disposition?: Disposition
  /** The reviewer of the last acknowledgement or suppression. */
  readonly by?: string
  /** Quiet until this time (state `suppressed`). */
  readonly until?: string
}

/** Options of {@link FindingStore.acknowledge}. */
export interface AcknowledgeOptions {
  readonly disposition: Disposition
  /** The reviewer's id; never the finding's subject. */
  readonly by: string
}

/** Options of {@link FindingStore.suppress}. */
export interface SuppressOptions {
  /** Quiet until this time (milliseconds since the epoch), later than now. */
  readonly until: number
  /** The reviewer's id; never the finding's subject. */
  readonly by: string
}

/**
 * A store of finding lifecycles (file: {@link openFindingStore}; PostgreSQL:
 * {@link openPostgresFindingStore}). Safe for several processes at once.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review; 164.308(a)(6)(ii) response and reporting.
 *
 * @example
 * ```ts
 * const fresh = await store.admit(result.findings) // alert only on these
 * await store.acknowledge(fresh[0]!.id, { disposition: 'appropriate', by: 'Practitioner/po-1' })
 * ```
 */
export interface FindingStore {
  /**
   * Records the findings of a run and returns those to alert on, in input order: ids never seen
   * before, and suppressed ids whose time has passed (they become `new` again). Ids already `new`
   * or `acknowledged`, or suppressed until later, are quiet. Atomic against other processes: two
   * runs admitting the same id at once return it from one of them only.
   */
  admit(findings: readonly Finding[]): Promise<Finding[]>
  /**
   * Acknowledges a finding with a disposition. Acknowledging again replaces the disposition (both
   * stay in the history).
   *
   * @throws {MonitorFindingUnknownError} for an id never admitted.
   * @throws {MonitorSelfReviewError} when `by` is the finding's subject.
   */
  acknowledge(id: string, options: AcknowledgeOptions): Promise<FindingStatus>
  /**
   * Suppresses a finding until a time: it is quiet (not open) until then, and alerts again if a
   * later run admits it after that time.
   *
   * @throws {MonitorFindingUnknownError} for an id never admitted.
   * @throws {MonitorSelfReviewError} when `by` is the finding's subject.
   * @throws {RangeError} when `until` is not later than now.
   */
  suppress(id: string, options: SuppressOptions): Promise<FindingStatus>
  /** One finding's status, or undefined. */
  get(id: string): Promise<FindingStatus | undefined>
  /** Every finding's status, by first admission then id. */
  list(): Promise<FindingStatus[]>
  /** Releases the store's resources (not a client it was given). */
  close(): Promise<void>
}

/**
 * True when the finding is open: new, or suppressed with the suppression passed at `now`.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review (what still needs a reviewer).
 *
 * @throws never.
 * @example
 * ```ts
 * const open = (await store.list()).filter((s) => isOpen(s, Date.now()))
 * ```
 */
export function isOpen(status: FindingStatus, now: number): boolean {
  if (status.state === 'new') return true
  return status.state === 'suppressed' && Date.parse(status.until ?? '') <= now
}
