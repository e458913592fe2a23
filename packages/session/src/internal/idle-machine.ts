/**
 * The state machine behind {@link createIdleWatcher}: the two deadlines (from the server's
 * remaining time), the warning, the throttled keep-alive, and the one timer that signs out at the
 * deadline whatever the network does.
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff.
 *
 * @module
 */
import type { Clock } from '@safeguards/core'
import type { ActivityEvent, ActivityTarget, RemainingTime, SignOutReason, Timers } from '../idle-watcher.js'

const MAX_DELAY = 2 ** 31 - 1 // setTimeout's limit

/** What the machine needs, options checked and defaults filled. */
export interface IdleMachineConfig {
  readonly target: ActivityTarget
  readonly keepAlive: () => Promise<RemainingTime | null>
  readonly onWarning: (remainingMs: number, deadline: 'idle' | 'absolute') => void
  readonly onActive: (() => void) | undefined
  readonly onSignOut: (reason: SignOutReason) => void
  readonly warnBeforeMs: number
  readonly keepAliveIntervalMs: number
  readonly events: readonly string[]
  readonly timers: Timers
  readonly clock: Clock
}

/** One watcher's state and transitions. */
export class IdleMachine {
  state: 'active' | 'warning' | 'signed-out' = 'active'
  #idleAt = 0
  #absoluteAt = 0
  #warnedFor: 'idle' | 'absolute' | null = null
  #timer: unknown
  #lastKeepAliveAt = Number.NEGATIVE_INFINITY
  #activitySinceKeepAlive = false
  #inFlight: Promise<void> | null = null
  readonly #c: IdleMachineConfig

  constructor(config: IdleMachineConfig) {
    this.#c = config
  }

  /** Sets the deadlines from the server's remaining time, starts listening and the timer. */
  start(initial: RemainingTime): void {
    this.#apply(initial)
    for (const type of this.#c.events) this.#c.target.addEventListener(type, this.#onEvent, { passive: true })
    this.#schedule()
  }

  /** A "Stay signed in": counts as activity and sends a keep-alive now. */
  extend(): Promise<void> {
    if (this.state === 'signed-out') return Promise.resolve()
    this.#activitySinceKeepAlive = true
    return this.#sendKeepAlive()
  }

  /** Stops listening and cancels the timer. */
  detach(): void {
    for (const type of this.#c.events) this.#c.target.removeEventListener(type, this.#onEvent)
    if (this.#timer !== undefined) this.#c.timers.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #apply(t: RemainingTime): void {
    const at = this.#c.clock.now()
    this.#idleAt = at + Math.max(0, t.idleRemainingMs)
    this.#absoluteAt = at + Math.max(0, t.absoluteRemainingMs)
  }

  #signOut(reason: SignOutReason): void {
    if (this.state === 'signed-out') return
    this.state = 'signed-out'
    this.detach()
    this.#c.onSignOut(reason)
  }

  /** The keep-alive's answer: new deadlines (dismissing an idle warning), or the session is gone. */
  #kept(t: RemainingTime | null): void {
    if (this.state === 'signed-out') return
    if (t === null) {
      this.#signOut('revoked')
      return
    }
    this.#apply(t)
    if (
      this.state === 'warning' &&
      this.#warnedFor === 'idle' &&
      this.#c.clock.now() < this.#idleAt - this.#c.warnBeforeMs
    ) {
      this.state = 'active'
      this.#warnedFor = null
      this.#c.onActive?.()
    }
    this.#schedule()
  }

  #sendKeepAlive(): Promise<void> {
    if (this.#inFlight !== null) return this.#inFlight
    this.#activitySinceKeepAlive = false
    this.#lastKeepAliveAt = this.#c.clock.now()
    this.#inFlight = this.#c
      .keepAlive()
      .then(
        (t) => this.#kept(t),
        () => {
          // network failure: keep the current deadlines; the timer still signs out at the deadline.
        },
      )
      .finally(() => {
        this.#inFlight = null
      })
    return this.#inFlight
  }

  #tick = (): void => {
    this.#timer = undefined
    if (this.state === 'signed-out') return
    const at = this.#c.clock.now()
    if (at >= this.#absoluteAt || at >= this.#idleAt) {
      this.#signOut(at >= this.#absoluteAt ? 'absolute' : 'idle')
      return
    }
    const deadline: 'idle' | 'absolute' = this.#absoluteAt <= this.#idleAt ? 'absolute' : 'idle'
    const end = Math.min(this.#idleAt, this.#absoluteAt)
    if (at >= end - this.#c.warnBeforeMs) {
      // Activity the throttle held back is real: report it instead of warning.
      if (deadline === 'idle' && this.#activitySinceKeepAlive) {
        void this.#sendKeepAlive()
      } else if (this.#warnedFor !== deadline) {
        this.state = 'warning'
        this.#warnedFor = deadline
        this.#c.onWarning(end - at, deadline)
      }
    }
    this.#schedule()
  }

  #schedule(): void {
    if (this.#timer !== undefined) this.#c.timers.clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.state === 'signed-out') return
    const at = this.#c.clock.now()
    const end = Math.min(this.#idleAt, this.#absoluteAt)
    const warnAt = end - this.#c.warnBeforeMs
    const next = at < warnAt && this.#warnedFor === null ? warnAt : end
    this.#timer = this.#c.timers.setTimeout(this.#tick, Math.min(MAX_DELAY, Math.max(0, next - at)))
  }

  #onEvent = (event: ActivityEvent): void => {
    if (this.state === 'signed-out' || event?.isTrusted === false) return
    if (this.#warnedFor === 'absolute') return // nothing extends the absolute deadline
    this.#activitySinceKeepAlive = true
    if (
      this.state === 'warning' ||
      this.#c.clock.now() - this.#lastKeepAliveAt >= this.#c.keepAliveIntervalMs
    )
      void this.#sendKeepAlive()
  }
}
