/**
 * The policy document: the types an app team writes (as JSON or YAML) and that
 * {@link parsePolicy} validates. The grammar is documented in the package README.
 *
 * HIPAA: 164.308(a)(4) access authorization and 164.502(b) minimum necessary (a policy states which
 * classes of workforce may take which actions on which categories of PHI, under which conditions).
 *
 * @module
 */

/** `allow` or `deny`, exactly (lower case; `"Deny"` is rejected). */
export type Effect = 'allow' | 'deny'

/** A literal value in a condition. */
export type Literal = string | number | boolean | null

/** A condition operand: a literal, a list of literals, or `{ "ref": "subject.attributes.unit" }`. */
export type Operand = Literal | readonly Literal[] | { readonly ref: string }

/** A day of the week, for {@link TimeWindow}. */
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun'

/** A time-of-day window, `[from, to)`, wrapping midnight when `to` ≤ `from`. */
export interface TimeWindow {
  /** `HH:MM`, 24-hour. */
  readonly from: string
  /** `HH:MM`, 24-hour. */
  readonly to: string
  /** Days the window is open (default every day), evaluated in the window's offset. */
  readonly days?: readonly Weekday[]
  /** Offset from UTC in minutes (default 0), for example `-300` for UTC-5. */
  readonly utcOffsetMinutes?: number
}

/**
 * A declarative condition (never evaluated as code).
 * - `all`/`any`/`not` combine conditions (Kleene logic: false dominates `all`, true dominates `any`,
 *   otherwise an error propagates).
 * - `eq`/`ne`/`lt`/`lte`/`gt`/`gte` compare two operands (ordering needs two numbers or two strings).
 * - `in` tests that the left operand is in the right list.
 * - `exists` tests that an attribute path is present.
 * - `relation` calls the named relationship resolver the app registered.
 * - `timeWindow` tests the decision point's clock.
 */
export type Condition =
  | { readonly all: readonly Condition[] }
  | { readonly any: readonly Condition[] }
  | { readonly not: Condition }
  | { readonly eq: readonly [Operand, Operand] }
  | { readonly ne: readonly [Operand, Operand] }
  | { readonly lt: readonly [Operand, Operand] }
  | { readonly lte: readonly [Operand, Operand] }
  | { readonly gt: readonly [Operand, Operand] }
  | { readonly gte: readonly [Operand, Operand] }
  | { readonly in: readonly [Operand, Operand] }
  | { readonly exists: string }
  | { readonly relation: string }
  | { readonly timeWindow: TimeWindow }

/** A role. `inherits` lists roles whose permissions this role also has. */
export interface RoleDefinition {
  readonly id: string
  readonly inherits?: readonly string[]
  /** Tenants in which the role may be held (default: any tenant). */
  readonly tenants?: readonly string[]
  readonly description?: string
}

/** A sensitivity label: a deny overlay on resources that carry it. */
export interface LabelDefinition {
  readonly id: string
  /** Whether an emergency-access grant lifts the overlay. Required: `"lifts"` or `"never"`. */
  readonly emergencyAccess: 'lifts' | 'never'
  /** Whether an active patient consent lifts the overlay (default `"lifts"`). */
  readonly consent?: 'lifts' | 'never'
  readonly description?: string
}

/** A rule. `roles`, `actions` and `resources` may hold the explicit token `"*"` (alone). */
export interface RuleDefinition {
  readonly id: string
  readonly effect: Effect
  readonly roles: readonly string[]
  readonly actions: readonly string[]
  /** Resource types. */
  readonly resources: readonly string[]
  /** Resource tenants the rule applies to (default: every tenant). */
  readonly tenants?: readonly string[]
  /**
   * Subject tenants the rule applies to. For an allow rule, absent means "the subject's tenant must
   * equal the resource's tenant"; listing tenants is an explicit cross-tenant grant (no `"*"`).
   * For a deny rule, absent means every subject tenant.
   */
  readonly subjectTenants?: readonly string[]
  readonly when?: Condition
  /** Obligation ids attached to decisions this rule allows (for example `audit:psychotherapy`). */
  readonly obligations?: readonly string[]
  readonly description?: string
}

/** Who may invoke emergency access, for what, and for how long. */
export interface EmergencyAccessPolicy {
  /** Roles that may request a grant (role inheritance applies). */
  readonly roles: readonly string[]
  /** Actions a grant may cover. */
  readonly actions: readonly string[]
  /** Resource types a grant may cover. */
  readonly resources: readonly string[]
  /** Reason codes a requester must pick from. */
  readonly reasonCodes: readonly string[]
  /** Longest grant in minutes (default 60, at most 1440). */
  readonly maxMinutes?: number
  /** Shortest justification in characters after trimming (default 20). */
  readonly minJustificationLength?: number
  /**
   * Dual control: how many other users must approve a grant before it opens anything (0 to 3,
   * default 0). Approvers are never the holder.
   */
  readonly approvers?: number
  /** Hours after a grant ends within which it must be reviewed (default 24, at most 720). */
  readonly reviewWithinHours?: number
}

/** SMART on FHIR permission letters. */
export type SmartPermission = 'c' | 'r' | 'u' | 'd' | 's'

/** A policy document, version 1. */
export interface PolicyDocument {
  readonly version: 1
  readonly id?: string
  readonly description?: string
  /** Declared tenants; when present, every tenant a rule or role names must be declared. */
  readonly tenants?: readonly string[]
  /** Declared actions; when present, every action a rule names must be declared. */
  readonly actions?: readonly string[]
  /** Declared resource types; when present, every type a rule names must be declared. */
  readonly resourceTypes?: readonly string[]
  /** Names of relationship resolvers the conditions use. */
  readonly relationships?: readonly string[]
  readonly roles: readonly RoleDefinition[]
  readonly labels?: readonly LabelDefinition[]
  readonly rules: readonly RuleDefinition[]
  readonly emergencyAccess?: EmergencyAccessPolicy
  /** Maps actions to SMART permission letters, on top of the FHIR defaults (read→r, search→s…). */
  readonly smartActions?: Readonly<Record<string, SmartPermission>>
}
