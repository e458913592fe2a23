/**
 * Turns the control tags found on exported APIs into the coverage document: one row per HIPAA
 * citation with its coverage status, NIST controls with provenance, the APIs that serve it, the
 * configuration, the evidence produced, the tests that verify it and what stays the app team's job.
 * The docs matrix, `safeguards controls` and the OSCAL component definition are all rendered from it.
 *
 * @module
 */
import { type Designation, type HipaaCitation, hipaaCatalog, type Safeguard } from './catalog.js'
import { CoverageError } from './errors.js'
import { nistControls } from './nist.js'
import { type MappingSource, mappingSource, nistOwnControls } from './provenance.js'
import type { ControlTags, CoverageLevel } from './tags.js'

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

/** One (HIPAA paragraph, SP 800-53 control) pair that SDK APIs claim, with its provenance. */
export interface NistPair {
  control: string
  title: string
  /** `cprt` when the pair is in NIST's own table (SP 800-66r2 in CPRT), else `engineering`. */
  source: MappingSource
  /** The one-line rationales of the tags that claim the pair (at least one for `engineering`). */
  rationale: string[]
  /** The APIs that claim the pair, as `package.api` without the `@safeguards/` scope. */
  apis: string[]
}

/** One row of the HIPAA matrix. */
export interface CoverageRow {
  citation: string
  title: string
  /** True when the regulation gives the paragraph no heading (`title` is a description). */
  untitled: boolean
  designation: Designation
  safeguard: Safeguard
  standard: string | null
  /** The NPRM 2025 change, proposed and not in force; null when none. */
  proposed: string | null
  coverage: CoverageStatus
  /** The pairs SDK APIs claim for this paragraph, with provenance. */
  nist: NistPair[]
  /** Every SP 800-53 control NIST's own mapping relates to this paragraph (the reference). */
  nistReference: string[]
  apis: { package: string; api: string; level: CoverageLevel }[]
  config: string[]
  evidence: string[]
  tests: string[]
  appResponsibility: string[]
}

/** The coverage document (`coverage.json`). */
export interface CoverageDocument {
  schema: 'safeguards.coverage/v2'
  /** The SDK version it describes. */
  version: string
  rows: CoverageRow[]
  apis: ApiMapping[]
}

const uniqueSorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort()
const byControl = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true })

function check(api: ApiMapping): void {
  const where = `${api.package} ${api.api}`
  if (api.tags.hipaa.length === 0 && api.tags.nist.length > 0) {
    throw new CoverageError(`${where}: @nist without @hipaa`)
  }
  for (const h of api.tags.hipaa) {
    if (!hipaaCatalog.some((c) => c.id === h.citation)) {
      throw new CoverageError(`${where}: unknown HIPAA citation ${h.citation}`)
    }
  }
  for (const n of api.tags.nist) {
    if (!(n.control in nistControls)) throw new CoverageError(`${where}: unknown NIST control ${n.control}`)
    if (!api.tags.hipaa.some((h) => h.citation === n.citation)) {
      throw new CoverageError(
        `${where}: @nist ${n.control} names ${n.citation}, which has no @hipaa tag here`,
      )
    }
    if (mappingSource(n.citation, n.control) === 'engineering' && n.rationale === null) {
      throw new CoverageError(
        `${where}: @nist ${n.control} ${n.citation} is not in NIST's own mapping; give a rationale after a colon`,
      )
    }
  }
}

/**
 * Builds the coverage document from API mappings. The provenance of every (HIPAA paragraph,
 * SP 800-53 control) pair is looked up in NIST's own table (`data/nist-sp800-66r2.json`), never
 * taken from the tag.
 *
 * HIPAA: supports 164.316(b)(1) documentation and 164.308(a)(8) evaluation (a generated,
 * reviewable map from each specification to the code that serves it).
 *
 * @hipaa 164.316(b)(1) supports
 * @hipaa 164.308(a)(8) supports
 * @evidence coverage.json: per citation, the APIs, the SP 800-53 pairs with provenance and rationale, NIST's own reference controls, evidence, tests and app-team duties
 * @appResponsibility Review the matrix against your own risk analysis; the SDK covers technical safeguards only.
 * @verifiedBy packages/controls/test/controls.test.ts
 * @throws {CoverageError} when a tag names a citation or NIST control that is not in the catalogs,
 *   an API maps NIST controls without any HIPAA citation, a `@nist` pair names a paragraph the
 *   API does not tag, or a pair that is not NIST's own has no rationale.
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
    check(api)
    for (const h of api.tags.hipaa) {
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
    const nist = new Map<string, NistPair>()
    for (const api of serving) {
      for (const n of api.tags.nist.filter((t) => t.citation === entry.id)) {
        const pair = nist.get(n.control) ?? {
          control: n.control,
          title: nistControls[n.control] as string,
          source: mappingSource(entry.id, n.control),
          rationale: [],
          apis: [],
        }
        if (n.rationale !== null) pair.rationale = uniqueSorted([...pair.rationale, n.rationale])
        pair.apis = uniqueSorted([...pair.apis, `${api.package.replace('@safeguards/', '')}.${api.api}`])
        nist.set(n.control, pair)
      }
    }
    return {
      citation: entry.id,
      title: entry.title,
      untitled: entry.untitled === true,
      designation: entry.designation,
      safeguard: entry.safeguard,
      standard: entry.standard ?? null,
      proposed: entry.proposed ?? null,
      coverage,
      nist: [...nist.values()].sort((a, b) => byControl(a.control, b.control)),
      nistReference: [...nistOwnControls(entry.id)],
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
  return { schema: 'safeguards.coverage/v2', version, rows, apis: sorted }
}
