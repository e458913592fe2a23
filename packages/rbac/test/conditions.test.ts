import { describe, expect, it } from 'vitest'
import type { AccessRequest, Condition, TimeWindow } from '../src/index.js'
import { compileCondition, type EvalEnv, type Resolver } from '../src/internal/conditions.js'

// Operator by operator, at the boundaries: what each condition evaluates to (0 false, 1 true,
// 2 error) and which error it reports first. decide.test.ts covers how results combine into
// decisions; here a mutant in one comparison or one type check has nowhere to hide.

type Attrs = Record<string, unknown>
const request = (attributes: Attrs = {}, more: Partial<AccessRequest> = {}): AccessRequest => ({
  subject: { id: 'u', tenant: 't', roles: ['a'], attributes },
  action: 'read',
  resource: { type: 'X', tenant: 't' },
  ...more,
})

function run(
  c: Condition,
  req: AccessRequest = request(),
  now = 0,
  resolvers: Record<string, Resolver> = {},
): { r: 0 | 1 | 2; code: string | undefined; detail: string } {
  const env: EvalEnv = {
    req,
    clock: { now: () => now },
    resolvers: new Map(Object.entries(resolvers)),
    err: undefined,
  }
  const r = compileCondition(c)(env)
  return { r, code: env.err?.code, detail: env.err?.detail ?? '' }
}
const value = (c: Condition, attributes: Attrs = {}): 0 | 1 | 2 => run(c, request(attributes)).r
/** `{ [op]: [x, y] }`, for tables over operators. */
const cmp = (op: string, x: unknown, y: unknown): Condition => ({ [op]: [x, y] }) as unknown as Condition
const n = { ref: 'subject.attributes.n' }
const s = { ref: 'subject.attributes.s' }

describe('conditions: comparisons', () => {
  it.each([
    // op, left, right, expected
    ['eq', 3, 3, 1],
    ['eq', 3, 4, 0],
    ['eq', 'a', 'a', 1],
    ['eq', true, true, 1],
    ['eq', null, null, 1],
    ['eq', 3, '3', 0],
    ['ne', 3, 4, 1],
    ['ne', 3, 3, 0],
    ['ne', 3, '3', 1],
    ['lt', 2, 3, 1],
    ['lt', 3, 3, 0],
    ['lt', 4, 3, 0],
    ['lte', 2, 3, 1],
    ['lte', 3, 3, 1],
    ['lte', 4, 3, 0],
    ['gt', 2, 3, 0],
    ['gt', 3, 3, 0],
    ['gt', 4, 3, 1],
    ['gte', 2, 3, 0],
    ['gte', 3, 3, 1],
    ['gte', 4, 3, 1],
    ['lt', '2026-01-01', '2026-06-01', 1],
    ['lte', '2026-06-01', '2026-06-01', 1],
    ['gt', '2026-06-01', '2026-01-01', 1],
    ['gte', '2026-01-01', '2026-06-01', 0],
    ['lt', 'b', 'a', 0],
    ['gt', -1.5, -2, 1],
  ] as const)('%s(%j, %j) is %d, with the value on either side', (op, x, y, expected) => {
    expect(value(cmp(op, n, y), { n: x })).toBe(expected)
    expect(value(cmp(op, x, n), { n: y })).toBe(expected)
    expect(value(cmp(op, n, s), { n: x, s: y })).toBe(expected)
  })

  it('ordering needs two numbers or two strings: a number against a string is a type mismatch', () => {
    for (const op of ['lt', 'lte', 'gt', 'gte'] as const) {
      for (const [x, y] of [
        [7, '5'],
        ['7', 5],
        [true, 1],
        [1, false],
        [null, 0],
        ['a', null],
      ] as const) {
        expect(run(cmp(op, n, s), request({ n: x, s: y })), `${op} ${x} ${y}`).toEqual({
          r: 2,
          code: 'type_mismatch',
          detail: 'subject.attributes.n vs subject.attributes.s',
        })
      }
    }
    expect(run({ gte: [s, 5] }, request({ s: '7' }))).toEqual({
      r: 2,
      code: 'type_mismatch',
      detail: 'subject.attributes.s vs (literal)',
    })
    expect(run({ lt: ['a', n] }, request({ n: 1 })).detail).toBe('(literal) vs subject.attributes.n')
  })

  it('a deny guard written against a string literal cannot be bypassed by sending a number', () => {
    // "deny when failedLogins >= '5'": a number is a type mismatch, never a coerced comparison.
    expect(run({ gte: [n, '5'] }, request({ n: 7 })).code).toBe('type_mismatch')
    expect(run({ lt: [n, '5'] }, request({ n: 7 })).code).toBe('type_mismatch')
  })

  it('objects, arrays and non-finite numbers on either side are type mismatches, reported by path', () => {
    for (const bad of [[1], { a: 1 }, Number.NaN, Infinity, -Infinity, () => 1, 1n, Symbol('x')]) {
      for (const op of ['eq', 'ne', 'lt', 'gte'] as const) {
        expect(run(cmp(op, n, 1), request({ n: bad }))).toEqual({
          r: 2,
          code: 'type_mismatch',
          detail: 'subject.attributes.n',
        })
        expect(run(cmp(op, 1, n), request({ n: bad }))).toEqual({
          r: 2,
          code: 'type_mismatch',
          detail: 'subject.attributes.n',
        })
      }
    }
  })

  it('a missing operand on either side is a missing attribute, named', () => {
    expect(run({ eq: [n, 1] })).toEqual({ r: 2, code: 'missing_attribute', detail: 'subject.attributes.n' })
    expect(run({ eq: [1, n] })).toEqual({ r: 2, code: 'missing_attribute', detail: 'subject.attributes.n' })
    expect(run({ eq: [n, s] }, request({ n: 1 }))).toEqual({
      r: 2,
      code: 'missing_attribute',
      detail: 'subject.attributes.s',
    })
    expect(run({ in: [1, s] }, request({}))).toEqual({
      r: 2,
      code: 'missing_attribute',
      detail: 'subject.attributes.s',
    })
  })
})

