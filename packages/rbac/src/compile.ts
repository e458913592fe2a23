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
 * Compiled form: role closure precomputed; rules indexed by (action, resource type) into buckets
 * holding, per held role, the unconditional allow/deny hits and the conditional ones; frozen
 * decisions precomputed per bucket and role, so the common case allocates nothing.
 *
 * HIPAA: 164.312(a)(1) access control; 164.308(a)(4) access authorization; 164.502(b) minimum
 * necessary; 164.312(a)(2)(ii) emergency access procedure.
 *
 * @module
 */
import {
  bytesToHex,
  type Clock,
  canonicalize,
  type EventOptions,
  type RandomSource,
  randomBytes,
  sha256,
  systemClock,
  utf8Encode,
} from '@safeguards/core'
import type {
  AccessRequest,
  ConditionError,
  DecidingRule,
  Decision,
  DecisionReason,
  EmergencyAccessUse,
  EmergencyGrantStatus,
  LabelOutcome,
  Obligation,
} from './decision.js'
import {
  createEmergencyAccess,
  createMemoryEmergencyStore,
  type EmergencyAccess,
  type EmergencyAccessStore,
  type EmergencyConfig,
  type EmergencyGrant,
  isEmergencyGrant,
} from './emergency-access.js'
import { PolicyError } from './errors.js'
import { emitDecision, syncEmitter } from './internal/access-events.js'
import {
  type CondFn,
  type ConditionErr,
  compileCondition,
  type EvalEnv,
  type Resolver,
} from './internal/conditions.js'
import { roleClosure } from './internal/roles.js'
import { LIMITS } from './internal/tokens.js'
import { validatePolicy } from './internal/validate.js'
import type { PolicyDocument, SmartPermission } from './policy.js'
import { isSmartScopes, SMART_BITS, smartScopesPermit } from './smart-scopes.js'

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

const EMPTY: readonly never[] = Object.freeze([])
const ANY_CHAIN: readonly string[] = Object.freeze(['*'])

interface CRule {
  readonly id: string
  readonly allow: boolean
  readonly cond: CondFn | undefined
  /** Resource tenants, or undefined for every tenant. */
  readonly tenants: ReadonlySet<string> | undefined
  /** Subject tenants, or undefined for the default (allow: same tenant; deny: any). */
  readonly subjectTenants: ReadonlySet<string> | undefined
  readonly obligations: readonly Obligation[]
  /** No condition and no tenant filters. */
  readonly simple: boolean
}

interface Hit {
  readonly rule: CRule
  readonly via: readonly string[]
}

interface Bucket {
  /** Keyed by role index (index nRoles is the virtual "any role" holder); only roles with hits. */
  readonly allow: ReadonlyMap<number, readonly Hit[]>
  readonly deny: ReadonlyMap<number, readonly Hit[]>
  readonly filtered: ReadonlyMap<number, readonly Hit[]>
  readonly allowDecision: ReadonlyMap<number, Decision>
  readonly denyDecision: ReadonlyMap<number, Decision>
  readonly pairs: Map<number, Decision>
  /** Per role: ALLOW | DENY | FILTERED bits, for the one-pass fast path. */
  readonly state: Uint8Array
}

/** Most (action, type) buckets kept; beyond, buckets are rebuilt per request (bounded memory). */
const MAX_CACHED_BUCKETS = 16384
/** Most two-role decisions cached per bucket. */
const MAX_CACHED_PAIRS = 1024
const ALLOW = 1
const DENY = 2
const FILTERED = 4
const MANY = 8

