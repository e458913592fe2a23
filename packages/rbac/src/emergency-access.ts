/**
 * Emergency access ("break-glass"): time-boxed grants for one patient and a set of actions, issued
 * only with a reason code and a written justification, honoured by the decision point only while
 * active, and kept for review afterwards.
 *
 * Lifecycle: `grant` → (decisions carry an `audit:emergency-access` obligation, and emit
 * `access.emergency.used` when events are configured) → expiry at `expiresAt` (exclusive) or
 * `revoke` → `pendingReviews` → `review`. Grant, revoke and review emit
 * `access.emergency.granted`, `.revoked` and `.reviewed`.
 *
 * HIPAA: 164.312(a)(2)(ii) emergency access procedure; 164.312(b) audit controls (every use is an
 * audit obligation, every grant is reviewed); 164.308(a)(1)(ii)(D) information system activity review.
 *
 * @module
 */
import {
  bytesToBase64url,
  type Clock,
  type Emitter,
  type RandomSource,
  type SafeguardEvent,
} from '@safeguards/core'
import { commitGrant, fetchGrant } from './emergency-shared.js'
import {
  EmergencyGrantNotFoundError,
  EmergencyGrantStateError,
  EmergencyRequestInvalidError,
} from './errors.js'
import { grantEvent } from './internal/access-events.js'
import { approvalsWellFormed, isStrings, requestSchema, reviewSchema } from './internal/grant-schema.js'
import { isSubjectId, maySameSubject } from './internal/subject-id.js'

/** A request for an emergency-access grant. */
export interface EmergencyGrantRequest {
  /**
   * The requester: unique id (1 to 255 printable ASCII characters, no spaces: the IdP's stable
   * user id), tenant and roles held there (one must be eligible).
   */
  readonly subject: { readonly id: string; readonly tenant: string; readonly roles: readonly string[] }
  /** The one patient the grant covers. */
  readonly patient: string
  /** Actions the grant covers (a subset of the policy's emergency actions). */
  readonly actions: readonly string[]
  /** Resource types (default: every type the policy's emergency access covers). */
  readonly resources?: readonly string[]
  /** One of the policy's reason codes. */
  readonly reasonCode: string
  /** Why, in the requester's words (at least the policy's minimum length after trimming). */
  readonly justification: string
  /** Duration in minutes, 1 to the policy's maximum. */
  readonly minutes: number
}

/** The outcome of a post-hoc review. */
export interface EmergencyReview {
  readonly reviewer: string
  readonly outcome: 'appropriate' | 'inappropriate'
  readonly notes: string
  readonly at: number
}

/** An emergency-access grant. Frozen; updates (revoke, review) produce a new object in the store. */
export interface EmergencyGrant {
  /** Random, unguessable id (128 bits, base64url). */
  readonly id: string
  readonly subject: string
  readonly tenant: string
  readonly patient: string
  readonly actions: readonly string[]
  readonly resources: readonly string[]
  readonly reasonCode: string
  readonly justification: string
  /**
   * Milliseconds since the epoch; the grant is active for `issuedAt ≤ now < expiresAt` until it is
   * revoked or reviewed (both final, whatever the clock says later).
   */
  readonly issuedAt: number
  readonly expiresAt: number
  readonly revoked: { readonly at: number; readonly by: string } | null
  readonly review: EmergencyReview | null
  /** Dual control: approvals needed before the grant opens anything (absent: none). */
  readonly approvalsRequired?: number
  /** Approvals so far, by users other than the holder. */
  readonly approvals?: readonly { readonly by: string; readonly at: number }[]
}

/** What `onEmergencyGrant` receives: codes and ids only (no patient, no justification). */
export interface EmergencyGrantNotice {
  readonly grantId: string
  /** The holder's user id. */
  readonly subject: string
  readonly tenant: string
  readonly reasonCode: string
  readonly issuedAt: number
  readonly expiresAt: number
  /** Approvals still needed before the grant opens anything (dual control). */
  readonly approvalsRequired: number
}

