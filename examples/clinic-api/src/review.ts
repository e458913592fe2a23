/**
 * Activity review of the clinic's audit log, as the privacy officer runs it: the monitor
 * (`@safeguards/monitor`) over the whole log with the clinic's explanations (care teams), and a
 * patient's access report ("who looked at my record") with an inclusion proof per row that anyone
 * holding the checkpoint public key checks offline.
 *
 * The log stores patients as keyed pseudonyms, so the care-team resolver answers for pseudonyms:
 * the clinic pseudonymises each care team's patients with the same key as the audit sink.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review; 164.308(a)(5)(ii)(C) log-in
 * monitoring; 164.308(a)(6)(ii) identifying suspected security incidents; 164.312(b) audit controls.
 */
import {
  type AccessReport,
  type AuditLog,
  type AuditStore,
  accessReport,
  type KeyringEntry,
  type Pseudonymizer,
} from '@safeguards/audit-log'
import { type MonitorResult, type Resolvers, reviewLog } from '@safeguards/monitor'
import { STAFF } from './staff.js'

/**
 * Roles whose work concerns every patient of the clinic (registration at the front desk, claims in
 * billing): their reads are explained by the role, not by a care team. Clinical staff are explained
 * by their care teams only.
 */
const EVERY_PATIENT_ROLES: ReadonlySet<string> = new Set(['front_desk', 'billing'])

/** What the privacy officer does with the clinic's audit log. */
export interface ClinicReview {
  /** Runs every default detector over the whole log, with the clinic's care-team resolver. */
  run(): Promise<MonitorResult>
  /**
   * The access report of one patient (by the clinic's id; the log holds its pseudonym), every row
   * with an inclusion proof against a checkpoint signed now (so that it covers every access so far).
   */
  accessReport(patientId: string): Promise<AccessReport>
  /** The public key of the audit checkpoints: all an offline check of a proof needs. */
  readonly checkpointKey: KeyringEntry['publicJwk']
}

/** The monitor's resolvers for this clinic: care relationships from the seeded care teams. */
export function clinicResolvers(pseudonymize: Pseudonymizer): Resolvers {
  const explained = new Set<string>()
  for (const s of STAFF)
    for (const p of s.careTeam) explained.add(JSON.stringify([s.id, pseudonymize.pseudonym(p)]))
  const everyPatient = new Set(STAFF.filter((s) => EVERY_PATIENT_ROLES.has(s.role)).map((s) => s.id))
  return {
    careRelationship: (who, patient) =>
      everyPatient.has(who) || explained.has(JSON.stringify([who, patient])),
  }
}

/** The review of the clinic's log in `store`, written through `log`. */
export function clinicReview(options: {
  log: Pick<AuditLog, 'checkpoint'>
  store: AuditStore
  pseudonymize: Pseudonymizer
  checkpointKey: KeyringEntry['publicJwk']
}): ClinicReview {
  const { log, store, pseudonymize } = options
  const resolvers = clinicResolvers(pseudonymize)
  return {
    run: () => reviewLog(store, { resolvers }),
    async accessReport(patientId) {
      await log.checkpoint()
      return accessReport(store, { patient: pseudonymize.pseudonym(patientId) }, { prove: true })
    },
    checkpointKey: options.checkpointKey,
  }
}
