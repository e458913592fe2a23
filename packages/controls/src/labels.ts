/**
 * The words every rendering of the coverage uses (terminal matrix, Markdown matrix, README
 * tables, docs pages), so that they cannot drift apart.
 *
 * @module
 */
import type { Designation } from './catalog.js'
import type { CoverageStatus } from './coverage.js'
import type { MappingSource } from './provenance.js'

const SHORT: Record<Designation, string> = {
  required: 'R',
  addressable: 'A',
  standard: 'Std',
  'standard-required': 'Std (R)',
  provision: 'no R/A (provision)',
  'privacy-standard': 'Privacy Rule std (no R/A)',
}

const LONG: Record<Designation, string> = {
  required: 'Required',
  addressable: 'Addressable',
  standard: 'Standard',
  'standard-required': 'Standard (Required)',
  provision: 'Provision of a standard (no R/A label)',
  'privacy-standard': 'Privacy Rule standard (no R/A label)',
}

const COVERAGE: Record<CoverageStatus, string> = {
  implements: 'implements',
  supports: 'supports',
  'app-team': 'app team only',
  'not-applicable': 'not applicable',
}

/**
 * How a designation is written: `R`, `A`, `Std`, … (`long`: `Required`, `Addressable`, …).
 *
 * @example
 * ```ts
 * designationLabel('privacy-standard') // 'Privacy Rule std (no R/A)'
 * ```
 */
export function designationLabel(designation: Designation, long = false): string {
  return (long ? LONG : SHORT)[designation]
}

/**
 * How a coverage status is written (`app-team` → `app team only`).
 *
 * @example
 * ```ts
 * coverageLabel('app-team') // 'app team only'
 * ```
 */
export function coverageLabel(status: CoverageStatus): string {
  return COVERAGE[status]
}

/** Every coverage status, in the order summaries list them. */
export const coverageStatuses: readonly CoverageStatus[] = Object.freeze([
  'implements',
  'supports',
  'app-team',
  'not-applicable',
])

/**
 * How a pair's provenance is written after the control: `NIST` for NIST's own, `ours` otherwise.
 *
 * @example
 * ```ts
 * `AC-12 (${provenanceLabel('cprt')})` // 'AC-12 (NIST)'
 * ```
 */
export function provenanceLabel(source: MappingSource): string {
  return source === 'cprt' ? 'NIST' : 'ours'
}

/**
 * A paragraph's title as shown in tables: the regulation's heading, or our description marked
 * as such when the regulation gives none.
 *
 * @example
 * ```ts
 * displayTitle({ title: 'Automatic logoff', untitled: false }) // 'Automatic logoff'
 * ```
 */
export function displayTitle(row: { title: string; untitled?: boolean }): string {
  return row.untitled === true ? `[no heading] ${row.title}` : row.title
}
