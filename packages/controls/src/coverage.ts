/**
 * Turns the control tags found on exported APIs into the coverage document: one row per HIPAA
 * citation with its coverage status, NIST controls with provenance, the APIs that serve it, the
 * configuration, the evidence produced, the tests that verify it and what stays the app team's job.
 * The docs matrix, `safeguards controls` and the OSCAL component definition are all rendered from it.
 *
 * @module
 */
import { type Designation, type HipaaCitation, hipaaCatalog, type Safeguard } from './catalog.js'
import { nistControls } from './nist.js'
import type { ControlTags, CoverageLevel, MappingSource } from './tags.js'

/** One exported API and the tags on it. */
export interface ApiMapping {
  /** Package name, for example `@safeguards/session`. */
  package: string
  /** Exported name, for example `createSessionManager`. */
  api: string
  /** Source file relative to the repository root. */
  file: string
  tags: ControlTags
}

/** Coverage of one citation by the SDK. */
export type CoverageStatus = CoverageLevel | 'app-team' | 'not-applicable'

/** One row of the HIPAA matrix. */
export interface CoverageRow {
  citation: string
  title: string
  designation: Designation
  safeguard: Safeguard
  standard: string | null
  /** The NPRM 2025 change, proposed and not in force; null when none. */
  proposed: string | null
  coverage: CoverageStatus
  nist: { control: string; title: string; source: MappingSource }[]
  apis: { package: string; api: string; level: CoverageLevel }[]
  config: string[]
  evidence: string[]
  tests: string[]
  appResponsibility: string[]
}

/** The coverage document (`coverage.json`). */
export interface CoverageDocument {
  schema: 'safeguards.coverage/v1'
  /** The SDK version it describes. */
  version: string
  rows: CoverageRow[]
  apis: ApiMapping[]
}

/** A tag refers to something the catalogs do not contain. */
export class CoverageError extends Error {
  /** @param message - names the API and the unknown reference. */
  constructor(message: string) {
    super(message)
    this.name = 'CoverageError'
  }
}

const uniqueSorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort()

/**
 * Builds the coverage document from API mappings.
 *
 * HIPAA: supports 164.316(b)(1) documentation and 164.308(a)(8) evaluation (a generated,
 * reviewable map from each specification to the code that serves it).
 *
 * @hipaa 164.316(b)(1) supports
 * @hipaa 164.308(a)(8) supports
 * @evidence coverage.json: per citation, the APIs, NIST controls with provenance, evidence, tests and app-team duties
 * @appResponsibility Review the matrix against your own risk analysis; the SDK covers technical safeguards only.
 * @verifiedBy packages/controls/test/controls.test.ts
 * @throws {CoverageError} when a tag names a citation or NIST control that is not in the catalogs,
 *   or an API maps NIST controls without any HIPAA citation.
 * @example
 * ```ts
 * const doc = buildCoverage([{ package: '@safeguards/session', api: 'createSessionManager', file, tags }], '0.1.0')
 * doc.rows.find((r) => r.citation === '164.312(a)(2)(iii)')?.coverage // 'implements'
 * ```
 */
export function buildCoverage(apis: readonly ApiMapping[], version: string): CoverageDocument {
  const sorted = [...apis].sort((a, b) => a.package.localeCompare(b.package) || a.api.localeCompare(b.api))
  const byCitation = new Map<string, ApiMapping[]>()
  for (const api of sorted) {
    if (api.tags.hipaa.length === 0 && api.tags.nist.length > 0) {
      throw new CoverageError(`${api.package} ${api.api}: @nist without @hipaa`)
    }
    for (const n of api.tags.nist) {
      if (!(n.control in nistControls))
        throw new CoverageError(`${api.package} ${api.api}: unknown NIST control ${n.control}`)
    }
    for (const h of api.tags.hipaa) {
      if (!hipaaCatalog.some((c) => c.id === h.citation)) {
        throw new CoverageError(`${api.package} ${api.api}: unknown HIPAA citation ${h.citation}`)
      }
      const list = byCitation.get(h.citation) ?? []
      list.push(api)
      byCitation.set(h.citation, list)
    }
  }
  const rows = hipaaCatalog.map((entry: HipaaCitation): CoverageRow => {
    const serving = byCitation.get(entry.id) ?? []
    const levels = serving.map(
      (api) => api.tags.hipaa.find((h) => h.citation === entry.id)?.level as CoverageLevel,
    )
    const coverage: CoverageStatus = levels.includes('implements')
      ? 'implements'
      : levels.includes('supports')
        ? 'supports'
        : entry.uncovered
    const nist = new Map<string, { control: string; title: string; source: MappingSource }>()
    for (const api of serving) {
      for (const n of api.tags.nist) {
        const prior = nist.get(n.control)
        // NIST's own mapping outranks ours when both exist.
        if (!prior || (prior.source === 'engineering' && n.source === 'cprt')) {
          nist.set(n.control, {
            control: n.control,
            title: nistControls[n.control] as string,
            source: n.source,
          })
        }
      }
    }
    return {
      citation: entry.id,
      title: entry.title,
      designation: entry.designation,
      safeguard: entry.safeguard,
      standard: entry.standard ?? null,
      proposed: entry.proposed ?? null,
      coverage,
      nist: [...nist.values()].sort((a, b) => a.control.localeCompare(b.control, 'en', { numeric: true })),
      apis: serving.map((api, i) => ({
        package: api.package,
        api: api.api,
        level: levels[i] as CoverageLevel,
      })),
      config: uniqueSorted(serving.flatMap((a) => a.tags.config.map((c) => `${a.package}: ${c}`))),
      evidence: uniqueSorted(serving.flatMap((a) => a.tags.evidence)),
      tests: uniqueSorted(serving.flatMap((a) => a.tags.verifiedBy)),
      appResponsibility: [
        entry.appResponsibility,
        ...uniqueSorted(serving.flatMap((a) => a.tags.appResponsibility)),
      ],
    }
  })
  return { schema: 'safeguards.coverage/v1', version, rows, apis: sorted }
}
