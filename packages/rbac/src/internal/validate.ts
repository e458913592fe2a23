/**
 * Full validation of a policy document: zod structure first, then conditions node by node, then
 * references (duplicates, dangling ids, wildcard placement, attribute paths, inheritance cycles and
 * depth). Every problem carries an RFC 6901 JSON Pointer.
 */
import { hasLoneSurrogate } from '@safeguards/core'
import type { z } from 'zod'
import type { PolicyProblem } from '../errors.js'
import type { PolicyDocument } from '../policy.js'
import { findCycles, longestChain } from './roles.js'
import { conditionOperators, policySchema } from './schema.js'
import { LIMITS, pointer, RESERVED } from './tokens.js'

type Path = readonly PropertyKey[]

function zodProblems(issues: readonly z.core.$ZodIssue[], base: Path, out: PolicyProblem[]): void {
  for (const issue of issues) {
    const path = [...base, ...issue.path]
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({
          path: pointer([...path, key]),
          code: 'unknown_key',
          message: `unknown key ${JSON.stringify(key)}`,
        })
      }
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0 && path.length > 0) {
      out.push({ path: pointer(path), code: 'invalid_value', message: issue.message })
    } else {
      out.push({ path: pointer(path), code: issue.code, message: issue.message })
    }
  }
}

const COMBINATORS = new Set(['all', 'any', 'not'])

const SUBJECT_FIELDS = new Set(['id', 'tenant', 'roles'])
const RESOURCE_FIELDS = new Set(['id', 'type', 'tenant', 'patient', 'labels'])

/** Checks that an attribute path names a place a request can have. */
function attributePathProblem(ref: string): string | undefined {
  const segs = ref.split('.')
  const [root, field] = segs
  if (root === 'action') return segs.length === 1 ? undefined : '"action" has no fields'
  if (root === 'context') return segs.length >= 2 ? undefined : '"context" needs a field'
  if (root === 'subject' || root === 'resource') {
    const fixed = root === 'subject' ? SUBJECT_FIELDS : RESOURCE_FIELDS
    if (field === 'attributes') return segs.length >= 3 ? undefined : `"${root}.attributes" needs a field`
    if (field !== undefined && fixed.has(field) && segs.length === 2) return undefined
    return `expected ${root}.{${[...fixed].join(',')}} or ${root}.attributes.NAME`
  }
  return 'expected a path starting with subject., resource., context. or action'
}

interface ConditionScan {
  relations: { name: string; path: string }[]
}

function conditionProblems(
  node: unknown,
  path: Path,
  depth: number,
  count: { n: number },
  scan: ConditionScan,
  out: PolicyProblem[],
): void {
  count.n++
  if (count.n > LIMITS.conditionNodes) {
    if (count.n === LIMITS.conditionNodes + 1)
      out.push({
        path: pointer(path),
        code: 'too_big',
        message: `condition has more than ${LIMITS.conditionNodes} nodes`,
      })
    return
  }
  if (depth > LIMITS.conditionDepth) {
    out.push({
      path: pointer(path),
      code: 'too_deep',
      message: `condition nested deeper than ${LIMITS.conditionDepth}`,
    })
    return
  }
  if (typeof node !== 'object' || node === null || Array.isArray(node)) {
    out.push({ path: pointer(path), code: 'invalid_type', message: 'expected a condition object' })
    return
  }
  const keys = Object.keys(node)
  if (keys.length !== 1) {
    out.push({
      path: pointer(path),
      code: 'invalid_condition',
      message: `a condition has exactly one operator, found ${keys.length}`,
    })
    return
  }
  const op = keys[0] as string
  const value = (node as Record<string, unknown>)[op]
  if (COMBINATORS.has(op)) {
    if (op === 'not') {
      conditionProblems(value, [...path, op], depth + 1, count, scan, out)
      return
    }
    if (!Array.isArray(value) || value.length === 0 || value.length > 64) {
      out.push({
        path: pointer([...path, op]),
        code: 'invalid_type',
        message: `"${op}" expects 1 to 64 conditions`,
      })
      return
    }
    value.forEach((child, i) => {
      conditionProblems(child, [...path, op, i], depth + 1, count, scan, out)
    })
    return
  }
  leafProblems(op, value, path, scan, out)
}

/** Checks a leaf condition (an operator and its operand): schema, relation names, attribute paths. */
function leafProblems(
  op: string,
  value: unknown,
  path: Path,
  scan: ConditionScan,
  out: PolicyProblem[],
): void {
  const schema = Object.hasOwn(conditionOperators, op) ? conditionOperators[op] : undefined
  if (schema === undefined) {
    out.push({
      path: pointer([...path, op]),
      code: 'unknown_key',
      message: `unknown condition operator ${JSON.stringify(op)}`,
    })
    return
  }
  const r = schema.safeParse(value)
  if (!r.success) {
    zodProblems(r.error.issues, [...path, op], out)
    return
  }
  if (op === 'relation') scan.relations.push({ name: value as string, path: pointer([...path, op]) })
  const refs: { ref: string; path: Path }[] = []
  if (op === 'exists') refs.push({ ref: value as string, path: [...path, op] })
  if (Array.isArray(value)) {
    value.forEach((o, i) => {
      if (typeof o === 'object' && o !== null && !Array.isArray(o))
        refs.push({ ref: (o as { ref: string }).ref, path: [...path, op, i, 'ref'] })
    })
  }
  for (const r of refs) {
    const problem = attributePathProblem(r.ref)
    if (problem) out.push({ path: pointer(r.path), code: 'invalid_attribute', message: problem })
  }
}

