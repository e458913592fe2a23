/**
 * The vocabulary the normaliser reads events in: which events are sign-ins, which outcomes are
 * failures or denials, which purpose-of-use codes mark an emergency access. The default is the
 * issue's (DICOM PS3.15 / FHIR R4 AuditEvent, as `@safeguards/audit-log`'s sink writes it); a log
 * written by another system can be read by mapping its codes in the rules file:
 *
 * ```json
 * { "version": 1, "vocabulary": { "signIn": { "types": ["login"], "subtypes": [] },
 *   "failureOutcomes": [4, 8, 12], "emergencyPurposes": ["BTG", "ETREAT"] } }
 * ```
 *
 * @module
 */
import { MonitorRulesError } from './errors.js'

/**
 * How events are read. Record accesses are always events with a `patient` and an action C, R, U, D
 * or E by the requestor agent (the FHIR shape every record has).
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review (what counts as a sign-in, a denial, an emergency).
 *
 * @example
 * ```ts
 * const v: Vocabulary = { ...DEFAULT_VOCABULARY, emergencyPurposes: ['BTG', 'ETREAT'] }
 * ```
 */
export interface Vocabulary {
  /** A sign-in: an event whose `type` is one of `types` and, unless `subtypes` is empty, one of whose subtypes is in `subtypes`. */
  readonly signIn: { readonly types: readonly string[]; readonly subtypes: readonly string[] }
  /** Outcomes that make a sign-in failed and a record access denied (from 4, 8 and 12). */
  readonly failureOutcomes: readonly number[]
  /** Purpose-of-use codes (on the requestor agent) that make a record access an emergency access. */
  readonly emergencyPurposes: readonly string[]
}

/**
 * The vocabulary: sign-in = type 110114 with subtype 110122; failures 4 and 8; emergency BTG.
 *
 * @example
 * ```ts
 * DEFAULT_VOCABULARY.signIn.types // ['110114']
 * ```
 */
export const DEFAULT_VOCABULARY: Vocabulary = Object.freeze({
  signIn: Object.freeze({ types: Object.freeze(['110114']), subtypes: Object.freeze(['110122']) }),
  failureOutcomes: Object.freeze([4, 8]),
  emergencyPurposes: Object.freeze(['BTG']),
})

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

function codesAt(v: unknown, path: string, allowEmpty: boolean): readonly string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 256))
    throw new MonitorRulesError('expected an array of codes', path)
  if (!allowEmpty && v.length === 0) throw new MonitorRulesError('expected at least one code', path)
  return [...new Set(v as string[])].sort()
}

function outcomesAt(v: unknown, path: string): readonly number[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => x === 4 || x === 8 || x === 12))
    throw new MonitorRulesError('failure outcomes are a non-empty array of 4, 8 and 12', path)
  return [...new Set(v as number[])].sort((a, b) => a - b)
}

function only(o: Json, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o).sort())
    if (!allowed.includes(k)) throw new MonitorRulesError(`unknown member "${k}"`, `${path}/${k}`)
}

/**
 * Validates the rules file's `vocabulary` member; members left out keep the default.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review.
 *
 * @throws {MonitorRulesError} with the JSON pointer of the first bad member.
 * @example
 * ```ts
 * vocabularyAt({ emergencyPurposes: ['BTG', 'ETREAT'] }, '/vocabulary').emergencyPurposes // ['BTG', 'ETREAT']
 * ```
 */
export function vocabularyAt(v: unknown, path: string): Vocabulary {
  if (v === undefined) return DEFAULT_VOCABULARY
  if (!isObject(v)) throw new MonitorRulesError('expected an object', path)
  only(v, ['signIn', 'failureOutcomes', 'emergencyPurposes'], path)
  let signIn = DEFAULT_VOCABULARY.signIn
  if (v.signIn !== undefined) {
    if (!isObject(v.signIn)) throw new MonitorRulesError('expected an object', `${path}/signIn`)
    only(v.signIn, ['types', 'subtypes'], `${path}/signIn`)
    signIn = {
      types:
        v.signIn.types === undefined ? signIn.types : codesAt(v.signIn.types, `${path}/signIn/types`, false),
      subtypes:
        v.signIn.subtypes === undefined
          ? signIn.subtypes
          : codesAt(v.signIn.subtypes, `${path}/signIn/subtypes`, true),
    }
  }
  return {
    signIn,
    failureOutcomes:
      v.failureOutcomes === undefined
        ? DEFAULT_VOCABULARY.failureOutcomes
        : outcomesAt(v.failureOutcomes, `${path}/failureOutcomes`),
    emergencyPurposes:
      v.emergencyPurposes === undefined
        ? DEFAULT_VOCABULARY.emergencyPurposes
        : codesAt(v.emergencyPurposes, `${path}/emergencyPurposes`, false),
  }
}

/** True when `v` reads events exactly as the default does. */
export function isDefaultVocabulary(v: Vocabulary): boolean {
  return JSON.stringify(v) === JSON.stringify(DEFAULT_VOCABULARY)
}
