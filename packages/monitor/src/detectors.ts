/**
 * The ten built-in detectors and their defaults (issue 16 §3). Each is a *flag*: it marks an
 * event; the resolvers the app provides are the *explanations* that clear it (care relationship,
 * schedule). How a detector groups its events:
 * - `count`: at least `threshold` qualifying events for one key within a sliding `window`;
 * - `distinct`: qualifying events naming at least `threshold` distinct values for one key within
 *   `window`;
 * - `event`: every qualifying event is a signal; `window` only groups signals of one key into one
 *   episode (one finding).
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review, 164.308(a)(5)(ii)(C) log-in monitoring.
 *
 * @module
 */

/** The name of a built-in detector. */
export type DetectorName =
  | 'failed-sign-in-burst'
  | 'password-spray'
  | 'bulk-access'
  | 'denied-burst'
  | 'off-hours-access'
  | 'emergency-access-overuse'
  | 'dormant-account'
  | 'no-care-relationship'
  | 'restricted-patient'
  | 'self-or-coworker'

/** How severe a finding is, in increasing order. */
export type Severity = 'low' | 'medium' | 'high' | 'critical'

/**
 * The severities in increasing order.
 *
 * @example
 * ```ts
 * SEVERITIES.indexOf(f.severity) >= SEVERITIES.indexOf('high') // at or above high
 * ```
 */
export const SEVERITIES: readonly Severity[] = Object.freeze(['low', 'medium', 'high', 'critical'])

/** How a detector groups events (see the module comment). */
export type DetectorKind = 'count' | 'distinct' | 'event'

/** What a built-in detector is and its defaults. */
export interface DetectorSpec {
  readonly name: DetectorName
  readonly kind: DetectorKind
  readonly severity: Severity
  /** Events (count) or distinct values (distinct); 1 for `event` detectors. */
  readonly threshold: number
  /** The sliding window (count, distinct), the idle period (dormant) or the episode gap (event). */
  readonly windowMs: number
}

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR

/**
 * The built-in detectors with the defaults, in their fixed order (output order too).
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review, 164.308(a)(5)(ii)(C) log-in monitoring.
 *
 * @example
 * ```ts
 * for (const d of DETECTORS) console.log(d.name, d.threshold, d.windowMs)
 * ```
 */
export const DETECTORS: readonly DetectorSpec[] = Object.freeze(
  [
    { name: 'failed-sign-in-burst', kind: 'count', severity: 'medium', threshold: 5, windowMs: 10 * MIN },
    { name: 'password-spray', kind: 'distinct', severity: 'high', threshold: 10, windowMs: 10 * MIN },
    { name: 'bulk-access', kind: 'distinct', severity: 'high', threshold: 50, windowMs: HOUR },
    { name: 'denied-burst', kind: 'count', severity: 'medium', threshold: 10, windowMs: 10 * MIN },
    { name: 'off-hours-access', kind: 'event', severity: 'low', threshold: 1, windowMs: HOUR },
    { name: 'emergency-access-overuse', kind: 'distinct', severity: 'high', threshold: 3, windowMs: DAY },
    { name: 'dormant-account', kind: 'event', severity: 'medium', threshold: 1, windowMs: 90 * DAY },
    { name: 'no-care-relationship', kind: 'event', severity: 'medium', threshold: 1, windowMs: DAY },
    { name: 'restricted-patient', kind: 'event', severity: 'high', threshold: 1, windowMs: DAY },
    { name: 'self-or-coworker', kind: 'event', severity: 'high', threshold: 1, windowMs: DAY },
  ].map((d) => Object.freeze(d as DetectorSpec)),
)

/**
 * The names of the built-in detectors, in order (the output order of findings with the same seq).
 *
 * @example
 * ```ts
 * DETECTOR_NAMES.includes('bulk-access') // true
 * ```
 */
export const DETECTOR_NAMES: readonly DetectorName[] = Object.freeze(DETECTORS.map((d) => d.name))