/** Where grants are kept. Synchronous, because decisions are. Share one store across recompiles. */
export interface EmergencyAccessStore {
  get(id: string): EmergencyGrant | undefined
  set(grant: EmergencyGrant): void
  list(): Iterable<EmergencyGrant>
}

/** The lifecycle state of a grant at a given time. */
export type EmergencyGrantState = 'active' | 'not_yet_valid' | 'expired' | 'revoked' | 'pending_approval'

/** Emergency access bound to one compiled policy. */
export interface EmergencyAccess {
  /** False when the policy has no `emergencyAccess` section (then `grant` throws). */
  readonly enabled: boolean
  /**
   * Issues a grant.
   * @throws {EmergencyAccessError} `ERR_RBAC_EMERGENCY_REQUEST_INVALID` for a malformed or
   *   out-of-policy request; `ERR_RBAC_EMERGENCY_STATE` when emergency access is disabled.
   */
  grant(request: EmergencyGrantRequest): EmergencyGrant
  /** The grant with this id, or undefined. */
  get(id: string): EmergencyGrant | undefined
  /** The state of a grant now (or at `at`); a revoked or reviewed grant stays ended at any time. */
  state(grant: EmergencyGrant, at?: number): EmergencyGrantState
  /**
   * Ends a grant early.
   * @throws {EmergencyAccessError} `ERR_RBAC_EMERGENCY_NOT_FOUND`, or `ERR_RBAC_EMERGENCY_STATE` when already ended.
   */
  revoke(id: string, by: string): EmergencyGrant
  /** Grants that have ended (expired or revoked) and await review, oldest first. */
  pendingReviews(): EmergencyGrant[]
  /** Grants active now, oldest first. */
  active(): EmergencyGrant[]
  /**
   * Ended grants not reviewed within the policy's `reviewWithinHours` of their end, oldest first.
   * Emits `access.emergency.review-overdue` once per grant per registry (run it on a schedule).
   */
  overdueReviews(): EmergencyGrant[]
  /**
   * Dual control: records an approval of a grant awaiting one, by a user other than the holder
   * (and other than earlier approvers). The grant opens records once it has the policy's number.
   * @throws {EmergencyAccessError} `ERR_RBAC_EMERGENCY_NOT_FOUND`; `ERR_RBAC_EMERGENCY_STATE` when
   *   the grant awaits no approval, has ended, or the approver is the holder or approved already.
   */
  approve(id: string, by: string): EmergencyGrant
  /** {@link EmergencyAccess.approve}, atomic across instances. */
  approveAsync(id: string, by: string): Promise<EmergencyGrant>
  /**
   * Records the review of an ended grant, by someone other than its holder (ids compared without
   * regard to ASCII case, so `U1` cannot review the grant of `u1`).
   * @throws {EmergencyAccessError} `ERR_RBAC_EMERGENCY_NOT_FOUND`; `ERR_RBAC_EMERGENCY_STATE` when
   *   the grant is still active, already reviewed, or the reviewer is the holder;
   *   `ERR_RBAC_EMERGENCY_REQUEST_INVALID` for a malformed review.
   */
  review(
    id: string,
    review: { reviewer: string; outcome: 'appropriate' | 'inappropriate'; notes: string },
  ): EmergencyGrant
  /**
   * {@link EmergencyAccess.grant} for any store, and the only way for a shared one (PostgreSQL,
   * Redis): resolves once the grant is stored where every instance sees it.
   */
  grantAsync(request: EmergencyGrantRequest): Promise<EmergencyGrant>
  /**
   * {@link EmergencyAccess.revoke}, atomic across instances: of concurrent revocations and
   * reviews of one grant, exactly one is stored; the others fail with `ERR_RBAC_EMERGENCY_STATE`.
   */
  revokeAsync(id: string, by: string): Promise<EmergencyGrant>
  /** {@link EmergencyAccess.review}, atomic across instances like {@link EmergencyAccess.revokeAsync}. */
  reviewAsync(
    id: string,
    review: { reviewer: string; outcome: 'appropriate' | 'inappropriate'; notes: string },
  ): Promise<EmergencyGrant>
}

