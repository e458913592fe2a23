/**
 * "Who can read this patient?": the reverse of a decision. For an action on a resource, every role
 * whose rules would allow it (directly or through inheritance), with the conditions and the
 * relationships that must hold, the deny rules that would block it, and the emergency grants
 * active for that patient now. For reviewers (an access review, a patient's question) and for
 * the monitor's care-relationship detector.
 *
 * HIPAA: 164.308(a)(4)(ii)(C) access establishment and modification (review who has access);
 * 164.308(a)(1)(ii)(D) information system activity review; 164.312(a)(1) access control.
 *
 * @module
 */
import type { DecisionPoint } from './compile.js'
import type { Condition, PolicyDocument, RuleDefinition } from './policy.js'

/** What {@link whoCan} asks about: one action on one resource. */
export interface WhoCanQuery {
  readonly action: string
  readonly resource: {
    readonly type: string
    readonly tenant: string
    /** The patient, for the emergency grants that cover them. */
    readonly patient?: string
  }
}

/** One way to the resource: a rule reached through a role. */
export interface AccessPath {
  /** The role a user holds (`*`: any role). */
  readonly role: string
  /** The rule, by id. */
  readonly rule: string
  /** From the held role to the role the rule names (inheritance), for example `['physician', 'nurse']`. */
  readonly via: readonly string[]
  /** True when the rule has a condition: it applies only when that condition holds. */
  readonly conditional: boolean
  /** The relationship resolvers the condition names (for example `careTeam`). */
  readonly relationships: readonly string[]
  /** The rule is limited to subjects of these tenants (`subjectTenants`), if any. */
  readonly subjectTenants?: readonly string[]
}

/** An emergency grant active now for the patient, covering the action and type. */
export interface GrantPath {
  readonly grant: string
  readonly subject: string
  readonly expiresAt: number
}

/** The answer of {@link whoCan}. */
export interface WhoCanResult {
  /** Allow rules that would apply, by role (sorted by role, then rule). */
  readonly allows: readonly AccessPath[]
  /** Deny rules that would apply (they win over every allow while their condition holds). */
  readonly denies: readonly AccessPath[]
  /** Emergency grants active now for the patient (empty without a patient). */
  readonly grants: readonly GrantPath[]
  readonly policyHash: string
}

const covers = (list: readonly string[], x: string): boolean => list.includes('*') || list.includes(x)

function relationships(c: Condition | undefined, out: Set<string>): Set<string> {
  if (c === undefined) return out
  if ('relation' in c) out.add(c.relation)
  else if ('all' in c) for (const k of c.all) relationships(k, out)
  else if ('any' in c) for (const k of c.any) relationships(k, out)
  else if ('not' in c) relationships(c.not, out)
  return out
}

/** Every role's chains to the roles it inherits (itself first), shortest first. */
function chains(doc: PolicyDocument): Map<string, Map<string, readonly string[]>> {
  const parents = new Map(doc.roles.map((r) => [r.id, r.inherits ?? []]))
  const out = new Map<string, Map<string, readonly string[]>>()
  for (const role of doc.roles) {
    const reach = new Map<string, readonly string[]>([[role.id, [role.id]]])
    const queue = [role.id]
    for (let q = queue.shift(); q !== undefined; q = queue.shift()) {
      for (const p of parents.get(q) ?? []) {
        if (reach.has(p)) continue
        reach.set(p, [...(reach.get(q) as readonly string[]), p])
        queue.push(p)
      }
    }
    out.set(role.id, reach)
  }
  return out
}

