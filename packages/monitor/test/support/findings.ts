/** Findings with valid ids, for the finding-store tests and their child processes. */
import type { DetectorName, Finding, Severity } from '../../src/index.js'
import { findingId } from '../../src/index.js'

/** A finding of `detector` about `who`, its id derived from `n`. */
export function finding(n: number, who = 'Practitioner/7', detector: DetectorName = 'bulk-access'): Finding {
  const severity: Severity = detector === 'off-hours-access' ? 'low' : 'high'
  return {
    id: findingId('ehr', detector, 'rule', who, n),
    detector,
    severity,
    who,
    patients: ['Patient/1'],
    from: '2026-12-01T00:00:00.000Z',
    to: '2026-12-01T00:10:00.000Z',
    count: 1,
    seqs: [n],
  }
}
