/** The zod 4 schema of a policy document: strict objects everywhere, closed vocabularies. */
import { z } from 'zod'
import type { Condition, Operand } from '../policy.js'
import { LIMITS, RESERVED, SEGMENT_RE, TOKEN_RE } from './tokens.js'

const token = z
  .string()
  .regex(TOKEN_RE, 'expected a plain token: a letter, then letters, digits, "_", ".", ":" or "-" (≤ 64)')
  .refine((s) => !RESERVED.has(s), 'reserved name')

const tokenOrStar = z.union([z.literal('*'), token], {
  error: 'expected "*" or a plain token: a letter, then letters, digits, "_", ".", ":" or "-" (≤ 64)',
})

const list = <T extends z.ZodType>(item: T) => z.array(item).max(LIMITS.listItems)
const nonEmptyList = <T extends z.ZodType>(item: T) => list(item).min(1)
const text = z.string().max(LIMITS.text)

const literal = z.union([z.string().max(LIMITS.text), z.number().finite(), z.boolean(), z.null()])

const attrPath = z
  .string()
  .max(256)
  .refine((p) => {
    const segs = p.split('.')
    return segs.every((s) => SEGMENT_RE.test(s) && !RESERVED.has(s))
  }, 'expected a dotted attribute path of plain names')

const operand: z.ZodType<Operand> = z.union([
  literal,
  z.array(literal).max(LIMITS.listItems),
  z.strictObject({ ref: attrPath }),
])

const pair = z.tuple([operand, operand])
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM')

/** The schema of each condition operator's value; `all`, `any` and `not` recurse (see `conditionProblems`). */
export const conditionOperators: Readonly<Record<string, z.ZodType>> = Object.freeze({
  eq: pair,
  ne: pair,
  lt: pair,
  lte: pair,
  gt: pair,
  gte: pair,
  in: pair,
  exists: attrPath,
  relation: token,
  timeWindow: z.strictObject({
    from: hhmm,
    to: hhmm,
    days: z
      .array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']))
      .min(1)
      .max(7)
      .optional(),
    utcOffsetMinutes: z.number().int().min(-840).max(840).optional(),
  }),
})

/** Conditions are checked node by node by `conditionProblems` (clear messages, depth limits). */
const condition = z.custom<Condition>(() => true)

/** The policy document schema (structure only; references are checked by `validatePolicy`). */
export const policySchema: z.ZodType<unknown> = z.strictObject({
  version: z.literal(1),
  id: token.optional(),
  description: text.optional(),
  tenants: list(token).optional(),
  actions: list(token).optional(),
  resourceTypes: list(token).optional(),
  relationships: list(token).optional(),
  roles: z
    .array(
      z.strictObject({
        id: token,
        inherits: list(token).optional(),
        tenants: nonEmptyList(token).optional(),
        description: text.optional(),
      }),
    )
    .max(LIMITS.roles),
  labels: z
    .array(
      z.strictObject({
        id: token,
        emergencyAccess: z.enum(['lifts', 'never']),
        consent: z.enum(['lifts', 'never']).optional(),
        description: text.optional(),
      }),
    )
    .max(LIMITS.labels)
    .optional(),
  rules: z
    .array(
      z.strictObject({
        id: token,
        effect: z.enum(['allow', 'deny']),
        roles: nonEmptyList(tokenOrStar),
        actions: nonEmptyList(tokenOrStar),
        resources: nonEmptyList(tokenOrStar),
        tenants: nonEmptyList(token).optional(),
        subjectTenants: nonEmptyList(token).optional(),
        when: condition.optional(),
        obligations: list(token).optional(),
        description: text.optional(),
      }),
    )
    .max(LIMITS.rules),
  emergencyAccess: z
    .strictObject({
      roles: nonEmptyList(token),
      actions: nonEmptyList(token),
      resources: nonEmptyList(token),
      reasonCodes: nonEmptyList(token),
      maxMinutes: z.number().int().min(1).max(1440).optional(),
      minJustificationLength: z.number().int().min(1).max(LIMITS.text).optional(),
      approvers: z.number().int().min(0).max(3).optional(),
      reviewWithinHours: z.number().int().min(1).max(720).optional(),
    })
    .optional(),
  smartActions: z
    .record(token, z.enum(['c', 'r', 'u', 'd', 's']))
    .refine((r) => Object.keys(r).length <= LIMITS.listItems, 'too many entries')
    .optional(),
})
