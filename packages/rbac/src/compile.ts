/**
 * `compilePolicy(document).decide(request)`: a synchronous policy decision point.
 *
 * Decision rules (the README states them for auditors):
 * 1. A malformed request, or one that throws when read, is denied (`invalid_request`).
 * 2. Default deny. Any applicable deny rule wins (`explicit_deny`); a deny rule whose condition
 *    cannot be evaluated counts as applicable (`deny_condition_error`). Emergency access never
 *    lifts a deny rule.
 * 3. Sensitivity labels on the resource are deny overlays: each must be lifted by the request's
 *    consent (unless the label says `consent: never`) or by an active emergency-access grant
 *    (unless the label says `emergencyAccess: never`); an unknown label is never lifted.
 * 4. An allow rule applies only when the subject's tenant equals the resource's tenant, unless the
 *    rule lists `subjectTenants` (an explicit cross-tenant grant). An allow rule whose condition
 *    cannot be evaluated does not grant.
 * 5. With no applicable allow rule, an active emergency-access grant covering this subject, tenant,
 *    patient, action and resource type grants (`emergency_access`), with an `audit:emergency-access`
 *    obligation.
 * 6. SMART scopes, when present, must also permit the access (`scope_exceeded` otherwise).
 * The outcome never depends on the order of rules, roles or list entries.
 *
 * Compiled form: role closure precomputed (`internal/roles.ts`); rules indexed by (action,
 * resource type) into buckets holding, per held role, the unconditional allow/deny hits and the
 * conditional ones (`internal/rule-index.ts`), built on first use and kept (`internal/bucket-cache.ts`);
 * frozen decisions precomputed per bucket and role, so the common case allocates nothing; with
conditional rules, the applicable ones are collected into reused state (`internal/collect.ts`) and
the common outcomes' decisions are frozen once, so that case allocates nothing either. The
 * decision itself is `internal/evaluate.ts`; emergency grants are `internal/emergency-scope.ts` and
 * `emergency-access.ts`. This file is the shell that wires them.
 *
 * HIPAA: 164.312(a)(1) access control; 164.308(a)(4) access authorization; 164.502(b) minimum
 * necessary; 164.312(a)(2)(ii) emergency access procedure.
 *
 * @module
 */

import type { Clock, RandomSource } from '@safeguards/core'
import {
  bytesToHex,
  canonicalize,
  type EventOptions,
  randomBytes,
  sha256,
  systemClock,
  utf8Encode,
} from '@safeguards/core'
import type { AccessRequest, Decision } from './decision.js'
import {
  createEmergencyAccess,
  createMemoryEmergencyStore,
  type EmergencyAccess,
  type EmergencyAccessStore,
  type EmergencyGrantNotice,
} from './emergency-access.js'
import { PolicyError } from './errors.js'
import { emitDecision, syncEmitter } from './internal/access-events.js'
import { createBucketCache } from './internal/bucket-cache.js'
import type { Resolver } from './internal/conditions.js'
import { compileEmergencyConfig, createGrantLookup } from './internal/emergency-scope.js'
import { type CompiledPolicy, constantDecision, createEvaluate } from './internal/evaluate.js'
import { compileRoles } from './internal/roles.js'
import { compileRuleIndex, EMPTY } from './internal/rule-index.js'
import { validatePolicy } from './internal/validate.js'
import type { PolicyDocument, SmartPermission } from './policy.js'
import { SMART_BITS } from './smart-scopes.js'

/** A relationship resolver the app registers, for example "is on the patient's care team". */
export type RelationshipResolver = (request: AccessRequest) => boolean

/**
 * Options for {@link compilePolicy}. `events` receives `access.denied`, `access.emergency.used`,
 * `access.emergency.granted`, `.revoked` and `.reviewed` (and `access.allowed` with
 * `emitAllowed`). Every rbac API is synchronous, so sinks are isolated: a critical sink is refused.
 */
