/**
 * A small, framework-agnostic helper for single-page apps (OWASP Session Management Cheat Sheet,
 * "Automatic Client Logout"): it warns the user before the idle logoff, sends a keep-alive to the
 * server only on real user activity (never on a timer, so an open tab cannot keep a session alive
 * by itself), and signs out when the deadline passes. The server stays authoritative: the helper
 * only mirrors the server's remaining time, and a `null` keep-alive answer signs out at once.
 *
 * It needs no DOM types: pass `window` or `document` as the target, or any object with
 * `addEventListener`/`removeEventListener` (tests use a fake one with fake timers).
 *
 * @module
 */
import { type Clock, systemClock } from '@safeguards/core'

/** The remaining time the server reports (durations, so client clock skew does not matter). */
export interface RemainingTime {
  /** Ms until the idle deadline. */
  readonly idleRemainingMs: number
  /** Ms until the absolute deadline. */
  readonly absoluteRemainingMs: number
}

/** A minimal event: `isTrusted === false` (script-dispatched) events are ignored. */
export interface ActivityEvent {
  readonly type: string
  readonly isTrusted?: boolean
}

/** Where activity events come from: `window`, `document`, or a fake in tests. */
export interface ActivityTarget {
  addEventListener(
    type: string,
    listener: (event: ActivityEvent) => void,
    options?: { passive?: boolean },
  ): void
  removeEventListener(type: string, listener: (event: ActivityEvent) => void): void
}

/** Timer functions (default: the global ones). */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Why the helper signed out. */
export type SignOutReason = 'idle' | 'absolute' | 'revoked'

/** Options of {@link createIdleWatcher}. */
export interface IdleWatcherOptions {
  /** Source of user-activity events. */
  target: ActivityTarget
  /** The server's remaining time when the page loaded (from `manager.timeLeft(session)`). */
  initial: RemainingTime
  /**
   * Tells the server the user is active (a request that validates with `activity: true`) and
   * returns the new remaining time, or `null` when the session is gone. A rejection keeps the
   * current deadlines (the helper never signs in again by itself, nor out early).
   */
  keepAlive: () => Promise<RemainingTime | null>
  /** Called once when the warning period starts, with the ms left and which deadline is near. */
  onWarning: (remainingMs: number, deadline: 'idle' | 'absolute') => void
  /** Called when activity dismissed an idle warning (the keep-alive succeeded). */
  onActive?: () => void
  /** Called once when the session is over. Clear client state and show the sign-in page here. */
  onSignOut: (reason: SignOutReason) => void
  /** How long before the deadline to warn (ms). Default 60,000. */
  warnBeforeMs?: number
  /** At most one keep-alive per this many ms while the user is active (ms). Default 60,000. */
  keepAliveIntervalMs?: number
  /** Events that count as user activity. Default: pointerdown, keydown, wheel, touchstart. */
  events?: readonly string[]
  /** Timers (default: globalThis). */
  timers?: Timers
  /** The clock (default the system clock, `Date.now`). */
  clock?: Clock
}

/** A running watcher. */
export interface IdleWatcher {
  /** `active`, `warning` (a warning is showing) or `signed-out`. */
  readonly state: 'active' | 'warning' | 'signed-out'
  /** For a "Stay signed in" button: counts as user activity and sends a keep-alive now. */
  extend(): Promise<void>
  /** Stops listening and cancels timers, without signing out. */
  stop(): void
}

const DEFAULT_EVENTS = ['pointerdown', 'keydown', 'wheel', 'touchstart'] as const

/**
 * Starts watching for user activity.
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff (the client side: warn, then terminate the UI
 * session at the server's deadline).
 *
 * @hipaa 164.312(a)(2)(iii) supports
 * @nist AC-12 164.312(a)(2)(iii)
 * @evidence a warning before the idle logoff and a sign-out at the deadline in the browser
 * @appResponsibility Render the warning, and clear PHI from the page at sign-out.
 * @verifiedBy packages/session/test/idle-watcher.test.ts
 * @throws {TypeError} when a required option is missing or not a function.
 * @throws {RangeError} when a duration is negative or not a number.
 * @example
 * ```ts
 * const watcher = createIdleWatcher({
 *   target: window,
 *   initial: await (await fetch('/session/time-left')).json(),
 *   keepAlive: async () => {
 *     const csrf = /(?:^|; )__Host-sg-csrf=([^;]*)/.exec(document.cookie)?.[1] ?? '' // a POST: CSRF token
 *     const r = await fetch('/session/keep-alive', { method: 'POST', headers: { 'x-csrf-token': csrf } })
 *     return r.ok ? r.json() : null
 *   },
 *   onWarning: (ms) => showBanner(`You will be signed out in ${Math.ceil(ms / 1000)} s`),
 *   onActive: hideBanner,
 *   onSignOut: () => location.assign('/login?reason=timeout'),
 * })
 * ```
 */
export function createIdleWatcher(options: IdleWatcherOptions): IdleWatcher {
  const { target, keepAlive, onWarning, onActive, onSignOut } = options
  if (typeof target?.addEventListener !== 'function' || typeof target.removeEventListener !== 'function')
    throw new TypeError('"target" expected an event target')
  for (const [name, f] of [
    ['keepAlive', keepAlive],
    ['onWarning', onWarning],
    ['onSignOut', onSignOut],
  ] as const)
    if (typeof f !== 'function') throw new TypeError(`"${name}" expected a function`)
  const warnBeforeMs = duration(options.warnBeforeMs ?? 60_000, 'warnBeforeMs')
  const keepAliveIntervalMs = duration(options.keepAliveIntervalMs ?? 60_000, 'keepAliveIntervalMs')
  const timers: Timers = options.timers ?? {
    setTimeout: (cb, ms) => globalThis.setTimeout(cb, ms),
    clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
  }
  const clock = options.clock ?? systemClock
  if (typeof clock?.now !== 'function') throw new TypeError('"clock" expected a Clock')
  const machine = new IdleMachine({
    target,
    keepAlive,
    onWarning,
    onActive,
    onSignOut,
    warnBeforeMs,
    keepAliveIntervalMs,
    events: options.events ?? DEFAULT_EVENTS,
    timers,
    clock,
  })
  machine.start(options.initial)
  return {
    get state(): 'active' | 'warning' | 'signed-out' {
      return machine.state
    },
    extend: (): Promise<void> => machine.extend(),
    stop: (): void => machine.detach(),
  }
}

function duration(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`"${name}" expected a number`)
  if (value < 0) throw new RangeError(`"${name}" must not be negative`)
  return value
}

// The state machine behind createIdleWatcher, in this file: the watcher is served to browsers as
// this one module (it imports nothing but @safeguards/core).

const MAX_DELAY = 2 ** 31 - 1 // setTimeout's limit

/** What the machine needs, options checked and defaults filled. */
interface IdleMachineConfig {
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
class IdleMachine {
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