describe('conditions: in', () => {
  it('is true when the value is in a list of literals', () => {
    expect(value({ in: [n, [1, 2, 3]] }, { n: 2 })).toBe(1)
    expect(value({ in: [n, [1, 2, 3]] }, { n: 4 })).toBe(0)
    expect(value({ in: [n, ['2']] }, { n: 2 })).toBe(0)
    expect(value({ in: [n, []] }, { n: 2 })).toBe(0)
    expect(value({ in: ['icu', s] }, { s: ['ward', 'icu'] })).toBe(1)
    expect(value({ in: ['icu', s] }, { s: ['ward'] })).toBe(0)
    expect(value({ in: [null, s] }, { s: [null] })).toBe(1)
  })

  it('a right-hand side that is not a list is a type mismatch: a string never matches by substring', () => {
    for (const bad of ['icu-ward', 'icu', 5, true, null, { icu: true }]) {
      expect(run({ in: ['icu', s] }, request({ s: bad })), String(bad)).toEqual({
        r: 2,
        code: 'type_mismatch',
        detail: 'subject.attributes.s',
      })
    }
  })

  it('a list holding anything but literals is a type mismatch, even after a match', () => {
    for (const list of [['icu', Number.NaN], [['icu']], ['icu', { a: 1 }], [Infinity, 'icu']]) {
      expect(run({ in: ['icu', s] }, request({ s: list }))).toEqual({
        r: 2,
        code: 'type_mismatch',
        detail: 'subject.attributes.s',
      })
    }
  })

  it('the value must be a literal', () => {
    expect(run({ in: [n, [1]] }, request({ n: [1] }))).toEqual({
      r: 2,
      code: 'type_mismatch',
      detail: 'subject.attributes.n',
    })
  })
})

