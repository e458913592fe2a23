/**
 * Rendering an evidence report as one self-contained HTML page: inline CSS, an inline SVG chart of
 * the verdicts per safeguard family, no script and no external resource (a Content-Security-Policy
 * of `default-src 'none'` says so to the browser), so the page reads the same offline and in an
 * archive years later. Pure: it reads the report only; every value is HTML-escaped.
 *
 * @module
 */
import type { EvidenceReport } from './evidence.js'
import type { VerdictCounts, VerdictStatus } from './evidence-judge.js'
import { human } from './internal/human.js'

const esc = (v: unknown): string =>
  String(v ?? '-').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )

const COLOURS: Readonly<Record<VerdictStatus, string>> = {
  met: '#1b7f3b',
  'partly met': '#b36b00',
  'not met': '#b3261e',
  'app team': '#6b7280',
}
const STATUSES: readonly VerdictStatus[] = ['met', 'partly met', 'not met', 'app team']
const COUNT_KEY: Readonly<Record<VerdictStatus, keyof VerdictCounts>> = {
  met: 'met',
  'partly met': 'partlyMet',
  'not met': 'notMet',
  'app team': 'appTeam',
}

const CSS = `
:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.45;color:#111827}
body{margin:0 auto;max-width:72rem;padding:1.5rem}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.2rem;margin:2rem 0 .5rem;border-bottom:1px solid #e5e7eb}
.result{font-size:1.1rem;font-weight:600;padding:.5rem .75rem;border-radius:.375rem;display:inline-block}
.pass{background:#e7f5ec;color:#1b7f3b}.fail{background:#fbeaea;color:#b3261e}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.875rem}
th,td{border:1px solid #e5e7eb;padding:.35rem .5rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f9fafb}
.s{font-weight:600;white-space:nowrap}
.s-met{color:#1b7f3b}.s-partly-met{color:#b36b00}.s-not-met{color:#b3261e}.s-app-team{color:#6b7280}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em;overflow-wrap:break-word}
.legend span{display:inline-block;margin-right:1rem}.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-.1rem}
@media print{.scroll{overflow:visible}}
`

/** A horizontal stacked bar per family, with the counts written on and beside the bars. */
function chart(summary: EvidenceReport['summary']): string {
  const families = Object.entries(summary)
  const width = 640
  const label = 120
  const bar = width - label - 60
  const row = 34
  const parts = families.map(([family, c], i) => {
    const total = STATUSES.reduce((n, s) => n + c[COUNT_KEY[s]], 0)
    let x = label
    const y = 10 + i * row
    const rects = STATUSES.map((s) => {
      const n = c[COUNT_KEY[s]]
      const w = total === 0 ? 0 : (n / total) * bar
      const r =
        n === 0
          ? ''
          : `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="22" fill="${COLOURS[s]}"><title>${esc(
              `${family}: ${n} ${s}`,
            )}</title></rect>${
              w >= 18
                ? `<text x="${(x + w / 2).toFixed(1)}" y="${y + 15}" text-anchor="middle" fill="#fff" font-size="12">${n}</text>`
                : ''
            }`
      x += w
      return r
    }).join('')
    return `<text x="0" y="${y + 15}" font-size="13">${esc(family)}</text>${rects}<text x="${label + bar + 6}" y="${y + 15}" font-size="12">${total}</text>`
  })
  const height = 10 + families.length * row
  const aria = families
    .map(
      ([f, c]) => `${f}: ${c.met} met, ${c.partlyMet} partly met, ${c.notMet} not met, ${c.appTeam} app team`,
    )
    .join('; ')
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(aria)}" viewBox="0 0 ${width} ${height}" width="100%" style="max-width:${width}px">${parts.join('')}</svg>
<p class="legend">${STATUSES.map((s) => `<span><i style="background:${COLOURS[s]}"></i>${s}</span>`).join('')}</p>`
}

const statusCell = (s: VerdictStatus): string => `<td class="s s-${s.replace(' ', '-')}">${esc(s)}</td>`

function table(head: readonly string[], rows: readonly string[]): string {
  return `<div class="scroll"><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`
}

/**
 * Renders the report as a single self-contained HTML page (inline CSS, an inline SVG chart of the
 * verdicts per safeguard family, no script, no external resource), readable offline.
 *
 * HIPAA: 164.316(b)(1) documentation; 164.308(a)(8) evaluation (the verdicts, readable by a reviewer).
 *
 * @hipaa 164.316(b)(1) supports
 * @evidence the evidence report as one offline HTML page with a chart of the verdicts
 * @verifiedBy packages/controls/test/evidence-judge.test.ts
 * @throws never.
 * @example
 * ```ts
 * writeFileSync('evidence.html', renderEvidenceHtml(report))
 * ```
 */
export function renderEvidenceHtml(report: EvidenceReport): string {
  const body = [
    '<h1>Safeguards evidence report</h1>',
    `<p>Generated <time>${esc(report.generatedAt)}</time> against baseline <code>${esc(report.baseline.name)}</code> (sha256 <code>${esc(report.baseline.hash)}</code>).</p>`,
    `<p class="result ${report.ok ? 'pass' : 'fail'}">${report.ok ? 'PASS: nothing is not met' : `FAIL: not met in ${esc(report.failures.join(', '))}`}</p>`,
    ...summarySection(report),
    ...verdictsSection(report),
    ...specificationsSection(report),
    ...stateSection(report),
    ...baselineSection(report),
  ].join('\n')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Safeguards evidence report ${esc(report.generatedAt)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
</body>
</html>
`
}

