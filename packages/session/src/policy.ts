/**
 * The timeout policy: defaults, per-role overrides, and the concurrent-session cap, validated with
 * zod at the boundary.
 *
 * Defaults: **15 minutes idle, 12 hours absolute**. Sources: NIST SP 800-63B (rev. 3 §4.2.3 and
 * rev. 4 §2.2.3) for AAL2: reauthenticate after at most 30 minutes of inactivity and 12 hours
 * overall (rev. 4: 24 hours overall, 1 hour idle, as SHOULDs); OWASP Session Management Cheat
 * Sheet: 2–5 minutes idle for high-value applications, 15–30 minutes for low-risk ones; ASVS 5.0
 * V7.3.1/V7.3.2 require both an inactivity and an absolute timeout, documented. 15/12 sits inside
 * every one of them. Suggested presets: `admin` 5 min / 4 h (AAL3-like, OWASP high-value band).
 *
 * @module
 */
import { z } from 'zod'
import { SessionConfigError } from './errors.js'
import type { SessionLimitPolicy } from './store.js'

/** 15 minutes. */
export const DEFAULT_IDLE_TIMEOUT_MS: number = 15 * 60_000
/** 12 hours. */
export const DEFAULT_ABSOLUTE_TIMEOUT_MS: number = 12 * 60 * 60_000
/** Default cap on concurrent sessions per user. */
export const DEFAULT_MAX_SESSIONS_PER_USER = 10

const DAY = 24 * 60 * 60_000
const idle = z.int().min(1).max(DAY)
const absolute = z
  .int()
  .min(1)
  .max(30 * DAY)

const timeouts = z
  .strictObject({ idleTimeoutMs: idle, absoluteTimeoutMs: absolute })
  .refine((t) => t.idleTimeoutMs <= t.absoluteTimeoutMs, {
    message: 'idleTimeoutMs must not exceed absoluteTimeoutMs',
  })

/** Timeouts for one role. */
export interface RoleTimeouts {
  /** Idle timeout in ms (1 ms to 24 h). */
  idleTimeoutMs: number
  /** Absolute timeout in ms (1 ms to 30 days), at least the idle timeout. */
  absoluteTimeoutMs: number
}

/** The policy options of a session manager. */
export interface SessionPolicyOptions {
  /** Default idle timeout (ms). Default 15 minutes. */
  idleTimeoutMs?: number
  /** Default absolute timeout (ms). Default 12 hours. */
  absoluteTimeoutMs?: number
  /** Per-role overrides, for example `{ admin: { idleTimeoutMs: 300_000, absoluteTimeoutMs: 14_400_000 } }`. */
  roles?: Record<string, RoleTimeouts>
  /** Cap on concurrent sessions per user (1 to 1000). Default 10. */
  maxSessionsPerUser?: number
  /** What happens at the cap: revoke the oldest session (default) or refuse the new one. */
  onSessionLimit?: SessionLimitPolicy
}

/** A validated policy. */
export interface SessionPolicy {
  readonly defaults: Readonly<RoleTimeouts>
  readonly roles: Readonly<Record<string, Readonly<RoleTimeouts>>>
  readonly maxSessionsPerUser: number
  readonly onSessionLimit: SessionLimitPolicy
}

const policySchema = z.strictObject({
  idleTimeoutMs: idle.default(DEFAULT_IDLE_TIMEOUT_MS),
  absoluteTimeoutMs: absolute.default(DEFAULT_ABSOLUTE_TIMEOUT_MS),
  roles: z
    .record(
      z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'role names are 1-64 of A-Z a-z 0-9 _ . : -'),
      timeouts,
    )
    .default({}),
  maxSessionsPerUser: z.int().min(1).max(1000).default(DEFAULT_MAX_SESSIONS_PER_USER),
  onSessionLimit: z.enum(['evict-oldest', 'reject']).default('evict-oldest'),
})

/**
 * Validates policy options and fills in defaults.
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff (the documented timeouts).
 *
 * @throws {SessionConfigError} naming every invalid option path (never its value).
 * @example
 * ```ts
 * const policy = parsePolicy({ roles: { admin: { idleTimeoutMs: 5 * 60_000, absoluteTimeoutMs: 4 * 3_600_000 } } })
 * policy.defaults.idleTimeoutMs // 900000
 * ```
 */
export function parsePolicy(options: SessionPolicyOptions): SessionPolicy {
  const r = policySchema.safeParse(options)
  if (!r.success) {
    const paths = r.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    throw new SessionConfigError(`invalid session policy: ${paths.join('; ')}`)
  }
  const p = r.data
  if (p.idleTimeoutMs > p.absoluteTimeoutMs) {
    throw new SessionConfigError('invalid session policy: idleTimeoutMs must not exceed absoluteTimeoutMs')
  }
  const roles: Record<string, Readonly<RoleTimeouts>> = Object.create(null)
  for (const [name, t] of Object.entries(p.roles)) roles[name] = Object.freeze({ ...t })
  return Object.freeze({
    defaults: Object.freeze({ idleTimeoutMs: p.idleTimeoutMs, absoluteTimeoutMs: p.absoluteTimeoutMs }),
    roles: Object.freeze(roles),
    maxSessionsPerUser: p.maxSessionsPerUser,
    onSessionLimit: p.onSessionLimit,
  })
}

/**
 * The timeouts for `role`: its override when the policy declares one, else the defaults (roles
 * are overrides; a role without one, or `null`, gets the defaults). Role names are case-sensitive.
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff (per-role timeouts).
 *
 * @throws never.
 * @example
 * ```ts
 * timeoutsFor(policy, 'admin').idleTimeoutMs // 300000
 * ```
 */
export function timeoutsFor(policy: SessionPolicy, role: string | null): Readonly<RoleTimeouts> {
  if (role === null || !Object.hasOwn(policy.roles, role)) return policy.defaults
  return policy.roles[role] as Readonly<RoleTimeouts>
}
