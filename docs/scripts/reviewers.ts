/**
 * Pages for reviewers (issue 18 §3), generated from `@safeguards/controls` before VitePress builds:
 *   compliance/coverage-map.md       the 39 implementation specifications of 164.308, 164.310,
 *                                    164.312 and 164.316 as a map coloured by coverage, with a
 *                                    filter by status and by safeguard family
 *   compliance/specs/<id>.md         one page per specification: the APIs, the evidence that proves
 *                                    it (the APIs' artefacts and the evidence report's checks), the
 *                                    tests that prove the APIs, and the app team's share
 *   compliance/sample-evidence.md    a sample evidence report, judged and rendered
 *   public/evidence/sample-report.html  the same report as its self-contained HTML page
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import {
  buildEvidenceReport,
  type CoverageRow,
  compileBaseline,
  coverage,
  coverageLabel,
  designationLabel,
  displayTitle,
  type EvidenceReport,
  renderEvidenceHtml,
} from '@safeguards/controls'
import { manualClock } from '@safeguards/core'

const esc = (s: string): string =>
  s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] as string).replace(/\|/g, '\\|')
/** `164.312(a)(2)(iii)` → `164-312-a-2-iii` (a file name and an anchor). */
export const specSlug = (citation: string): string =>
  citation
    .replace(/[().]+/g, '-')
    .replace(/-+$/, '')
    .toLowerCase()
/**
 * The TypeDoc folder of an exported API: `classes` for a class, `variables` for an exported
 * `const` (a Fastify plugin is one), else `functions`. Read from the package's source, since the
 * pages are generated before TypeDoc runs.
 */
export function apiKind(pkg: string, api: string): 'classes' | 'variables' | 'functions' {
  if (/^[A-Z]/.test(api)) return 'classes'
  const src = resolve(import.meta.dirname, '../../packages', pkg.replace('@safeguards/', ''), 'src')
  const declared = new RegExp(`^export const ${api}\\b`, 'm')
  for (const f of readdirSync(src, { recursive: true, encoding: 'utf8' }))
    if (f.endsWith('.ts') && declared.test(readFileSync(join(src, f), 'utf8'))) return 'variables'
  return 'functions'
}
const apiLink = (pkg: string, api: string): string =>
  `[${pkg.replace('@safeguards/', '')}.${api}](../../api/${pkg}/${apiKind(pkg, api)}/${api}.md)`
const BADGE: Record<CoverageRow['coverage'], 'tip' | 'warning' | 'info' | 'danger'> = {
  implements: 'tip',
  supports: 'warning',
  'app-team': 'info',
  'not-applicable': 'info',
}
const FAMILIES = ['administrative', 'physical', 'technical', 'documentation'] as const
const STATUSES = [
  ['all', 'all'],
  ['implements', 'implements'],
  ['supports', 'supports'],
  ['app-team', 'app team'],
  ['not-applicable', 'not applicable'],
] as const
/** A filter button: a toggle (aria-pressed) that a keyboard reaches and presses like any button. */
const toggle = (filter: 'status' | 'family', value: string, label: string): string =>
  `<button type="button" data-filter="${filter}" data-value="${value}" :aria-pressed="String(${filter} === '${value}')" @click="${filter} = '${value}'">${label}</button>`