/**
 * An in-memory {@link EmergencyAccessStore}. Grants are kept until the process ends: persist them
 * (for example in the audit log) if reviews must survive a restart.
 *
 * HIPAA: 164.312(a)(2)(ii) emergency access procedure.
 *
 * @example
 * ```ts
 * const store = createMemoryEmergencyStore()
 * const pdp = compilePolicy(doc, { emergencyStore: store }) // recompiles can share the store
 * ```
 * @throws never
 */
export function createMemoryEmergencyStore(): EmergencyAccessStore {
  const grants = new Map<string, EmergencyGrant>()
  return {
    get: (id) => grants.get(id),
    set: (grant) => {
      grants.set(grant.id, grant)
    },
    list: () => grants.values(),
  }
}

/**
 * True when `g` has the shape of an {@link EmergencyGrant}. The decision point checks every grant it
 * reads from the store, so a corrupted or hand-edited record never grants.
 *
 * HIPAA: 164.312(a)(2)(ii) emergency access procedure.
 *
 * @example
 * ```ts
 * if (!isEmergencyGrant(row)) alertSecurity('corrupted emergency grant')
 * ```
 * @throws never
 */
export function isEmergencyGrant(g: unknown): g is EmergencyGrant {
  if (typeof g !== 'object' || g === null) return false
  const x = g as Record<string, unknown>
  const revoked = x.revoked as { at?: unknown } | null | undefined
  return (
    ['id', 'tenant', 'patient', 'reasonCode'].every((k) => typeof x[k] === 'string') &&
    isSubjectId(x.subject) &&
    Number.isSafeInteger(x.issuedAt) &&
    Number.isSafeInteger(x.expiresAt) &&
    isStrings(x.actions) &&
    isStrings(x.resources) &&
    (revoked === null || (typeof revoked === 'object' && Number.isSafeInteger(revoked.at))) &&
    approvalsWellFormed(x.approvalsRequired, x.approvals)
  )
}

/** The emergency-access configuration a compiled policy hands to the registry. */
export interface EmergencyConfig {
  readonly actions: ReadonlySet<string>
  readonly resources: ReadonlySet<string>
  readonly reasonCodes: ReadonlySet<string>
  readonly maxMinutes: number
  readonly minJustificationLength: number
  /** Approvals a grant needs before it opens anything (dual control; 0: none). */
  readonly approvers: number
  /** How long after its end a grant must be reviewed. */
  readonly reviewWithinMs: number
  readonly isEligible: (subject: EmergencyGrantRequest['subject']) => boolean
}

/** When a grant ended: its revocation, or its expiry. */
const endOf = (g: EmergencyGrant): number => Math.min(g.revoked?.at ?? g.expiresAt, g.expiresAt)

type ReviewInput = { reviewer: string; outcome: 'appropriate' | 'inappropriate'; notes: string }

/** Oldest first; grants issued at the same time by id. */
function byIssueTime(a: EmergencyGrant, b: EmergencyGrant): number {
  if (a.issuedAt !== b.issuedAt) return a.issuedAt - b.issuedAt
  // Stryker disable next-line EqualityOperator: equivalent, ids are unique in a store (Map keys), never equal here
  return a.id < b.id ? -1 : 1
}

