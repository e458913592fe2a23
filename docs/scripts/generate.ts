/**
 * Generates the docs pages that come from data, before VitePress builds:
 *   compliance/hipaa-matrix.md   from @safeguards/controls coverage (never written by hand)
 *   compliance/oscal-download.md the OSCAL download link and its sha256
 *   public/oscal/component-definition.json
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { type CoverageRow, coverage } from '@safeguards/controls'

const docs = resolve(import.meta.dirname, '..')
const controlsDir = resolve(docs, '../packages/controls')

const RA: Record<CoverageRow['designation'], string> = {
  required: 'Required',
  addressable: 'Addressable',
  standard: 'Standard',
  'standard-required': 'Standard (Required)',
}
// Coverage as the default theme's <Badge> (CSS only: no emoji, which render as empty boxes where
// the reader has no emoji font).
const COVERAGE: Record<CoverageRow['coverage'], { label: string; badge: 'tip' | 'warning' | 'info' }> = {
  implements: { label: 'implements', badge: 'tip' },
  supports: { label: 'supports', badge: 'warning' },
  'app-team': { label: 'app team only', badge: 'info' },
  'not-applicable': { label: 'not applicable', badge: 'info' },
}
const badge = (c: CoverageRow['coverage']): string =>
  `<Badge type="${COVERAGE[c].badge}" text="${COVERAGE[c].label}" />`
const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/</g, '&lt;')
const apiLink = (pkg: string, api: string): string => {
  const kind = /^[A-Z]/.test(api) ? 'classes' : 'functions'
  return `[${pkg.replace('@safeguards/', '')}.${api}](../api/${pkg}/${kind}/${api}.md)`
}
const anchor = (citation: string): string => citation.replace(/[().]/g, '-')

// The table keeps the five columns a reader scans; everything else about a citation is in its
// section below, so the table fits the page and its rows stay one or two lines high.
const rows = coverage.rows.map((r) =>
  [
    `<span id="${anchor(r.citation)}">[${r.citation}](#details-${anchor(r.citation)})</span>`,
    esc(r.title),
    RA[r.designation] + (r.proposed ? ' (NPRM)' : ''),
    badge(r.coverage),
    r.apis.map((a) => apiLink(a.package, a.api)).join(', ') || '—',
  ].join(' | '),
)
const details = coverage.rows.map((r) => {
  const items: [string, string][] = [
    ['Coverage', badge(r.coverage)],
    ['Required/Addressable', RA[r.designation]],
    ['Proposed rule', r.proposed ? `not in force: ${esc(r.proposed)}` : ''],
    [
      'NIST SP 800-53',
      r.nist.map((n) => `${n.control} (${n.source === 'cprt' ? 'NIST' : 'ours'})`).join(', '),
    ],
    ['APIs', r.apis.map((a) => apiLink(a.package, a.api)).join(', ')],
    ['Configuration', esc(r.config.join('; '))],
    ['Evidence', esc(r.evidence.join('; '))],
    ['Verified by', r.tests.map((t) => `\`${t}\``).join(', ')],
    ["App team's responsibility", esc(r.appResponsibility.join(' '))],
  ]
  return [
    `### ${r.citation} ${esc(r.title)} {#details-${anchor(r.citation)}}`,
    '',
    ...items.filter(([, v]) => v !== '').map(([k, v]) => `- **${k}**: ${v}`),
  ].join('\n')
})
const counts = coverage.rows.reduce<Record<string, number>>((acc, r) => {
  acc[r.coverage] = (acc[r.coverage] ?? 0) + 1
  return acc
}, {})

const matrix = `---
outline: false
aside: false
pageClass: wide
---

# HIPAA matrix

Generated from \`@safeguards/controls\` coverage (SDK ${coverage.version}), which the build derives
from the TSDoc control tags on every export. Do not edit this page by hand.

- **Coverage**: ${badge('implements')} means an SDK API performs the specification's technical
  function; ${badge('supports')} means it helps but the app team's work is needed to meet it;
  ${badge('app-team')} means no SDK API serves it; ${badge('not-applicable')} means it cannot apply
  to a software library.
- **NIST provenance** (in each citation's section): *NIST* marks a mapping that is NIST's own
  (SP 800-66r2 / CPRT); *ours* is the maintainers' engineering judgement.
- **Proposed rule**: *(NPRM)* marks a specification that the HHS NPRM of 6 January 2025 (90 FR 898)
  would change; those changes are proposed and **not in force**, and the Required/Addressable
  column is the rule in force.

Totals: ${(Object.keys(COVERAGE) as CoverageRow['coverage'][])
  .map((k) => `${counts[k] ?? 0} ${COVERAGE[k].label}`)
  .join(', ')} across ${coverage.rows.length} citations. Each citation links to its section: NIST
SP 800-53 controls, configuration, evidence, the tests that verify it and the app team's part.

<div class="matrix">

| citation | title | R/A | coverage | APIs |
|---|---|---|---|---|
${rows.map((r) => `| ${r} |`).join('\n')}

</div>

## Citations

${details.join('\n\n')}
`
mkdirSync(resolve(docs, 'compliance'), { recursive: true })
writeFileSync(resolve(docs, 'compliance/hipaa-matrix.md'), matrix)

const oscal = readFileSync(resolve(controlsDir, 'oscal/component-definition.json'))
mkdirSync(resolve(docs, 'public/oscal'), { recursive: true })
writeFileSync(resolve(docs, 'public/oscal/component-definition.json'), oscal)
const sha = createHash('sha256').update(oscal).digest('hex')
writeFileSync(
  resolve(docs, 'compliance/oscal-download.md'),
  `Download: <a href="/oscal/component-definition.json" download>component-definition.json</a> (${oscal.length} bytes)\n\nsha256: \`${sha}\`\n`,
)
console.error(`docs: matrix with ${coverage.rows.length} citations, OSCAL ${sha.slice(0, 12)}…`)
