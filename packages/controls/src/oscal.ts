/**
 * The OSCAL 1.0.6 component definition of the SDK, generated from the coverage document: one
 * `software` component per package, each with two control implementations (NIST SP 800-53 Rev. 5,
 * and the HIPAA Security Rule catalog in this package). Every (HIPAA paragraph, SP 800-53 control)
 * pair appears on both sides as a property whose `class` is its provenance (`nist-own` when the
 * pair is in NIST's own table, `engineering` otherwise) and whose `remarks` name the source or
 * give the rationale. Identifiers are version-5 UUIDs derived from names, and nothing depends on
 * the clock, so regenerating gives identical bytes.
 *
 * @module
 */
import { findCitation, hipaaControlId } from './catalog.js'
import type { CoverageDocument } from './coverage.js'
import { uuidv5 } from './internal/uuid.js'
import { nistOscalId } from './nist.js'
import { type MappingSource, nistPairsSource } from './provenance.js'

/** The namespace of Safeguards-specific OSCAL properties. */
export const OSCAL_PROPS_NS = 'https://safeguards.dev/ns/oscal'

/** The `class` of a pair property: NIST's own pair, or engineering judgement. */
export const OSCAL_PAIR_CLASS: Readonly<Record<MappingSource, string>> = Object.freeze({
  cprt: 'nist-own',
  engineering: 'engineering',
})

const NIST_800_53_R5 =
  'https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_catalog.json'
const ECFR_SUBPART_C = 'https://www.ecfr.gov/current/title-45/subtitle-A/subchapter-C/part-164/subpart-C'

/** Options for {@link toOscalComponentDefinition}. */
export interface OscalOptions {
  /** `metadata.last-modified`: pass a fixed release timestamp so output stays deterministic. */
  lastModified: string
}

/** A JSON object, as the OSCAL document is rendered. */
export type OscalJson = Record<string, unknown>

interface Pair {
  citation: string
  control: string
  source: MappingSource
  rationale: string[]
}

const prop = (name: string, value: string): OscalJson => ({ name, ns: OSCAL_PROPS_NS, value })

const pairProp = (name: string, value: string, pair: Pair): OscalJson => ({
  ...prop(name, value),
  class: OSCAL_PAIR_CLASS[pair.source],
  remarks:
    pair.source === 'cprt'
      ? `NIST's own pair (NIST SP 800-66 Rev. 2 in CPRT, ${nistPairsSource.export}).${pair.rationale.map((r) => ` ${r}`).join('')}`
      : `Engineering judgement: ${pair.rationale.join('; ')}`,
})

const byCitation = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true })

/**
 * Renders the OSCAL component definition (a JSON-ready object).
 *
 * HIPAA: supports 164.316(b)(1) documentation and 164.308(a)(8) evaluation (machine-readable
 * evidence of which controls each package implements, for GRC tools).
 *
 * @hipaa 164.316(b)(1) supports
 * @evidence an OSCAL 1.0.6 component definition validated against NIST's schema, each (HIPAA paragraph, SP 800-53 control) pair labelled nist-own or engineering with its source or rationale
 * @verifiedBy packages/controls/test/controls.test.ts
 * @example
 * ```ts
 * const doc = toOscalComponentDefinition(coverage, { lastModified: '2026-11-22T00:00:00Z' })
 * writeFileSync('component-definition.json', JSON.stringify(doc, null, 2))
 * ```
 */
export function toOscalComponentDefinition(coverage: CoverageDocument, options: OscalOptions): OscalJson {
  const hipaaResource = uuidv5('resource:hipaa-security-rule')
  const cprtResource = uuidv5('resource:nist-sp800-66r2-cprt')
  const packages = [
    ...new Set(coverage.apis.filter((a) => a.tags.hipaa.length > 0).map((a) => a.package)),
  ].sort()
  const components = packages.map((pkg) => component(coverage, pkg, hipaaResource))
  return {
    'component-definition': {
      uuid: uuidv5(`component-definition:${coverage.version}`),
      metadata: {
        title: 'Safeguards SDK: HIPAA Security Rule and NIST SP 800-53 Rev. 5 component definition',
        'last-modified': options.lastModified,
        version: coverage.version,
        'oscal-version': '1.0.6',
        roles: [
          { id: 'provider', title: 'Safeguards SDK maintainers' },
          { id: 'customer', title: 'Application team (covered entity or business associate)' },
        ],
        remarks:
          'Generated from TSDoc control tags. Each (HIPAA paragraph, SP 800-53 control) pair is a property (hipaa-pair on SP 800-53 requirements, nist-800-53-pair on HIPAA requirements) whose class is nist-own when the pair is in NIST’s own mapping (NIST SP 800-66 Rev. 2 in CPRT, recorded in @safeguards/controls data/nist-sp800-66r2.json) and engineering when it is the maintainers’ judgement, with the rationale in its remarks. coverage=implements means the API performs the specification’s technical function on its own; supports means the specification is met only with the customer’s work.',
      },
      components,
      'back-matter': {
        resources: [
          {
            uuid: hipaaResource,
            title: 'HIPAA Security Rule, 45 CFR Part 164 Subpart C (catalog in @safeguards/controls)',
            rlinks: [{ href: ECFR_SUBPART_C }],
          },
          {
            uuid: cprtResource,
            title: `NIST SP 800-66 Rev. 2 in CPRT (${nistPairsSource.export}): HIPAA Security Rule to NIST SP 800-53 Rev. 5`,
            rlinks: [{ href: nistPairsSource.url }],
          },
        ],
      },
    },
  }
}

