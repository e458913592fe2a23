/**
 * Guards: what lets a bucket skip conditional rules without evaluating them. A rule whose
 * condition is, or begins with (as the first child of `all`), an equality or set membership of
 * one attribute against policy literals (`eq [ref, literal]`, `eq [literal, ref]`,
 * `in [ref, [literals]]`) can only apply when that attribute holds one of those literals.
 *
 * Why skipping is exact (the decision is the same as evaluating every rule in turn): when the
 * attribute holds a literal outside the set, the guard evaluates to false, and a false first child
 * makes `all` false before any other child runs (Kleene: false dominates), so the rule evaluates
 * to false with no error, no resolver call and nothing else read. When the attribute is missing or
 * not a literal (the guard would be an error), every rule of the group is evaluated as before.
 * When the guard is the whole condition and the attribute holds one of its literals, the condition
 * is true (`eq` is `===` on literals, which is the index's SameValueZero for anything but NaN, not a
 * literal; `in` finds the value in a list of policy literals): the rule applies without evaluating it.
 *
 * HIPAA: 164.312(a)(1) access control (the same decisions, at a cost that does not grow with the
 * number of tenants or units a policy names).
 */
import type { Condition, Literal, Operand } from '../policy.js'
import { type Getter, getter } from './conditions.js'

/** One attribute and the literals that let a rule through. */
export interface Guard {
  /** The attribute path, for example `resource.attributes.unit`. */
  readonly path: string
  readonly get: Getter
  readonly values: readonly Literal[]
  /**
   * The guard is the whole condition (alone, or the only child of `all`): a rule reached through
   * one of `values` applies without evaluating anything more (its condition is true).
   */
  readonly whole: boolean
}

const refOf = (o: Operand): string | undefined =>
  typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as { ref: string }).ref : undefined

const scalar = (o: Operand): o is Literal => refOf(o) === undefined && !Array.isArray(o)

function atomGuard(c: Condition): { path: string; values: readonly Literal[] } | undefined {
  if ('eq' in c) {
    const [a, b] = c.eq
    const left = refOf(a)
    if (left !== undefined && scalar(b)) return { path: left, values: [b] }
    const right = refOf(b)
    if (right !== undefined && scalar(a)) return { path: right, values: [a] }
    return undefined
  }
  if ('in' in c) {
    const [a, b] = c.in
    const left = refOf(a)
    if (left !== undefined && Array.isArray(b)) return { path: left, values: b as readonly Literal[] }
  }
  return undefined
}

/**
 * The guard of a validated condition, if it has one: the condition itself, or the first child of
 * a top-level `all`, when that is an equality or membership test of one attribute against literals.
 *
 * @example
 * ```ts
 * conditionGuard({ all: [{ eq: [{ ref: 'resource.attributes.unit' }, 'icu'] }, { relation: 'careTeam' }] })
 * // → { path: 'resource.attributes.unit', values: ['icu'], get, whole: false }
 * ```
 */
export function conditionGuard(c: Condition): Guard | undefined {
  const first = 'all' in c ? c.all[0] : c
  const atom = first === undefined ? undefined : atomGuard(first)
  if (atom === undefined) return undefined
  const whole = first === c || ('all' in c && c.all.length === 1)
  return { ...atom, get: getter(atom.path), whole }
}
