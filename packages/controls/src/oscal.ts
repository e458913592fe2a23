/**
 * The OSCAL 1.0.6 component definition of the SDK, generated from the coverage document: one
 * `software` component per package, each with two control implementations (NIST SP 800-53 Rev. 5,
 * and the HIPAA Security Rule catalog in this package). Identifiers are version-5 UUIDs derived from
 * names, and nothing depends on the clock, so regenerating gives identical bytes.
 *
 * @module
 */
import { findCitation, hipaaControlId } from './catalog.js'
import type { CoverageDocument } from './coverage.js'
import { uuidv5 } from './internal/uuid.js'
import { nistOscalId } from './nist.js'

/** The namespace of Safeguards-specific OSCAL properties. */
export const OSCAL_PROPS_NS = 'https://safeguards.dev/ns/oscal'

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

const prop = (name: string, value: string): OscalJson => ({ name, ns: OSCAL_PROPS_NS, value })

/**
 * Renders the OSCAL component definition (a JSON-ready object).
 *
 * HIPAA: supports 164.316(b)(1) documentation and 164.308(a)(8) evaluation (machine-readable
 * evidence of which controls each package implements, for GRC tools).
 *
 * @hipaa 164.316(b)(1) supports
 * @evidence an OSCAL 1.0.6 component definition validated against NIST's schema
 * @verifiedBy packages/controls/test/controls.test.ts
 * @example
 * ```ts
 * const doc = toOscalComponentDefinition(coverage, { lastModified: '2026-11-22T00:00:00Z' })
 * writeFileSync('component-definition.json', JSON.stringify(doc, null, 2))
 * ```
 */
export function toOscalComponentDefinition(coverage: CoverageDocument, options: OscalOptions): OscalJson {
  const hipaaResource = uuidv5('resource:hipaa-security-rule')
  const packages = [
    ...new Set(coverage.apis.filter((a) => a.tags.hipaa.length > 0).map((a) => a.package)),
  ].sort()
  const components = packages.map((pkg) => {
    const apis = coverage.apis.filter((a) => a.package === pkg && a.tags.hipaa.length > 0)
    const nist = new Map<string, { source: string; apis: string[]; responsibility: string[] }>()
    const hipaa = new Map<string, { level: string; apis: string[]; responsibility: string[] }>()
    for (const api of apis) {
      for (const n of api.tags.nist) {
        const e = nist.get(n.control) ?? { source: n.source, apis: [], responsibility: [] }
        if (n.source === 'cprt') e.source = 'cprt'
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
    const requirement = (
      controlId: string,
      key: string,
      apisList: string[],
      props: OscalJson[],
      resp: string[],
    ): OscalJson => ({
      uuid: uuidv5(`requirement:${pkg}:${key}`),
      'control-id': controlId,
      description: `Served by ${[...new Set(apisList)].sort().join(', ')} in ${pkg}.`,
      props,
      'responsible-roles': [
        { 'role-id': 'provider' },
        ...(resp.length > 0 ? [{ 'role-id': 'customer' }] : []),
      ],
      ...(resp.length > 0
        ? { remarks: `Customer responsibility: ${[...new Set(resp)].sort().join(' ')}` }
        : {}),
    })
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
          'implemented-requirements': [...nist.entries()]
            .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
            .map(([control, e]) =>
              requirement(
                nistOscalId(control),
                `nist:${control}`,
                e.apis,
                [prop('mapping-source', e.source)],
                e.responsibility,
              ),
            ),
        },
        {
          uuid: uuidv5(`implementation:${pkg}:hipaa`),
          source: `#${hipaaResource}`,
          description: `HIPAA Security Rule specifications served by ${pkg}.`,
          'implemented-requirements': [...hipaa.entries()]
            .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
            .map(([citation, e]) => {
              const entry = findCitation(citation)
              return requirement(
                hipaaControlId(citation),
                `hipaa:${citation}`,
                e.apis,
                [
                  prop('coverage', e.level),
                  prop('designation', entry?.designation ?? 'unknown'),
                  prop('cfr-citation', `45 CFR ${citation}`),
                ],
                e.responsibility,
              )
            }),
        },
      ].filter((ci) => (ci['implemented-requirements'] as unknown[]).length > 0),
    }
  })
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
          'Generated from TSDoc control tags. NIST mappings marked mapping-source=cprt are NIST’s own (SP 800-66r2 / CPRT); engineering mappings are the maintainers’ judgement.',
      },
      components,
      'back-matter': {
        resources: [
          {
            uuid: hipaaResource,
            title: 'HIPAA Security Rule, 45 CFR Part 164 Subpart C (catalog in @safeguards/controls)',
            rlinks: [{ href: ECFR_SUBPART_C }],
          },
        ],
      },
    },
  }
}
