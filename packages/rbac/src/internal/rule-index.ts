/**
 * The rule index: rules compiled (conditions, tenant filters, obligations) and grouped by action
 * and resource type, so that a decision looks at one bucket: per held role, the unconditional
 * allow and deny hits (with a frozen decision precomputed for each role), and the filtered ones
 * (conditions or tenant filters) the general path evaluates.
 *
 * HIPAA: 164.312(a)(1) access control; 164.308(a)(4) access authorization.
 */
import type { DecidingRule, Decision, Obligation } from '../decision.js'
import type { Literal, PolicyDocument } from '../policy.js'
import { conditionGuard, type Guard } from './condition-guard.js'
import { type CondFn, compileCondition, type Getter } from './conditions.js'
import type { CompiledRoles } from './roles.js'

export const EMPTY: readonly never[] = Object.freeze([])
const ANY_CHAIN: readonly string[] = Object.freeze(['*'])

/** Bits of `Bucket.state`, one byte per role (and MANY, a flag of the fast path). */
export const ALLOW = 1
export const DENY = 2
export const FILTERED = 4
export const MANY = 8

/** A compiled rule. */
export interface CRule {
  readonly id: string
  /** The rule's position in the policy: its slot in a decision's per-rule scratch (`collect.ts`). */
  readonly n: number
  readonly allow: boolean
  readonly cond: CondFn | undefined
  /** Resource tenants, or undefined for every tenant. */
  readonly tenants: ReadonlySet<string> | undefined
  /** Subject tenants, or undefined for the default (allow: same tenant; deny: any). */
  readonly subjectTenants: ReadonlySet<string> | undefined
  readonly obligations: readonly Obligation[]
  /** No condition and no tenant filters. */
  readonly simple: boolean
  /** What lets a bucket skip the rule without evaluating it (see `condition-guard.ts`). */
  readonly guard: Guard | undefined
}

/** Hits of one attribute's guards, by the literal that lets them through. */
export interface GuardGroup {
  readonly get: Getter
  readonly byValue: ReadonlyMap<Literal, readonly Hit[]>
  /** Every hit of the group: evaluated in turn when the attribute is missing or not a literal. */
  readonly all: readonly Hit[]
}

/** A role's filtered hits: those without a guard, and the guarded ones grouped by attribute. */
export interface FilteredHits {
  readonly unguarded: readonly Hit[]
  readonly groups: readonly GuardGroup[]
}

/** A rule reached through a role, with the chain from the held role to the role the rule names. */
export interface Hit {
  readonly rule: CRule
  readonly via: readonly string[]
  /** `rule.allow`, kept here so a decision the guard settles reads only the hit. */
  readonly allow: boolean
  /**
   * The rule's condition is its guard alone and it has no tenant filters: reached through a guard
   * value, it applies (an allow within the tenant, a deny anywhere) with nothing evaluated.
   */
  readonly sure: boolean
  /** The frozen decision when this hit alone decides, built on first use (see `hitDecision`). */
  decision: Decision | undefined
}

/** The rules of one (action, resource type), by role. */
export interface Bucket {
  /** Keyed by role index (index `roles.count` is the virtual "any role" holder); only roles with hits. */
  readonly allow: ReadonlyMap<number, readonly Hit[]>
  readonly deny: ReadonlyMap<number, readonly Hit[]>
  readonly filtered: ReadonlyMap<number, FilteredHits>
  readonly allowDecision: ReadonlyMap<number, Decision>
  readonly denyDecision: ReadonlyMap<number, Decision>
  /** Decisions for two roles' unconditional hits, built on first use (bounded). */
  readonly pairs: Map<number, Decision>
  /** Per role: ALLOW | DENY | FILTERED bits, for the one-pass fast path. */
  readonly state: Uint8Array
}

/** The rules of a policy, indexed. */
export interface RuleIndex {
  /** How many rules the policy has. */
  readonly ruleCount: number
  /** The rules (indexes) naming each action, `*` included. */
  readonly actions: ReadonlyMap<string, readonly number[]>
  /** The rules (indexes) naming each resource type, `*` included. */
  readonly types: ReadonlyMap<string, ReadonlySet<number>>
  /** The bucket of an action and a type; `undefined` stands for one no rule names. */
  build(action: string | undefined, type: string | undefined): Bucket
  /** The frozen decision for unconditional hits (allow or explicit deny). */
  simpleDecision(hits: readonly Hit[], allowed: boolean): Decision
}

