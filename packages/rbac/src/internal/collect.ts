/**
 * Which rules of a bucket apply to a request (decision rules 2 and 4): the held roles'
 * unconditional hits, and their filtered hits (tenant filters, then the condition, evaluated once
 * per rule per decision). Collected into a scratch state owned by the decision function and
 * reused by every decision, so collecting allocates nothing: no set of held roles (a stamp per
 * role), no map of results (a stamp and a result per rule), no per-call arrays (reused ones with
 * counts), no per-call clock (one that is reset). Only a condition error allocates (its record).
 *
 * A decision made while another is running on the same decision function (a relationship
 * resolver that calls `decide`) gets a fresh state, so the running one is never disturbed.
 * `depth` counts the running decisions; a decision that throws is unwound by the decision
 * function's catch (no try/finally on the hot path: V8 allocates for it).
 *
 * HIPAA: 164.312(a)(1) access control.
 */
import type { Clock } from '@safeguards/core'
import type { AccessRequest, ConditionError } from '../decision.js'
import { type ConditionErr, type EvalEnv, isLiteral, type Resolver } from './conditions.js'
import type { CompiledRoles } from './roles.js'
import type { Bucket, GuardGroup, Hit } from './rule-index.js'

/** `allowSrc`/`denySrc` when the hits came from more than one list. */
export const MIXED = -2

/** The time of one decision: read from the clock at most once, on first use. */
interface DecisionTime extends Clock {
  read: boolean
  t: number
  readonly source: Clock
}

function decisionTime(source: Clock): DecisionTime {
  return {
    read: false,
    t: 0,
    source,
    now(): number {
      if (!this.read) {
        this.t = this.source.now()
        this.read = true
      }
      return this.t
    },
  }
}

/** What the held roles' rules in a bucket say about a request; entries past the counts are stale. */
export interface Collected {
  readonly env: EvalEnv
  readonly time: DecisionTime
  sameTenant: boolean
  readonly allow: Hit[]
  nAllow: number
  /** The role whose unconditional allow list is the whole of `allow`, -1 for none, or MIXED. */
  allowSrc: number
  readonly deny: Hit[]
  nDeny: number
  /** As `allowSrc`, for `deny`. */
  denySrc: number
  /** Some deny rule applied without a condition error. */
  cleanDeny: boolean
  /** Condition errors, in evaluation order (at most one per rule). */
  readonly errors: ConditionError[]
  nErr: number
  /** A number no earlier decision on this state used: marks the roles visited and rules evaluated. */
  epoch: number
  readonly roleStamp: Uint32Array
  readonly ruleStamp: Uint32Array
  readonly ruleResult: Uint8Array
}

/** A request standing in for none, so a finished state does not keep the last request alive. */
const NO_REQUEST = Object.freeze({}) as AccessRequest

function newState(
  nRoles: number,
  nRules: number,
  resolvers: ReadonlyMap<string, Resolver>,
  clock: Clock,
): Collected {
  const time = decisionTime(clock)
  return {
    env: { req: NO_REQUEST, clock: time, resolvers, err: undefined },
    time,
    sameTenant: false,
    allow: [],
    nAllow: 0,
    allowSrc: -1,
    deny: [],
    nDeny: 0,
    denySrc: -1,
    cleanDeny: false,
    errors: [],
    nErr: 0,
    epoch: 0,
    roleStamp: new Uint32Array(nRoles + 1),
    ruleStamp: new Uint32Array(nRules),
    ruleResult: new Uint8Array(nRules),
  }
}

/** Hands out collection states: the reusable one to the outermost decision, a fresh one inside it. */
export interface Collector {
  /** How many decisions are running (more than one when a resolver calls `decide`). */
  depth: number
  acquire(req: AccessRequest): Collected
  release(st: Collected): void
  /** After a throw: back to `depth` running decisions (what it was when the decision began). */
  unwind(depth: number): void
}

/** The collector of one decision function (`nRoles` roles, `nRules` rules). */
export function createCollector(
  nRoles: number,
  nRules: number,
  resolvers: ReadonlyMap<string, Resolver>,
  clock: Clock,
): Collector {
  const scratch = newState(nRoles, nRules, resolvers, clock)
  return {
    depth: 0,
    acquire(req) {
      const st = this.depth === 0 ? scratch : newState(nRoles, nRules, resolvers, clock)
      this.depth++
      if (st.epoch === 0xffff_ffff) {
        st.epoch = 0
        st.roleStamp.fill(0)
        st.ruleStamp.fill(0)
      }
      st.epoch++
      st.env.req = req
      st.env.err = undefined
      st.time.read = false
      st.sameTenant = req.subject.tenant === req.resource.tenant
      st.nAllow = 0
      st.allowSrc = -1
      st.nDeny = 0
      st.denySrc = -1
      st.cleanDeny = false
      st.nErr = 0
      return st
    },
    release(st) {
      st.env.req = NO_REQUEST
      this.depth--
    },
    unwind(depth) {
      this.depth = depth
      if (depth === 0) scratch.env.req = NO_REQUEST
    },
  }
}

