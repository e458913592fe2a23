/**
 * The HIPAA Security Rule as data: every standard and implementation specification in
 * 45 CFR 164.308, 164.310, 164.312, 164.314 and 164.316 (the final rule in force, 2003 text with
 * the 2013 Omnibus amendments), with Required/Addressable designations per §164.306(d), plus
 * §164.308(b)(2), a provision of the business-associate standard with no heading and no R/A label,
 * and the Privacy Rule's minimum-necessary standard (§164.502(b)), which access control serves and
 * to which the Security Rule's Required/Addressable scheme does not apply.
 *
 * Changes proposed by the HHS NPRM of 6 January 2025 (90 FR 898, RIN 0945-AA22) are recorded in
 * `proposed` and are **proposed, not in force**: until a final rule is published, the designations
 * here are the law. Paragraph letters of the proposed rule are deliberately not used.
 *
 * Sources: the CFR text (Cornell LII / GPO e-CFR). Counts: 46 implementation specifications across
 * the five sections, 24 Required and 22 Addressable (164.308: 10 R, 11 A; 164.310: 2 R, 6 A;
 * 164.312: 2 R, 5 A; 164.314: 7 R; 164.316: 3 R).
 *
 * @module
 */

/**
 * Required (R) or Addressable (A) implementation specification; a Security Rule standard with
 * specifications (`standard`) or without, which must be met as written (`standard-required`); a
 * paragraph of a standard's text that is neither a standard nor a specification and has no R/A
 * label (`provision`, §164.308(b)(2)); or a Privacy Rule standard, to which §164.306(d)'s
 * Required/Addressable scheme does not apply (`privacy-standard`, §164.502(b)).
 */
export type Designation =
  | 'required'
  | 'addressable'
  | 'standard'
  | 'standard-required'
  | 'provision'
  | 'privacy-standard'

/** Which part of the rule a citation belongs to. */
export type Safeguard =
  | 'administrative'
  | 'physical'
  | 'technical'
  | 'organizational'
  | 'documentation'
  | 'privacy'

/** What the SDK can do for a citation that no API serves. */
export type UncoveredReason = 'app-team' | 'not-applicable'

/** One standard or implementation specification. */
export interface HipaaCitation {
  /** The CFR paragraph, for example `164.312(a)(2)(iii)`. */
  readonly id: string
  /**
   * The official heading, for example `Automatic logoff`; for a paragraph the regulation gives no
   * heading (`untitled`), a short description of its text.
   */
  readonly title: string
  /** True when the regulation gives the paragraph no heading: `title` is our description. */
  readonly untitled?: true
  readonly designation: Designation
  readonly safeguard: Safeguard
  /** The standard an implementation specification belongs to (its `id`). */
  readonly standard?: string
  /** The change the January 2025 NPRM proposes: proposed, not in force. */
  readonly proposed?: string
  /** When no SDK API serves it: whether it is the app team's job or not applicable to software. */
  readonly uncovered: UncoveredReason
  /** What the covered entity or business associate must do itself. */
  readonly appResponsibility: string
}

const ALL_REQUIRED = 'NPRM 2025 would remove the Required/Addressable distinction and make this required.'

const c = (
  id: string,
  title: string,
  designation: Designation,
  safeguard: Safeguard,
  uncovered: UncoveredReason,
  appResponsibility: string,
  extra: { standard?: string; proposed?: string; untitled?: true } = {},
): HipaaCitation =>
  Object.freeze({
    id,
    title,
    designation,
    safeguard,
    uncovered,
    appResponsibility,
    ...extra,
    ...(designation === 'addressable' && extra.proposed === undefined ? { proposed: ALL_REQUIRED } : {}),
  })

const S308 = (
  id: string,
  title: string,
  d: Designation,
  std: string | undefined,
  resp: string,
  proposed?: string,
) =>
  c(id, title, d, 'administrative', 'app-team', resp, {
    ...(std ? { standard: std } : {}),
    ...(proposed ? { proposed } : {}),
  })