/** The 39 implementation specifications (R or A) of 164.308, 164.310, 164.312 and 164.316. */
export function specifications(): CoverageRow[] {
  return coverage.rows.filter(
    (r) => /^164\.3(08|10|12|16)\(/.test(r.citation) && ['required', 'addressable'].includes(r.designation),
  )
}

const DAY = 86_400_000

/** A sample report: every section present, one control failing on purpose (a 24-hour idle timeout). */
export function sampleReport(): EvidenceReport {
  const now = Date.parse('2026-11-22T12:00:00.000Z')
  const ago = (ms: number): string => new Date(now - ms).toISOString()
  return buildEvidenceReport({
    clock: manualClock(now),
    baseline: compileBaseline({
      name: 'sample-clinic',
      phiRoles: ['front_desk', 'nurse', 'physician', 'billing'],
      thresholds: {
        'backup.rpo': { value: '36h', reason: 'nightly job at 02:00; RPO agreed with the board' },
      },
    }),
    auditLog: {
      verifiedAt: new Date(now),
      report: {
        ok: true,
        stream: 'ehr',
        records: 48_210,
        checkpoints: { total: 49, verified: 49 },
        anchoredThrough: 47_999,
        checkpointedThrough: 48_209,
        findings: [],
      },
      checkpoint: {
        size: 48_210,
        root: 'mI8cVvN0oZc0x6m2WcN8JqKk0b4tq2dY1m3l0Jp7Z3s=',
        timestamp: ago(60_000),
        kid: 'ehr-log-2026',
      },
    },
    backups: [
      {
        status: 'ok',
        exitCode: 0,
        finishedAt: ago(3_600_000),
        bag: {
          bagId: 'nightly-2026-11-22',
          backupSetId: 'nightly',
          payloadFiles: 12,
          payloadBytes: 9_800_000,
          encrypted: true,
        },
        attestation: {
          verified: true,
          kid: 'backup-2026',
          seq: 311,
          createdAt: ago(10 * 3_600_000),
          sha256: '5d'.repeat(32),
        },
        findings: [],
        coverage: { filesVerified: 12, filesTotal: 12 },
        restoreTests: [{ name: 'pg_restore --list', ok: true }],
      },
    ],
    keyring: {
      name: 'patients',
      sealed: true,
      keys: [
        {
          keyRef: 'local:patients@v3',
          version: 3,
          state: 'primary',
          createdAt: now - 40 * DAY,
          usage: { wraps: 120_000n, limit: 1n << 32n },
        },
        {
          keyRef: 'local:patients@v2',
          version: 2,
          state: 'retired',
          retired: true,
          createdAt: now - 400 * DAY,
        },
      ],
    },
    sessionPolicy: {
      defaults: { idleTimeoutMs: 15 * 60_000, absoluteTimeoutMs: 12 * 3_600_000 },
      roles: { nurse: { idleTimeoutMs: DAY, absoluteTimeoutMs: DAY } },
      maxSessionsPerUser: 5,
      onSessionLimit: 'evict-oldest',
    },
    passwordPolicy: {
      minLength: 8,
      maxLength: 128,
      maxBytes: 1024,
      mfa: true,
      basis: 'NIST SP 800-63B rev 4',
      blocklist: true,
    },
    mfa: { requiredRoles: '*', declared: false, enrollment: { users: 42, enrolled: 42 } },
    activityReview: {
      ranAt: new Date(now - 2 * DAY),
      seq: 47_500,
      from: 41_000,
      through: 47_500,
      logSize: 47_500,
      findings: { 'off-hours-access': 1, 'password-spray': 1 },
    },
    openFindings: { 'off-hours-access': 1 },
    transit: [
      {
        endpoint: 'api.clinic.example:443',
        verdict: 'pass',
        acceptedProtocols: ['TLSv1.2', 'TLSv1.3'],
        reasons: [],
      },
      {
        endpoint: 'db.clinic.internal:5432',
        verdict: 'warn',
        acceptedProtocols: ['TLSv1.3'],
        reasons: ['certificate expires in 21 days'],
      },
    ],
  })
}

/** The evidence-report checks that judge each specification, from the sample report's verdicts. */
function checksBySpec(report: EvidenceReport): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const v of report.verdicts)
    for (const h of v.hipaa) {
      const name = v.check.replace(/\[.*\]$/, '')
      const list = out.get(h) ?? []
      if (!list.includes(name)) list.push(name)
      out.set(h, list)
    }
  return out
}

function specPage(r: CoverageRow, checks: readonly string[]): string {
  const items: [string, string][] = [
    ['Coverage', `<Badge type="${BADGE[r.coverage]}" text="${coverageLabel(r.coverage)}" />`],
    ['Safeguard family', r.safeguard],
    ['R/A', designationLabel(r.designation, true)],
    ['Proposed rule', r.proposed ? `not in force: ${esc(r.proposed)}` : ''],
  ]
  const list = (xs: readonly string[], none: string): string[] =>
    xs.length === 0 ? [`- ${none}`] : xs.map((x) => `- ${x}`)
  return `---
outline: false
---

# ${r.citation} ${esc(displayTitle(r))}

${items
  .filter(([, v]) => v !== '')
  .map(([k, v]) => `- **${k}**: ${v}`)
  .join('\n')}

[All specifications on the coverage map](../coverage-map.md) · [this row in the HIPAA matrix](../hipaa-matrix.md#details-${r.citation.replace(/[().]/g, '-')})

## APIs

${list(
  r.apis.map((a) => `${apiLink(a.package, a.api)} (${a.level})`),
  'None: no SDK API serves this specification.',
).join('\n')}

## Evidence that proves it

${list(r.evidence.map(esc), 'No artefact of the SDK.').join('\n')}

Checks of the evidence report (\`safeguards evidence\`) that judge it:

${list(
  checks.map((c) => `\`${c}\``),
  'none: the report marks it app team.',
).join('\n')}

