/**
 * The HIPAA sections of the package READMEs, of their docs-site pages and the HIPAA column of the
 * root README's package table, rendered from the coverage document (never written by hand).
 * `tools/generate.ts` rewrites them between markers; the tests compare the committed text with a
 * fresh rendering.
 */
import type { CoverageDocument, CoverageRow } from '../src/coverage.ts'
import { designationLabel, displayTitle, provenanceLabel } from '../src/labels.ts'

/** Opens the generated HIPAA block of a README or docs page. */
export const HIPAA_BEGIN = '<!-- hipaa:begin -->'
/** Closes it. */
export const HIPAA_END = '<!-- hipaa:end -->'
/** Open and close the package table of the root README, whose HIPAA column is generated. */
export const PACKAGES_BEGIN = '<!-- packages:begin -->'
export const PACKAGES_END = '<!-- packages:end -->'

const NOTE =
  '<!-- generated from the control tags by `pnpm --filter @safeguards/controls generate`; do not edit by hand -->'

const cell = (s: string): string => s.replace(/\|/g, '\\|')

/** The rows a package serves, with its own level (`implements` if any of its APIs implements). */
function packageRows(
  coverage: CoverageDocument,
  pkg: string,
): { row: CoverageRow; level: string; apis: string[]; apiCell: string }[] {
  const out: { row: CoverageRow; level: string; apis: string[]; apiCell: string }[] = []
  for (const row of coverage.rows) {
    const mine = row.apis.filter((a) => a.package === pkg).sort((a, b) => a.api.localeCompare(b.api))
    if (mine.length === 0) continue
    const mixed = new Set(mine.map((a) => a.level)).size > 1
    out.push({
      row,
      level: mine.some((a) => a.level === 'implements') ? 'implements' : 'supports',
      apis: mine.map((a) => a.api),
      // When the package's APIs serve the paragraph at different levels, say which does what.
      apiCell: mine.map((a) => `\`${a.api}\`${mixed ? ` (${a.level})` : ''}`).join(', '),
    })
  }
  return out
}

/** Links from a generated block to the docs site's compliance pages (relative to the page). */
export interface DocsLinks {
  matrix: string
  pairs: string
}

/**
 * The generated HIPAA block of one package (markers included). `links` point to the docs site's
 * compliance pages; without them (READMEs) the text names the pages and the CLI.
 */
export function renderPackageHipaa(coverage: CoverageDocument, pkg: string, links?: DocsLinks): string {
  const matrix = links
    ? `[HIPAA matrix](${links.matrix})`
    : 'HIPAA matrix (`safeguards controls`, or the docs site)'
  const pairsPage = links
    ? `[SP 800-53 pairs](${links.pairs}) page`
    : 'docs site’s SP 800-53 pairs page and in `safeguards controls --json`'
  const rows = packageRows(coverage, pkg)
  const short = pkg.replace('@safeguards/', '')
  const body: string[] = []
  if (rows.length === 0) {
    body.push(
      `No API of \`${pkg}\` carries control tags: it claims no HIPAA paragraph of its own. The packages it`,
      `serves carry their own tables, and the ${matrix} lists every paragraph.`,
    )
  } else {
    body.push(
      '| paragraph | R/A | this package | APIs | NIST SP 800-53 Rev. 5 |',
      '| --- | --- | --- | --- | --- |',
      ...rows.map(({ row, level, apis, apiCell }) => {
        const pairs = row.nist
          .filter((n) => apis.some((api) => n.apis.includes(`${short}.${api}`)))
          .map((n) => `${n.control} (${provenanceLabel(n.source)})`)
        return `| ${cell(`${row.citation} ${displayTitle(row)}`)} | ${cell(designationLabel(row.designation))} | ${level} | ${apiCell} | ${pairs.join(', ') || '—'} |`
      }),
      '',
      '*implements*: the API performs the specification’s technical function on its own. *supports*: it',
      'helps, and the specification is met only with your own work. (NIST) marks a pair in NIST’s own',
      'mapping (SP 800-66r2); (ours) is the maintainers’ judgement, with its one-line rationale on the',
      `${pairsPage}.`,
    )
    const duties = [
      ...new Set(coverage.apis.filter((a) => a.package === pkg).flatMap((a) => a.tags.appResponsibility)),
    ].sort()
    if (duties.length > 0) body.push('', '**Stays your job:**', '', ...duties.map((d) => `- ${d}`))
  }
  return [HIPAA_BEGIN, NOTE, '', ...body, HIPAA_END].join('\n')
}

/** The text between (and including) two markers, or `null` when they are missing or out of order. */
export function extractBlock(text: string, begin: string, end: string): string | null {
  const i = text.indexOf(begin)
  const j = text.indexOf(end)
  if (i < 0 || j < i || text.indexOf(begin, i + 1) >= 0) return null
  return text.slice(i, j + end.length)
}

/** `text` with the block between the markers replaced by `block` (which carries the markers). */
export function replaceBlock(text: string, begin: string, end: string, block: string): string {
  const current = extractBlock(text, begin, end)
  if (current === null) throw new Error(`missing or repeated ${begin} … ${end}`)
  return text.replace(current, () => block)
}

/** The HIPAA cell of a package's row in the root README. */
export function renderPackageCell(coverage: CoverageDocument, pkg: string): string {
  const rows = packageRows(coverage, pkg)
  if (rows.length === 0) return 'none of its own (no control tags)'
  const list = (level: string): string =>
    rows
      .filter((r) => r.level === level)
      .map((r) => r.row.citation)
      .join(', ')
  return [
    list('implements') && `implements ${list('implements')}`,
    list('supports') && `supports ${list('supports')}`,
  ]
    .filter(Boolean)
    .join('; ')
}

/** The root README with the HIPAA column of its package table regenerated. */
export function rewriteRootTable(text: string, coverage: CoverageDocument): string {
  const block = extractBlock(text, PACKAGES_BEGIN, PACKAGES_END)
  if (block === null) throw new Error(`missing ${PACKAGES_BEGIN} … ${PACKAGES_END}`)
  const lines = block.split('\n')
  const header = lines.find((l) => l.startsWith('| package |'))
  const col = header
    ?.split(' | ')
    .map((c) => c.replace(/^\| |\s\|$/g, ''))
    .indexOf('HIPAA safeguard')
  if (col === undefined || col < 0) throw new Error('the package table has no "HIPAA safeguard" column')
  const next = lines.map((line) => {
    const pkg = /^\| \[`(@safeguards\/[a-z0-9-]+)`\]/.exec(line)?.[1]
    if (!pkg) return line
    const cells = line.slice(2, -2).split(' | ')
    cells[col] = renderPackageCell(coverage, pkg)
    return `| ${cells.join(' | ')} |`
  })
  return text.replace(block, () => next.join('\n'))
}