/** Compiles and indexes the rules of a validated policy. */
export function compileRuleIndex(doc: PolicyDocument, roles: CompiledRoles, policyHash: string): RuleIndex {
  const rules = doc.rules.map(compileRule)
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
  const simpleDecision = (hits: readonly Hit[], allowed: boolean): Decision =>
    Object.freeze({
      allowed,
      reason: allowed ? 'allow' : 'explicit_deny',
      rules: decidingRules(hits),
      errors: EMPTY,
      obligations: allowed ? ruleObligations(hits) : EMPTY,
      labels: EMPTY,
      emergencyAccess: null,
      policyHash,
    })

  const build = (action: string | undefined, type: string | undefined): Bucket => {
    const candidates = new Set([...(byAction.get(action as string) ?? EMPTY), ...wildAction])
    const typeSet = byType.get(type as string)
    const allow = new Map<number, Hit[]>()
    const deny = new Map<number, Hit[]>()
    const filtered = new Map<number, Hit[]>()
    for (const i of candidates) {
      if (!wildType?.has(i) && !typeSet?.has(i)) continue
      const rule = rules[i] as CRule
      const target = !rule.simple ? filtered : rule.allow ? allow : deny
      addHits(target, rule, (doc.rules[i] as PolicyDocument['rules'][number]).roles, roles)
    }
    return finishBucket(allow, deny, filtered, roles.count, simpleDecision)
  }

  return {
    ruleCount: rules.length,
    actions: byAction,
    types: byType,
    build,
    simpleDecision,
  }
}

function compileRule(r: PolicyDocument['rules'][number], n: number): CRule {
  const tenants = r.tenants ? new Set(r.tenants) : undefined
  const subjectTenants = r.subjectTenants ? new Set(r.subjectTenants) : undefined
  const cond = r.when ? compileCondition(r.when) : undefined
  const guard = r.when ? conditionGuard(r.when) : undefined
  return {
    id: r.id,
    n,
    allow: r.effect === 'allow',
    cond,
    tenants,
    subjectTenants,
    obligations: Object.freeze((r.obligations ?? []).map((id) => Object.freeze({ id }))),
    simple: cond === undefined && tenants === undefined && subjectTenants === undefined,
    guard,
  }
}

/** Adds a hit of `rule` for every role holding a role it names (or the virtual ANY for `*`). */
function addHits(
  target: Map<number, Hit[]>,
  rule: CRule,
  named: readonly string[],
  roles: CompiledRoles,
): void {
  const sure = rule.guard?.whole === true && rule.tenants === undefined && rule.subjectTenants === undefined
  const hit = (via: readonly string[]): Hit => ({ rule, via, allow: rule.allow, sure, decision: undefined })
  const push = (r: number, hit: Hit): void => {
    const list = target.get(r)
    if (list === undefined) target.set(r, [hit])
    else list.push(hit)
  }
  if (named[0] === '*') {
    push(roles.count, hit(ANY_CHAIN))
    return
  }
  for (const name of named) {
    const q = roles.index.get(name) as number
    for (const r of roles.holders[q] as number[]) {
      push(r, hit(roles.chains[r]?.get(q) as readonly string[]))
    }
  }
}

/** The dense `state` bytes and the per-role frozen decisions of a bucket. */
function finishBucket(
  allow: ReadonlyMap<number, readonly Hit[]>,
  deny: ReadonlyMap<number, readonly Hit[]>,
  filtered: ReadonlyMap<number, readonly Hit[]>,
  nRoles: number,
  simpleDecision: RuleIndex['simpleDecision'],
): Bucket {
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
  const indexed = new Map<number, FilteredHits>()
  for (const [r, hits] of filtered) {
    state[r] = (state[r] as number) | FILTERED
    indexed.set(r, groupByGuard(hits))
  }
  return { allow, deny, filtered: indexed, allowDecision, denyDecision, pairs: new Map(), state }
}

/** Splits filtered hits into unguarded ones and guard groups (one per attribute path). */
function groupByGuard(hits: readonly Hit[]): FilteredHits {
  const unguarded: Hit[] = []
  const groups = new Map<string, { get: Getter; byValue: Map<Literal, Hit[]>; all: Hit[] }>()
  for (const hit of hits) {
    const guard = hit.rule.guard
    if (guard === undefined) {
      unguarded.push(hit)
      continue
    }
    let g = groups.get(guard.path)
    if (g === undefined) {
      g = { get: guard.get, byValue: new Map(), all: [] }
      groups.set(guard.path, g)
    }
    g.all.push(hit)
    for (const v of new Set(guard.values)) {
      const list = g.byValue.get(v)
      if (list === undefined) g.byValue.set(v, [hit])
      else list.push(hit)
    }
  }
  return { unguarded, groups: [...groups.values()] }
}

/**
 * The decision of `hit` alone (an allow, or an explicit deny, with nothing else to report), built
 * on first use and kept on the hit: memoisation only, it is what `simpleDecision([hit])` gives.
 */
export function hitDecision(index: RuleIndex, hit: Hit): Decision {
  let d = hit.decision
  if (d === undefined) {
    d = index.simpleDecision([hit], hit.rule.allow)
    hit.decision = d
  }
  return d
}

/** Deciding rules: unique by id, sorted; chains unique and sorted. */
export function decidingRules(hits: readonly Hit[]): readonly DecidingRule[] {
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

/** The obligations the rules of `hits` declare: unique, sorted by id. */
export function ruleObligations(hits: readonly Hit[]): readonly Obligation[] {
  const ids = new Set<string>()
  for (const h of hits) for (const o of h.rule.obligations) ids.add(o.id)
  return Object.freeze([...ids].sort().map((id) => Object.freeze({ id })))
}
