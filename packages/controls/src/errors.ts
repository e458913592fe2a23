/**
 * Typed errors for `@safeguards/controls`. Codes are the contract: match on them, never on
 * messages. Messages name tags, citations and control ids (never secrets or PHI: this package
 * sees none).
 *
 * @module
 */
import {
  CodedError,
  type ErrorCategory,
  SafeguardsError,
  type SafeguardsErrorOptions,
} from '@safeguards/core'

/** Stable codes of {@link EvidenceError}. */
export type EvidenceErrorCode = 'ERR_EVIDENCE_INPUT' | 'ERR_EVIDENCE_KEY'

/** The {@link ErrorCategory} of each code this package's base class covers: the one table of its codes. */
const categories = {
  ERR_CONTROL_TAG: 'invalid-input',
  ERR_CONTROLS_COVERAGE: 'invalid-input',
  ERR_CONTROLS_DATA: 'invalid-input',
  ERR_EVIDENCE_BASELINE: 'invalid-input',
} as const

/** Every code `@safeguards/controls` throws. */
export type ControlsErrorCode = EvidenceErrorCode | keyof typeof categories

/**
 * Bad input to the evidence builder or signer (a misuse, not a failed check): `ERR_EVIDENCE_INPUT`
 * for an invalid date, `ERR_EVIDENCE_KEY` for an unusable key.
 *
 * @example
 * ```ts
 * try { await signEvidence(report, publicJwk) } catch (e) {
 *   if (isSafeguardsError(e, 'ERR_EVIDENCE_KEY')) console.error('a private Ed25519 JWK is needed')
 * }
 * ```
 */
export class EvidenceError extends SafeguardsError<EvidenceErrorCode> {
  /** @param code - which failure; @param message - a safe description; @param options - the cause. */
  constructor(code: EvidenceErrorCode, message: string, options?: SafeguardsErrorOptions) {
    super(code, message, {
      category: code === 'ERR_EVIDENCE_KEY' ? 'invalid-argument' : 'invalid-input',
      ...options,
    })
  }
}

/**
 * The base of this package's coded errors (not exported): it holds the {@link ErrorCategory} of
 * each code, so that each class declares its code only.
 *
 * @internal
 */
class ControlsCodedError<C extends ControlsErrorCode> extends CodedError<C> {
  static override readonly categories: typeof categories = categories
}

/**
 * A malformed control tag (`@hipaa`, `@nist`, …) in a TSDoc comment. `line` is the tag line.
 *
 * @example
 * ```ts
 * parseControlTags('@hipaa 164.312(b) maybe') // throws ControlTagError (ERR_CONTROL_TAG)
 * ```
 */
export class ControlTagError extends ControlsCodedError<'ERR_CONTROL_TAG'> {
  static override readonly code = 'ERR_CONTROL_TAG'
  /** The offending tag line. */
  readonly line: string
  /** @param message - what is wrong; @param line - the tag line. */
  constructor(message: string, line: string) {
    super(`${message}: ${line}`)
    this.line = line
  }
}

/**
 * A tag refers to something the catalogs do not contain, or a pair lacks its rationale.
 *
 * @example
 * ```ts
 * buildCoverage(apis, '1.0.0') // throws CoverageError (ERR_CONTROLS_COVERAGE) for @hipaa 164.312(z)
 * ```
 */
export class CoverageError extends ControlsCodedError<'ERR_CONTROLS_COVERAGE'> {
  static override readonly code = 'ERR_CONTROLS_COVERAGE'
}

/**
 * A data file of this package (`data/*.json`) does not have the expected shape. Thrown when the
 * package loads; it means the installed package is damaged.
 *
 * @example
 * ```ts
 * throw new CatalogDataError('data/hipaa-catalog.json: citation 3: unknown designation')
 * ```
 */
export class CatalogDataError extends ControlsCodedError<'ERR_CONTROLS_DATA'> {
  static override readonly code = 'ERR_CONTROLS_DATA'
}

/**
 * A baseline file (or object) does not validate: unknown threshold or member, a value of the wrong
 * kind, a change without its reason. `pointer` is the RFC 6901 JSON Pointer of the member.
 *
 * @example
 * ```ts
 * parseBaseline('{"thresholds":{"backup.rpo":{"value":"36h"}}}')
 * // throws BaselineError, pointer '/thresholds/backup.rpo/reason'
 * ```
 */
export class BaselineError extends ControlsCodedError<'ERR_EVIDENCE_BASELINE'> {
  static override readonly code = 'ERR_EVIDENCE_BASELINE'
  /** RFC 6901 JSON Pointer of the offending member ('' for the whole document). */
  readonly pointer: string
  /** @param message - what is wrong (never a value); @param pointer - where it is. */
  constructor(message: string, pointer: string) {
    super(`${message} at ${pointer === '' ? 'the document root' : pointer}`)
    this.pointer = pointer
  }
}
