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

/** The error codes raised by `@safeguards/monitor`. Stable: match on them, never on messages. */
export type MonitorErrorCode = 'ERR_MONITOR_RULES' | 'ERR_MONITOR_ORDER'

/**
 * Base class of every error this package throws on purpose.
 *
 * @example
 * ```ts
 * if (e instanceof MonitorError) console.error(e.code)
 * ```
 */
export class MonitorError<C extends MonitorErrorCode = MonitorErrorCode> extends CodedError<C> {}

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
  static override readonly category: ErrorCategory = 'invalid-input'
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