function pathsOf(
  rule: RuleDefinition,
  doc: PolicyDocument,
  tenant: string,
  reach: ReturnType<typeof chains>,
): AccessPath[] {
  const base = {
    rule: rule.id,
    conditional: rule.when !== undefined,
    relationships: Object.freeze([...relationships(rule.when, new Set())].sort()),
    ...(rule.subjectTenants ? { subjectTenants: Object.freeze([...rule.subjectTenants]) } : {}),
  }
  if (rule.roles.includes('*')) return [Object.freeze({ role: '*', via: Object.freeze(['*']), ...base })]
  // A role restricted to tenants is usable only by subjects of those tenants: an allow reaches
  // subjects of the resource's tenant (or of `subjectTenants`), a deny those of any tenant.
  const subjectTenants = rule.subjectTenants ?? (rule.effect === 'allow' ? [tenant] : undefined)
  const out: AccessPath[] = []
  for (const role of doc.roles) {
    const usable =
      role.tenants === undefined ||
      subjectTenants === undefined ||
      role.tenants.some((t) => subjectTenants.includes(t))
    if (!usable) continue
    const r = reach.get(role.id) as Map<string, readonly string[]>
    const named = rule.roles
      .filter((n) => r.has(n))
      .sort((a, b) => (r.get(a)?.length ?? 0) - (r.get(b)?.length ?? 0))
    const first = named[0]
    if (first !== undefined)
      out.push(Object.freeze({ role: role.id, via: Object.freeze([...(r.get(first) ?? [])]), ...base }))
  }
  return out
}

const byRoleThenRule = (a: AccessPath, b: AccessPath): number =>
  a.role < b.role ? -1 : a.role > b.role ? 1 : a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0

/**
 * Lists who could take `action` on `resource` under `pdp`'s policy: the roles (with the rules,
 * inheritance chains, conditions and relationships) that would allow it, the deny rules that would
 * block it, and the emergency grants active now for the patient. A conditional path is possible,
 * not certain: its condition is checked per request (a relationship, an attribute, a time window).
 * Sensitivity labels, consent and SMART scopes narrow further per request and are not listed.
 *
 * HIPAA: 164.308(a)(4)(ii)(C) access establishment and modification; 164.308(a)(1)(ii)(D)
 * information system activity review.
 *
 * @hipaa 164.308(a)(4)(ii)(C) supports
 * @hipaa 164.308(a)(1)(ii)(D) supports
 * @nist AC-2 164.308(a)(4)(ii)(C)
 * @nist AU-6 164.308(a)(1)(ii)(D): who could have opened a record, to compare with who did
 * @evidence the list of roles, rules and grants that can reach a patient's records, for an access review
 * @appResponsibility Compare the list with role assignments and the access log during access reviews.
 * @verifiedBy packages/rbac/test/who-can.test.ts
 * @throws never (an action or type no rule names gives empty lists).
 * @example
 * ```ts
 * const who = whoCan(pdp, { action: 'read', resource: { type: 'Observation', tenant: 'clinic-a', patient: 'p-1' } })
 * who.allows // [{ role: 'physician', rule: 'nurse-read-clinical', via: ['physician', 'nurse'], relationships: ['careTeam'], … }, …]
 * ```
 */
export function whoCan(pdp: DecisionPoint, query: WhoCanQuery): WhoCanResult {
  const doc = pdp.policy
  const { action, resource } = query
  const reach = chains(doc)
  const allows: AccessPath[] = []
  const denies: AccessPath[] = []
  for (const rule of doc.rules) {
    if (!covers(rule.actions, action) || !covers(rule.resources, resource.type)) continue
    if (rule.tenants !== undefined && !rule.tenants.includes(resource.tenant)) continue
    ;(rule.effect === 'allow' ? allows : denies).push(...pathsOf(rule, doc, resource.tenant, reach))
  }
  const grants: GrantPath[] = []
  if (resource.patient !== undefined)
    for (const g of pdp.emergency.active())
      if (
        g.patient === resource.patient &&
        g.tenant === resource.tenant &&
        g.actions.includes(action) &&
        g.resources.includes(resource.type)
      )
        grants.push(Object.freeze({ grant: g.id, subject: g.subject, expiresAt: g.expiresAt }))
  return Object.freeze({
    allows: Object.freeze(allows.sort(byRoleThenRule)),
    denies: Object.freeze(denies.sort(byRoleThenRule)),
    grants: Object.freeze(grants),
    policyHash: pdp.policyHash,
  })
}
