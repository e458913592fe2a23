/**
 * Requests and decisions: what `decide` takes and returns.
 *
 * HIPAA: 164.312(a)(1) access control and 164.312(a)(2)(i) unique user identification (every request
 * names one subject id), 164.312(b) audit controls (a decision explains itself and carries its
 * obligations), 164.312(a)(2)(ii) emergency access procedure.
 *
 * @module
 */
import type { SmartScopes } from './smart-scopes.js'

/** The subject: a uniquely identified user, the roles they hold in their tenant, and attributes. */
export interface Subject {
  /** Unique user id (164.312(a)(2)(i)). */
  readonly id: string
  /** The tenant the roles are held in. */
  readonly tenant: string
  /** Role ids held in `tenant`. Unknown ids are ignored (they grant nothing). */
  readonly roles: readonly string[]
  /** Attributes conditions may read as `subject.attributes.NAME`. */
  readonly attributes?: Readonly<Record<string, unknown>>
}

/** The resource acted on. */
export interface Resource {
  /** Resource type, for example a FHIR type such as `Observation`. */
  readonly type: string
  /** The tenant that owns the resource. */
  readonly tenant: string
  readonly id?: string
  /** The patient whose record this is (needed for emergency access and `patient/` SMART scopes). */
  readonly patient?: string
  /** Sensitivity labels: each is a deny overlay (unknown labels deny). */
  readonly labels?: readonly string[]
  /** Attributes conditions may read as `resource.attributes.NAME` (and SMART `?param=value`). */
  readonly attributes?: Readonly<Record<string, unknown>>
}

/** One access request. */
export interface AccessRequest {
  readonly subject: Subject
  readonly action: string
  readonly resource: Resource
  /** Free-form context conditions read as `context.NAME` (purpose of use, encounter, IP…). */
  readonly context?: Readonly<Record<string, unknown>>
  /** Labels an active patient consent lifts for this access (the app's consent service decides). */
  readonly consent?: readonly string[]
  /** The id of an emergency-access grant the subject invokes. */
  readonly emergencyAccess?: string
  /** SMART on FHIR scopes of the access token: they can only narrow the decision. */
  readonly scopes?: SmartScopes
}

/** Why a decision came out as it did. */
export type DecisionReason =
  | 'allow'
  | 'emergency_access'
  | 'explicit_deny'
  | 'deny_condition_error'
  | 'no_matching_allow'
  | 'tenant_mismatch'
  | 'sensitivity_label'
  | 'scope_exceeded'
  | 'invalid_request'

/** A rule that decided the outcome, and the role chains that brought it in (`['nurse', 'staff']`). */
export interface DecidingRule {
  readonly id: string
  readonly effect: 'allow' | 'deny'
  /** Each chain starts at a role the subject holds and ends at the role the rule names (`*` for any). */
  readonly via: readonly (readonly string[])[]
}

/** Why a condition could not be evaluated. */
export type ConditionErrorCode =
  | 'missing_attribute'
  | 'type_mismatch'
  | 'resolver_missing'
  | 'resolver_failed'

/** A condition that could not be evaluated: fails closed (deny rules deny, allow rules do not grant). */
export interface ConditionError {
  readonly rule: string
  readonly code: ConditionErrorCode
  /** The attribute path or relationship name involved. */
  readonly detail: string
}

/** Something the caller must do when it acts on the decision (for example write an audit record). */
export interface Obligation {
  /** For example `audit:emergency-access`, or an id a rule declares. */
  readonly id: string
  /** The emergency-access grant, for `audit:emergency-access`. */
  readonly grant?: string
  /** The grant's reason code, for `audit:emergency-access`. */
  readonly reasonCode?: string
}

/** What happened to one sensitivity label on the resource. */
export interface LabelOutcome {
  readonly label: string
  readonly outcome: 'denied' | 'lifted_by_consent' | 'lifted_by_emergency_access'
  /** Whether emergency access could lift it (false for unknown labels and `"never"` labels). */
  readonly emergencyAccessLifts: boolean
}

/** The state of an emergency-access grant the request invoked. */
export type EmergencyGrantStatus =
  | 'active'
  | 'not_found'
  | 'malformed'
  | 'expired'
  | 'not_yet_valid'
  | 'revoked'
  | 'out_of_scope'
  | 'pending_approval'

/** What the decision point made of the emergency-access grant the request invoked. */
export interface EmergencyAccessUse {
  readonly grant: string
  readonly status: EmergencyGrantStatus
  /** True when the grant was needed for (and enabled) this decision. */
  readonly used: boolean
}

/** A decision. Frozen; safe to cache, log (it holds ids, never PHI values) and compare. */
export interface Decision {
  readonly allowed: boolean
  readonly reason: DecisionReason
  /** The deciding rules (the allows that granted, or the denies that refused), sorted by id. */
  readonly rules: readonly DecidingRule[]
  /** Conditions that could not be evaluated. */
  readonly errors: readonly ConditionError[]
  /** Obligations the caller must honour; empty on deny. */
  readonly obligations: readonly Obligation[]
  /** Sensitivity label outcomes, in the order the resource lists them. */
  readonly labels: readonly LabelOutcome[]
  /** The emergency-access grant the request invoked, or null. */
  readonly emergencyAccess: EmergencyAccessUse | null
  /** SHA-256 (hex) of the policy's RFC 8785 canonical JSON. */
  readonly policyHash: string
}
