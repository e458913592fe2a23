/**
 * Rendering an evidence report as Markdown for a human reviewer: the verdict, then one section
 * per check. Pure: it reads the report only.
 *
 * @module
 */
import type { EvidenceReport } from './evidence.js'

function human(ms: number | null): string {
  if (ms === null) return 'unknown'
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ]
  for (const [size, unit] of units) if (ms >= size) return `${Math.floor(ms / size)} ${unit}`
  return `${ms} ms`
}

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
    ['Encryption keys (164.312(a)(2)(iv), 164.312(e)(2)(ii))', keysSection(report.keys)],
    ['Session policy (164.312(a)(2)(iii) automatic logoff)', sessionSection(report.sessionPolicy)],
    ['Password policy (164.308(a)(5)(ii)(D))', passwordSection(report.passwordPolicy)],
    ['Activity review (164.308(a)(1)(ii)(D))', reviewSection(report.activityReview)],
  ]
  const verdict = `Generated ${report.generatedAt}. Result: **${report.ok ? 'PASS' : 'FAIL'}**${
    report.failures.length === 0 ? '' : ` (failed: ${report.failures.join(', ')})`
  }.`
  return [
    '# Safeguards evidence report',
    '',
    verdict,
    '',
    ...sections.flatMap(([heading, lines]) => [`## ${heading}`, '', ...lines, '']),
  ].join('\n')
}

function auditLogSection(a: EvidenceReport['auditLog']): string[] {
  if (a === null) return ['Not examined.']
  return [
    `- Stream \`${cell(a.stream)}\`: **${a.ok ? 'intact' : 'FAILED'}**, verified ${a.verifiedAt}`,
    `- ${a.records} records; verified through seq ${a.verifiedThroughSeq ?? 'none'}`,
    `- Checkpoints: ${a.checkpoints.verified}/${a.checkpoints.total} verified; checkpointed through seq ${
      a.checkpointedThroughSeq ?? 'none'
    }; anchored through seq ${a.anchoredThroughSeq ?? 'none'}`,
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
