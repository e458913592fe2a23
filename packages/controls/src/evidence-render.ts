/**
 * Rendering an evidence report as Markdown for a human reviewer: the verdict, then one section
 * per check. Pure: it reads the report only.
 *
 * @module
 */
import type { EvidenceReport } from './evidence.js'
import { human } from './internal/human.js'

const cell = (v: unknown): string =>
  String(v ?? '-').replace(/[|\\`*_<>[\]\r\n]/g, (c) => (c === '\n' || c === '\r' ? ' ' : `\\${c}`))

/**
 * Renders the report as Markdown for a human reviewer: the verdict, then one section per check.
 *
 * HIPAA: 164.316(b)(1) documentation.
 *
 * @hipaa 164.316(b)(1) supports
 * @evidence a human-readable evidence report
 * @verifiedBy packages/controls/test/evidence.test.ts
 * @throws never.
 * @example
 * ```ts
 * writeFileSync('evidence.md', renderEvidenceMarkdown(report))
 * ```
 */
export function renderEvidenceMarkdown(report: EvidenceReport): string {
  const sections: [heading: string, lines: string[]][] = [
    ['Audit log (164.312(b), 164.312(c)(1))', auditLogSection(report.auditLog)],
    ['Backups (164.308(a)(7)(ii)(A), 164.310(d)(2)(iv))', backupsSection(report.backups)],
    ['Encryption keys (164.312(a)(2)(iv))', keysSection(report.keys)],
    ['Session policy (164.312(a)(2)(iii) automatic logoff)', sessionSection(report.sessionPolicy)],
    ['Password policy (164.308(a)(5)(ii)(D))', passwordSection(report.passwordPolicy)],
    ['Activity review (164.308(a)(1)(ii)(D))', reviewSection(report.activityReview)],
  ]
  const verdict = `Generated ${report.generatedAt}. Result: **${report.ok ? 'PASS' : 'FAIL'}**${
    report.failures.length === 0 ? '' : ` (not met: ${report.failures.join(', ')})`
  }.`
  return [
    '# Safeguards evidence report',
    '',
    verdict,
    '',
    '## Summary per safeguard family',
    '',
    ...summaryTable(report),
    '',
    '## Verdicts',
    '',
    ...verdictTable(report),
    '',
    '## Baseline',
    '',
    ...baselineSection(report.baseline),
    '',
    ...sections.flatMap(([heading, lines]) => [`## ${heading}`, '', ...lines, '']),
  ].join('\n')
}

/** The statuses, worst first, with the marks used in the tables. */
const MARK: Readonly<Record<string, string>> = {
  'not met': '✗ not met',
  'partly met': '◐ partly met',
  met: '✓ met',
  'app team': '○ app team',
}
const ORDER = ['not met', 'partly met', 'met']

function summaryTable(report: EvidenceReport): string[] {
  return [
    '| family | met | partly met | not met | app team |',
    '| --- | --- | --- | --- | --- |',
    ...Object.entries(report.summary).map(
      ([f, c]) => `| ${f} | ${c.met} | ${c.partlyMet} | ${c.notMet} | ${c.appTeam} |`,
    ),
  ]
}

function verdictTable(report: EvidenceReport): string[] {
  if (report.verdicts.length === 0) return ['Nothing was examined.']
  const sorted = [...report.verdicts].sort((a, b) => ORDER.indexOf(a.status) - ORDER.indexOf(b.status))
  return [
    '| verdict | HIPAA | check | measured | threshold | source | remediation |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...sorted.map(
      (v) =>
        `| ${MARK[v.status]} | ${v.hipaa.map(cell).join(', ')} | \`${cell(v.check)}\` | ${v.basis === 'declared' ? '(declared) ' : ''}${cell(v.measured)} | ${cell(v.threshold)} | ${cell(v.source)} | ${cell(v.remediation || '-')} |`,
    ),
  ]
}

function baselineSection(b: EvidenceReport['baseline']): string[] {
  return [
    `Baseline \`${cell(b.name)}\` (sha256 ${b.hash}); roles with PHI access: ${b.phiRoles === '*' ? 'every role' : b.phiRoles.map(cell).join(', ')}.`,
    ...(b.adjustments.length === 0
      ? ['', 'Every threshold is at its source value.']
      : [
          '',
          '| threshold | source value | in force | change | reason |',
          '| --- | --- | --- | --- | --- |',
          ...b.adjustments.map(
            (a) => `| \`${a.id}\` | ${cell(a.from)} | ${cell(a.to)} | ${a.direction} | ${cell(a.reason)} |`,
          ),
        ]),
  ]
}

