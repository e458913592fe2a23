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
import { IdleMachine } from './internal/idle-machine.js'

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
 *     const r = await fetch('/session/keep-alive', { method: 'POST' })
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