/** Every standard and implementation specification, in CFR order. */
export const hipaaCatalog: readonly HipaaCitation[] = Object.freeze([
  // 164.308 Administrative safeguards
  S308(
    '164.308(a)(1)(i)',
    'Security management process',
    'standard',
    undefined,
    'Run a security management process.',
  ),
  S308(
    '164.308(a)(1)(ii)(A)',
    'Risk analysis',
    'required',
    '164.308(a)(1)(i)',
    'Perform and document an accurate and thorough risk analysis.',
    'NPRM 2025 would require a written risk analysis with specified contents and a technology asset inventory and network map.',
  ),
  S308(
    '164.308(a)(1)(ii)(B)',
    'Risk management',
    'required',
    '164.308(a)(1)(i)',
    'Reduce risks to a reasonable and appropriate level.',
  ),
  S308(
    '164.308(a)(1)(ii)(C)',
    'Sanction policy',
    'required',
    '164.308(a)(1)(i)',
    'Sanction workforce members who fail to comply.',
  ),
  S308(
    '164.308(a)(1)(ii)(D)',
    'Information system activity review',
    'required',
    '164.308(a)(1)(i)',
    'Review audit logs, access reports and incident reports regularly; decide who reviews and how often.',
  ),
  S308(
    '164.308(a)(2)',
    'Assigned security responsibility',
    'standard-required',
    undefined,
    'Name a security official.',
  ),
  S308(
    '164.308(a)(3)(i)',
    'Workforce security',
    'standard',
    undefined,
    'Ensure appropriate workforce access to ePHI.',
  ),
  S308(
    '164.308(a)(3)(ii)(A)',
    'Authorization and/or supervision',
    'addressable',
    '164.308(a)(3)(i)',
    'Authorize and supervise workforce members who work with ePHI.',
  ),
  S308(
    '164.308(a)(3)(ii)(B)',
    'Workforce clearance procedure',
    'addressable',
    '164.308(a)(3)(i)',
    'Clear workforce members before granting access.',
  ),
  S308(
    '164.308(a)(3)(ii)(C)',
    'Termination procedures',
    'addressable',
    '164.308(a)(3)(i)',
    'Revoke access when employment ends (deprovisioning).',
  ),
  S308(
    '164.308(a)(4)(i)',
    'Information access management',
    'standard',
    undefined,
    'Authorize access to ePHI.',
  ),
  c(
    '164.308(a)(4)(ii)(A)',
    'Isolating health care clearinghouse functions',
    'required',
    'administrative',
    'not-applicable',
    'Clearinghouses within larger organizations must isolate their ePHI.',
    { standard: '164.308(a)(4)(i)' },
  ),
  S308(
    '164.308(a)(4)(ii)(B)',
    'Access authorization',
    'addressable',
    '164.308(a)(4)(i)',
    'Design roles and permissions; approve grants.',
  ),
  S308(
    '164.308(a)(4)(ii)(C)',
    'Access establishment and modification',
    'addressable',
    '164.308(a)(4)(i)',
    'Provision, review and modify access; run periodic access reviews.',
  ),
  S308('164.308(a)(5)(i)', 'Security awareness and training', 'standard', undefined, 'Train the workforce.'),
  S308(
    '164.308(a)(5)(ii)(A)',
    'Security reminders',
    'addressable',
    '164.308(a)(5)(i)',
    'Issue periodic security updates.',
  ),
  S308(
    '164.308(a)(5)(ii)(B)',
    'Protection from malicious software',
    'addressable',
    '164.308(a)(5)(i)',
    'Guard against, detect and report malicious software.',
    'NPRM 2025 would require anti-malware protection.',
  ),
  S308(
    '164.308(a)(5)(ii)(C)',
    'Log-in monitoring',
    'addressable',
    '164.308(a)(5)(i)',
    'Monitor log-in attempts and report discrepancies; alert on lockouts.',
  ),
  S308(
    '164.308(a)(5)(ii)(D)',
    'Password management',
    'addressable',
    '164.308(a)(5)(i)',
    'Procedures for creating, changing and safeguarding passwords; user training (NIST AT-2/AT-3).',
  ),
  S308(
    '164.308(a)(6)(i)',
    'Security incident procedures',
    'standard',
    undefined,
    'Address security incidents.',
  ),
  S308(
    '164.308(a)(6)(ii)',
    'Response and reporting',
    'required',
    '164.308(a)(6)(i)',
    'Identify, respond to, mitigate and document incidents.',
  ),
  S308(
    '164.308(a)(7)(i)',
    'Contingency plan',
    'standard',
    undefined,
    'Respond to emergencies that damage systems with ePHI.',
  ),
  S308(
    '164.308(a)(7)(ii)(A)',
    'Data backup plan',
    'required',
    '164.308(a)(7)(i)',
    'Decide what is backed up, how often (RPO) and where off-site copies live.',
    'NPRM 2025 would add specific backup and recovery controls.',
  ),
  S308(
    '164.308(a)(7)(ii)(B)',
    'Disaster recovery plan',
    'required',
    '164.308(a)(7)(i)',
    'Plan restoration of lost data; run restore drills.',
    'NPRM 2025 would require restoring certain systems and data within 72 hours.',
  ),
  S308(
    '164.308(a)(7)(ii)(C)',
    'Emergency mode operation plan',
    'required',
    '164.308(a)(7)(i)',
    'Keep critical processes running during an emergency.',
  ),
  S308(
    '164.308(a)(7)(ii)(D)',
    'Testing and revision procedures',
    'addressable',
    '164.308(a)(7)(i)',
    'Test and revise contingency plans periodically.',
  ),
  S308(
    '164.308(a)(7)(ii)(E)',
    'Applications and data criticality analysis',
    'addressable',
    '164.308(a)(7)(i)',
    'Assess which applications and data are critical.',
  ),
  S308(
    '164.308(a)(8)',
    'Evaluation',
    'standard-required',
    undefined,
    'Evaluate security periodically.',
    'NPRM 2025 would require a compliance audit at least every 12 months.',
  ),
  S308(
    '164.308(b)(1)',
    'Business associate contracts and other arrangements',
    'standard',
    undefined,
    'Obtain satisfactory assurances from business associates.',
  ),
  c(
    '164.308(b)(2)',
    'A business associate may let a subcontractor handle ePHI only with satisfactory assurances (§164.314(a))',
    'provision',
    'administrative',
    'app-team',
    'As a business associate, obtain satisfactory assurances from subcontractors before they handle ePHI.',
    { standard: '164.308(b)(1)', untitled: true },
  ),
  S308(
    '164.308(b)(3)',
    'Written contract or other arrangement',
    'required',
    '164.308(b)(1)',
    'Document the assurances in a contract.',
    'NPRM 2025 would require business associates to report contingency-plan activation within 24 hours.',
  ),
  // 164.310 Physical safeguards
  c(
    '164.310(a)(1)',
    'Facility access controls',
    'standard',
    'physical',
    'app-team',
    'Limit physical access to systems and facilities.',
  ),
  c(
    '164.310(a)(2)(i)',
    'Contingency operations',
    'addressable',
    'physical',
    'app-team',
    'Allow facility access to restore data in an emergency.',
    {
      standard: '164.310(a)(1)',
    },
  ),
  c(
    '164.310(a)(2)(ii)',
    'Facility security plan',
    'addressable',
    'physical',
    'app-team',
    'Safeguard the facility and equipment.',
    {
      standard: '164.310(a)(1)',
    },
  ),
  c(
    '164.310(a)(2)(iii)',
    'Access control and validation procedures',
    'addressable',
    'physical',
    'app-team',
    'Control and validate physical access by role.',
    { standard: '164.310(a)(1)' },
  ),
  c(
    '164.310(a)(2)(iv)',
    'Maintenance records',
    'addressable',
    'physical',
    'app-team',
    'Document repairs to physical security components.',
    {
      standard: '164.310(a)(1)',
    },
  ),
  c(
    '164.310(b)',
    'Workstation use',
    'standard-required',
    'physical',
    'app-team',
    'Specify proper workstation use.',
  ),
  c(
    '164.310(c)',
    'Workstation security',
    'standard-required',
    'physical',
    'app-team',
    'Physically safeguard workstations.',
  ),
  c(
    '164.310(d)(1)',
    'Device and media controls',
    'standard',
    'physical',
    'app-team',
    'Govern hardware and media movement.',
  ),
  c(
    '164.310(d)(2)(i)',
    'Disposal',
    'required',
    'physical',
    'app-team',
    'Dispose of ePHI and media; destroying keys (crypto-shredding) helps.',
    {
      standard: '164.310(d)(1)',
    },
  ),
  c(
    '164.310(d)(2)(ii)',
    'Media re-use',
    'required',
    'physical',
    'app-team',
    'Remove ePHI before media re-use.',
    {
      standard: '164.310(d)(1)',
    },
  ),
  c(
    '164.310(d)(2)(iii)',
    'Accountability',
    'addressable',
    'physical',
    'app-team',
    'Record movements of hardware and media.',
    {
      standard: '164.310(d)(1)',
    },
  ),
  c(
    '164.310(d)(2)(iv)',
    'Data backup and storage',
    'addressable',
    'physical',
    'app-team',
    'Create a retrievable copy of ePHI before moving equipment; store backups off-site.',
    { standard: '164.310(d)(1)' },
  ),
  // 164.312 Technical safeguards
  c(
    '164.312(a)(1)',
    'Access control',
    'standard',
    'technical',
    'app-team',
    'Allow access only to authorized persons or software.',
  ),
  c(
    '164.312(a)(2)(i)',
    'Unique user identification',
    'required',
    'technical',
    'app-team',
    'Issue unique user identifiers from your identity provider; never share accounts.',
    {
      standard: '164.312(a)(1)',
      proposed: 'NPRM 2025 would extend unique identification to technology assets.',
    },
  ),
  c(
    '164.312(a)(2)(ii)',
    'Emergency access procedure',
    'required',
    'technical',
    'app-team',
    'Define who may invoke emergency access and review every use promptly.',
    { standard: '164.312(a)(1)' },
  ),
  c(
    '164.312(a)(2)(iii)',
    'Automatic logoff',
    'addressable',
    'technical',
    'app-team',
    'Choose timeouts from the risk analysis; enforce them server-side; lock the client UI.',
    { standard: '164.312(a)(1)' },
  ),
  c(
    '164.312(a)(2)(iv)',
    'Encryption and decryption',
    'addressable',
    'technical',
    'app-team',
    'Keep KEKs in an HSM or KMS, separate from data; set a rotation cadence; use FIPS-validated modules where required.',
    {
      standard: '164.312(a)(1)',
      proposed: 'NPRM 2025 would require encryption of ePHI at rest, with limited exceptions.',
    },
  ),
  c(
    '164.312(b)',
    'Audit controls',
    'standard-required',
    'technical',
    'app-team',
    'Decide which events to record; anchor checkpoints off-host; keep clocks synchronized; retain and review logs.',
    { proposed: 'NPRM 2025 would add explicit audit trail and system log controls.' },
  ),
  c(
    '164.312(c)(1)',
    'Integrity',
    'standard',
    'technical',
    'app-team',
    'Protect ePHI from improper alteration or destruction.',
  ),
  c(
    '164.312(c)(2)',
    'Mechanism to authenticate electronic protected health information',
    'addressable',
    'technical',
    'app-team',
    'Verify integrity on read and on restore; act on findings.',
    { standard: '164.312(c)(1)' },
  ),
  c(
    '164.312(d)',
    'Person or entity authentication',
    'standard-required',
    'technical',
    'app-team',
    'Enroll and proof identities; enforce MFA on every ePHI path; rate-limit sign-in.',
    { proposed: 'NPRM 2025 would require multi-factor authentication, with limited exceptions.' },
  ),
  c(
    '164.312(e)(1)',
    'Transmission security',
    'standard',
    'technical',
    'app-team',
    'Guard ePHI in transit (TLS is outside the SDK).',
  ),
  c(
    '164.312(e)(2)(i)',
    'Integrity controls',
    'addressable',
    'technical',
    'app-team',
    'Detect modification of ePHI in transit (TLS).',
    { standard: '164.312(e)(1)' },
  ),
  c(
    '164.312(e)(2)(ii)',
    'Encryption',
    'addressable',
    'technical',
    'app-team',
    'Encrypt ePHI in transit with TLS; payload encryption is defence in depth.',
    {
      standard: '164.312(e)(1)',
      proposed: 'NPRM 2025 would require encryption of ePHI in transit, with limited exceptions.',
    },
  ),
  // 164.314 Organizational requirements
  c(
    '164.314(a)(1)',
    'Business associate contracts or other arrangements',
    'standard',
    'organizational',
    'app-team',
    'Make the contract or other arrangement required by §164.308(b)(3) meet (a)(2)(i), (ii) or (iii).',
  ),
  c(
    '164.314(a)(2)(i)',
    'Business associate contracts',
    'required',
    'organizational',
    'app-team',
    'Contracts require the business associate to comply with the subpart, bind its subcontractors, and report security incidents, including breaches of unsecured PHI.',
    { standard: '164.314(a)(1)' },
  ),
  c(
    '164.314(a)(2)(ii)',
    'Other arrangements',
    'required',
    'organizational',
    'app-team',
    'Where no contract is possible, have another arrangement that meets §164.504(e)(3).',
    { standard: '164.314(a)(1)' },
  ),
  c(
    '164.314(a)(2)(iii)',
    'Business associate contracts with subcontractors',
    'required',
    'organizational',
    'app-team',
    'Business associates apply (a)(2)(i) and (ii) to their contracts with subcontractors.',
    { standard: '164.314(a)(1)' },
  ),
  c(
    '164.314(b)(1)',
    'Requirements for group health plans',
    'standard',
    'organizational',
    'app-team',
    'Group health plans: plan documents require the plan sponsor to safeguard ePHI.',
  ),
  c(
    '164.314(b)(2)(i)',
    'Plan sponsor implements administrative, physical and technical safeguards',
    'required',
    'organizational',
    'app-team',
    'Amend the plan documents to require the plan sponsor to implement safeguards for the ePHI it handles for the plan.',
    { standard: '164.314(b)(1)', untitled: true },
  ),
  c(
    '164.314(b)(2)(ii)',
    'Adequate separation (§164.504(f)(2)(iii)) supported by security measures',
    'required',
    'organizational',
    'app-team',
    'Amend the plan documents to require security measures that support the separation between plan and sponsor.',
    { standard: '164.314(b)(1)', untitled: true },
  ),
  c(
    '164.314(b)(2)(iii)',
    'Agents given the information agree to implement security measures',
    'required',
    'organizational',
    'app-team',
    "Amend the plan documents to require the sponsor's agents to agree to reasonable and appropriate security measures.",
    { standard: '164.314(b)(1)', untitled: true },
  ),
  c(
    '164.314(b)(2)(iv)',
    'Plan sponsor reports security incidents to the plan',
    'required',
    'organizational',
    'app-team',
    'Amend the plan documents to require the sponsor to report security incidents to the group health plan.',
    { standard: '164.314(b)(1)', untitled: true },
  ),
  // 164.316 Policies and procedures and documentation requirements
  c(
    '164.316(a)',
    'Policies and procedures',
    'standard-required',
    'documentation',
    'app-team',
    'Write reasonable and appropriate policies.',
  ),
  c(
    '164.316(b)(1)',
    'Documentation',
    'standard',
    'documentation',
    'app-team',
    'Keep written policies and records of required actions.',
  ),
  c(
    '164.316(b)(2)(i)',
    'Time limit',
    'required',
    'documentation',
    'app-team',
    'Retain the documentation the Security Rule requires (policies, and records of required actions, activities and assessments such as your activity reviews) six years from creation or last effective date. HIPAA sets no retention period for audit logs themselves: set it from state law, your policy and what your review records rely on.',
    { standard: '164.316(b)(1)' },
  ),
  c(
    '164.316(b)(2)(ii)',
    'Availability',
    'required',
    'documentation',
    'app-team',
    'Make documentation available to those responsible.',
    {
      standard: '164.316(b)(1)',
    },
  ),
  c(
    '164.316(b)(2)(iii)',
    'Updates',
    'required',
    'documentation',
    'app-team',
    'Review and update documentation periodically.',
    {
      standard: '164.316(b)(1)',
    },
  ),
  // Privacy Rule standard that access control serves (no R/A label: §164.306(d) is Security Rule only)
  c(
    '164.502(b)',
    'Minimum necessary',
    'privacy-standard',
    'privacy',
    'app-team',
    'Define minimum-necessary policies per role and purpose.',
  ),
])

const byId = new Map(hipaaCatalog.map((entry) => [entry.id, entry]))

/**
 * Looks up a citation by its CFR paragraph.
 *
 * HIPAA: supports 164.316(b)(1) documentation (a single, checked source of citations).
 *
 * @example
 * ```ts
 * findCitation('164.312(a)(2)(iii)')?.title // 'Automatic logoff'
 * ```
 */
export function findCitation(id: string): HipaaCitation | undefined {
  return byId.get(id)
}

/**
 * The OSCAL control id (an NCName token) for a CFR paragraph:
 * `164.312(a)(2)(iii)` → `hipaa-164.312-a.2.iii`.
 *
 * @example
 * ```ts
 * hipaaControlId('164.312(b)') // 'hipaa-164.312-b'
 * ```
 */
export function hipaaControlId(id: string): string {
  const m = /^(\d{3}\.\d{3})((?:\([0-9a-zA-Z]+\))+)$/.exec(id)
  if (!m) throw new RangeError('"id" expected a CFR paragraph such as 164.312(a)(1)')
  const parts = (m[2] as string).slice(1, -1).split(')(')
  return `hipaa-${m[1]}-${parts.join('.')}`
}