function auditLogSection(a: EvidenceReport['auditLog']): string[] {
  if (a === null) return ['Not examined.']
  return [
    `- Stream \`${cell(a.stream)}\`: **${a.ok ? 'intact' : 'FAILED'}**, verified ${a.verifiedAt}`,
    `- ${a.records} records; verified through seq ${a.verifiedThroughSeq ?? 'none'}`,
    `- Checkpoints: ${a.checkpoints.verified}/${a.checkpoints.total} verified; checkpointed through seq ${
      a.checkpointedThroughSeq ?? 'none'
    }; anchored through seq ${a.anchoredThroughSeq ?? 'none'}`,
    a.checkpoint === null
      ? '- No checkpoint verified with a trusted key: the report is not tied to a log state'
      : `- Log state judged: size ${a.checkpoint.size}, root \`${cell(a.checkpoint.root)}\` (checkpoint of ${a.checkpoint.timestamp}, key \`${cell(a.checkpoint.kid)}\`)`,
    ...a.findings.map((f) => `- ${f.severity} \`${cell(f.code)}\` at seq ${f.seq}`),
  ]
}

function backupsSection(backups: EvidenceReport['backups']): string[] {
  if (backups.length === 0) return ['Not examined.']
  return [
    '| bag id | set | status | files | bytes | encrypted | signed by | seq | created | age | verified |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...backups.map(
      (b) =>
        `| ${cell(b.bagId)} | ${cell(b.backupSetId)} | ${b.ok ? b.status : `**${b.status}**`} | ${b.filesVerified}/${b.payloadFiles} | ${b.payloadBytes} | ${b.encrypted ? 'yes' : 'no'} | ${b.signed ? cell(b.signingKid) : 'not signed'} | ${cell(b.attestationSeq)} | ${cell(b.createdAt)} | ${human(b.ageMs)} | ${b.verifiedAt} |`,
    ),
    ...backups.flatMap((b) => b.findings.map((f) => `- ${cell(b.bagId)}: ${f.severity} \`${cell(f.code)}\``)),
    ...backups.map(
      (b) =>
        `- ${cell(b.bagId)}: attestation sha256 ${b.attestationSha256 === null ? 'none' : `\`${cell(b.attestationSha256)}\``}${
          b.restoreTests.length === 0
            ? ''
            : `; restore tests ${b.restoreTests.map((t) => `${cell(t.name)} ${t.ok ? 'passed' : 'FAILED'}`).join(', ')}`
        }`,
    ),
  ]
}

function keysSection(k: EvidenceReport['keys']): string[] {
  if (k === null) return ['Not examined.']
  return [
    `Keyring \`${cell(k.keyring)}\`${k.sealed ? ' (sealed)' : ''}: **${k.ok ? 'ok' : 'FAILED'}**, primary ${cell(k.primary ?? 'none')}.`,
    '',
    '| key | state | created | age | wraps |',
    '| --- | --- | --- | --- | --- |',
    ...k.versions.map(
      (v) =>
        `| ${cell(v.keyRef)} | ${cell(v.state)} | ${cell(v.createdAt)} | ${human(v.ageMs)} | ${cell(v.wraps)} |`,
    ),
  ]
}

/** ` (\`detector\` n, …)`, or nothing when the total is 0. */
function byDetector(counts: Record<string, number>, total: number): string {
  if (total === 0) return ''
  return ` (${Object.entries(counts)
    .map(([d, n]) => `\`${cell(d)}\` ${n}`)
    .join(', ')})`
}

function openSection(r: NonNullable<EvidenceReport['activityReview']>): string[] {
  if (r.openFindings === undefined) return []
  const n = r.totalOpenFindings ?? 0
  return [`- Open findings (not yet acknowledged or suppressed): ${n}${byDetector(r.openFindings, n)}`]
}

function reviewSection(r: EvidenceReport['activityReview']): string[] {
  if (r === null) return ['Not examined.']
  if (!r.ran) return ['**No activity review has been recorded in the audit log.**', ...openSection(r)]
  return [
    `- Last run ${r.ranAt} (${human(r.ageMs)} before this report), recorded at seq ${r.seq}`,
    `- Reviewed records ${r.from} to ${r.through - 1} of ${r.logSize}`,
    `- Findings of that run: ${r.totalFindings}${byDetector(r.findings, r.totalFindings)}`,
    ...openSection(r),
  ]
}

function sessionSection(s: EvidenceReport['sessionPolicy']): string[] {
  if (s === null) return ['Not examined.']
  return [
    `- Default: idle ${human(s.defaults.idleTimeoutMs)}, absolute ${human(s.defaults.absoluteTimeoutMs)}`,
    ...Object.keys(s.roles)
      .sort()
      .map((r) => {
        const t = s.roles[r] as { idleTimeoutMs: number; absoluteTimeoutMs: number }
        return `- Role \`${cell(r)}\`: idle ${human(t.idleTimeoutMs)}, absolute ${human(t.absoluteTimeoutMs)}`
      }),
    `- At most ${s.maxSessionsPerUser} sessions per user, then ${cell(s.onSessionLimit)}`,
  ]
}

function passwordSection(p: EvidenceReport['passwordPolicy']): string[] {
  if (p === null) return ['Not examined.']
  return [
    `- ${cell(p.basis)}: ${p.minLength} to ${p.maxLength} characters (at most ${p.maxBytes} bytes)${p.mfa ? ', with a second factor' : ', password as the only factor'}`,
  ]
}