## Tests that prove the APIs

${list(
  r.tests.map((t) => `\`${t}\``),
  'None.',
).join('\n')}

## The app team's share

${list(r.appResponsibility.map(esc), 'Nothing beyond using the APIs as documented.').join('\n')}
`
}

function mapPage(rows: readonly CoverageRow[]): string {
  const data = rows.map((r) => ({
    id: r.citation,
    slug: specSlug(r.citation),
    title: displayTitle(r),
    family: r.safeguard,
    status: r.coverage,
    label: coverageLabel(r.coverage),
  }))
  const count = (s: CoverageRow['coverage']): number => rows.filter((r) => r.coverage === s).length
  return `---
outline: false
aside: false
---

# Coverage map

The ${rows.length} implementation specifications of 45 CFR 164.308, 164.310, 164.312 and 164.316,
coloured by what the SDK does for each: **implements** (${count('implements')}), **supports**
(${count('supports')}), **app team** (${count('app-team')}) and **not applicable**
(${count('not-applicable')}). Each tile opens the specification's page: the APIs, the evidence that
proves it, the tests that prove the APIs and the app team's share. Generated from
\`@safeguards/controls\` coverage (SDK ${coverage.version}); see also the [HIPAA matrix](./hipaa-matrix.md)
and a [sample evidence report](./sample-evidence.md).

<script setup>
import { computed, ref } from 'vue'
const specs = ${JSON.stringify(data)}
const status = ref('all')
const family = ref('all')
const shown = computed(() => specs.filter((s) => (status.value === 'all' || s.status === status.value) && (family.value === 'all' || s.family === family.value)))
</script>

<div class="cmap-filters">
<div class="cmap-group" role="group" aria-label="Filter by status"><span class="cmap-label">Status</span>${STATUSES.map(([v, l]) => toggle('status', v, l)).join('')}</div>
<div class="cmap-group" role="group" aria-label="Filter by safeguard family"><span class="cmap-label">Family</span>${['all', ...FAMILIES].map((f) => toggle('family', f, f)).join('')}</div>
<span class="cmap-count" data-count role="status" aria-live="polite">{{ shown.length }} of ${rows.length}</span>
</div>
<div class="cmap">
<a v-for="s in shown" :key="s.id" :class="['cmap-tile', 'cmap-' + s.status]" :href="'specs/' + s.slug + '.html'" :data-status="s.status" :data-family="s.family"><strong>{{ s.id }}</strong><span>{{ s.title }}</span><em>{{ s.label }} · {{ s.family }}</em></a>
</div>

<style>
.cmap-filters { display: flex; flex-direction: column; align-items: flex-start; gap: 0.5rem; margin: 1rem 0; }
.cmap-group { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem; }
.cmap-label { font-weight: 600; min-width: 4.5em; }
.cmap-group button { border: 1px solid var(--vp-c-divider); border-radius: 14px; padding: 0 0.75rem; font-size: 14px; line-height: 26px; background: var(--vp-c-bg); color: var(--vp-c-text-1); cursor: pointer; }
.cmap-group button:focus-visible { outline: 2px solid var(--vp-c-brand-1); outline-offset: 2px; }
.cmap-group button[aria-pressed="true"] { background: var(--vp-c-brand-1); border-color: var(--vp-c-brand-1); color: var(--vp-c-white); }
.cmap { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: 0.5rem; }
.vp-doc a.cmap-tile { display: flex; flex-direction: column; gap: 0.2rem; padding: 0.5rem 0.6rem; border-radius: 6px; border: 1px solid transparent; text-decoration: none; color: var(--vp-c-text-1); font-size: 13px; line-height: 1.3; min-width: 0; overflow-wrap: anywhere; }
.vp-doc a.cmap-tile em { font-style: normal; font-size: 12px; color: var(--vp-c-text-2); }
.cmap-implements { background: var(--vp-c-tip-soft); border-color: var(--vp-c-tip-1) !important; }
.cmap-supports { background: var(--vp-c-warning-soft); border-color: var(--vp-c-warning-1) !important; }
.cmap-app-team { background: var(--vp-c-default-soft); border-color: var(--vp-c-divider) !important; }
.cmap-not-applicable { background: var(--vp-c-bg-soft); border-style: dashed !important; border-color: var(--vp-c-divider) !important; }
</style>
`
}