export interface CompileOptions extends EventOptions {
  /** Clock for time windows and emergency-access expiry (default the system clock). */
  clock?: Clock
  /** Randomness for emergency-access grant ids (default core's `randomBytes`). */
  random?: RandomSource
  /**
   * Relationship resolvers by name. Synchronous and side-effect free; a missing resolver, a throw or
   * a non-boolean result is a condition error (fails closed).
   */
  resolvers?: Readonly<Record<string, RelationshipResolver>>
  /** Where emergency-access grants live (default a new in-memory store). */
  emergencyStore?: EmergencyAccessStore
  /**
   * Called on every new emergency grant (page the privacy officer, post to a channel) with codes
   * and ids only: no patient, no justification. Its failure never fails the grant: it goes to
   * `onSinkError`.
   */
  onEmergencyGrant?: (notice: EmergencyGrantNotice) => void | Promise<void>
  /**
   * Also emit `access.allowed` for allowed decisions (default false: on the hot path they are too
   * frequent for most sinks). Denials and uses of emergency grants are always emitted.
   */
  emitAllowed?: boolean
}

/** A compiled policy. */
export interface DecisionPoint {
  /** Decides one request. Synchronous; never throws: a malformed or unreadable request is denied. */
  decide(request: AccessRequest): Decision
  /** SHA-256 (hex) of the policy's canonical JSON. */
  readonly policyHash: string
  /** The validated, frozen policy document. */
  readonly policy: PolicyDocument
  /** Emergency access bound to this policy. */
  readonly emergency: EmergencyAccess
}

/**
 * Compiles a policy document into a decision point.
 *
 * HIPAA: supports 164.312(a)(1) access control, 164.308(a)(4) access authorization, 164.502(b)
 * minimum necessary and 164.312(a)(2)(ii) emergency access procedure: it enforces the policy you
 * write; unique user ids, the emergency procedure itself and access reviews stay yours.
 *
 * @param document - a policy document (validated here; pass the parsed JSON/YAML value).
 * @param options - clock, randomness, relationship resolvers, emergency-access store, event sinks.
 * @returns the decision point.
 * @hipaa 164.312(a)(1) supports
 * @hipaa 164.308(a)(4)(ii)(B) supports
 * @hipaa 164.308(a)(4)(ii)(C) supports
 * @hipaa 164.308(a)(3)(ii)(A) supports
 * @hipaa 164.312(a)(2)(ii) supports
 * @hipaa 164.502(b) supports
 * @nist AC-3 164.312(a)(1)
 * @nist AC-6 164.312(a)(1)
 * @nist AC-5 164.312(a)(1)
 * @nist AC-3(7) 164.312(a)(1): every request is decided by roles with inheritance, default deny
 * @nist AC-3 164.308(a)(4)(ii)(B)
 * @nist AC-3 164.312(a)(2)(ii)
 * @nist AC-6(9) 164.312(a)(2)(ii): every emergency-access decision carries an audit:emergency-access obligation and waits in pendingReviews until reviewed
 * @nist AC-6 164.502(b): per-role, per-resource-type and conditional rules grant the least access a task needs
 * @evidence a decision with the deciding rule ids, the role chain behind each, condition errors, and obligations such as audit:emergency-access
 * @evidence pendingReviews(): emergency-access grants awaiting review, with reason code and justification
 * @appResponsibility Design roles and minimum-necessary rules from your workflows; provision, deprovision and periodically review role assignments; unique user ids come from your identity provider; review every emergency-access use promptly.
 * @config policy document: roles, inheritance, rules, conditions, tenants, sensitivity labels, emergency-access maximum duration
 * @verifiedBy packages/rbac/test/decide.test.ts
 * @verifiedBy packages/rbac/test/differential.test.ts
 * @verifiedBy packages/rbac/test/emergency.test.ts
 * @throws {PolicyError} (code `ERR_RBAC_POLICY_INVALID`) listing every problem, with JSON Pointers.
 * @throws {InvalidArgumentError} (code `ERR_INVALID_ARGUMENT`) when an event sink is critical.
 * @example
 * ```ts
 * const pdp = compilePolicy(policy, { resolvers: { careTeam: (r) => careTeams.has(r.subject.id, r.resource.patient) } })
 * const d = pdp.decide({
 *   subject: { id: 'u-17', tenant: 'clinic-a', roles: ['nurse'] },
 *   action: 'read',
 *   resource: { type: 'Observation', tenant: 'clinic-a', patient: 'p-9' },
 * })
 * if (!d.allowed) return forbidden(d.reason)
 * ```
 */
