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
import type { Clock, Emitter, RandomSource, SafeguardEvent } from '@safeguards/core'
import { commitGrant, fetchGrant } from './emergency-shared.js'
import { EmergencyGrantNotFoundError, EmergencyGrantStateError } from './errors.js'
import { grantEvent } from './internal/access-events.js'
import {
  byIssueTime,
  endOf,
  grantState,
  planApprove,
  planGrant,
  planReview,
  planRevoke,
  type ReviewInput,
} from './internal/emergency-plan.js'
import { approvalsWellFormed, isStrings } from './internal/grant-schema.js'
import { isSubjectId } from './internal/subject-id.js'

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

/** The hooks of {@link createEmergencyAccess}. */
interface EmergencyHooks {
  onGrant?: (notice: EmergencyGrantNotice) => void | Promise<void>
  onError?: (error: unknown, event: SafeguardEvent) => void
}

/** What one registry holds; its methods below take it. */
interface Registry {
  readonly config: EmergencyConfig | undefined
  readonly store: EmergencyAccessStore
  readonly clock: Clock
  readonly random: RandomSource
  readonly emitter: Emitter
  readonly hooks: EmergencyHooks
  /** Grants whose overdue review was reported already (once per grant per registry). */
  readonly overdueReported: Set<string>
}

type GrantEventType = Parameters<typeof grantEvent>[0]

/** Builds the registry for one compiled policy (internal to `compilePolicy`). */
export function createEmergencyAccess(
  config: EmergencyConfig | undefined,
  store: EmergencyAccessStore,
  clock: Clock,
  random: RandomSource,
  emitter: Emitter,
  hooks: EmergencyHooks = {},
): EmergencyAccess {
  const r: Registry = { config, store, clock, random, emitter, hooks, overdueReported: new Set() }
  return Object.freeze({
    enabled: config !== undefined,
    grant: (request: EmergencyGrantRequest): EmergencyGrant => grantNow(r, request),
    get: (id: string): EmergencyGrant | undefined => (typeof id === 'string' ? store.get(id) : undefined),
    state: (grant: EmergencyGrant, at?: number): EmergencyGrantState => grantState(grant, at ?? clock.now()),
    revoke: (id: string, by: string): EmergencyGrant =>
      setNow(r, planRevoke(mustGet(r, id), by, clock), 'access.emergency.revoked'),
    pendingReviews: (): EmergencyGrant[] => pendingReviews(r),
    active: (): EmergencyGrant[] => {
      const now = clock.now()
      return sorted(r, (g) => grantState(g, now) === 'active')
    },
    review: (id: string, review: ReviewInput): EmergencyGrant =>
      setNow(r, planReview(mustGet(r, id), review, clock), 'access.emergency.reviewed'),
    grantAsync: (request: EmergencyGrantRequest): Promise<EmergencyGrant> => grantShared(r, request),
    revokeAsync: (id: string, by: string): Promise<EmergencyGrant> =>
      change(r, id, (g) => planRevoke(g, by, clock), 'access.emergency.revoked'),
    reviewAsync: (id: string, review: ReviewInput): Promise<EmergencyGrant> =>
      change(r, id, (g) => planReview(g, review, clock), 'access.emergency.reviewed'),
    approve: (id: string, by: string): EmergencyGrant =>
      setNow(r, planApprove(mustGet(r, id), by, clock), 'access.emergency.approved'),
    approveAsync: (id: string, by: string): Promise<EmergencyGrant> =>
      change(r, id, (g) => planApprove(g, by, clock), 'access.emergency.approved'),
    overdueReviews: (): EmergencyGrant[] => overdueReviews(r),
  })
}

/** The grant read from the store, checked: missing, or malformed (never trusted). */
function checked(g: EmergencyGrant | undefined): EmergencyGrant {
  if (g === undefined) throw new EmergencyGrantNotFoundError('no such grant')
  if (!isEmergencyGrant(g)) throw new EmergencyGrantStateError('grant record is malformed')
  return g
}