/** The result of {@link validatePolicy}. */
export type ValidationResult =
  | { readonly ok: true; readonly policy: PolicyDocument }
  | { readonly ok: false; readonly problems: readonly PolicyProblem[] }

/**
 * Reports every member named `__proto__`, `constructor`, `prototype`… anywhere in the document.
 * Strict objects reject them as unknown keys already; records (`smartActions`) would silently drop
 * `__proto__`, and a silent drop is not strict.
 */
function reservedKeyProblems(v: unknown, path: PropertyKey[], seen: Set<object>, out: PolicyProblem[]): void {
  // Values outside I-JSON have no canonical form (and so no policy hash): refuse them here.
  if (typeof v === 'string' && hasLoneSurrogate(v))
    out.push({ path: pointer(path), code: 'invalid_string', message: 'lone surrogate in string' })
  if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v))
    out.push({ path: pointer(path), code: 'invalid_number', message: 'integer beyond 2^53-1' })
  const t = typeof v
  const plain =
    t !== 'object' ||
    v === null ||
    Array.isArray(v) ||
    Object.getPrototypeOf(v) === Object.prototype ||
    Object.getPrototypeOf(v) === null
  if (t === 'undefined' || t === 'function' || t === 'symbol' || t === 'bigint' || !plain) {
    out.push({
      path: pointer(path),
      code: 'invalid_type',
      message: `not a JSON value (${t === 'object' ? 'non-plain object' : t})`,
    })
    return
  }
  if (typeof v !== 'object' || v === null || seen.has(v) || path.length > 64) return
  seen.add(v)
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      reservedKeyProblems(x, [...path, i], seen, out)
    })
    return
  }
  for (const key of Object.keys(v)) {
    if (RESERVED.has(key))
      out.push({
        path: pointer([...path, key]),
        code: 'reserved_key',
        message: `reserved member name ${JSON.stringify(key)}`,
      })
    else reservedKeyProblems((v as Record<string, unknown>)[key], [...path, key], seen, out)
  }
}

/** Validates `input` completely; never throws on user input. */
export function validatePolicy(input: unknown): ValidationResult {
  const problems: PolicyProblem[] = []
  reservedKeyProblems(input, [], new Set(), problems)
  const parsed = policySchema.safeParse(input)
  if (!parsed.success) {
    const reserved = new Set(problems.map((p) => p.path))
    const issues: PolicyProblem[] = []
    zodProblems(parsed.error.issues, [], issues)
    // A reserved key is reported once, as reserved, not again as unknown.
    for (const p of issues) if (!reserved.has(p.path)) problems.push(p)
  }
  // Conditions are checked even when the rest has problems, so lint lists everything at once.
  const scan: ConditionScan = { relations: [] }
  const rawRules = (input as { rules?: unknown } | null)?.rules
  if (Array.isArray(rawRules)) {
    rawRules.forEach((rule, i) => {
      if (typeof rule === 'object' && rule !== null && Object.hasOwn(rule, 'when')) {
        conditionProblems((rule as { when: unknown }).when, ['rules', i, 'when'], 1, { n: 0 }, scan, problems)
      }
    })
  }
  if (!parsed.success || problems.length > 0) return { ok: false, problems: sortProblems(problems) }
  const doc = parsed.data as PolicyDocument
  referenceProblems(doc, scan, problems)
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) }
  return { ok: true, policy: doc }
}

function sortProblems(problems: PolicyProblem[]): PolicyProblem[] {
  // Stable sort by pointer so the output does not depend on which check found a problem first.
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.path < b.p.path ? -1 : a.p.path > b.p.path ? 1 : a.i - b.i))
    .map((x) => x.p)
}

/** The set of a declared list (`tenants`, `actions`, …), with its repeats reported; undefined when absent. */
function declared(
  list: readonly string[] | undefined,
  name: string,
  out: PolicyProblem[],
): Set<string> | undefined {
  if (list === undefined) return undefined
  const s = new Set<string>()
  list.forEach((v, i) => {
    if (s.has(v))
      out.push({
        path: pointer([name, i]),
        code: 'duplicate_id',
        message: `duplicate ${JSON.stringify(v)}`,
      })
    s.add(v)
  })
  return s
}