/** Builds the registry for one compiled policy (internal to `compilePolicy`). */
export function createEmergencyAccess(
  config: EmergencyConfig | undefined,
  store: EmergencyAccessStore,
  clock: Clock,
  random: RandomSource,
  emitter: Emitter,
  hooks: {
    onGrant?: (notice: EmergencyGrantNotice) => void | Promise<void>
    onError?: (error: unknown, event: SafeguardEvent) => void
  } = {},
): EmergencyAccess {
  const invalid = (message: string): never => {
    throw new EmergencyRequestInvalidError(message)
  }
  const stateOf = (g: EmergencyGrant, at: number): EmergencyGrantState => {
    // Revocation and review are final: a clock wound back into the window never revives a grant
    // (a review needs an ended grant, so a reviewed one that was not revoked had expired).
    if (g.revoked !== null) return 'revoked'
    if (g.review !== null) return 'expired'
    if (at < g.issuedAt) return 'not_yet_valid'
    if (at >= g.expiresAt) return 'expired'
    if ((g.approvalsRequired ?? 0) > (g.approvals?.length ?? 0)) return 'pending_approval'
    return 'active'
  }
  const checked = (g: EmergencyGrant | undefined): EmergencyGrant => {
    if (g === undefined) throw new EmergencyGrantNotFoundError('no such grant')
    if (!isEmergencyGrant(g)) throw new EmergencyGrantStateError('grant record is malformed')
    return g
  }
  const mustGet = (id: string): EmergencyGrant => checked(typeof id === 'string' ? store.get(id) : undefined)
  const sorted = (pred: (g: EmergencyGrant) => boolean): EmergencyGrant[] =>
    [...store.list()].filter((g) => isEmergencyGrant(g) && pred(g)).sort(byIssueTime)

  const planGrant = (request: EmergencyGrantRequest): EmergencyGrant => {
    if (config === undefined)
      throw new EmergencyGrantStateError('emergency access is not enabled by this policy')
    const parsed = requestSchema.safeParse(request)
    if (!parsed.success) {
      const first = parsed.error.issues[0]!
      return invalid(`malformed request at /${first.path.join('/')}: ${first.code}`)
    }
    const r = parsed.data
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
  const planApprove = (g: EmergencyGrant, by: string): EmergencyGrant => {
    if (!isSubjectId(by)) invalid('"by" must be a user id')
    const s = stateOf(g, clock.now())
    if (s !== 'pending_approval') throw new EmergencyGrantStateError(`grant awaits no approval (${s})`)
    if (maySameSubject(by, g.subject))
      throw new EmergencyGrantStateError('a grant cannot be approved by its holder')
    if ((g.approvals ?? []).some((a) => maySameSubject(by, a.by)))
      throw new EmergencyGrantStateError('this user approved the grant already')
    const approvals = Object.freeze([...(g.approvals ?? []), Object.freeze({ by, at: clock.now() })])
    return Object.freeze({ ...g, approvals })
  }
  const notify = (g: EmergencyGrant): void => {
    const hook = hooks.onGrant
    if (hook === undefined) return
    const notice: EmergencyGrantNotice = Object.freeze({
      grantId: g.id,
      subject: g.subject,
      tenant: g.tenant,
      reasonCode: g.reasonCode,
      issuedAt: g.issuedAt,
      expiresAt: g.expiresAt,
      approvalsRequired: g.approvalsRequired ?? 0,
    })
    const fail = (e: unknown): void => hooks.onError?.(e, grantEvent('access.emergency.granted', g))
    try {
      const r = hook(notice)
      if (r instanceof Promise) r.catch(fail)
    } catch (e) {
      fail(e)
    }
  }
  const overdueReported = new Set<string>()
  const planRevoke = (g: EmergencyGrant, by: string): EmergencyGrant => {
    if (!isSubjectId(by)) invalid('"by" must be a user id')
    const now = clock.now()
    const s = stateOf(g, now)
    if (s === 'revoked' || s === 'expired') throw new EmergencyGrantStateError(`grant already ${s}`)
    return Object.freeze({ ...g, revoked: Object.freeze({ at: now, by }) })
  }
  const planReview = (g: EmergencyGrant, review: ReviewInput): EmergencyGrant => {
    const parsed = reviewSchema.safeParse(review)
    if (!parsed.success) return invalid('malformed review')
    const now = clock.now()
    const s = stateOf(g, now)
    if (s === 'active' || s === 'not_yet_valid')
      throw new EmergencyGrantStateError('grant is still active: revoke it first')
    if (g.review !== null) throw new EmergencyGrantStateError('grant already reviewed')
    if (maySameSubject(parsed.data.reviewer, g.subject))
      throw new EmergencyGrantStateError('a grant cannot be reviewed by its holder')
    return Object.freeze({ ...g, review: Object.freeze({ ...parsed.data, at: now }) })
  }
  const emit = (type: Parameters<typeof grantEvent>[0], g: EmergencyGrant): void => {
    if (emitter.active) void emitter.emit(grantEvent(type, g))
  }
  // Compare-and-set, then the event; lost races re-read the grant and plan again (where the plan
  // now refuses: already revoked, already reviewed).
  const change = async (
    id: string,
    plan: (g: EmergencyGrant) => EmergencyGrant,
    type: Parameters<typeof grantEvent>[0],
  ): Promise<EmergencyGrant> => {
    for (let attempt = 0; attempt < 8; attempt++) {
      const g = checked(await fetchGrant(store, id))
      const next = plan(g)
      if (await commitGrant(store, next, g)) {
        emit(type, next)
        return next
      }
    }
    throw new EmergencyGrantStateError('grant changed concurrently, try again')
  }

  return Object.freeze({
    enabled: config !== undefined,
    grant(request: EmergencyGrantRequest): EmergencyGrant {
      const grant = planGrant(request)
      if (store.get(grant.id) !== undefined)
        throw new EmergencyGrantStateError('grant id collision (broken random source)')
      store.set(grant)
      emit('access.emergency.granted', grant)
      notify(grant)
      return grant
    },
    get(id: string): EmergencyGrant | undefined {
      return typeof id === 'string' ? store.get(id) : undefined
    },
    state(grant: EmergencyGrant, at?: number): EmergencyGrantState {
      return stateOf(grant, at ?? clock.now())
    },
    revoke(id: string, by: string): EmergencyGrant {
      const next = planRevoke(mustGet(id), by)
      store.set(next)
      emit('access.emergency.revoked', next)
      return next
    },
    pendingReviews(): EmergencyGrant[] {
      const now = clock.now()
      return sorted((g) => {
        const s = stateOf(g, now)
        return g.review === null && (s === 'expired' || s === 'revoked')
      })
    },
    active(): EmergencyGrant[] {
      const now = clock.now()
      return sorted((g) => stateOf(g, now) === 'active')
    },
    review(id: string, review: ReviewInput) {
      const next = planReview(mustGet(id), review)
      store.set(next)
      emit('access.emergency.reviewed', next)
      return next
    },
    async grantAsync(request: EmergencyGrantRequest): Promise<EmergencyGrant> {
      const grant = planGrant(request)
      if (!(await commitGrant(store, grant, null)))
        throw new EmergencyGrantStateError('grant id collision (broken random source)')
      emit('access.emergency.granted', grant)
      notify(grant)
      return grant
    },
    revokeAsync(id: string, by: string): Promise<EmergencyGrant> {
      return change(id, (g) => planRevoke(g, by), 'access.emergency.revoked')
    },
    reviewAsync(id: string, review: ReviewInput): Promise<EmergencyGrant> {
      return change(id, (g) => planReview(g, review), 'access.emergency.reviewed')
    },
    approve(id: string, by: string): EmergencyGrant {
      const next = planApprove(mustGet(id), by)
      store.set(next)
      emit('access.emergency.approved', next)
      return next
    },
    approveAsync(id: string, by: string): Promise<EmergencyGrant> {
      return change(id, (g) => planApprove(g, by), 'access.emergency.approved')
    },
    overdueReviews(): EmergencyGrant[] {
      const now = clock.now()
      const within = config?.reviewWithinMs ?? 24 * 3_600_000
      const overdue = sorted((g) => {
        const s = stateOf(g, now)
        return g.review === null && (s === 'expired' || s === 'revoked') && now >= endOf(g) + within
      })
      for (const g of overdue) {
        if (overdueReported.has(g.id)) continue
        overdueReported.add(g.id)
        if (emitter.active)
          void emitter.emit({
            type: 'access.emergency.review-overdue',
            at: now,
            source: '@safeguards/rbac',
            outcome: 'failure',
            actor: g.subject,
            subject: g.patient,
            grantId: g.id,
            reviewDueAt: endOf(g) + within,
          })
      }
      return overdue
    },
  })
}
