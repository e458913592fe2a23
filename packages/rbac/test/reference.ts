/**
 * A deliberately naive reference evaluator: it reads the policy document directly, walks role
 * inheritance recursively for every question, scans every rule for every request and interprets
 * conditions from the AST. Slow and obvious, so the compiled engine can be checked against it.
 * (Emergency access and SMART scopes are covered by their own tests.)
 */
import type { AccessRequest, Condition, Decision, Operand, PolicyDocument } from '../src/index.js'

type Tri = true | false | 'error'

export interface RefDecision {
  allowed: boolean
  reason: string
  rules: string[]
  errors: string[]
  labels: { label: string; outcome: string }[]
}

const own = (o: unknown, k: string): boolean =>
  typeof o === 'object' && o !== null && !Array.isArray(o) && Object.hasOwn(o, k)

function lookup(req: AccessRequest, path: string): { found: boolean; value?: unknown } {
  const [root, ...rest] = path.split('.')
  if (root === 'action') return { found: true, value: req.action }
  if (!own(req, root as string)) return { found: false }
  let cur: unknown = (req as unknown as Record<string, unknown>)[root as string]
  for (const seg of rest) {
    if (!own(cur, seg)) return { found: false }
    cur = (cur as Record<string, unknown>)[seg]
  }
  return cur === undefined ? { found: false } : { found: true, value: cur }
}

function operand(req: AccessRequest, o: Operand): { found: boolean; value?: unknown } {
  if (typeof o === 'object' && o !== null && !Array.isArray(o)) return lookup(req, (o as { ref: string }).ref)
  return { found: true, value: o }
}

/** Comparable: null, a string, a boolean or a finite number (NaN and ±Infinity are errors). */
const prim = (v: unknown): boolean =>
  v === null || ['string', 'boolean'].includes(typeof v) || Number.isFinite(v)

export function refCondition(
  c: Condition,
  req: AccessRequest,
  resolvers: Record<string, (r: AccessRequest) => boolean>,
  now: number,
): Tri {
  const [op, v] = Object.entries(c)[0] as [string, unknown]
  if (op === 'all') {
    const rs = (v as Condition[]).map((x) => refCondition(x, req, resolvers, now))
    return rs.includes(false) ? false : rs.includes('error') ? 'error' : true
  }
  if (op === 'any') {
    const rs = (v as Condition[]).map((x) => refCondition(x, req, resolvers, now))
    return rs.includes(true) ? true : rs.includes('error') ? 'error' : false
  }
  if (op === 'not') {
    const r = refCondition(v as Condition, req, resolvers, now)
    return r === 'error' ? 'error' : !r
  }
  if (op === 'exists') return lookup(req, v as string).found
  if (op === 'relation') {
    const fn = resolvers[v as string]
    if (!fn) return 'error'
    try {
      const r = fn(req)
      return typeof r === 'boolean' ? r : 'error'
    } catch {
      return 'error'
    }
  }
  if (op === 'timeWindow') throw new Error('reference does not model time windows')
  const [a, b] = v as [Operand, Operand]
  const x = operand(req, a)
  const y = operand(req, b)
  if (!x.found || !y.found || !prim(x.value)) return 'error'
  if (op === 'in') return Array.isArray(y.value) && y.value.every(prim) ? y.value.includes(x.value) : 'error'
  if (!prim(y.value)) return 'error'
  if (op === 'eq') return x.value === y.value
  if (op === 'ne') return x.value !== y.value
  const ok =
    (typeof x.value === 'number' && typeof y.value === 'number') ||
    (typeof x.value === 'string' && typeof y.value === 'string')
  if (!ok) return 'error'
  const xv = x.value as number
  const yv = y.value as number
  return op === 'lt' ? xv < yv : op === 'lte' ? xv <= yv : op === 'gt' ? xv > yv : xv >= yv
}

export function refDecide(
  doc: PolicyDocument,
  req: AccessRequest,
  resolvers: Record<string, (r: AccessRequest) => boolean> = {},
  now = 0,
): RefDecision {
  const s = req.subject
  const res = req.resource
  const role = (id: string) => doc.roles.find((r) => r.id === id)
  const reaches = (from: string, target: string, seen: Set<string>): boolean => {
    if (from === target) return true
    seen.add(from)
    return (role(from)?.inherits ?? []).some((p) => !seen.has(p) && reaches(p, target, seen))
  }
  const usable = s.roles.filter((r) => {
    const def = role(r)
    return def !== undefined && (def.tenants === undefined || def.tenants.includes(s.tenant))
  })
  const holds = (target: string): boolean => usable.some((r) => reaches(r, target, new Set()))
  const inList = (list: readonly string[], v: string): boolean => list.includes('*') || list.includes(v)
  const sameTenant = s.tenant === res.tenant
  const applicable = doc.rules.filter((rule) => {
    if (!(rule.roles.includes('*') || rule.roles.some(holds))) return false
    if (!inList(rule.actions, req.action) || !inList(rule.resources, res.type)) return false
    if (rule.tenants && !inList(rule.tenants, res.tenant)) return false
    if (rule.subjectTenants) return inList(rule.subjectTenants, s.tenant)
    return rule.effect === 'deny' || sameTenant
  })
  const results = new Map(
    applicable.map((r) => [r.id, r.when ? refCondition(r.when, req, resolvers, now) : (true as Tri)]),
  )
  const errors = applicable
    .filter((r) => results.get(r.id) === 'error')
    .map((r) => r.id)
    .sort()
  const denies = applicable.filter((r) => r.effect === 'deny' && results.get(r.id) !== false)
  if (denies.length > 0) {
    const clean = denies.some((r) => results.get(r.id) === true)
    return {
      allowed: false,
      reason: clean ? 'explicit_deny' : 'deny_condition_error',
      rules: denies.map((r) => r.id).sort(),
      errors,
      labels: [],
    }
  }
  const labels = (res.labels ?? []).map((label) => {
    const def = doc.labels?.find((l) => l.id === label)
    const consented = def !== undefined && def.consent !== 'never' && (req.consent ?? []).includes(label)
    return { label, outcome: consented ? 'lifted_by_consent' : 'denied' }
  })
  if (labels.some((l) => l.outcome === 'denied'))
    return { allowed: false, reason: 'sensitivity_label', rules: [], errors, labels }
  const allows = applicable.filter((r) => r.effect === 'allow' && results.get(r.id) === true)
  if (allows.length === 0)
    return {
      allowed: false,
      reason: sameTenant ? 'no_matching_allow' : 'tenant_mismatch',
      rules: [],
      errors,
      labels,
    }
  return { allowed: true, reason: 'allow', rules: allows.map((r) => r.id).sort(), errors, labels }
}

/** The part of a compiled decision the reference computes, for comparison. */
export const summary = (d: Decision): RefDecision => ({
  allowed: d.allowed,
  reason: d.reason,
  rules: d.rules.map((r) => r.id),
  errors: d.errors.map((e) => e.rule),
  labels: d.labels.map((l) => ({ label: l.label, outcome: l.outcome })),
})
