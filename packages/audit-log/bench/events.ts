/** The events the audit-log benches append. */
import type { AuditEvent } from '../src/index.js'

/**
 * Event `i`: a chart read by one of `practitioners` practitioners (997 unless given), of patient
 * `i` (or `i % patients`). The tests' events (test/helpers.ts) are these, with 97 practitioners.
 */
export function event(i: number, patients = Number.MAX_SAFE_INTEGER, practitioners = 997): AuditEvent {
  return {
    type: 'rest',
    subtype: ['read'],
    action: 'R',
    outcome: 0,
    agents: [
      { who: `Practitioner/${i % practitioners}`, requestor: true, type: 'humanuser', role: ['doctor'] },
    ],
    source: { observer: 'ehr-api', site: 'clinic-1' },
    patient: `Patient/${i % patients}`,
    entities: [{ what: `Observation/${i * 7}`, type: '2', role: '4' }],
    requestId: `req-${i}`,
  }
}
