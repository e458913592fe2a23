/**
 * Typed errors of `@safeguards/monitor`. A suspicious event is not an error (it is a finding) and
 * neither is a damaged record (it is a problem in the result); these are misuse: a rules file that
 * does not validate, or records fed out of sequence order.
 *
 * HIPAA: 164.312(b) audit controls (stable codes; messages name fields and seqs, never PHI).
 *
 * @module
 */
import { CodedError, type ErrorCategory } from '@safeguards/core'

/** The {@link ErrorCategory} of each code this package's base class covers: the one table of its codes. */
const categories = {
  ERR_MONITOR_RULES: 'invalid-input',
  ERR_MONITOR_ORDER: 'invalid-argument',
  ERR_MONITOR_SELF_REVIEW: 'conflict',
  ERR_MONITOR_FINDING_UNKNOWN: 'invalid-argument',
  ERR_MONITOR_FINDING_STORE: 'integrity',
} as const

/** The error codes raised by `@safeguards/monitor`. Stable: match on them, never on messages. */
export type MonitorErrorCode = keyof typeof categories

/**
 * Base class of every error this package throws on purpose.
 *
 * @example
 * ```ts
 * if (e instanceof MonitorError) console.error(e.code)
 * ```
 */
export class MonitorError<C extends MonitorErrorCode = MonitorErrorCode> extends CodedError<C> {
  /** The {@link ErrorCategory} of each code, read by every subclass (the type keeps it complete). */
  static override readonly categories: typeof categories = categories
}

const at = (pointer: string): string => (pointer === '' ? 'the document root' : pointer)

/**
 * A rules file (or rules object) does not validate: unknown detector or field, a negative or
 * zero window, a threshold below 1, a bad severity, time zone or schedule. `pointer` is the RFC
 * 6901 JSON Pointer of the offending member.
 *
 * @example
 * ```ts
 * parseRules('{"detectors":{"bulk-access":{"threshold":0}}}')
 * // throws MonitorRulesError, pointer '/detectors/bulk-access/threshold'
 * ```
 */
export class MonitorRulesError extends MonitorError<'ERR_MONITOR_RULES'> {
  static override readonly code = 'ERR_MONITOR_RULES'
  /** RFC 6901 JSON Pointer of the offending member ('' for the whole document). */
  readonly pointer: string
  /** @param message - names the rule, never a value; @param pointer - where it is. */
  constructor(message: string, pointer: string) {
    super(`${message} at ${at(pointer)}`)
    this.pointer = pointer
  }
}

/**
 * Records were fed out of sequence order (a seq not greater than the last one fed). Findings
 * depend only on the seq-ordered prefix of the log, so the monitor refuses instead of guessing.
 *
 * @example
 * ```ts
 * await monitor.feed([{ seq: 5, bytes }])
 * await monitor.feed([{ seq: 5, bytes }]) // throws MonitorOrderError (ERR_MONITOR_ORDER)
 * ```
 */
export class MonitorOrderError extends MonitorError<'ERR_MONITOR_ORDER'> {
  static override readonly code = 'ERR_MONITOR_ORDER'
  /** @param seq - the refused seq; @param last - the last seq fed. */
  constructor(seq: number, last: number) {
    super(`seq ${seq} fed after seq ${last}: records must be fed in increasing seq order`)
  }
}

/**
 * A reviewer tried to acknowledge or suppress a finding about themselves (the finding's `who`).
 * Review must be done by someone other than its subject.
 *
 * @example
 * ```ts
 * await store.acknowledge(f.id, { disposition: 'appropriate', by: f.who! })
 * // throws MonitorSelfReviewError (ERR_MONITOR_SELF_REVIEW)
 * ```
 */
export class MonitorSelfReviewError extends MonitorError<'ERR_MONITOR_SELF_REVIEW'> {
  static override readonly code = 'ERR_MONITOR_SELF_REVIEW'
  /** @param id - the finding id (an identifier, never PHI). */
  constructor(id: string) {
    super(`finding ${id}: a reviewer may not review a finding about themselves`)
  }
}

/**
 * The finding id is not in the store (it was never admitted).
 *
 * @example
 * ```ts
 * await store.acknowledge('fnd_unknown', { disposition: 'appropriate', by: 'Practitioner/po-1' })
 * // throws MonitorFindingUnknownError (ERR_MONITOR_FINDING_UNKNOWN)
 * ```
 */
export class MonitorFindingUnknownError extends MonitorError<'ERR_MONITOR_FINDING_UNKNOWN'> {
  static override readonly code = 'ERR_MONITOR_FINDING_UNKNOWN'
  /** @param id - the finding id. */
  constructor(id: string) {
    super(`finding ${id} is not in the store`)
  }
}

/**
 * The findings store is damaged: a complete line that is not a valid transition. A torn last line
 * left by a crash is not this error (it is ignored and reported), nor is a store that cannot be
 * read or written (core's `IoError`). The message names the line number, never a value.
 *
 * @example
 * ```ts
 * await openFindingStore({ dir }) // throws MonitorFindingStoreError (ERR_MONITOR_FINDING_STORE)
 * ```
 */
export class MonitorFindingStoreError extends MonitorError<'ERR_MONITOR_FINDING_STORE'> {
  static override readonly code = 'ERR_MONITOR_FINDING_STORE'
}
