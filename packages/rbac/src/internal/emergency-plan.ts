/**
 * The pure part of emergency access: a grant's lifecycle state at a time, and the plans of every
 * change (grant, approve, revoke, review), each checking the request against the policy and the
 * grant's state and returning the new frozen grant. The registry in `emergency-access.ts` stores
 * a plan (compare-and-set for shared stores) and emits its event.
 *
 * HIPAA: 164.312(a)(2)(ii) emergency access procedure; 164.308(a)(1)(ii)(D) activity review.
 *
 * @module
 */
import { bytesToBase64url, type Clock, type RandomSource } from '@safeguards/core'
import type {
  EmergencyConfig,
  EmergencyGrant,
  EmergencyGrantRequest,
  EmergencyGrantState,
} from '../emergency-access.js'
import { EmergencyGrantStateError, EmergencyRequestInvalidError } from '../errors.js'
import { type ParsedGrantRequest, requestSchema, reviewSchema } from './grant-schema.js'
import { isSubjectId, maySameSubject } from './subject-id.js'

/** What a review states (the time is added when it is recorded). */
export type ReviewInput = { reviewer: string; outcome: 'appropriate' | 'inappropriate'; notes: string }

const invalid = (message: string): never => {
  throw new EmergencyRequestInvalidError(message)
}

/** When a grant ended: its revocation, or its expiry. */
export const endOf = (g: EmergencyGrant): number => Math.min(g.revoked?.at ?? g.expiresAt, g.expiresAt)

/** Oldest first; grants issued at the same time by id. */
export function byIssueTime(a: EmergencyGrant, b: EmergencyGrant): number {
  if (a.issuedAt !== b.issuedAt) return a.issuedAt - b.issuedAt
  // Stryker disable next-line EqualityOperator: equivalent, ids are unique in a store (Map keys), never equal here
  return a.id < b.id ? -1 : 1
}

/** The lifecycle state of `g` at `at`. */
export function grantState(g: EmergencyGrant, at: number): EmergencyGrantState {
  // Revocation and review are final: a clock wound back into the window never revives a grant
  // (a review needs an ended grant, so a reviewed one that was not revoked had expired).
  if (g.revoked !== null) return 'revoked'
  if (g.review !== null) return 'expired'
  if (at < g.issuedAt) return 'not_yet_valid'
  if (at >= g.expiresAt) return 'expired'
  if ((g.approvalsRequired ?? 0) > (g.approvals?.length ?? 0)) return 'pending_approval'
  return 'active'
}

/** Checks a request against the policy; returns its resource types (the policy's when none). */
function checkRequest(config: EmergencyConfig, r: ParsedGrantRequest): readonly string[] {
  if (!config.reasonCodes.has(r.reasonCode)) invalid('unknown reason code')
  if (r.justification.trim().length < config.minJustificationLength)
    invalid(`justification shorter than ${config.minJustificationLength} characters`)
  if (r.minutes < 1 || r.minutes > config.maxMinutes)
    invalid(`minutes must be between 1 and ${config.maxMinutes}`)
  if (new Set(r.actions).size !== r.actions.length) invalid('actions repeat')
  for (const a of r.actions)
    if (!config.actions.has(a)) invalid('an action is outside the emergency-access policy')
  const resources = r.resources ?? [...config.resources].sort()
  if (new Set(resources).size !== resources.length) invalid('resources repeat')
  for (const t of resources)
    if (!config.resources.has(t)) invalid('a resource type is outside the emergency-access policy')
  if (!config.isEligible(r.subject)) invalid('the requester holds no role eligible for emergency access')
  return resources
}

/** A new grant for `request`, or the error the policy calls for. */
export function planGrant(
  config: EmergencyConfig | undefined,
  request: EmergencyGrantRequest,
  clock: Clock,
  random: RandomSource,
): EmergencyGrant {
  if (config === undefined)
    throw new EmergencyGrantStateError('emergency access is not enabled by this policy')
  const parsed = requestSchema.safeParse(request)
  if (!parsed.success) {
    const first = parsed.error.issues[0]!
    return invalid(`malformed request at /${first.path.join('/')}: ${first.code}`)
  }
  const r = parsed.data
  const resources = checkRequest(config, r)
  const issuedAt = clock.now()
  return Object.freeze({
    id: bytesToBase64url(random(16)),
    subject: r.subject.id,
    tenant: r.subject.tenant,
    patient: r.patient,
    actions: Object.freeze([...r.actions].sort()),
    resources: Object.freeze([...resources]),
    reasonCode: r.reasonCode,
    justification: r.justification,
    issuedAt,
    expiresAt: issuedAt + r.minutes * 60_000,
    revoked: null,
    review: null,
    ...(config.approvers > 0 ? { approvalsRequired: config.approvers, approvals: Object.freeze([]) } : {}),
  })
}

/** `g` with `by`'s approval (dual control), or the error its state calls for. */
export function planApprove(g: EmergencyGrant, by: string, clock: Clock): EmergencyGrant {
  if (!isSubjectId(by)) invalid('"by" must be a user id')
  const s = grantState(g, clock.now())
  if (s !== 'pending_approval') throw new EmergencyGrantStateError(`grant awaits no approval (${s})`)
  if (maySameSubject(by, g.subject))
    throw new EmergencyGrantStateError('a grant cannot be approved by its holder')
  if ((g.approvals ?? []).some((a) => maySameSubject(by, a.by)))
    throw new EmergencyGrantStateError('this user approved the grant already')
  const approvals = Object.freeze([...(g.approvals ?? []), Object.freeze({ by, at: clock.now() })])
  return Object.freeze({ ...g, approvals })
}

/** `g` revoked by `by` now, or the error its state calls for. */
export function planRevoke(g: EmergencyGrant, by: string, clock: Clock): EmergencyGrant {
  if (!isSubjectId(by)) invalid('"by" must be a user id')
  const now = clock.now()
  const s = grantState(g, now)
  if (s === 'revoked' || s === 'expired') throw new EmergencyGrantStateError(`grant already ${s}`)
  return Object.freeze({ ...g, revoked: Object.freeze({ at: now, by }) })
}

/** `g` with its review recorded now, or the error its state calls for. */
export function planReview(g: EmergencyGrant, review: ReviewInput, clock: Clock): EmergencyGrant {
  const parsed = reviewSchema.safeParse(review)
  if (!parsed.success) return invalid('malformed review')
  const now = clock.now()
  const s = grantState(g, now)
  if (s === 'active' || s === 'not_yet_valid')
    throw new EmergencyGrantStateError('grant is still active: revoke it first')
  if (g.review !== null) throw new EmergencyGrantStateError('grant already reviewed')
  if (maySameSubject(parsed.data.reviewer, g.subject))
    throw new EmergencyGrantStateError('a grant cannot be reviewed by its holder')
  return Object.freeze({ ...g, review: Object.freeze({ ...parsed.data, at: now }) })
}
