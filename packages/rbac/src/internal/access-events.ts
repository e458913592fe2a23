/**
 * The events `@safeguards/rbac` emits (core's {@link SafeguardEvent} vocabulary): `access.denied`,
 * `access.allowed` (opt-in), `access.emergency.used`, and the grant lifecycle events
 * (`access.emergency.granted`, `.revoked`, `.reviewed`).
 *
 * Every rbac API is synchronous (`decide` is on the hot path; the emergency store is synchronous),
 * so none can await a sink: critical sinks are refused when the policy is compiled, and the sinks
 * rbac is given are isolated (a throw or a rejection goes to `onSinkError`, never to the caller).
 *
 * HIPAA: 164.312(b) audit controls; 164.312(a)(2)(ii) emergency access procedure (every use of a
 * grant is an event, not an obligation the app must remember to echo).
 *
 * @module
 */
import {
  type Clock,
  createEmitter,
  type Emitter,
  type EventOptions,
  InvalidArgumentError,
  type SafeguardEvent,
  systemClock,
} from '@safeguards/core'
import type { AccessRequest, Decision } from '../decision.js'
import type { EmergencyGrant } from '../emergency-access.js'

/** The `source` of every event rbac emits. */
export const SOURCE = '@safeguards/rbac'

/**
 * The emitter for `options`, refusing critical sinks: rbac cannot await them.
 *
 * @throws {InvalidArgumentError} when a sink is marked critical.
 * @throws {TypeError} when `events` or `onSinkError` is not a function (from core).
 */
export function syncEmitter(options: EventOptions): Emitter {
  const emitter = createEmitter(options)
  const given = options.events
  const sinks = given === undefined ? [] : typeof given === 'function' ? [given] : given
  if (sinks.some((s) => s.critical === true))
    throw new InvalidArgumentError(
      '@safeguards/rbac decides synchronously and cannot await a critical event sink: pass isolated sinks (see the README, Events)',
    )
  return emitter
}

/** A string field of a request, or undefined when it is not a string or reading it throws. */
function read(get: () => unknown): string | undefined {
  try {
    const v = get()
    return typeof v === 'string' ? v : undefined
  } catch {
    return undefined
  }
}

/**
 * Time for an event. The fast path of `decide` never reads the clock, so a clock that throws is
 * met here first; the event still needs a time, so the system clock stands in.
 */
function timeOf(clock: Clock): number {
  try {
    return clock.now()
  } catch {
    return systemClock.now()
  }
}

/**
 * Emits the events of one decision: `access.emergency.used` when it relied on a grant,
 * `access.denied` when it refused, `access.allowed` when it allowed and `emitAllowed` is set.
 * Reads the request defensively (it may be malformed: the decision is then `invalid_request`).
 * Call only when `emitter.active`.
 */
export function emitDecision(
  emitter: Emitter,
  clock: Clock,
  emitAllowed: boolean,
  req: AccessRequest,
  d: Decision,
): void {
  const grantId = d.emergencyAccess?.used === true ? d.emergencyAccess.grant : undefined
  if (d.allowed && grantId === undefined && !emitAllowed) return
  const actor = read(() => req.subject.id)
  const subject = read(() => req.resource.patient)
  const resourceId = read(() => req.resource.id)
  const tenant = read(() => req.resource.tenant)
  const base = {
    at: timeOf(clock),
    source: SOURCE,
    ...(actor === undefined ? {} : { actor }),
    ...(subject === undefined ? {} : { subject }),
    code: d.reason,
    action: read(() => req.action) ?? '',
    resourceType: read(() => req.resource.type) ?? '',
    ...(resourceId === undefined ? {} : { resourceId }),
    ...(tenant === undefined ? {} : { tenant }),
  }
  if (grantId !== undefined)
    void emitter.emit({ ...base, type: 'access.emergency.used', outcome: 'success', grantId })
  if (!d.allowed) void emitter.emit({ ...base, type: 'access.denied', outcome: 'failure' })
  else if (emitAllowed)
    void emitter.emit({
      ...base,
      type: 'access.allowed',
      outcome: 'success',
      ...(grantId === undefined ? {} : { grantId }),
    })
}

/** The grant lifecycle events, built from the grant as stored. */
export function grantEvent(
  type:
    | 'access.emergency.granted'
    | 'access.emergency.revoked'
    | 'access.emergency.reviewed'
    | 'access.emergency.approved',
  g: EmergencyGrant,
): SafeguardEvent {
  const common = { source: SOURCE, outcome: 'success' as const, subject: g.patient, grantId: g.id }
  switch (type) {
    case 'access.emergency.granted':
      return {
        ...common,
        type,
        at: g.issuedAt,
        actor: g.subject,
        code: g.reasonCode,
        expiresAt: g.expiresAt,
      }
    case 'access.emergency.revoked':
      return { ...common, type, at: g.revoked?.at as number, actor: g.revoked?.by as string }
    case 'access.emergency.approved': {
      const last = g.approvals?.at(-1) as { by: string; at: number }
      return { ...common, type, at: last.at, actor: last.by }
    }
    case 'access.emergency.reviewed':
      return {
        ...common,
        type,
        at: g.review?.at as number,
        actor: g.review?.reviewer as string,
        code: g.review?.outcome as string,
      }
  }
}
