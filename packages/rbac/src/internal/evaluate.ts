/**
 * The decision itself: a function of the compiled policy, the request and the time. Nothing it
 * keeps changes a result: the compiled policy is frozen apart from its memo caches, and the
 * scratch state that conditional decisions collect into (`collect.ts`) is reset by each decision;
 * the only outside reads are the clock, the app's relationship resolvers and the emergency-grant
 * store, through the compiled policy's lookup.
 *
 * The decision rules (numbered as in the README and in `compile.ts`):
 * 1. malformed or throwing requests deny (`invalid_request`);
 * 2. any applicable deny wins (`explicit_deny`, or `deny_condition_error` for a deny rule whose
 *    condition errs); emergency access never lifts a deny;
 * 3. each sensitivity label must be lifted by consent or an active grant (`sensitivity_label`);
 * 4. an allow applies within the subject's tenant unless it lists `subjectTenants`;
 * 5. with no allow, an active grant in scope grants (`emergency_access`) with an audit obligation;
 * 6. SMART scopes narrow (`scope_exceeded`).
 *
 * HIPAA: 164.312(a)(1) access control; 164.502(b) minimum necessary; 164.312(a)(2)(ii) emergency
 * access procedure.
 */
import type { Clock } from '@safeguards/core'
import type {
  AccessRequest,
  ConditionError,
  Decision,
  DecisionReason,
  EmergencyAccessUse,
  LabelOutcome,
  Obligation,
} from '../decision.js'
import type { LabelDefinition } from '../policy.js'
import { isSmartScopes, smartScopesPermit } from '../smart-scopes.js'
import { type BucketLookup, pairDecision } from './bucket-cache.js'
import { type Collected, type Collector, collectHits, createCollector, sortedErrors } from './collect.js'
import type { Resolver } from './conditions.js'
import type { GrantLookup, InvokedGrant } from './emergency-scope.js'
import type { CompiledRoles } from './roles.js'
import {
  ALLOW,
  type Bucket,
  DENY,
  decidingRules,
  EMPTY,
  FILTERED,
  type Hit,
  hitDecision,
  MANY,
  type RuleIndex,
  ruleObligations,
} from './rule-index.js'
import { LIMITS } from './tokens.js'

/** Everything a decision reads, compiled once per policy. */
export interface CompiledPolicy {
  readonly policyHash: string
  readonly roles: CompiledRoles
  readonly index: RuleIndex
  readonly bucketFor: BucketLookup
  readonly resolvers: ReadonlyMap<string, Resolver>
  readonly labels: ReadonlyMap<string, LabelDefinition>
  /** SMART permission bit of each action (0 for actions SMART does not name). */
  readonly smartLetters: ReadonlyMap<string, number>
  readonly grants: GrantLookup
  /** The constant decisions of the fast path. */
  readonly invalid: Decision
  readonly noMatch: Decision
  readonly tenantMismatch: Decision
}

/** A denial with nothing to explain but its reason. */
export function constantDecision(reason: DecisionReason, policyHash: string): Decision {
  return Object.freeze({
    allowed: false,
    reason,
    rules: EMPTY,
    errors: EMPTY,
    obligations: EMPTY,
    labels: EMPTY,
    emergencyAccess: null,
    policyHash,
  })
}

/** The decision function of one compiled policy and clock: `request → decision`. */
export type Evaluate = (req: AccessRequest) => Decision

/**
 * The decision function of `policy`: a pure function of the request and the time (`clock`; no state of
 * its own; the policy's memo caches never change a result). Never throws: anything that throws
 * while deciding (a getter or Proxy trap in the request, a clock, a store) denies with
 * `invalid_request` (rule 1).
 *
 * A closure over the policy rather than a function taking it, so the hot path reads the policy's
 * parts from its closure, as the unsplit `compilePolicy` did (measured: reading them from a
 * parameter on every call cost throughput).
 */
