/**
 * Generates the docs pages that come from data, before VitePress builds:
 *   compliance/hipaa-matrix.md   from @safeguards/controls coverage (never written by hand)
 *   compliance/nist-pairs.md     the SP 800-53 pairs the SDK claims, with provenance and rationale,
 *                                and NIST's own mapping (SP 800-66r2) for every paragraph
 *   compliance/oscal-download.md the OSCAL download link and its sha256
 *   public/oscal/component-definition.json
 *   the reviewer pages: coverage map, one page per specification, sample evidence report (reviewers.ts)
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  type CoverageRow,
  coverage,
  coverageLabel,
  coverageStatuses,
  designationLabel,
  displayTitle,
  nistControls,
  nistPairsSource,
  provenanceLabel,
} from '@safeguards/controls'
import { apiKind, writeReviewerPages } from './reviewers.ts'

const docs = resolve(import.meta.dirname, '..')
const controlsDir = resolve(docs, '../packages/controls')
const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/</g, '&lt;')
const anchor = (citation: string, control: string): string =>
  `${citation}-${control}`.replace(/[().]/g, '-').toLowerCase()
const apiLink = (pkg: string, api: string): string =>
  `[${pkg.replace('@safeguards/', '')}.${api}](../api/${pkg}/${apiKind(pkg, api)}/${api}.md)`

// Coverage as the default theme's <Badge> (CSS only: no emoji, which render as empty boxes where
// the reader has no emoji font).
const BADGE: Record<CoverageRow['coverage'], 'tip' | 'warning' | 'info'> = {
  implements: 'tip',
  supports: 'warning',
  'app-team': 'info',
  'not-applicable': 'info',
}
const badge = (c: CoverageRow['coverage']): string =>
  `<Badge type="${BADGE[c]}" text="${coverageLabel(c)}" />`
const citationId = (citation: string): string => citation.replace(/[().]/g, '-')

// A row lists at most TABLE_APIS APIs; the rest are in the citation's section, so a paragraph that
// many APIs serve (164.312(a)(2)(iv) has a dozen) keeps its row a few lines high.
const TABLE_APIS = 6
const tableApis = (r: CoverageRow): string => {
  const links = r.apis.slice(0, TABLE_APIS).map((a) => apiLink(a.package, a.api))
  const rest = r.apis.length - TABLE_APIS
  if (rest > 0) links.push(`[and ${rest} more](#details-${citationId(r.citation)})`)
  return links.join(', ') || '—'
}

// The table keeps the five columns a reader scans; everything else about a citation is in its
// section below, so the table fits the page and its rows stay a few lines high.
const rows = coverage.rows.map((r) =>
  [
    `<span id="${citationId(r.citation)}">[${r.citation}](#details-${citationId(r.citation)})</span>`,
    esc(displayTitle(r)),
    designationLabel(r.designation, true) + (r.proposed ? ' (NPRM)' : ''),
    badge(r.coverage),
    tableApis(r),
  ].join(' | '),
)
const details = coverage.rows.map((r) => {
  const items: [string, string][] = [
    ['Coverage', badge(r.coverage)],
    ['R/A', designationLabel(r.designation, true)],
    ['Proposed rule', r.proposed ? `not in force: ${esc(r.proposed)}` : ''],
    [
      'NIST SP 800-53',
      r.nist
        .map(
          (n) =>
            `[${n.control}](./nist-pairs.md#${anchor(r.citation, n.control)}) (${provenanceLabel(n.source)})`,
        )
        .join(', '),
    ],
    ['APIs', r.apis.map((a) => apiLink(a.package, a.api)).join(', ')],
    ['Configuration', esc(r.config.join('; '))],
    ['Evidence', esc(r.evidence.join('; '))],
    ['Verified by', r.tests.map((t) => `\`${t}\``).join(', ')],
    ["App team's responsibility", esc(r.appResponsibility.join(' '))],
  ]
  return [
    `### ${r.citation} ${esc(displayTitle(r))} {#details-${citationId(r.citation)}}`,
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
  function on its own; ${badge('supports')} means it helps but the app team's work is needed to
  meet it; ${badge('app-team')} means no SDK API serves it; ${badge('not-applicable')} means it
  cannot apply to a software library.
- **NIST provenance** (in each citation's section), per (paragraph, control) pair: *NIST* marks a
  pair in NIST's own mapping (SP 800-66r2 in CPRT, recorded in the repository); *ours* is the
  maintainers' engineering judgement, each with a one-line rationale on the
  [SP 800-53 pairs](./nist-pairs.md) page.
- **R/A**: Required/Addressable per §164.306(d) for implementation specifications;
  §164.308(b)(2) is a provision of a standard and §164.502(b) a Privacy Rule standard, neither of
  which has an R/A label. *[no heading]* marks a paragraph the regulation gives no heading.
- **Proposed rule**: *(NPRM)* marks a specification that the HHS NPRM of 6 January 2025
  (90 FR 898) would change; those changes are proposed and **not in force**, and the R/A column is
  the rule in force.

Totals: ${coverageStatuses.map((k) => `${counts[k] ?? 0} ${coverageLabel(k)}`).join(', ')} across ${coverage.rows.length} citations.
Each citation links to its section: NIST SP 800-53 controls, configuration, evidence, the tests
that verify it and the app team's part.

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

const claimed = coverage.rows.flatMap((r) => r.nist.map((n) => ({ r, n })))
const own = claimed.filter(({ n }) => n.source === 'cprt').length
const pairs = `---
outline: false
aside: false
pageClass: wide
---

# SP 800-53 pairs

Generated from \`@safeguards/controls\` coverage (SDK ${coverage.version}). Do not edit this page by hand.

Every NIST SP 800-53 Rev. 5 control the SDK claims is claimed for one HIPAA paragraph: a
(paragraph, control) pair. A pair is **NIST's own** only when NIST's mapping relates that
paragraph to that control: NIST SP 800-66 Rev. 2 in the Cybersecurity and Privacy Reference Tool
(${esc(nistPairsSource.dataset.split(':')[0] as string)}, export \`${nistPairsSource.export}\`, ${nistPairsSource.exportDate}),
recorded with its provenance in \`packages/controls/data/nist-sp800-66r2.json\`. Every other pair
is the maintainers' **engineering judgement** and carries its one-line rationale. A test fails when
the published OSCAL labels a pair NIST's own that is not in the recorded table.

${claimed.length} pairs: ${own} NIST's own, ${claimed.length - own} engineering judgement.

## Pairs the SDK claims

| paragraph | control | provenance | rationale | APIs |
|---|---|---|---|---|
${claimed
  .map(
    ({ r, n }) =>
      `| ${r.citation} ${esc(displayTitle(r))} | <span id="${anchor(r.citation, n.control)}">${n.control}</span> ${esc(n.title)} | ${n.source === 'cprt' ? "NIST's own" : 'engineering judgement'} | ${esc(n.rationale.join('; ')) || '—'} | ${n.apis.join(', ')} |`,
  )
  .join('\n')}

## NIST's own mapping, every paragraph

The reference: for each paragraph of the catalog, the SP 800-53 controls NIST relates to it
(key activities are attributed to the standard they are listed under; see the data file's README).

| paragraph | NIST SP 800-53 Rev. 5 controls |
|---|---|
${coverage.rows
  .map(
    (r) =>
      `| ${r.citation} ${esc(displayTitle(r))} | ${r.nistReference.map((c) => `${c} ${esc(nistControls[c] ?? '')}`).join('; ') || "— (none in NIST's mapping)"} |`,
  )
  .join('\n')}
`
writeFileSync(resolve(docs, 'compliance/nist-pairs.md'), pairs)

const oscal = readFileSync(resolve(controlsDir, 'oscal/component-definition.json'))
mkdirSync(resolve(docs, 'public/oscal'), { recursive: true })
writeFileSync(resolve(docs, 'public/oscal/component-definition.json'), oscal)
const sha = createHash('sha256').update(oscal).digest('hex')
writeFileSync(
  resolve(docs, 'compliance/oscal-download.md'),
  `Download: <a href="/oscal/component-definition.json" download>component-definition.json</a> (${oscal.length} bytes)\n\nsha256: \`${sha}\`\n`,
)
const specPages = writeReviewerPages(docs)
console.error(`docs: coverage map with ${specPages} specification pages, sample evidence report`)
console.error(`docs: matrix with ${coverage.rows.length} citations, OSCAL ${sha.slice(0, 12)}…`)
