/**
 * Compiles a validated condition AST into a tree of small closures. No `eval`, no `Function`: each
 * node becomes a function that reads attributes through own-property checks only, so a request's
 * `__proto__`, `constructor` or inherited members are never reached.
 *
 * Three-valued results: 0 false, 1 true, 2 error (missing attribute, type mismatch including NaN
 * and ±Infinity, resolver missing or failing). Kleene logic: `all` is false if any child is false, `any` is true if any
 * child is true, otherwise an error propagates; `not` keeps an error an error.
 */
import type { Clock } from '@safeguards/core'
import type { AccessRequest, ConditionErrorCode } from '../decision.js'
import type { Condition, Literal, Operand, TimeWindow } from '../policy.js'

/** A relationship resolver: synchronous, side-effect free, true when the relationship holds. */
export type Resolver = (request: AccessRequest) => boolean

/** Per-decision evaluation state. */
export interface EvalEnv {
  req: AccessRequest
  /** The time of this decision (read once per decision by the caller's clock). */
  clock: Clock
  resolvers: ReadonlyMap<string, Resolver>
  /** The first error of the condition being evaluated (the caller resets it). */
  err: ConditionErr | undefined
}

/** Why a condition could not be evaluated, and the path or resolver name involved. */
export interface ConditionErr {
  readonly code: ConditionErrorCode
  readonly detail: string
}

/** A compiled condition. */
export type CondFn = (env: EvalEnv) => 0 | 1 | 2

/** What a getter returns for an attribute the request does not have. */
export const MISSING: unique symbol = Symbol('missing')
/** Reads one attribute path of the request (own properties only), or {@link MISSING}. */
export type Getter = (env: EvalEnv) => unknown

function fail(env: EvalEnv, code: ConditionErrorCode, detail: string): 2 {
  env.err ??= { code, detail }
  return 2
}

/** The reader of an attribute path such as `resource.attributes.unit`. */
export function getter(path: string): Getter {
  const segs = path.split('.')
  const root = segs[0] as 'subject' | 'resource' | 'context' | 'action'
  const rest = segs.slice(1)
  return (env) => {
    const req = env.req
    // `action` is read as the decision reads it (own or not); the other roots must be own.
    if (root !== 'action' && !Object.hasOwn(req, root)) return MISSING
    let cur: unknown = (req as unknown as Record<string, unknown>)[root]
    for (let i = 0; i < rest.length; i++) {
      const seg = rest[i] as string
      if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, seg))
        return MISSING
      cur = (cur as Record<string, unknown>)[seg]
    }
    return cur === undefined ? MISSING : cur
  }
}

function operand(o: Operand): { get: Getter; path: string } {
  if (typeof o === 'object' && o !== null && !Array.isArray(o)) {
    const ref = (o as { ref: string }).ref
    return { get: getter(ref), path: ref }
  }
  const value = Array.isArray(o) ? Object.freeze([...o]) : o
  return { get: () => value, path: '(literal)' }
}

/**
 * A value a condition can compare: null, a boolean, a string or a finite number. NaN and ±Infinity
 * are not: NaN compares false with everything, so `ne` and `not { lt … }` would come out true and a
 * `gte` deny rule would never apply (`Number(undefined)` and `parseInt('')` are NaN: an app that
 * fails to load a counter must not get a silent allow). Policy literals are finite by the schema.
 */
export const isLiteral = (v: unknown): v is Literal =>
  v === null || typeof v === 'string' || typeof v === 'boolean' || Number.isFinite(v) // false for anything but a finite number (no coercion)