type Api = CoverageDocument['apis'][number]

/** What one package's APIs serve of one requirement: the APIs and the customer's part. */
interface Served {
  apis: string[]
  responsibility: string[]
}

/** The (HIPAA paragraph, SP 800-53 control) pairs of a package, with provenance from the coverage rows (one source of truth). */
function packagePairs(coverage: CoverageDocument, short: string, apis: readonly Api[]): Pair[] {
  const pairs: Pair[] = []
  for (const row of coverage.rows) {
    for (const n of row.nist) {
      const mine = apis.filter((a) => n.apis.includes(`${short}.${a.api}`))
      if (mine.length === 0) continue
      const rationale = [
        ...new Set(
          mine.flatMap((a) =>
            a.tags.nist
              .filter((t) => t.citation === row.citation && t.control === n.control && t.rationale !== null)
              .map((t) => t.rationale as string),
          ),
        ),
      ].sort()
      pairs.push({ citation: row.citation, control: n.control, source: n.source, rationale })
    }
  }
  return pairs
}

/** A package's APIs grouped by the SP 800-53 control and the HIPAA paragraph they serve. */
function servedBy(apis: readonly Api[]): {
  nist: Map<string, Served>
  hipaa: Map<string, Served & { level: string }>
} {
  const nist = new Map<string, Served>()
  const hipaa = new Map<string, Served & { level: string }>()
  for (const api of apis) {
    for (const n of api.tags.nist) {
      const e = nist.get(n.control) ?? { apis: [], responsibility: [] }
      e.apis.push(api.api)
      e.responsibility.push(...api.tags.appResponsibility)
      nist.set(n.control, e)
    }
    for (const h of api.tags.hipaa) {
      const e = hipaa.get(h.citation) ?? { level: h.level, apis: [], responsibility: [] }
      if (h.level === 'implements') e.level = 'implements'
      e.apis.push(api.api)
      e.responsibility.push(...api.tags.appResponsibility)
      hipaa.set(h.citation, e)
    }
  }
  return { nist, hipaa }
}

/** One implemented requirement of a package. */
function requirement(
  pkg: string,
  controlId: string,
  key: string,
  served: Served,
  props: OscalJson[],
): OscalJson {
  const resp = served.responsibility
  return {
    uuid: uuidv5(`requirement:${pkg}:${key}`),
    'control-id': controlId,
    description: `Served by ${[...new Set(served.apis)].sort().join(', ')} in ${pkg}.`,
    props,
    'responsible-roles': [{ 'role-id': 'provider' }, ...(resp.length > 0 ? [{ 'role-id': 'customer' }] : [])],
    ...(resp.length > 0
      ? { remarks: `Customer responsibility: ${[...new Set(resp)].sort().join(' ')}` }
      : {}),
  }
}

/** The SP 800-53 requirements of a package, each with its HIPAA pairs. */
function nistRequirements(pkg: string, nist: Map<string, Served>, pairs: readonly Pair[]): OscalJson[] {
  return [...nist.entries()]
    .sort(([a], [b]) => byCitation(a, b))
    .map(([control, e]) =>
      requirement(
        pkg,
        nistOscalId(control),
        `nist:${control}`,
        e,
        pairs
          .filter((p) => p.control === control)
          .sort((a, b) => byCitation(a.citation, b.citation))
          .map((p) => pairProp('hipaa-pair', p.citation, p)),
      ),
    )
}

/** The HIPAA requirements of a package, each with its coverage, designation and SP 800-53 pairs. */
function hipaaRequirements(
  pkg: string,
  hipaa: Map<string, Served & { level: string }>,
  pairs: readonly Pair[],
): OscalJson[] {
  return [...hipaa.entries()]
    .sort(([a], [b]) => byCitation(a, b))
    .map(([citation, e]) => {
      const entry = findCitation(citation)
      return requirement(pkg, hipaaControlId(citation), `hipaa:${citation}`, e, [
        prop('coverage', e.level),
        prop('designation', entry?.designation ?? 'unknown'),
        prop('cfr-citation', `45 CFR ${citation}`),
        ...pairs
          .filter((p) => p.citation === citation)
          .sort((a, b) => byCitation(a.control, b.control))
          .map((p) => pairProp('nist-800-53-pair', p.control, p)),
      ])
    })
}

/** The `software` component of one package, with its two control implementations. */
function component(coverage: CoverageDocument, pkg: string, hipaaResource: string): OscalJson {
  const apis = coverage.apis.filter((a) => a.package === pkg && a.tags.hipaa.length > 0)
  const pairs = packagePairs(coverage, pkg.replace('@safeguards/', ''), apis)
  const { nist, hipaa } = servedBy(apis)
  return {
    uuid: uuidv5(`component:${pkg}`),
    type: 'software',
    title: pkg,
    description: `${pkg}, a package of the Safeguards SDK.`,
    props: [prop('version', coverage.version)],
    'control-implementations': [
      {
        uuid: uuidv5(`implementation:${pkg}:nist-800-53-r5`),
        source: NIST_800_53_R5,
        description: `NIST SP 800-53 Rev. 5 controls served by ${pkg}.`,
        'implemented-requirements': nistRequirements(pkg, nist, pairs),
      },
      {
        uuid: uuidv5(`implementation:${pkg}:hipaa`),
        source: `#${hipaaResource}`,
        description: `HIPAA Security Rule specifications served by ${pkg}.`,
        'implemented-requirements': hipaaRequirements(pkg, hipaa, pairs),
      },
    ].filter((ci) => ci['implemented-requirements'].length > 0),
  }
}