describe('conditions: attribute paths', () => {
  it('walk own properties only: strings, arrays and null have no fields here', () => {
    const attr = (path: string) => ({ ref: `subject.attributes.${path}` })
    expect(run({ eq: [attr('name.length'), 3] }, request({ name: 'abc' })).code).toBe('missing_attribute')
    expect(run({ eq: [attr('list.length'), 2] }, request({ list: [1, 2] })).code).toBe('missing_attribute')
    expect(run({ eq: [attr('x.y'), 1] }, request({ x: null })).code).toBe('missing_attribute')
    expect(run({ eq: [attr('x.y'), 1] }, request({ x: 5 })).code).toBe('missing_attribute')
    expect(run({ eq: [attr('x.toString'), 1] }, request({ x: {} })).code).toBe('missing_attribute')
    expect(run({ eq: [attr('x.y'), 1] }, request({ x: Object.create({ y: 1 }) })).code).toBe(
      'missing_attribute',
    )
    expect(run({ eq: [attr('x.y'), 1] }, request({ x: { y: 1 } })).r).toBe(1)
  })

  it('an own property holding undefined is missing, for comparisons and for exists', () => {
    expect(run({ eq: [n, 1] }, request({ n: undefined }))).toEqual({
      r: 2,
      code: 'missing_attribute',
      detail: 'subject.attributes.n',
    })
    expect(value({ exists: 'subject.attributes.n' }, { n: undefined })).toBe(0)
    expect(value({ exists: 'subject.attributes.n' }, { n: null })).toBe(1)
    expect(value({ exists: 'subject.attributes.n' }, { n: 0 })).toBe(1)
  })

  it('a root the request only inherits is missing; action is read as the decision reads it', () => {
    const base = request()
    const inherited = Object.assign(Object.create({ context: { purpose: 'treatment' } }), base)
    expect(run({ eq: [{ ref: 'context.purpose' }, 'treatment'] }, inherited).code).toBe('missing_attribute')
    expect(run({ exists: 'context.purpose' }, inherited).r).toBe(0)
    const own = { ...base, context: { purpose: 'treatment' } }
    expect(run({ eq: [{ ref: 'context.purpose' }, 'treatment'] }, own).r).toBe(1)
    const { action: _, ...noAction } = base
    const inheritedAction = Object.assign(Object.create({ action: 'read' }), noAction) as AccessRequest
    expect(run({ eq: [{ ref: 'action' }, 'read'] }, inheritedAction).r).toBe(1)
    expect(run({ eq: [{ ref: 'action' }, 'write'] }, base).r).toBe(0)
    expect(run({ eq: [{ ref: 'subject.id' }, 'u'] }, base).r).toBe(1)
    expect(run({ in: ['a', { ref: 'subject.roles' }] }, base).r).toBe(1)
  })
})

describe('conditions: all, any, not keep the first error', () => {
  it('Kleene logic', () => {
    const t: Condition = { eq: [1, 1] }
    const f: Condition = { eq: [1, 2] }
    const e: Condition = { eq: [n, 1] }
    expect(value({ all: [t, t] })).toBe(1)
    expect(value({ all: [t, f] })).toBe(0)
    expect(value({ all: [e, f] })).toBe(0)
    expect(value({ all: [t, e] })).toBe(2)
    expect(value({ any: [f, f] })).toBe(0)
    expect(value({ any: [f, t] })).toBe(1)
    expect(value({ any: [e, t] })).toBe(1)
    expect(value({ any: [f, e] })).toBe(2)
    expect(value({ not: t })).toBe(0)
    expect(value({ not: f })).toBe(1)
    expect(value({ not: e })).toBe(2)
  })

  it('the first error is the one reported', () => {
    const c: Condition = { all: [{ eq: [{ ref: 'context.a' }, 1] }, { eq: [{ ref: 'context.b' }, 1] }] }
    expect(run(c)).toEqual({ r: 2, code: 'missing_attribute', detail: 'context.a' })
    const d: Condition = { any: [{ gt: [n, 'x'] }, { relation: 'nope' }] }
    expect(run(d, request({ n: 1 }))).toEqual({
      r: 2,
      code: 'type_mismatch',
      detail: 'subject.attributes.n vs (literal)',
    })
  })
})

describe('conditions: relations', () => {
  it('true and false only; a throw, another value or no resolver is an error naming it', () => {
    const rel: Condition = { relation: 'careTeam' }
    expect(run(rel, request(), 0, { careTeam: () => true }).r).toBe(1)
    expect(run(rel, request(), 0, { careTeam: () => false }).r).toBe(0)
    for (const fn of [
      () => {
        throw new Error('down')
      },
      () => 1,
      () => 'true',
      () => undefined,
    ])
      expect(run(rel, request(), 0, { careTeam: fn as unknown as Resolver })).toEqual({
        r: 2,
        code: 'resolver_failed',
        detail: 'careTeam',
      })
    expect(run(rel)).toEqual({ r: 2, code: 'resolver_missing', detail: 'careTeam' })
  })
})

