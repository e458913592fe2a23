/**
 * The NIST SP 800-53 Rev. 5 controls that Safeguards APIs map to (ids and titles only, from the
 * official Rev. 5 catalog). A mapping to an id not listed here is a generator error.
 *
 * @module
 */

/** NIST SP 800-53 Rev. 5 control titles by id (`AC-12`, `IA-2(1)`). */
export const nistControls: Readonly<Record<string, string>> = Object.freeze({
  'AC-2': 'Account Management',
  'AC-3': 'Access Enforcement',
  'AC-3(7)': 'Role-based Access Control',
  'AC-5': 'Separation of Duties',
  'AC-6': 'Least Privilege',
  'AC-6(9)': 'Log Use of Privileged Functions',
  'AC-7': 'Unsuccessful Logon Attempts',
  'AC-11': 'Device Lock',
  'AC-12': 'Session Termination',
  'AC-12(1)': 'User-initiated Logouts',
  'AT-2': 'Literacy Training and Awareness',
  'AT-3': 'Role-based Training',
  'AU-2': 'Event Logging',
  'AU-3': 'Content of Audit Records',
  'AU-5': 'Response to Audit Logging Process Failures',
  'AU-6': 'Audit Record Review, Analysis, and Reporting',
  'AU-7': 'Audit Record Reduction and Report Generation',
  'AU-8': 'Time Stamps',
  'AU-9': 'Protection of Audit Information',
  'AU-9(3)': 'Cryptographic Protection',
  'AU-10': 'Non-repudiation',
  'AU-11': 'Audit Record Retention',
  'AU-12': 'Audit Record Generation',
  'CP-4': 'Contingency Plan Testing',
  'CP-6': 'Alternate Storage Site',
  'CP-9': 'System Backup',
  'CP-9(1)': 'Testing for Reliability and Integrity',
  'CP-9(8)': 'Cryptographic Protection',
  'CP-10': 'System Recovery and Reconstitution',
  'IA-2': 'Identification and Authentication (Organizational Users)',
  'IA-2(1)': 'Multi-factor Authentication to Privileged Accounts',
  'IA-2(2)': 'Multi-factor Authentication to Non-privileged Accounts',
  'IA-2(8)': 'Access to Accounts — Replay Resistant',
  'IA-5': 'Authenticator Management',
  'IA-5(1)': 'Password-based Authentication',
  'IA-11': 'Re-authentication',
  'SC-8': 'Transmission Confidentiality and Integrity',
  'SC-12': 'Cryptographic Key Establishment and Management',
  'SC-12(1)': 'Availability',
  'SC-13': 'Cryptographic Protection',
  'SC-23': 'Session Authenticity',
  'SC-28': 'Protection of Information at Rest',
  'SC-28(1)': 'Cryptographic Protection',
  'SI-7': 'Software, Firmware, and Information Integrity',
  'SI-7(6)': 'Cryptographic Protection',
})

/**
 * The OSCAL form of a NIST control id: `IA-2(1)` → `ia-2.1`.
 *
 * @throws {RangeError} when `id` is not of the form `XX-N` or `XX-N(M)`.
 * @example
 * ```ts
 * nistOscalId('AC-12(1)') // 'ac-12.1'
 * ```
 */
export function nistOscalId(id: string): string {
  const m = /^([A-Z]{2})-(\d+)(?:\((\d+)\))?$/.exec(id)
  if (!m) throw new RangeError('"id" expected a NIST SP 800-53 id such as AC-12 or IA-2(1)')
  return `${(m[1] as string).toLowerCase()}-${m[2]}${m[3] ? `.${m[3]}` : ''}`
}
