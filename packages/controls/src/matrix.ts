/**
 * Renders the HIPAA matrix from the coverage document, as aligned text for terminals or as
 * Markdown for the docs site. Never written by hand.
 *
 * @module
 */
import type { CoverageDocument } from './coverage.js'
import { coverageLabel, coverageStatuses, designationLabel, displayTitle, provenanceLabel } from './labels.js'

/** Output format of {@link renderMatrix}. */
export type MatrixFormat = 'text' | 'markdown'

/**
 * Renders the matrix.
 *
 * HIPAA: supports 164.316(b)(1) documentation and 164.308(a)(8) evaluation.
 *
 * @example
 * ```ts
 * process.stdout.write(renderMatrix(coverage, 'text'))
 * ```
 */
export function renderMatrix(coverage: CoverageDocument, format: MatrixFormat = 'text'): string {
  const header = [
    'citation',
    'title',
    'R/A',
    'proposed rule',
    'coverage',
    'NIST SP 800-53 (provenance)',
    'APIs',
  ]
  const rows = coverage.rows.map((r) => [
    r.citation,
    displayTitle(r),
    designationLabel(r.designation),
    r.proposed ? 'changes proposed (not in force)' : '',
    coverageLabel(r.coverage),
    r.nist.map((n) => `${n.control} (${provenanceLabel(n.source)})`).join(', '),
    r.apis.map((a) => `${a.package.replace('@safeguards/', '')}.${a.api}`).join(', '),
  ])
  if (format === 'markdown') {
    const esc = (s: string): string => s.replace(/\|/g, '\\|')
    return `${[
      `| ${header.join(' | ')} |`,
      `|${header.map(() => '---').join('|')}|`,
      ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
    ].join('\n')}\n`
  }
  const widths = header.map((h, i) =>
    Math.min(48, Math.max(h.length, ...rows.map((r) => (r[i] as string).length))),
  )
  const cut = (s: string, w: number): string => (s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => cut(c, widths[i] as number))
      .join('  ')
      .trimEnd()
  const counts = coverage.rows.reduce<Record<string, number>>((acc, r) => {
    acc[r.coverage] = (acc[r.coverage] ?? 0) + 1
    return acc
  }, {})
  const summary = coverageStatuses.map((k) => `${counts[k] ?? 0} ${coverageLabel(k)}`).join(', ')
  return `${[line(header), ...rows.map(line), '', `${coverage.rows.length} citations: ${summary}.`].join('\n')}\n`
}