describe('conditions: time windows', () => {
  const DAY = 86_400_000
  /** [hh, mm, expected, days after Monday 2026-11-23] → the window's value at that UTC time. */
  type Case = readonly [number, number, 0 | 1, number?]
  const expectWindow = (timeWindow: TimeWindow, cases: readonly Case[]): void => {
    const times = cases.map(([hh, mm, , plus = 0]) => Date.UTC(2026, 10, 23, hh, mm) + plus * DAY)
    const got = times.map((t) => run({ timeWindow }, request(), t).r)
    expect(got).toEqual(cases.map((c) => c[2]))
  }

  it('opens at from and closes at to, off the hour too, with or without days', () => {
    const day: Case[] = [
      [7, 29, 0],
      [7, 30, 1],
      [12, 0, 1],
      [19, 14, 1],
      [19, 15, 0],
      [0, 0, 0],
      [23, 59, 0],
    ]
    expectWindow({ from: '07:30', to: '19:15' }, day)
    expectWindow({ from: '07:30', to: '19:15', days: ['mon'] }, day)
    expectWindow({ from: '07:30', to: '19:15', days: ['tue'] }, [
      [12, 0, 0],
      [12, 0, 1, 1],
    ])
  })

  it('wraps midnight without days: open from from, closed from to', () => {
    expectWindow({ from: '22:30', to: '06:15' }, [
      [22, 29, 0],
      [22, 30, 1],
      [23, 59, 1],
      [0, 0, 1],
      [6, 14, 1],
      [6, 15, 0],
      [12, 0, 0],
    ])
  })

  it('the early-morning part of a wrapping window belongs to the day it opened', () => {
    // Monday 05:59 is Sunday's shift; Monday 22:00 is Monday's.
    expectWindow({ from: '22:00', to: '06:00', days: ['sun'] }, [
      [5, 59, 1],
      [22, 0, 0],
    ])
    expectWindow({ from: '22:00', to: '06:00', days: ['mon'] }, [
      [5, 59, 0],
      [22, 0, 1],
    ])
  })

  it('from equal to to is open all day, on the days it names', () => {
    expectWindow({ from: '08:00', to: '08:00' }, [
      [0, 0, 1],
      [7, 59, 1],
      [8, 0, 1],
      [8, 1, 1],
      [23, 59, 1],
    ])
    // The day opens at 08:00: Monday 07:59 still belongs to Sunday, Tuesday 07:59 to Monday.
    expectWindow({ from: '08:00', to: '08:00', days: ['mon'] }, [
      [8, 0, 1],
      [23, 59, 1],
      [7, 59, 0],
      [7, 59, 1, 1],
    ])
  })

  it('the offset moves the local day and time', () => {
    // UTC+1:30: 07:30 UTC is 09:00 local.
    expectWindow({ from: '09:00', to: '17:00', days: ['mon'], utcOffsetMinutes: 90 }, [
      [7, 29, 0],
      [7, 30, 1],
      [15, 29, 1],
      [15, 30, 0],
    ])
    // UTC-5: Monday 01:00 UTC is Sunday 20:00 local.
    expectWindow({ from: '20:00', to: '23:00', days: ['sun'], utcOffsetMinutes: -300 }, [
      [1, 0, 1],
      [4, 0, 0],
    ])
  })

  it('before 1970 the weekday is still right', () => {
    // 1969-12-25 was a Thursday: -3, -4 and -1 days from 1970-01-01.
    const thursdays: TimeWindow = { from: '00:00', to: '23:59', days: ['thu'] }
    const at = (t: number) => run({ timeWindow: thursdays }, request(), t).r
    expect([
      at(Date.UTC(1969, 11, 25, 12)),
      at(Date.UTC(1969, 11, 24, 12)),
      at(Date.UTC(1969, 11, 31, 23, 58)),
    ]).toEqual([1, 0, 0])
  })
})