export function createEvaluate(policy: CompiledPolicy, clock: Clock): Evaluate {
  const { roles, index, bucketFor, invalid, noMatch, tenantMismatch } = policy
  const ANY = roles.count
  const roleIndex = roles.index
  const roleTenants = roles.tenants
  const collector = createCollector(ANY, index.ruleCount, policy.resolvers, clock)
  const decideOrThrow = (req: AccessRequest): Decision => {
    if (!wellFormed(req)) return invalid
    const subject = req.subject
    const resource = req.resource
    const bucket = bucketFor(req.action, resource.type)
    const state = bucket.state
    const tenant = subject.tenant
    // One pass over the held roles: which kinds of hits exist, and the first two distinct roles
    // holding unconditional allows and denies. No allocation.
    let flags = state[ANY] as number
    let a1 = flags & ALLOW ? ANY : -1
    let a2 = -1
    let d1 = flags & DENY ? ANY : -1
    let d2 = -1
    const held = subject.roles
    for (let i = 0; i < held.length; i++) {
      // roles.usable(name, tenant), inlined: an unknown or unusable role indexes nothing.
      const r = roleIndex.get(held[i] as string) as number
      const s = roleTenants[r]?.has(tenant) === false ? 0 : (state[r] as number) // undefined: no bits
      if (s & ALLOW) {
        if (a1 < 0 || a1 === r) a1 = r
        else if (a2 < 0 || a2 === r) a2 = r
        else flags |= MANY
      }
      if (s & DENY) {
        if (d1 < 0 || d1 === r) d1 = r
        else if (d2 < 0 || d2 === r) d2 = r
        else flags |= MANY
      }
      flags |= s
    }
    const labels = resource.labels
    if (
      (flags & (FILTERED | MANY)) === 0 &&
      (labels === undefined || labels.length === 0) &&
      req.scopes === undefined &&
      req.emergencyAccess === undefined
    ) {
      if (d1 >= 0) return pairDecision(index, ANY, bucket, d1, d2, false)
      if (tenant !== resource.tenant) return tenantMismatch
      if (a1 >= 0) return pairDecision(index, ANY, bucket, a1, a2, true)
      return noMatch
    }
    return conditional(policy, req, bucket, collector)
  }
  return (req) => {
    const depth = collector.depth
    try {
      return decideOrThrow(req)
    } catch {
      collector.unwind(depth)
      return invalid
    }
  }
}

/** Sensitivity labels as deny overlays (rule 3): each lifted by consent or an active grant. */
function applyLabels(
  policy: CompiledPolicy,
  req: AccessRequest,
  grant: InvokedGrant['grant'],
): { outcomes: LabelOutcome[]; blocked: boolean; liftedByGrant: boolean } {
  const outcomes: LabelOutcome[] = []
  let blocked = false
  let liftedByGrant = false
  const consent = req.consent ?? EMPTY
  for (const label of req.resource.labels ?? EMPTY) {
    const def = policy.labels.get(label)
    if (def === undefined) {
      outcomes.push(Object.freeze({ label, outcome: 'denied', emergencyAccessLifts: false }))
      blocked = true
      continue
    }
    const lifts = def.emergencyAccess === 'lifts'
    if (def.consent !== 'never' && consent.includes(label)) {
      outcomes.push(Object.freeze({ label, outcome: 'lifted_by_consent', emergencyAccessLifts: lifts }))
    } else if (lifts && grant !== undefined) {
      outcomes.push(
        Object.freeze({ label, outcome: 'lifted_by_emergency_access', emergencyAccessLifts: true }),
      )
      liftedByGrant = true
    } else {
      outcomes.push(Object.freeze({ label, outcome: 'denied', emergencyAccessLifts: lifts }))
      blocked = true
    }
  }
  return { outcomes, blocked, liftedByGrant }
}

/** What a general-path decision is assembled from. */
interface Outcome {
  readonly allowed: boolean
  readonly reason: DecisionReason
  readonly hits: readonly Hit[]
  readonly labels: readonly LabelOutcome[]
  /** The grant enabled this decision (only meaningful when allowed). */
  readonly emergencyUsed: boolean
}

/** Builds the frozen decision of the general path. A denial never reports the grant as used. */
function finish(
  policy: CompiledPolicy,
  o: Outcome,
  errors: readonly ConditionError[],
  invoked: InvokedGrant | undefined,
): Decision {
  const used = o.allowed && o.emergencyUsed
  const obligations: Obligation[] = o.allowed ? [...ruleObligations(o.hits)] : []
  const grant = invoked?.grant
  if (used && grant)
    obligations.unshift(
      Object.freeze({ id: 'audit:emergency-access', grant: grant.id, reasonCode: grant.reasonCode }),
    )
  const emergencyAccess: EmergencyAccessUse | null =
    invoked === undefined ? null : Object.freeze({ ...invoked.use, used })
  return Object.freeze({
    allowed: o.allowed,
    reason: o.reason,
    rules: decidingRules(o.hits),
    errors,
    obligations: Object.freeze(obligations),
    labels: Object.freeze(o.labels),
    emergencyAccess,
    policyHash: policy.policyHash,
  })
}

/**
 * The decision when some held role has filtered rules, or the request has labels, scopes or an
 * emergency-access grant: the applicable rules collected into the reusable state, then the
 * decision. A plain request (none of those) whose outcome is a common one (no rule, one rule, or
 * one role's unconditional list, with no condition error) gets a frozen decision made once;
 * anything else is assembled by {@link general}.
 */
