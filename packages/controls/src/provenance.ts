/**
 * NIST's own mapping from HIPAA Security Rule paragraphs to NIST SP 800-53 Rev. 5 controls (NIST
 * SP 800-66 Rev. 2 in CPRT, data set `SP800_66_2_0_0`), recorded in `data/nist-sp800-66r2.json`
 * with its source (see `data/README.md`). A (paragraph, control) pair is "NIST's own" only when it
 * is in this table; any other pair is engineering judgement and needs a rationale.
 *
 * @module
 */
import table from '../data/nist-sp800-66r2.json' with { type: 'json' }

/** Where a (HIPAA paragraph, SP 800-53 control) pair comes from: NIST's own table or our judgement. */
export type MappingSource = 'cprt' | 'engineering'

/** The source of the table, as recorded in the data file. */
export interface NistPairsSource {
  publisher: string
  dataset: string
  url: string
  export: string
  exportDate: string
  readThrough: string
  licence: string
}

const pairs: Readonly<Record<string, readonly string[]>> = table.pairs

/** The source of NIST's table (data set, export, date, how it was read, licence). */
export const nistPairsSource: Readonly<NistPairsSource> = Object.freeze({ ...table.source })

/**
 * The SP 800-53 controls NIST's own mapping relates to a HIPAA paragraph (empty when none).
 *
 * @example
 * ```ts
 * nistOwnControls('164.312(a)(2)(iii)') // ['AC-12']
 * ```
 */
export function nistOwnControls(citation: string): readonly string[] {
  return pairs[citation] ?? []
}

/**
 * Whether a (HIPAA paragraph, SP 800-53 control) pair is NIST's own (`cprt`) or ours
 * (`engineering`).
 *
 * @example
 * ```ts
 * mappingSource('164.310(d)(2)(i)', 'MP-6') // 'cprt'
 * mappingSource('164.310(d)(2)(i)', 'SC-13') // 'engineering'
 * ```
 */
export function mappingSource(citation: string, control: string): MappingSource {
  return nistOwnControls(citation).includes(control) ? 'cprt' : 'engineering'
}
