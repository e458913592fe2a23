/**
 * Typed errors for `@safeguards/rbac`. A normal "no" is a {@link Decision} with `allowed: false`;
 * these errors are for a malformed policy, a malformed emergency-access request, a malformed SMART
 * scope string and misuse of the API. Messages carry codes, counts and JSON Pointers, never PHI.
 *
 * HIPAA: 164.312(b) audit controls (stable codes can be recorded as is).
 *
 * @module
 */
import { SafeguardsError } from '@safeguards/core'

/** Error codes raised by `@safeguards/rbac`. Stable: adding one is minor, removing one is major. */
export type RbacErrorCode =
  | 'ERR_RBAC_POLICY_INVALID'
  | 'ERR_RBAC_EMERGENCY_REQUEST_INVALID'
  | 'ERR_RBAC_EMERGENCY_NOT_FOUND'
  | 'ERR_RBAC_EMERGENCY_STATE'
  | 'ERR_RBAC_SMART_SCOPE_INVALID'

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
export class PolicyError extends SafeguardsError<'ERR_RBAC_POLICY_INVALID'> {
  /** Every problem, in document order. */
  readonly problems: readonly PolicyProblem[]
  /** @param problems - at least one problem. */
  constructor(problems: readonly PolicyProblem[]) {
    const first = problems[0]
    super(
      'ERR_RBAC_POLICY_INVALID',
      `invalid policy: ${problems.length} problem(s)${first ? `; first at ${first.path || '(root)'}: ${first.message}` : ''}`,
      { category: 'invalid-input' },
    )
    this.problems = Object.freeze([...problems])
  }
}

/**
 * An emergency-access (break-glass) request was refused: missing or unknown reason code, a
 * justification that is too short, a duration beyond the policy's maximum, actions outside the
 * policy's emergency scope, or a requester without an eligible role.
 *
 * @example
 * ```ts
 * pdp.emergency.grant({ ...request, justification: 'x' }) // throws EmergencyAccessError
 * ```
 */
export class EmergencyAccessError extends SafeguardsError<
  'ERR_RBAC_EMERGENCY_REQUEST_INVALID' | 'ERR_RBAC_EMERGENCY_NOT_FOUND' | 'ERR_RBAC_EMERGENCY_STATE'
> {
  /**
   * @param code - which failure.
   * @param message - safe description (field names, never values).
   */
  constructor(
    code: 'ERR_RBAC_EMERGENCY_REQUEST_INVALID' | 'ERR_RBAC_EMERGENCY_NOT_FOUND' | 'ERR_RBAC_EMERGENCY_STATE',
    message: string,
  ) {
    super(code, message, {
      category: code === 'ERR_RBAC_EMERGENCY_REQUEST_INVALID' ? 'invalid-argument' : 'conflict',
    })
  }
}

/**
 * A SMART on FHIR scope string is malformed (bad permission letters, order or resource type).
 *
 * @example
 * ```ts
 * parseSmartScopes('patient/Observation.dus') // throws SmartScopeError
 * ```
 */
export class SmartScopeError extends SafeguardsError<'ERR_RBAC_SMART_SCOPE_INVALID'> {
  /** Index of the offending scope in the space-separated list. */
  readonly index: number
  /** @param message - safe description; @param index - which scope. */
  constructor(message: string, index: number) {
    super('ERR_RBAC_SMART_SCOPE_INVALID', `${message} (scope #${index})`, { category: 'invalid-input' })
    this.index = index
  }
}