/** The summary per safeguard family: the chart and its table. */
function summarySection(report: EvidenceReport): string[] {
  return [
    '<h2>Summary per safeguard family</h2>',
    chart(report.summary),
    table(
      ['family', 'met', 'partly met', 'not met', 'app team'],
      Object.entries(report.summary).map(
        ([f, c]) =>
          `<tr><td>${esc(f)}</td><td>${c.met}</td><td>${c.partlyMet}</td><td>${c.notMet}</td><td>${c.appTeam}</td></tr>`,
      ),
    ),
  ]
}

/** The verdicts, not met first. */
function verdictsSection(report: EvidenceReport): string[] {
  const order: readonly VerdictStatus[] = ['not met', 'partly met', 'met']
  const verdicts = [...report.verdicts].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status))
  return [
    '<h2>Verdicts</h2>',
    verdicts.length === 0
      ? '<p>Nothing was examined.</p>'
      : table(
          ['verdict', 'HIPAA', 'check', 'measured', 'threshold', 'source', 'remediation'],
          verdicts.map(
            (v) =>
              `<tr>${statusCell(v.status)}<td>${esc(v.hipaa.join(', '))}</td><td><code>${esc(v.check)}</code></td><td>${v.basis === 'declared' ? '<em>declared</em>: ' : ''}${esc(v.measured)}</td><td>${esc(v.threshold)}</td><td>${esc(v.source)}</td><td>${esc(v.remediation || '-')}</td></tr>`,
          ),
        ),
  ]
}

/** The HIPAA specifications with their status and checks. */
function specificationsSection(report: EvidenceReport): string[] {
  return [
    '<h2>HIPAA specifications</h2>',
    table(
      ['specification', 'title', 'family', 'status', 'checks'],
      report.specifications.map(
        (s) =>
          `<tr><td>${esc(s.hipaa)}</td><td>${esc(s.title)}</td><td>${esc(s.family)}</td>${statusCell(s.status)}<td>${s.checks.length === 0 ? 'evidence from the app team' : s.checks.map((c) => `<code>${esc(c)}</code>`).join(' ')}</td></tr>`,
      ),
    ),
  ]
}

/** The state judged: the audit log, the backups, the keyring. */
function stateSection(report: EvidenceReport): string[] {
  const a = report.auditLog
  return [
    '<h2>State judged</h2>',
    '<ul>',
    a === null
      ? '<li>Audit log: not examined.</li>'
      : `<li>Audit log <code>${esc(a.stream)}</code>: ${a.records} records, ${a.ok ? 'intact' : '<strong>FAILED</strong>'}; ${
          a.checkpoint === null
            ? 'no checkpoint verified with a trusted key'
            : `size ${a.checkpoint.size}, root <code>${esc(a.checkpoint.root)}</code> (checkpoint of ${esc(a.checkpoint.timestamp)}, key <code>${esc(a.checkpoint.kid)}</code>)`
        }.</li>`,
    ...report.backups.map(
      (b) =>
        `<li>Bag <code>${esc(b.bagId)}</code>: ${esc(b.status)}, ${b.signed ? `signed by <code>${esc(b.signingKid)}</code>` : 'not signed'}, age ${esc(human(b.ageMs))}, attestation sha256 <code>${esc(b.attestationSha256)}</code>.</li>`,
    ),
    report.keys === null
      ? '<li>Keys: not examined.</li>'
      : `<li>Keyring <code>${esc(report.keys.keyring)}</code>: ${report.keys.versions
          .map(
            (v) =>
              `<code>${esc(v.keyRef)}</code> ${esc(v.state)}, ${v.ageMs === null ? 'age unknown' : esc(human(v.ageMs))}`,
          )
          .join('; ')}.</li>`,
    '</ul>',
  ]
}

/** The thresholds the baseline changed, with the reasons. */
function baselineSection(report: EvidenceReport): string[] {
  return [
    '<h2>Baseline changes</h2>',
    report.baseline.adjustments.length === 0
      ? '<p>Every threshold is at its source value.</p>'
      : table(
          ['threshold', 'source value', 'in force', 'change', 'reason'],
          report.baseline.adjustments.map(
            (x) =>
              `<tr><td><code>${esc(x.id)}</code></td><td>${esc(x.from)}</td><td>${esc(x.to)}</td><td>${esc(x.direction)}</td><td>${esc(x.reason)}</td></tr>`,
          ),
        ),
  ]
}