/** The index of each id in `items` (its first place), with repeated ids reported. */
function ids(items: readonly { id: string }[], name: string, out: PolicyProblem[]): Map<string, number> {
  const m = new Map<string, number>()
  items.forEach((item, i) => {
    if (m.has(item.id)) {
      out.push({
        path: pointer([name, i, 'id']),
        code: 'duplicate_id',
        message: `duplicate id ${JSON.stringify(item.id)} (first at /${name}/${m.get(item.id)})`,
      })
    } else m.set(item.id, i)
  })
  return m
}

/** Checks one list: duplicates, `*` alone, and (when `known` is given) references. */
function refs(
  out: PolicyProblem[],
  list: readonly string[] | undefined,
  path: Path,
  known: Set<string> | Map<string, number> | undefined,
  what: string,
): void {
  if (list === undefined) return
  const seen = new Set<string>()
  list.forEach((v, i) => {
    if (seen.has(v))
      out.push({
        path: pointer([...path, i]),
        code: 'duplicate_entry',
        message: `${JSON.stringify(v)} repeats`,
      })
    seen.add(v)
    if (v === '*') {
      if (list.length > 1)
        out.push({
          path: pointer([...path, i]),
          code: 'wildcard_not_alone',
          message: '"*" must be the only entry',
        })
      return
    }
    if (known !== undefined && !known.has(v))
      out.push({
        path: pointer([...path, i]),
        code: 'dangling_reference',
        message: `unknown ${what} ${JSON.stringify(v)}`,
      })
  })
}

/** Inheritance: cycles (with the path) and depth. Edges sorted by role id for determinism. */
function inheritanceProblems(doc: PolicyDocument, roleIds: Map<string, number>, out: PolicyProblem[]): void {
  const graph = doc.roles.map((role) =>
    [...new Set(role.inherits ?? [])]
      .filter((id) => roleIds.has(id))
      .sort()
      .map((id) => roleIds.get(id) as number),
  )
  const cycles = findCycles(graph)
  for (const cycle of cycles) {
    const names = cycle.map((i) => (doc.roles[i] as { id: string }).id)
    const from = cycle[0] as number
    const to = cycle[1] as number
    const j = (doc.roles[from]?.inherits ?? []).indexOf((doc.roles[to] as { id: string }).id)
    out.push({
      path: pointer(['roles', from, 'inherits', j]),
      code: 'role_cycle',
      message: `role inheritance cycle: ${names.join(' → ')}`,
    })
  }
  if (cycles.length === 0) {
    const depth = longestChain(graph)
    if (depth > LIMITS.inheritDepth)
      out.push({
        path: '/roles',
        code: 'too_deep',
        message: `role inheritance is ${depth} levels deep (limit ${LIMITS.inheritDepth})`,
      })
  }
}

function referenceProblems(doc: PolicyDocument, scan: ConditionScan, out: PolicyProblem[]): void {
  const tenants = declared(doc.tenants, 'tenants', out)
  const actions = declared(doc.actions, 'actions', out)
  const types = declared(doc.resourceTypes, 'resourceTypes', out)
  const relationships = declared(doc.relationships, 'relationships', out)
  const roleIds = ids(doc.roles, 'roles', out)
  ids(doc.rules, 'rules', out)
  ids(doc.labels ?? [], 'labels', out)

  doc.roles.forEach((role, i) => {
    refs(out, role.inherits, ['roles', i, 'inherits'], roleIds, 'role')
    refs(out, role.tenants, ['roles', i, 'tenants'], tenants, 'tenant')
  })
  doc.rules.forEach((rule, i) => {
    refs(out, rule.roles, ['rules', i, 'roles'], roleIds, 'role')
    refs(out, rule.actions, ['rules', i, 'actions'], actions, 'action')
    refs(out, rule.resources, ['rules', i, 'resources'], types, 'resource type')
    refs(out, rule.tenants, ['rules', i, 'tenants'], tenants, 'tenant')
    refs(out, rule.subjectTenants, ['rules', i, 'subjectTenants'], tenants, 'tenant')
    refs(out, rule.obligations, ['rules', i, 'obligations'], undefined, 'obligation')
  })
  const ea = doc.emergencyAccess
  if (ea) {
    refs(out, ea.roles, ['emergencyAccess', 'roles'], roleIds, 'role')
    refs(out, ea.actions, ['emergencyAccess', 'actions'], actions, 'action')
    refs(out, ea.resources, ['emergencyAccess', 'resources'], types, 'resource type')
    refs(out, ea.reasonCodes, ['emergencyAccess', 'reasonCodes'], undefined, 'reason code')
  }
  if (doc.smartActions && actions) {
    for (const key of Object.keys(doc.smartActions)) {
      if (!actions.has(key))
        out.push({
          path: pointer(['smartActions', key]),
          code: 'dangling_reference',
          message: `unknown action ${JSON.stringify(key)}`,
        })
    }
  }
  for (const r of scan.relations) {
    if (!relationships?.has(r.name))
      out.push({
        path: r.path,
        code: 'dangling_reference',
        message: `relationship ${JSON.stringify(r.name)} is not declared in /relationships`,
      })
  }
  inheritanceProblems(doc, roleIds, out)
}
