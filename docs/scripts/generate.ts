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
const COVERAGE: Record<CoverageRow['coverage'], string> = {
  implements: '✅ implements',
  supports: '🟡 supports',
  'app-team': 'app team only',
  'not-applicable': 'not applicable',
}
const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/</g, '&lt;')
const apiLink = (pkg: string, api: string): string => {
  const kind = /^[A-Z]/.test(api) ? 'classes' : 'functions'
  return `[${pkg.replace('@safeguards/', '')}.${api}](../api/${pkg}/${kind}/${api}.md)`
}

const rows = coverage.rows.map((r) =>
  [
    `<span id="${r.citation.replace(/[().]/g, '-')}">${r.citation}</span>`,
    esc(r.title),
    RA[r.designation],
    r.proposed ? `proposed, not in force: ${esc(r.proposed)}` : '—',
    COVERAGE[r.coverage],
    r.nist.map((n) => `${n.control} (${n.source === 'cprt' ? 'NIST' : 'ours'})`).join(', ') || '—',
    r.apis.map((a) => apiLink(a.package, a.api)).join(', ') || '—',
    esc(r.config.join(', ')) || '—',
    esc(r.evidence.join('; ')) || '—',
    r.tests.map((t) => `\`${t}\``).join(', ') || '—',
    esc(r.appResponsibility.join(' ')),
  ].join(' | '),
)
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

- **Coverage**: *implements* means an SDK API performs the specification's technical function;
  *supports* means it helps but the app team's work is needed to meet it; *app team only* means no
  SDK API serves it; *not applicable* means it cannot apply to a software library.
- **NIST provenance**: *NIST* marks a mapping that is NIST's own (SP 800-66r2 / CPRT); *ours* is
  the maintainers' engineering judgement.
- **Proposed rule**: changes in the HHS NPRM of 6 January 2025 (90 FR 898) are proposed and
  **not in force**; the Required/Addressable column is the rule in force.

Totals: ${Object.entries(COVERAGE)
  .map(([k, label]) => `${counts[k] ?? 0} ${label.replace(/^\W+ /, '')}`)
  .join(', ')} across ${coverage.rows.length} citations.

| citation | title | R/A | proposed rule | coverage | NIST SP 800-53 | APIs | configuration | evidence | verified by | app team's responsibility |
|---|---|---|---|---|---|---|---|---|---|---|
${rows.map((r) => `| ${r} |`).join('\n')}
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