function mustGet(r: Registry, id: string): EmergencyGrant {
  return checked(typeof id === 'string' ? r.store.get(id) : undefined)
}

/** The well-formed grants of the store that satisfy `pred`, oldest first. */
function sorted(r: Registry, pred: (g: EmergencyGrant) => boolean): EmergencyGrant[] {
  return [...r.store.list()].filter((g) => isEmergencyGrant(g) && pred(g)).sort(byIssueTime)
}

function emit(r: Registry, type: GrantEventType, g: EmergencyGrant): void {
  if (r.emitter.active) void r.emitter.emit(grantEvent(type, g))
}

/** Calls `onGrant` with codes and ids only; its failure goes to `onError`, never to the caller. */
function notify(r: Registry, g: EmergencyGrant): void {
  const hook = r.hooks.onGrant
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
  const fail = (e: unknown): void => r.hooks.onError?.(e, grantEvent('access.emergency.granted', g))
  try {
    const result = hook(notice)
    if (result instanceof Promise) result.catch(fail)
  } catch (e) {
    fail(e)
  }
}

/** `EmergencyAccess.grant`: a synchronous store. */
function grantNow(r: Registry, request: EmergencyGrantRequest): EmergencyGrant {
  const grant = planGrant(r.config, request, r.clock, r.random)
  if (r.store.get(grant.id) !== undefined)
    throw new EmergencyGrantStateError('grant id collision (broken random source)')
  r.store.set(grant)
  emit(r, 'access.emergency.granted', grant)
  notify(r, grant)
  return grant
}

/** `EmergencyAccess.grantAsync`: any store, stored where every instance sees it. */
async function grantShared(r: Registry, request: EmergencyGrantRequest): Promise<EmergencyGrant> {
  const grant = planGrant(r.config, request, r.clock, r.random)
  if (!(await commitGrant(r.store, grant, null)))
    throw new EmergencyGrantStateError('grant id collision (broken random source)')
  emit(r, 'access.emergency.granted', grant)
  notify(r, grant)
  return grant
}

/** Stores a planned change in a synchronous store, then emits its event. */
function setNow(r: Registry, next: EmergencyGrant, type: GrantEventType): EmergencyGrant {
  r.store.set(next)
  emit(r, type, next)
  return next
}

// Compare-and-set, then the event; lost races re-read the grant and plan again (where the plan
// now refuses: already revoked, already reviewed).
async function change(
  r: Registry,
  id: string,
  plan: (g: EmergencyGrant) => EmergencyGrant,
  type: GrantEventType,
): Promise<EmergencyGrant> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const g = checked(await fetchGrant(r.store, id))
    const next = plan(g)
    if (await commitGrant(r.store, next, g)) {
      emit(r, type, next)
      return next
    }
  }
  throw new EmergencyGrantStateError('grant changed concurrently, try again')
}

/** Ended (expired or revoked) grants not yet reviewed, oldest first. */
function pendingReviews(r: Registry): EmergencyGrant[] {
  const now = r.clock.now()
  return sorted(r, (g) => {
    const s = grantState(g, now)
    return g.review === null && (s === 'expired' || s === 'revoked')
  })
}

/** Ended grants not reviewed within the policy's time; emits `review-overdue` once per grant. */
function overdueReviews(r: Registry): EmergencyGrant[] {
  const now = r.clock.now()
  const within = r.config?.reviewWithinMs ?? 24 * 3_600_000
  const overdue = sorted(r, (g) => {
    const s = grantState(g, now)
    return g.review === null && (s === 'expired' || s === 'revoked') && now >= endOf(g) + within
  })
  for (const g of overdue) {
    if (r.overdueReported.has(g.id)) continue
    r.overdueReported.add(g.id)
    if (r.emitter.active)
      void r.emitter.emit({
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
}