const freezeDecision = (d: Decision): Decision => Object.freeze(d)

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
  const resolvers = new Map<string, Resolver>()
  if (options.resolvers !== undefined) {
    for (const name of Object.keys(options.resolvers)) {
      const fn = options.resolvers[name]
      if (typeof fn !== 'function') throw new TypeError(`resolver ${JSON.stringify(name)} is not a function`)
      resolvers.set(name, fn)
    }
  }

  // ---- roles -------------------------------------------------------------------------------
  const nRoles = doc.roles.length
  const ANY = nRoles
  const roleIndex = new Map<string, number>()
  doc.roles.forEach((r, i) => {
    roleIndex.set(r.id, i)
  })
  const roleNames = doc.roles.map((r) => r.id)
  const roleTenants: (ReadonlySet<string> | undefined)[] = doc.roles.map((r) =>
    r.tenants ? new Set(r.tenants) : undefined,
  )
  const graph = doc.roles.map((r) =>
    [...new Set(r.inherits ?? [])].sort().map((id) => roleIndex.get(id) as number),
  )
  const { chains } = roleClosure(graph)
  const chainNames = chains.map(
    (m) => new Map([...m].map(([q, c]) => [q, Object.freeze(c.map((i) => roleNames[i] as string))])),
  )
  /** holders[q] = roles r whose closure contains q. */
  const holders: number[][] = roleNames.map(() => [])
  chains.forEach((m, r) => {
    for (const q of m.keys()) (holders[q] as number[]).push(r)
  })

  // ---- rules -------------------------------------------------------------------------------
  const rules: CRule[] = doc.rules.map((r) => {
    const tenants = r.tenants ? new Set(r.tenants) : undefined
    const subjectTenants = r.subjectTenants ? new Set(r.subjectTenants) : undefined
    const cond = r.when ? compileCondition(r.when) : undefined
    return {
      id: r.id,
      allow: r.effect === 'allow',
      cond,
      tenants,
      subjectTenants,
      obligations: Object.freeze((r.obligations ?? []).map((id) => Object.freeze({ id }))),
      simple: cond === undefined && tenants === undefined && subjectTenants === undefined,
    }
  })
  const byAction = new Map<string, number[]>()
  const byType = new Map<string, Set<number>>()
  doc.rules.forEach((r, i) => {
    for (const a of r.actions) {
      const list = byAction.get(a)
      if (list === undefined) byAction.set(a, [i])
      else list.push(i)
    }
    for (const t of r.resources) {
      const set = byType.get(t)
      if (set === undefined) byType.set(t, new Set([i]))
      else set.add(i)
    }
  })
  const wildAction = byAction.get('*') ?? EMPTY
  const wildType = byType.get('*')

  /** The bucket of an action and a type; `undefined` (never a key) stands for one no rule names. */
  const buildBucket = (action: string | undefined, type: string | undefined): Bucket => {
    const candidates = new Set([...(byAction.get(action as string) ?? EMPTY), ...wildAction])
    const typeSet = byType.get(type as string)
    const allow = new Map<number, Hit[]>()
    const deny = new Map<number, Hit[]>()
    const filtered = new Map<number, Hit[]>()
    const push = (m: Map<number, Hit[]>, r: number, hit: Hit): void => {
      const list = m.get(r)
      if (list === undefined) m.set(r, [hit])
      else list.push(hit)
    }
    for (const i of candidates) {
      if (!wildType?.has(i) && !typeSet?.has(i)) continue
      const rule = rules[i] as CRule
      const def = doc.rules[i] as PolicyDocument['rules'][number]
      const target = !rule.simple ? filtered : rule.allow ? allow : deny
      if (def.roles[0] === '*') {
        push(target, ANY, { rule, via: ANY_CHAIN })
        continue
      }
      for (const name of def.roles) {
        const q = roleIndex.get(name) as number
        for (const r of holders[q] as number[]) {
          push(target, r, { rule, via: chainNames[r]?.get(q) as readonly string[] })
        }
      }
    }
    // Sparse: only roles with hits have entries; `state` (one byte per role) is the dense index.
    const state = new Uint8Array(nRoles + 1)
    const allowDecision = new Map<number, Decision>()
    const denyDecision = new Map<number, Decision>()
    for (const [r, hits] of allow) {
      state[r] = (state[r] as number) | ALLOW
      allowDecision.set(r, simpleDecision(hits, true))
    }
    for (const [r, hits] of deny) {
      state[r] = (state[r] as number) | DENY
      denyDecision.set(r, simpleDecision(hits, false))
    }
    for (const r of filtered.keys()) state[r] = (state[r] as number) | FILTERED
    return { allow, deny, filtered, allowDecision, denyDecision, pairs: new Map(), state }
  }

  const simpleDecision = (hits: readonly Hit[], allowed: boolean): Decision =>
    freezeDecision({
      allowed,
      reason: allowed ? 'allow' : 'explicit_deny',
      rules: decidingRules(hits),
      errors: EMPTY,
      obligations: allowed ? ruleObligations(hits) : EMPTY,
      labels: EMPTY,
      emergencyAccess: null,
      policyHash,
    })

  // Buckets: explicit (action, type) pairs built on first use; unknown tokens share fallbacks.
  const typeLevels = new Map<string, Map<string, Bucket>>()
  const actionFallback = new Map<string, Bucket>() // explicit action, unknown type
  const unknownActionByType = new Map<string, Bucket>() // unknown action, explicit type
  let unknownBoth: Bucket | undefined
  /** The bucket under `key` in `cache`, built on first use. */
  const cached = (cache: Map<string, Bucket>, key: string, build: () => Bucket): Bucket => {
    let b = cache.get(key)
    if (b === undefined) {
      b = build()
      cache.set(key, b)
    }
    return b
  }

  let cachedBuckets = 0
  const bucketFor = (action: string, type: string): Bucket => {
    const knownAction = byAction.has(action)
    const knownType = byType.has(type)
    if (knownAction && knownType) {
      let level = typeLevels.get(action)
      if (level === undefined) {
        level = new Map()
        typeLevels.set(action, level)
      }
      let b = level.get(type)
      if (b === undefined) {
        b = buildBucket(action, type)
        // Bounded memory: past the cap (a huge vocabulary), buckets are built per request instead.
        if (cachedBuckets < MAX_CACHED_BUCKETS) {
          cachedBuckets++
          level.set(type, b)
        }
      }
      return b
    }
    // Names no rule uses share fallbacks, so junk requests do not grow the cache.
    if (knownAction) return cached(actionFallback, action, () => buildBucket(action, undefined))
    if (knownType) return cached(unknownActionByType, type, () => buildBucket(undefined, type))
    unknownBoth ??= buildBucket(undefined, undefined)
    return unknownBoth
  }

  // ---- emergency access --------------------------------------------------------------------
  const ea = doc.emergencyAccess
  const eligibleRoles = new Uint8Array(nRoles)
  if (ea) {
    for (const name of ea.roles)
      for (const r of holders[roleIndex.get(name) as number] as number[]) eligibleRoles[r] = 1
  }
  /**
   * The index of a role the subject may use in `tenant`, or undefined. An unknown name (or a
   * non-string) has no index, so its tenants lookup is undefined too; indexing `state`,
   * `eligibleRoles` or a bucket map with undefined finds nothing, so callers need no check.
   */
  const roleUsable = (name: unknown, tenant: string): number | undefined => {
    const r = roleIndex.get(name as string)
    return roleTenants[r as number]?.has(tenant) === false ? undefined : r
  }
  const isEligible = (subject: { tenant: string; roles: readonly string[] }): boolean => {
    for (const name of subject.roles)
      if (eligibleRoles[roleUsable(name, subject.tenant) as number] === 1) return true
    return false
  }
  const emergencyConfig: EmergencyConfig | undefined = ea
    ? {
        actions: new Set(ea.actions),
        resources: new Set(ea.resources),
        reasonCodes: new Set(ea.reasonCodes),
        maxMinutes: ea.maxMinutes ?? 60,
        minJustificationLength: ea.minJustificationLength ?? 20,
        isEligible,
      }
    : undefined
  const emergency = createEmergencyAccess(
    emergencyConfig,
    options.emergencyStore ?? createMemoryEmergencyStore(),
    clock,
    random,
    emitter,
  )

  const grantStatus = (
    grant: EmergencyGrant | undefined,
    req: AccessRequest,
    now: number,
  ): EmergencyGrantStatus => {
    if (grant === undefined || emergencyConfig === undefined) return 'not_found'
    if (!isEmergencyGrant(grant)) return 'malformed'
    const state = emergency.state(grant, now)
    if (state !== 'active') return state
    const s = req.subject
    const res = req.resource
    const inScope =
      grant.subject === s.id && // exact: a match grants (internal/subject-id.ts)
      grant.tenant === s.tenant &&
      res.tenant === s.tenant &&
      grant.patient === res.patient && // a string (isEmergencyGrant), so the resource names one
      grant.actions.includes(req.action) &&
      emergencyConfig.actions.has(req.action) &&
      grant.resources.includes(res.type) &&
      emergencyConfig.resources.has(res.type) &&
      isEligible(s)
    return inScope ? 'active' : 'out_of_scope'
  }

  // ---- labels, SMART -----------------------------------------------------------------------
  const labels = new Map((doc.labels ?? EMPTY).map((l) => [l.id, l]))
  const smartLetters = new Map<string, number>([
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
      smartLetters.set(k, SMART_BITS[doc.smartActions[k] as SmartPermission])

  // ---- constant decisions --------------------------------------------------------------------
  const constant = (reason: DecisionReason): Decision =>
    freezeDecision({
      allowed: false,
      reason,
      rules: EMPTY,
      errors: EMPTY,
      obligations: EMPTY,
      labels: EMPTY,
      emergencyAccess: null,
      policyHash,
    })
  const INVALID = constant('invalid_request')
  const NO_MATCH = constant('no_matching_allow')
  const TENANT_MISMATCH = constant('tenant_mismatch')

  // ---- the decision ------------------------------------------------------------------------
  /**
   * The held roles, deduplicated and tenant-checked, plus the virtual ANY (general path only). An
   * unusable role is undefined, which no bucket map holds.
   */
  const heldRoles = (subject: AccessRequest['subject']): ReadonlySet<number | undefined> => {
    const out = new Set<number | undefined>([ANY])
    for (const name of subject.roles) out.add(roleUsable(name, subject.tenant))
    return out
  }

  /** Anything that throws while deciding (a getter or Proxy trap in the request, a clock) denies. */
  const decide = (req: AccessRequest): Decision => {
    let d: Decision
    try {
      d = decideOrThrow(req)
    } catch {
      d = INVALID
    }
    if (emitter.active) emitDecision(emitter, clock, emitAllowed, req, d)
    return d
  }

  const decideOrThrow = (req: AccessRequest): Decision => {
    if (!wellFormed(req)) return INVALID
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
    for (const name of subject.roles) {
      const r = roleUsable(name, tenant) as number
      const s = state[r] as number // undefined for an unusable role: no bits
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
      if (d1 >= 0) return pairDecision(bucket, d1, d2, false)
      if (tenant !== resource.tenant) return TENANT_MISMATCH
      if (a1 >= 0) return pairDecision(bucket, a1, a2, true)
      return NO_MATCH
    }
    return evaluate(req, bucket, heldRoles(subject), tenant === resource.tenant)
  }

  /** The precomputed decision for the unconditional hits of one or two roles. */
  const pairDecision = (bucket: Bucket, x: number, y: number, allow: boolean): Decision => {
    if (y < 0) return (allow ? bucket.allowDecision : bucket.denyDecision).get(x) as Decision
    const lo = Math.min(x, y)
    const hi = Math.max(x, y)
    // No effect bit: a pair is always a deny pair (both roles deny) or an allow pair (neither does).
    // Stryker disable next-line ArithmeticOperator: equivalent, each mutant is still injective over lo < hi ≤ nRoles
    const key = lo * (nRoles + 1) + hi
    let d = bucket.pairs.get(key)
    if (d === undefined) {
      const hits = allow ? bucket.allow : bucket.deny
      d = simpleDecision([...(hits.get(lo) as Hit[]), ...(hits.get(hi) as Hit[])], allow)
      if (bucket.pairs.size < MAX_CACHED_PAIRS) bucket.pairs.set(key, d)
    }
    return d
  }

  /** The general path: conditions, tenant filters, labels, emergency access, scopes. */
  const evaluate = (
    req: AccessRequest,
    bucket: Bucket,
    roles: ReadonlySet<number | undefined>,
    sameTenant: boolean,
  ): Decision => {
    const subject = req.subject
    const resource = req.resource
    const denyHits: Hit[] = []
    const allowHits: Hit[] = []
    const errors = new Map<string, ConditionError>()
    let cleanDeny = false
    let now: number | undefined
    const env: EvalEnv = {
      req,
      now: () => {
        now ??= clock.now()
        return now
      },
      resolvers,
      err: undefined,
    }
    const results = new Map<CRule, 0 | 1 | 2>()
    for (const r of roles) {
      const d = bucket.deny.get(r as number)
      if (d) {
        denyHits.push(...d)
        cleanDeny = true
      }
      const a = bucket.allow.get(r as number)
      if (a && sameTenant) allowHits.push(...a)
      const f = bucket.filtered.get(r as number)
      if (!f) continue
      for (const hit of f) {
        const rule = hit.rule
        if (rule.tenants !== undefined && !rule.tenants.has(resource.tenant)) continue
        if (rule.subjectTenants === undefined) {
          if (rule.allow && !sameTenant) continue
        } else if (!rule.subjectTenants.has(subject.tenant)) continue
        let result = results.get(rule)
        if (result === undefined) {
          if (rule.cond === undefined) result = 1
          else {
            env.err = undefined
            result = rule.cond(env)
            if (result === 2)
              errors.set(rule.id, Object.freeze({ rule: rule.id, ...(env.err as unknown as ConditionErr) }))
          }
          results.set(rule, result)
        }
        if (result === 0) continue
        if (rule.allow) {
          if (result === 1) allowHits.push(hit)
        } else {
          denyHits.push(hit)
          if (result === 1) cleanDeny = true
        }
      }
    }
    const frozenErrors = Object.freeze(
      [...errors.keys()].sort().map((id) => errors.get(id) as ConditionError),
    )

    // Emergency access, looked up once.
    let grant: EmergencyGrant | undefined
    let use: { grant: string; status: EmergencyGrantStatus } | null = null
    if (req.emergencyAccess !== undefined) {
      const id = req.emergencyAccess
      try {
        grant = emergency.get(id)
      } catch {
        // A failing store fails closed: `grant` stays undefined (not_found).
      }
      if (grant !== undefined && grant.id !== id) grant = undefined
      now ??= clock.now()
      const status = grantStatus(grant, req, now)
      use = { grant: id, status }
      if (status !== 'active') grant = undefined
    }
    let emergencyUsed = false
    const finish = (
      allowed: boolean,
      reason: DecisionReason,
      hits: readonly Hit[],
      labelOutcomes: readonly LabelOutcome[],
    ): Decision => {
      const obligations: Obligation[] = allowed ? [...ruleObligations(hits)] : []
      if (allowed && emergencyUsed && grant)
        obligations.unshift(
          Object.freeze({ id: 'audit:emergency-access', grant: grant.id, reasonCode: grant.reasonCode }),
        )
      const emergencyAccess: EmergencyAccessUse | null =
        use === null ? null : Object.freeze({ ...use, used: allowed && emergencyUsed })
      return freezeDecision({
        allowed,
        reason,
        rules: decidingRules(hits),
        errors: frozenErrors,
        obligations: Object.freeze(obligations),
        labels: Object.freeze(labelOutcomes),
        emergencyAccess,
        policyHash,
      })
    }

    if (denyHits.length > 0)
      return finish(false, cleanDeny ? 'explicit_deny' : 'deny_condition_error', denyHits, EMPTY)

    // Sensitivity labels: deny overlays.
    const labelOutcomes: LabelOutcome[] = []
    let blocked = false
    const consent = req.consent ?? EMPTY
    for (const label of resource.labels ?? EMPTY) {
      const def = labels.get(label)
      if (def === undefined) {
        labelOutcomes.push(Object.freeze({ label, outcome: 'denied', emergencyAccessLifts: false }))
        blocked = true
        continue
      }
      const lifts = def.emergencyAccess === 'lifts'
      if (def.consent !== 'never' && consent.includes(label)) {
        labelOutcomes.push(
          Object.freeze({ label, outcome: 'lifted_by_consent', emergencyAccessLifts: lifts }),
        )
      } else if (lifts && grant !== undefined) {
        labelOutcomes.push(
          Object.freeze({ label, outcome: 'lifted_by_emergency_access', emergencyAccessLifts: true }),
        )
        emergencyUsed = true
      } else {
        labelOutcomes.push(Object.freeze({ label, outcome: 'denied', emergencyAccessLifts: lifts }))
        blocked = true
      }
    }
    // A denial never reports the grant as used (`used` is `allowed && emergencyUsed`).
    if (blocked) return finish(false, 'sensitivity_label', EMPTY, labelOutcomes)

    if (allowHits.length === 0) {
      if (grant === undefined) {
        return finish(false, sameTenant ? 'no_matching_allow' : 'tenant_mismatch', EMPTY, labelOutcomes)
      }
      emergencyUsed = true
    }

    // SMART scopes narrow, never widen.
    const scopes = req.scopes
    if (scopes !== undefined) {
      const letter = smartLetters.get(req.action) ?? 0
      if (!smartScopesPermit(scopes, letter, resource))
        return finish(false, 'scope_exceeded', EMPTY, labelOutcomes)
    }
    return finish(true, emergencyUsed ? 'emergency_access' : 'allow', allowHits, labelOutcomes)
  }

  return Object.freeze({
    decide,
    policyHash,
    policy: doc,
    emergency,
  })
}

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

/** Deciding rules: unique by id, sorted; chains unique and sorted. */
function decidingRules(hits: readonly Hit[]): readonly DecidingRule[] {
  const byId = new Map<string, { rule: CRule; via: Map<string, readonly string[]> }>()
  for (const h of hits) {
    let e = byId.get(h.rule.id)
    if (e === undefined) {
      e = { rule: h.rule, via: new Map() }
      byId.set(h.rule.id, e)
    }
    e.via.set(h.via.join(' '), h.via) // role ids hold no spaces
  }
  return Object.freeze(
    [...byId.keys()].sort().map((id) => {
      const e = byId.get(id) as { rule: CRule; via: Map<string, readonly string[]> }
      return Object.freeze({
        id,
        effect: e.rule.allow ? ('allow' as const) : ('deny' as const),
        via: Object.freeze([...e.via.keys()].sort().map((k) => e.via.get(k) as readonly string[])),
      })
    }),
  )
}

function ruleObligations(hits: readonly Hit[]): readonly Obligation[] {
  const ids = new Set<string>()
  for (const h of hits) for (const o of h.rule.obligations) ids.add(o.id)
  return Object.freeze([...ids].sort().map((id) => Object.freeze({ id })))
}

/** Freezes a JSON value (a tree: structuredClone of a validated document) all the way down. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const k of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[k])
    Object.freeze(value)
  }
  return value
}