function samplePage(report: EvidenceReport): string {
  const order = ['not met', 'partly met', 'met']
  const sorted = [...report.verdicts].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status))
  const type = { met: 'tip', 'partly met': 'warning', 'not met': 'danger' } as const
  return `---
outline: [2, 2]
---

# Sample evidence report

What \`safeguards evidence\` (or \`buildEvidenceReport\`) produces, judged against a baseline: here
a sample clinic with one control failing on purpose, the nurses' 24-hour idle timeout. Generated
from \`@safeguards/controls\` at build time with fixed inputs. The same report as the command writes
it, one HTML page readable offline with its chart: <a href="/evidence/sample-report.html" target="_self">sample-report.html</a>.

Result: **${report.ok ? 'PASS' : 'FAIL'}**${report.failures.length === 0 ? '' : ` (not met: ${report.failures.join(', ')})`}.
Baseline \`${esc(report.baseline.name)}\`; roles with PHI access: ${report.baseline.phiRoles === '*' ? 'every role' : report.baseline.phiRoles.join(', ')}.
${report.baseline.adjustments.map((a) => `Threshold \`${a.id}\` ${a.direction} from ${a.from} to ${a.to}: ${esc(a.reason)}.`).join('\n')}

## Summary per safeguard family

| family | met | partly met | not met | app team |
|---|---|---|---|---|
${Object.entries(report.summary)
  .map(([f, c]) => `| ${f} | ${c.met} | ${c.partlyMet} | ${c.notMet} | ${c.appTeam} |`)
  .join('\n')}

## Verdicts

${sorted
  .map(
    (v) =>
      `- <Badge type="${type[v.status]}" text="${v.status}" /> **${v.hipaa.join(', ')}** \`${esc(v.check)}\`: ${v.basis === 'declared' ? '*declared* ' : ''}${esc(v.measured)}. Threshold: ${esc(v.threshold)} (${esc(v.source)}).${v.remediation ? ` **Fix:** ${esc(v.remediation)}` : ''}`,
  )
  .join('\n')}

## The state it judged

- Audit log \`${report.auditLog?.stream}\`: size ${report.auditLog?.checkpoint?.size}, root \`${report.auditLog?.checkpoint?.root}\`, from a checkpoint verified with key \`${report.auditLog?.checkpoint?.kid}\`.
${report.backups.map((b) => `- Bag \`${b.bagId}\`: attestation sha256 \`${b.attestationSha256}\`.`).join('\n')}
`
}

/** Writes the reviewer pages; returns how many specification pages it wrote. */
export function writeReviewerPages(docs: string): number {
  const rows = specifications()
  const report = sampleReport()
  const checks = checksBySpec(report)
  const specDir = resolve(docs, 'compliance/specs')
  rmSync(specDir, { recursive: true, force: true })
  mkdirSync(specDir, { recursive: true })
  for (const r of rows)
    writeFileSync(resolve(specDir, `${specSlug(r.citation)}.md`), specPage(r, checks.get(r.citation) ?? []))
  writeFileSync(resolve(docs, 'compliance/coverage-map.md'), mapPage(rows))
  writeFileSync(resolve(docs, 'compliance/sample-evidence.md'), samplePage(report))
  mkdirSync(resolve(docs, 'public/evidence'), { recursive: true })
  writeFileSync(resolve(docs, 'public/evidence/sample-report.html'), renderEvidenceHtml(report))
  return rows.length
}
