/**
 * The shapes of emergency-access records and requests: the checks `isEmergencyGrant` applies to a
 * stored grant, and the zod schemas of a grant request and a review.
 *
 * HIPAA: 164.312(a)(2)(ii) emergency access procedure (a malformed record never grants).
 */
import { z } from 'zod'
import { isSubjectId } from './subject-id.js'
import { isToken, LIMITS } from './tokens.js'

/** A list of strings within the list-size limit. */
export const isStrings = (v: unknown): v is readonly string[] =>
  Array.isArray(v) && v.length <= LIMITS.listItems && v.every((x) => typeof x === 'string')

/** Dual-control fields: both absent, or a count of 0 to 3 with a list of approvals. */
export function approvalsWellFormed(required: unknown, approvals: unknown): boolean {
  if (required === undefined && approvals === undefined) return true
  return (
    Number.isSafeInteger(required) &&
    (required as number) >= 0 &&
    (required as number) <= 3 &&
    Array.isArray(approvals) &&
    approvals.length <= 3 &&
    approvals.every(
      (a: unknown) =>
        typeof a === 'object' &&
        a !== null &&
        isSubjectId((a as { by?: unknown }).by) &&
        Number.isSafeInteger((a as { at?: unknown }).at),
    )
  )
}

// Refusals report the path and the zod issue code only, so the refinements carry no message.
/** Patient ids: 1 to 256 characters, no C0 control character or DEL. */
const idText = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => ![...s].some((ch) => ch < ' ' || ch === '\x7f'))
const tokenSchema = z.string().refine(isToken)
/** Requesters, revokers and reviewers: see `internal/subject-id.ts` for the grammar and why. */
const subjectId = z.string().refine(isSubjectId)

/** A grant request as the schema returns it. */
export interface ParsedGrantRequest {
  subject: { id: string; tenant: string; roles: string[] }
  patient: string
  actions: string[]
  resources?: string[] | undefined
  reasonCode: string
  justification: string
  minutes: number
}

/** A review as the schema returns it. */
export interface ParsedReview {
  reviewer: string
  outcome: 'appropriate' | 'inappropriate'
  notes: string
}

/** A grant request: strict (no unknown member), every string bounded. */
export const requestSchema: z.ZodType<ParsedGrantRequest> = z.strictObject({
  subject: z.strictObject({
    id: subjectId,
    tenant: tokenSchema,
    roles: z.array(z.string().max(64)).max(LIMITS.listItems),
  }),
  patient: idText,
  actions: z.array(tokenSchema).min(1).max(64),
  resources: z.array(tokenSchema).min(1).max(LIMITS.listItems).optional(),
  reasonCode: tokenSchema,
  justification: z.string().max(LIMITS.text),
  minutes: z.number().int(),
})

/** A review: strict, bounded. */
export const reviewSchema: z.ZodType<ParsedReview> = z.strictObject({
  reviewer: subjectId,
  outcome: z.enum(['appropriate', 'inappropriate']),
  notes: z.string().max(LIMITS.text),
})