/** Collects the applicable rules of `bucket` for the request `st` was acquired for. */
export function collectHits(roles: CompiledRoles, bucket: Bucket, st: Collected): void {
  const subject = st.env.req.subject
  visitRole(roles.count, bucket, st) // the virtual "any role" holder
  // Indexed loops here and below: `for…of` allocates iterator results where V8 does not elide them.
  const held = subject.roles
  for (let i = 0; i < held.length; i++) {
    const r = roles.usable(held[i], subject.tenant)
    if (r !== undefined) visitRole(r, bucket, st)
  }
}

function visitRole(r: number, bucket: Bucket, st: Collected): void {
  if (st.roleStamp[r] === st.epoch) return // held twice, or through ANY
  st.roleStamp[r] = st.epoch
  const d = bucket.deny.get(r)
  if (d !== undefined) {
    st.denySrc = st.nDeny === 0 ? r : MIXED
    for (let i = 0; i < d.length; i++) st.deny[st.nDeny++] = d[i] as Hit
    st.cleanDeny = true
  }
  const a = bucket.allow.get(r)
  if (a !== undefined && st.sameTenant) {
    st.allowSrc = st.nAllow === 0 ? r : MIXED
    for (let i = 0; i < a.length; i++) st.allow[st.nAllow++] = a[i] as Hit
  }
  const f = bucket.filtered.get(r)
  if (f === undefined) return
  evaluateHits(f.unguarded, st, false)
  // Guarded rules: only those whose guard literal the attribute holds can apply (condition-guard.ts).
  const groups = f.groups
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] as GuardGroup
    const x = g.get(st.env)
    if (isLiteral(x)) evaluateHits(g.byValue.get(x) ?? EMPTY_HITS, st, true)
    else evaluateHits(g.all, st, false)
  }
}

const EMPTY_HITS: readonly Hit[] = Object.freeze([])

/**
 * Evaluates filtered hits (tenant filters, then the condition, once per rule per decision).
 * `matched`: the hits were found under the value their guard tests, so a `sure` one applies as is.
 */
function evaluateHits(hits: readonly Hit[], st: Collected, matched: boolean): void {
  const req = st.env.req
  for (let i = 0; i < hits.length; i++) {
    const hit = hits[i] as Hit
    if (matched && hit.sure) {
      if (!hit.allow) {
        st.denySrc = MIXED
        st.deny[st.nDeny++] = hit
        st.cleanDeny = true
      } else if (st.sameTenant) {
        st.allowSrc = MIXED
        st.allow[st.nAllow++] = hit
      }
      continue
    }
    const rule = hit.rule
    if (rule.tenants !== undefined && !rule.tenants.has(req.resource.tenant)) continue
    if (rule.subjectTenants === undefined) {
      if (rule.allow && !st.sameTenant) continue
    } else if (!rule.subjectTenants.has(req.subject.tenant)) continue
    const n = rule.n
    let result: number
    if (st.ruleStamp[n] === st.epoch) result = st.ruleResult[n] as number
    else {
      if (rule.cond === undefined) result = 1
      else {
        st.env.err = undefined
        result = rule.cond(st.env)
        if (result === 2)
          st.errors[st.nErr++] = Object.freeze({ rule: rule.id, ...(st.env.err as unknown as ConditionErr) })
      }
      st.ruleStamp[n] = st.epoch
      st.ruleResult[n] = result
    }
    if (result === 0) continue
    if (rule.allow) {
      if (result === 1) {
        st.allowSrc = MIXED
        st.allow[st.nAllow++] = hit
      }
    } else {
      st.denySrc = MIXED
      st.deny[st.nDeny++] = hit
      if (result === 1) st.cleanDeny = true
    }
  }
}

/** The condition errors of `st`, sorted by rule id, frozen (a new array). */
export function sortedErrors(st: Collected): readonly ConditionError[] {
  return Object.freeze(
    st.errors.slice(0, st.nErr).sort((a, b) => (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0)),
  )
}