function conditional(
  policy: CompiledPolicy,
  req: AccessRequest,
  bucket: Bucket,
  collector: Collector,
): Decision {
  // No try/finally (V8 allocates for it here): when deciding throws, the decision function's catch
  // unwinds the collector instead.
  const st = collector.acquire(req)
  {
    collectHits(policy.roles, bucket, st)
    const labels = req.resource.labels
    const plain =
      st.nErr === 0 &&
      (labels === undefined || labels.length === 0) &&
      req.scopes === undefined &&
      req.emergencyAccess === undefined
    const d = (plain ? common(policy, bucket, st) : undefined) ?? general(policy, req, st)
    collector.release(st)
    return d
  }
}

/** The frozen decision of a plain request's common outcome, or undefined to assemble one. */
function common(policy: CompiledPolicy, bucket: Bucket, st: Collected): Decision | undefined {
  if (st.nDeny > 0) {
    // No condition error: every deny hit applied cleanly (explicit_deny).
    if (st.nDeny === 1) return hitDecision(policy.index, st.deny[0] as Hit)
    return st.denySrc >= 0 ? bucket.denyDecision.get(st.denySrc) : undefined
  }
  if (st.nAllow === 0) return st.sameTenant ? policy.noMatch : policy.tenantMismatch
  if (st.nAllow === 1) return hitDecision(policy.index, st.allow[0] as Hit)
  return st.allowSrc >= 0 ? bucket.allowDecision.get(st.allowSrc) : undefined
}

/** The general path: condition errors, labels, emergency access, scopes. */
function general(policy: CompiledPolicy, req: AccessRequest, st: Collected): Decision {
  const errors = sortedErrors(st)
  const deny = st.deny.slice(0, st.nDeny)
  const allow = st.allow.slice(0, st.nAllow)
  // Emergency access, looked up once.
  const invoked = req.emergencyAccess === undefined ? undefined : policy.grants(req, st.time.now())
  const grant = invoked?.grant
  const done = (o: Outcome): Decision => finish(policy, o, errors, invoked)
  if (deny.length > 0) {
    const reason = st.cleanDeny ? 'explicit_deny' : 'deny_condition_error'
    return done({ allowed: false, reason, hits: deny, labels: EMPTY, emergencyUsed: false })
  }
  const labels = applyLabels(policy, req, grant)
  if (labels.blocked)
    return done({
      allowed: false,
      reason: 'sensitivity_label',
      hits: EMPTY,
      labels: labels.outcomes,
      emergencyUsed: false,
    })
  let emergencyUsed = labels.liftedByGrant
  if (allow.length === 0) {
    if (grant === undefined) {
      const reason = st.sameTenant ? 'no_matching_allow' : 'tenant_mismatch'
      return done({ allowed: false, reason, hits: EMPTY, labels: labels.outcomes, emergencyUsed: false })
    }
    emergencyUsed = true
  }
  // Rule 6: SMART scopes narrow, never widen.
  const scopes = req.scopes
  if (scopes !== undefined) {
    const letter = policy.smartLetters.get(req.action) ?? 0
    if (!smartScopesPermit(scopes, letter, req.resource))
      return done({
        allowed: false,
        reason: 'scope_exceeded',
        hits: EMPTY,
        labels: labels.outcomes,
        emergencyUsed,
      })
  }
  const reason = emergencyUsed ? 'emergency_access' : 'allow'
  return done({ allowed: true, reason, hits: allow, labels: labels.outcomes, emergencyUsed })
}

// --- Request shape (rule 1) ----------------------------------------------------------------------

/** Request shape checks: cheap `typeof` tests; anything else is `invalid_request`. */
function wellFormed(req: AccessRequest): boolean {
  if (!isRecord(req)) return false
  const s = req.subject
  const r = req.resource
  if (!isRecord(s) || !isRecord(r)) return false
  if (typeof s.id !== 'string' || s.id === '' || typeof s.tenant !== 'string' || s.tenant === '') return false
  if (!Array.isArray(s.roles) || s.roles.length > LIMITS.listItems) return false
  if (typeof req.action !== 'string' || typeof r.type !== 'string') return false
  if (typeof r.tenant !== 'string' || r.tenant === '') return false
  const labels = r.labels
  if (labels !== undefined && !isStringArray(labels)) return false
  if (req.consent !== undefined && !isStringArray(req.consent)) return false
  if (req.emergencyAccess !== undefined && typeof req.emergencyAccess !== 'string') return false
  if (req.scopes !== undefined && !isSmartScopes(req.scopes)) return false
  return true
}

/** An object that is not null (functions and primitives are not requests). */
function isRecord(v: unknown): boolean {
  if (typeof v !== 'object') return false
  // Stryker disable next-line all: equivalent, a field of null throws and decide() denies whatever throws
  return v !== null
}

function isStringArray(v: unknown): v is readonly string[] {
  if (!Array.isArray(v) || v.length > LIMITS.listItems) return false
  for (const x of v) if (typeof x !== 'string') return false
  return true
}
