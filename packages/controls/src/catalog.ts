/**
 * The HIPAA Security Rule as data: every standard and implementation specification in
 * 45 CFR 164.308, 164.310, 164.312, 164.314 and 164.316 (the final rule in force, 2003 text with
 * the 2013 Omnibus amendments), with Required/Addressable designations per §164.306(d), plus
 * §164.308(b)(2), a provision of the business-associate standard with no heading and no R/A label,
 * and the Privacy Rule's minimum-necessary standard (§164.502(b)), which access control serves and
 * to which the Security Rule's Required/Addressable scheme does not apply.
 *
 * Changes proposed by the HHS NPRM of 6 January 2025 (90 FR 898, RIN 0945-AA22) are recorded in
 * `proposed` and are **proposed, not in force**: until a final rule is published, the designations
 * here are the law. Paragraph letters of the proposed rule are deliberately not used.
 *
 * The table is data: `data/hipaa-catalog.json` (format `safeguards.hipaa-catalog/v1`, see
 * `data/README.md`), checked entry by entry when this module loads.
 *
 * Sources: the CFR text (Cornell LII / GPO e-CFR). Counts: 46 implementation specifications across
 * the five sections, 24 Required and 22 Addressable (164.308: 10 R, 11 A; 164.310: 2 R, 6 A;
 * 164.312: 2 R, 5 A; 164.314: 7 R; 164.316: 3 R).
 *
 * @module
 */
import data from '../data/hipaa-catalog.json' with { type: 'json' }
import { CatalogDataError } from './errors.js'

/**
 * Required (R) or Addressable (A) implementation specification; a Security Rule standard with
 * specifications (`standard`) or without, which must be met as written (`standard-required`); a
 * paragraph of a standard's text that is neither a standard nor a specification and has no R/A
 * label (`provision`, §164.308(b)(2)); or a Privacy Rule standard, to which §164.306(d)'s
 * Required/Addressable scheme does not apply (`privacy-standard`, §164.502(b)).
 */
export type Designation =
  | 'required'
  | 'addressable'
  | 'standard'
  | 'standard-required'
  | 'provision'
  | 'privacy-standard'

/** Which part of the rule a citation belongs to. */
export type Safeguard =
  | 'administrative'
  | 'physical'
  | 'technical'
  | 'organizational'
  | 'documentation'
  | 'privacy'

/** What the SDK can do for a citation that no API serves. */
export type UncoveredReason = 'app-team' | 'not-applicable'

/** One standard or implementation specification. */
export interface HipaaCitation {
  /** The CFR paragraph, for example `164.312(a)(2)(iii)`. */
  readonly id: string
  /**
   * The official heading, for example `Automatic logoff`; for a paragraph the regulation gives no
   * heading (`untitled`), a short description of its text.
   */
  readonly title: string
  /** True when the regulation gives the paragraph no heading: `title` is our description. */
  readonly untitled?: true
  readonly designation: Designation
  readonly safeguard: Safeguard
  /** The standard an implementation specification belongs to (its `id`). */
  readonly standard?: string
  /** The change the January 2025 NPRM proposes: proposed, not in force. */
  readonly proposed?: string
  /** When no SDK API serves it: whether it is the app team's job or not applicable to software. */
  readonly uncovered: UncoveredReason
  /** What the covered entity or business associate must do itself. */
  readonly appResponsibility: string
}

const DESIGNATIONS: readonly Designation[] = [
  'required',
  'addressable',
  'standard',
  'standard-required',
  'provision',
  'privacy-standard',
]
const SAFEGUARDS: readonly Safeguard[] = [
  'administrative',
  'physical',
  'technical',
  'organizational',
  'documentation',
  'privacy',
]
const UNCOVERED: readonly UncoveredReason[] = ['app-team', 'not-applicable']
const KEYS = new Set([
  'id',
  'title',
  'untitled',
  'designation',
  'safeguard',
  'standard',
  'proposed',
  'uncovered',
  'appResponsibility',
])

const isText = (v: unknown): v is string => typeof v === 'string' && v !== ''

/** Checks one entry of the data file against {@link HipaaCitation} and freezes it. */
function citation(entry: unknown, index: number): HipaaCitation {
  const e = entry as Record<string, unknown> | null
  const bad = (what: string): never => {
    throw new CatalogDataError(`data/hipaa-catalog.json: citation ${index}: ${what}`)
  }
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return bad('not an object')
  for (const k of Object.keys(e)) if (!KEYS.has(k)) bad(`unknown field ${k}`)
  if (!isText(e.id) || !isText(e.title) || !isText(e.appResponsibility))
    bad('id, title and appResponsibility are required')
  if (!DESIGNATIONS.includes(e.designation as Designation)) bad('unknown designation')
  if (!SAFEGUARDS.includes(e.safeguard as Safeguard)) bad('unknown safeguard')
  if (!UNCOVERED.includes(e.uncovered as UncoveredReason)) bad('unknown uncovered reason')
  if (e.untitled !== undefined && e.untitled !== true) bad('untitled must be true when present')
  if (e.standard !== undefined && !isText(e.standard)) bad('standard must be a citation id')
  if (e.proposed !== undefined && !isText(e.proposed)) bad('proposed must be text')
  return Object.freeze({ ...e }) as unknown as HipaaCitation
}

/** Every standard and implementation specification, in CFR order. */
export const hipaaCatalog: readonly HipaaCitation[] = Object.freeze(
  (data.citations as readonly unknown[]).map(citation),
)

const byId = new Map(hipaaCatalog.map((entry) => [entry.id, entry]))

/**
 * Looks up a citation by its CFR paragraph.
 *
 * HIPAA: supports 164.316(b)(1) documentation (a single, checked source of citations).
 *
 * @example
 * ```ts
 * findCitation('164.312(a)(2)(iii)')?.title // 'Automatic logoff'
 * ```
 */
export function findCitation(id: string): HipaaCitation | undefined {
  return byId.get(id)
}

/**
 * The OSCAL control id (an NCName token) for a CFR paragraph:
 * `164.312(a)(2)(iii)` → `hipaa-164.312-a.2.iii`.
 *
 * @example
 * ```ts
 * hipaaControlId('164.312(b)') // 'hipaa-164.312-b'
 * ```
 */
export function hipaaControlId(id: string): string {
  const m = /^(\d{3}\.\d{3})((?:\([0-9a-zA-Z]+\))+)$/.exec(id)
  if (!m) throw new RangeError('"id" expected a CFR paragraph such as 164.312(a)(1)')
  const parts = (m[2] as string).slice(1, -1).split(')(')
  return `hipaa-${m[1]}-${parts.join('.')}`
}