export function compilePolicy(document: unknown, options: CompileOptions = {}): DecisionPoint {
  const v = validatePolicy(document)
  if (!v.ok) throw new PolicyError(v.problems)
  const doc = deepFreeze(structuredClone(v.policy)) as PolicyDocument
  const policyHash = bytesToHex(sha256(utf8Encode(canonicalize(doc))))
  const clock = options.clock ?? systemClock
  const random = options.random ?? randomBytes
  const emitter = syncEmitter(options)
  const emitAllowed = options.emitAllowed === true
  const resolvers = compileResolvers(options.resolvers)
  const roles = compileRoles(doc.roles)
  const index = compileRuleIndex(doc, roles, policyHash)
  const emergencyConfig = compileEmergencyConfig(doc, roles)
  const store = options.emergencyStore ?? createMemoryEmergencyStore()
  const emergency = createEmergencyAccess(emergencyConfig, store, clock, random, emitter, {
    ...(options.onEmergencyGrant ? { onGrant: options.onEmergencyGrant } : {}),
    ...(options.onSinkError ? { onError: options.onSinkError } : {}),
  })
  const policy: CompiledPolicy = Object.freeze({
    policyHash,
    roles,
    index,
    bucketFor: createBucketCache(index),
    resolvers,
    labels: new Map((doc.labels ?? EMPTY).map((l) => [l.id, l])),
    smartLetters: smartLetters(doc),
    grants: createGrantLookup(emergencyConfig, emergency),
    invalid: constantDecision('invalid_request', policyHash),
    noMatch: constantDecision('no_matching_allow', policyHash),
    tenantMismatch: constantDecision('tenant_mismatch', policyHash),
  })
  const evaluate = createEvaluate(policy, clock)
  // With no sink, `decide` is the evaluator itself: nothing is added to the hot path.
  const decide = !emitter.active
    ? evaluate
    : (req: AccessRequest): Decision => {
        const d = evaluate(req)
        emitDecision(emitter, clock, emitAllowed, req, d)
        return d
      }
  return Object.freeze({ decide, policyHash, policy: doc, emergency })
}

/** The app's relationship resolvers, checked to be functions. */
function compileResolvers(given: CompileOptions['resolvers']): ReadonlyMap<string, Resolver> {
  const resolvers = new Map<string, Resolver>()
  if (given !== undefined) {
    for (const name of Object.keys(given)) {
      const fn = given[name]
      if (typeof fn !== 'function') throw new TypeError(`resolver ${JSON.stringify(name)} is not a function`)
      resolvers.set(name, fn)
    }
  }
  return resolvers
}

/** The SMART permission bit of each action: FHIR interactions, then the policy's `smartActions`. */
function smartLetters(doc: PolicyDocument): ReadonlyMap<string, number> {
  const letters = new Map<string, number>([
    ['create', SMART_BITS.c],
    ['read', SMART_BITS.r],
    ['vread', SMART_BITS.r],
    ['history', SMART_BITS.r],
    ['search', SMART_BITS.s],
    ['update', SMART_BITS.u],
    ['patch', SMART_BITS.u],
    ['delete', SMART_BITS.d],
  ])
  if (doc.smartActions)
    for (const k of Object.keys(doc.smartActions))
      letters.set(k, SMART_BITS[doc.smartActions[k] as SmartPermission])
  return letters
}

/** Freezes a JSON value (a tree: structuredClone of a validated document) all the way down. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const k of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[k])
    Object.freeze(value)
  }
  return value
}