function compare(
  op: 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'in',
  pair: readonly [Operand, Operand],
): CondFn {
  const a = operand(pair[0])
  const b = operand(pair[1])
  return (env) => {
    const x = a.get(env)
    if (x === MISSING) return fail(env, 'missing_attribute', a.path)
    const y = b.get(env)
    if (y === MISSING) return fail(env, 'missing_attribute', b.path)
    if (!isLiteral(x)) return fail(env, 'type_mismatch', a.path)
    if (op === 'in') {
      // A list of literals only: a string would otherwise match by substring somewhere else, and
      // a NaN in the list would make `not { in … }` true.
      if (!Array.isArray(y)) return fail(env, 'type_mismatch', b.path)
      let found = false
      for (const item of y) {
        if (!isLiteral(item)) return fail(env, 'type_mismatch', b.path)
        if (item === x) found = true
      }
      return found ? 1 : 0
    }
    if (!isLiteral(y)) return fail(env, 'type_mismatch', b.path)
    if (op === 'eq') return x === y ? 1 : 0
    if (op === 'ne') return x !== y ? 1 : 0
    const bothNumbers = typeof x === 'number' && typeof y === 'number'
    const bothStrings = typeof x === 'string' && typeof y === 'string'
    if (!bothNumbers && !bothStrings) return fail(env, 'type_mismatch', `${a.path} vs ${b.path}`)
    const xx = x as number | string
    const yy = y as number | string
    switch (op) {
      case 'lt':
        return xx < yy ? 1 : 0
      case 'lte':
        return xx <= yy ? 1 : 0
      case 'gt':
        return xx > yy ? 1 : 0
      default:
        return xx >= yy ? 1 : 0
    }
  }
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const

function timeWindow(w: TimeWindow): CondFn {
  const minutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))
  const from = minutes(w.from)
  const to = minutes(w.to)
  const offset = (w.utcOffsetMinutes ?? 0) * 60_000
  const days = w.days ? new Set<string>(w.days) : undefined
  return (env) => {
    const local = env.clock.now() + offset
    const dayMs = 86_400_000
    const minuteOfDay = Math.floor((((local % dayMs) + dayMs) % dayMs) / 60_000)
    // The day the window opened on: for a window that wraps midnight, the early-morning part
    // belongs to the previous day's window.
    let dayIndex = Math.floor(local / dayMs)
    let inside: boolean
    if (from < to) inside = minuteOfDay >= from && minuteOfDay < to
    else {
      inside = minuteOfDay >= from || minuteOfDay < to
      if (minuteOfDay < to) dayIndex -= 1
    }
    if (!inside) return 0
    if (days === undefined) return 1
    const weekday = DAYS[(((dayIndex + 4) % 7) + 7) % 7] as string // 1970-01-01 was a Thursday
    return days.has(weekday) ? 1 : 0
  }
}

/**
 * `all` (`decisive` 0) or `any` (`decisive` 1): the decisive value short-circuits; otherwise an
 * error among the children makes the result an error, and no error gives the other value.
 */
function junction(kids: readonly CondFn[], decisive: 0 | 1): CondFn {
  const otherwise = decisive === 0 ? 1 : 0
  return (env) => {
    let err = false
    for (let i = 0; i < kids.length; i++) {
      const r = (kids[i] as CondFn)(env)
      if (r === decisive) return decisive
      if (r === 2) err = true
    }
    return err ? 2 : otherwise
  }
}

/** Compiles a validated condition. */
export function compileCondition(c: Condition): CondFn {
  const op = Object.keys(c)[0] as string
  const v = (c as Record<string, unknown>)[op]
  switch (op) {
    case 'all': // Kleene: false if any child is false
      return junction((v as Condition[]).map(compileCondition), 0)
    case 'any': // Kleene: true if any child is true
      return junction((v as Condition[]).map(compileCondition), 1)
    case 'not': {
      const kid = compileCondition(v as Condition)
      return (env) => {
        const r = kid(env)
        return r === 2 ? 2 : r === 1 ? 0 : 1
      }
    }
    case 'exists': {
      const get = getter(v as string)
      return (env) => (get(env) === MISSING ? 0 : 1)
    }
    case 'relation': {
      const name = v as string
      return (env) => {
        const fn = env.resolvers.get(name)
        if (fn === undefined) return fail(env, 'resolver_missing', name)
        let r: unknown
        try {
          r = fn(env.req)
        } catch {
          // A throw leaves `r` undefined: a failure, like any other non-boolean result below.
        }
        if (r === true) return 1
        if (r === false) return 0
        return fail(env, 'resolver_failed', name)
      }
    }
    case 'timeWindow':
      return timeWindow(v as TimeWindow)
    default:
      return compare(op as 'eq', v as readonly [Operand, Operand])
  }
}
