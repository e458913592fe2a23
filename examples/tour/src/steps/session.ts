import { manualClock, type SafeguardEvent, type SessionExpiredIdleEvent } from '@safeguards/core'
import { createSessionManager } from '@safeguards/session'
import type { TourStep } from '../step.js'

const MIN = 60_000

export const sessionStep: TourStep = {
  package: '@safeguards/session',
  title: 'automatic logoff: an idle session ends at its deadline, on a fast (manual) clock',
  hipaa: [
    '164.312(a)(2)(iii) automatic logoff',
    '164.312(d) person or entity authentication',
    '164.312(b) audit controls',
  ],
  async run(say) {
    const clock = manualClock(Date.UTC(2026, 10, 22, 9, 0, 0))
    const events: SafeguardEvent[] = []
    const sessions = createSessionManager({
      clock,
      roles: { admin: { idleTimeoutMs: 5 * MIN, absoluteTimeoutMs: 4 * 60 * MIN } },
      events: (e) => {
        events.push(e)
      },
    })
    const at = (): string => new Date(clock.now()).toISOString().slice(11, 19)

    const { token, session } = await sessions.create('nurse-17')
    say(
      `${at()} login: a 256-bit token (${token.length} chars, never stored); the store keeps only its SHA-256 ${session.id.slice(0, 12)}…`,
    )
    say(`${at()} policy: idle 15 min, absolute 12 h (admin: 5 min / 4 h)`)

    clock.advance(10 * MIN)
    await sessions.validate(token) // the nurse opens a chart: real activity
    say(
      `${at()} activity: idle deadline moves to ${new Date((await sessions.validate(token, { activity: false }))!.idleExpiresAt).toISOString().slice(11, 19)}`,
    )

    for (let i = 0; i < 14; i++) {
      clock.advance(MIN)
      await sessions.validate(token, { activity: false }) // a dashboard polls every minute
    }
    say(`${at()} 14 minutes of background polling later: still signed in, deadline not moved`)
    clock.advance(MIN - 1)
    say(
      `${at()}.999 one millisecond before the deadline: ${(await sessions.validate(token, { activity: false })) ? 'valid' : 'signed out'}`,
    )
    clock.advance(1)
    say(
      `${at()} at the deadline: ${(await sessions.validate(token)) ? 'valid' : 'signed out (validate returned null)'}`,
    )

    const admin = await sessions.create('admin-3', { role: 'admin' })
    clock.advance(5 * MIN)
    say(
      `${at()} an admin idle for 5 minutes: ${(await sessions.validate(admin.token)) ? 'valid' : 'signed out'}`,
    )

    const expired = events.filter((e) => e.type.startsWith('session.expired')) as SessionExpiredIdleEvent[]
    for (const e of expired)
      say(`audit event: ${e.type} user=${e.actor} session=${e.sessionId.slice(0, 12)}… (no token)`)
    say(`token in any audit event: ${JSON.stringify(events).includes(token)}`)
  },
}
