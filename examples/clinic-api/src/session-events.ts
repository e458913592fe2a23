/**
 * The clinic's last hand mapping: `@safeguards/session` still reports its own event shape
 * (`onEvent`, with `userId` and `reason`), so its events are restated here in core's
 * `SafeguardEvent` vocabulary and handed to the audit sink, which codes them like every other
 * event (110114 User Authentication: 110122 Login for a creation or rotation, 110123 Logout for an
 * expiry or a revocation). Only the shape changes; the audit codes come from the sink's table.
 */
import type { EventSink, SafeguardEvent } from '@safeguards/core'
import type { SessionEvent, SessionEventHook } from '@safeguards/session'

const SOURCE = '@safeguards/session'

/** A session event in core's vocabulary: the same ids, the reason as `code`, the user as `actor`. */
export function toSafeguardEvent(e: SessionEvent): SafeguardEvent {
  const base = {
    at: e.at,
    source: SOURCE,
    outcome: 'success',
    actor: e.userId,
    sessionId: e.sessionId,
    role: e.role,
  } as const
  switch (e.type) {
    case 'session.created':
      return { ...base, type: e.type }
    case 'session.rotated':
      return { ...base, type: e.type, code: e.reason, previousSessionId: e.previousSessionId }
    case 'session.expired':
      return {
        ...base,
        type: e.reason === 'idle' ? 'session.expired.idle' : 'session.expired.absolute',
        code: e.reason,
      }
    case 'session.revoked':
      return { ...base, type: e.type, code: e.reason }
  }
}

/** The session manager's `onEvent` hook delivering to `sink`. */
export const sessionEventsTo =
  (sink: EventSink): SessionEventHook =>
  (e) =>
    sink(toSafeguardEvent(e))
