/**
 * Typed errors for `@safeguards/rbac`. A normal "no" is a {@link Decision} with `allowed: false`;
 * these errors are for a malformed policy, a malformed emergency-access request, a malformed SMART
 * scope string and misuse of the API. Messages carry codes, counts and JSON Pointers, never PHI.
 *
 * HIPAA: 164.312(b) audit controls (stable codes can be recorded as is).
 *
 * @module
 */
import { CodedError, type ErrorCategory } from '@safeguards/core'

/** The {@link ErrorCategory} of each code this package's base class covers: the one table of its codes. */
const categories = {
  ERR_RBAC_POLICY_INVALID: 'invalid-input',
  ERR_RBAC_EMERGENCY_REQUEST_INVALID: 'invalid-argument',
  ERR_RBAC_EMERGENCY_NOT_FOUND: 'conflict',
  ERR_RBAC_EMERGENCY_STATE: 'conflict',
  ERR_RBAC_SMART_SCOPE_INVALID: 'invalid-input',
  ERR_RBAC_EMERGENCY_STORE_UNAVAILABLE: 'unavailable',
} as const

/** Error codes raised by `@safeguards/rbac`. Stable: adding one is minor, removing one is major. */
export type RbacErrorCode = keyof typeof categories

/** One problem found in a policy document. */
export interface PolicyProblem {
  /** RFC 6901 JSON Pointer to the offending value (`''` is the document root). */
  readonly path: string
  /** Machine-readable kind, for example `unknown_key`, `dangling_reference`, `role_cycle`. */
  readonly code: string
  /** A safe, human-readable description. */
  readonly message: string
}

/**
 * The base of this package's coded errors (not exported): it holds the {@link ErrorCategory} of
 * each code, so that each class declares its code only.
 *
 * @internal
 */
class RbacCodedError<C extends RbacErrorCode> extends CodedError<C> {
  static override readonly categories: typeof categories = categories
}

/**
 * A policy document is invalid. `problems` lists every problem found, each with its JSON Pointer.
 *
 * @example
 * ```ts
 * try {
 *   compilePolicy(doc)
 * } catch (e) {
 *   if (e instanceof PolicyError) for (const p of e.problems) console.error(p.path, p.message)
 * }
 * ```
 */
export class PolicyError extends RbacCodedError<'ERR_RBAC_POLICY_INVALID'> {
  static override readonly code = 'ERR_RBAC_POLICY_INVALID'
  /** Every problem, in document order. */
  readonly problems: readonly PolicyProblem[]
  /** @param problems - at least one problem. */
  constructor(problems: readonly PolicyProblem[]) {
    const first = problems[0]
    const where = first ? `; first at ${first.path || '(root)'}: ${first.message}` : ''
    super(`invalid policy: ${problems.length} problem(s)${where}`)
    this.problems = Object.freeze([...problems])
  }
}

/** The codes of {@link EmergencyAccessError}. */
export type EmergencyAccessErrorCode =
  | 'ERR_RBAC_EMERGENCY_REQUEST_INVALID'
  | 'ERR_RBAC_EMERGENCY_NOT_FOUND'
  | 'ERR_RBAC_EMERGENCY_STATE'
  | 'ERR_RBAC_EMERGENCY_STORE_UNAVAILABLE'

/**
 * An emergency-access (break-glass) operation was refused. Catch this class and branch on `code`;
 * each code has its own subclass: {@link EmergencyRequestInvalidError} (a missing or unknown reason
 * code, a justification that is too short, a duration beyond the policy's maximum, actions outside
 * the policy's emergency scope, a requester without an eligible role, a malformed review),
 * {@link EmergencyGrantNotFoundError} and {@link EmergencyGrantStateError}.
 *
 * @example
 * ```ts
 * pdp.emergency.grant({ ...request, justification: 'x' }) // throws EmergencyAccessError
 * ```
 */
export abstract class EmergencyAccessError extends RbacCodedError<EmergencyAccessErrorCode> {}

/** An emergency-access request or review is malformed or outside the policy. */
export class EmergencyRequestInvalidError extends EmergencyAccessError {
  static override readonly code = 'ERR_RBAC_EMERGENCY_REQUEST_INVALID'
  declare readonly code: 'ERR_RBAC_EMERGENCY_REQUEST_INVALID'
}

/** No emergency grant has this id (revoke, review). */
export class EmergencyGrantNotFoundError extends EmergencyAccessError {
  static override readonly code = 'ERR_RBAC_EMERGENCY_NOT_FOUND'
  declare readonly code: 'ERR_RBAC_EMERGENCY_NOT_FOUND'
}

/**
 * The grant's state forbids the operation: emergency access disabled, grant still active (review),
 * already ended (revoke), already reviewed, self-review, malformed record, id collision.
 */
export class EmergencyGrantStateError extends EmergencyAccessError {
  static override readonly code = 'ERR_RBAC_EMERGENCY_STATE'
  declare readonly code: 'ERR_RBAC_EMERGENCY_STATE'
}

/**
 * A SMART on FHIR scope string is malformed (bad permission letters, order or resource type).
 *
 * @example
 * ```ts
 * parseSmartScopes('patient/Observation.dus') // throws SmartScopeError
 * ```
 */
export class SmartScopeError extends RbacCodedError<'ERR_RBAC_SMART_SCOPE_INVALID'> {
  static override readonly code = 'ERR_RBAC_SMART_SCOPE_INVALID'
  /** Index of the offending scope in the space-separated list. */
  readonly index: number
  /** @param message - safe description; @param index - which scope. */
  constructor(message: string, index: number) {
    super(`${message} (scope #${index})`)
    this.index = index
  }
}

/**
 * The shared emergency-grant store did not answer (Redis unreachable, a command timed out): the
 * grant, revocation or review was not stored, or its outcome is unknown. Retry later; meanwhile
 * the store fails closed (decisions find no grant). Never carries the grant or the command.
 *
 * @example
 * ```ts
 * try {
 *   await pdp.emergency.grantAsync(request)
 * } catch (e) {
 *   if (isSafeguardsError(e, 'ERR_RBAC_EMERGENCY_STORE_UNAVAILABLE')) return reply.code(503).send()
 *   throw e
 * }
 * ```
 */
export class EmergencyStoreUnavailableError extends EmergencyAccessError {
  static override readonly code = 'ERR_RBAC_EMERGENCY_STORE_UNAVAILABLE'
  declare readonly code: 'ERR_RBAC_EMERGENCY_STORE_UNAVAILABLE'
}
