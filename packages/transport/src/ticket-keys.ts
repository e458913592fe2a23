/**
 * Session-ticket key rotation. A TLS session ticket is the session's state encrypted under the
 * server's ticket key; whoever holds that key can decrypt every recorded session resumed with it.
 * NIST SP 800-52r2 §3.6 (session resumption) leaves the lifetime to the operator: we keep keys in
 * memory only (never on disk, as Node's documentation advises), make them from a CSPRNG, and
 * replace them on a schedule read from an injected clock, so a test can move time and see the
 * rotation.
 *
 * @module
 */
import { type Clock, type RandomSource, randomBytes, systemClock } from '@safeguards/core'
import { TransportConfigError } from './errors.js'
import { TICKET_KEY_ROTATION_MS } from './profile.js'

/** Node's ticket-key block: 16 bytes of key name, 16 of HMAC key, 16 of AES key. */
export const TICKET_KEYS_LENGTH = 48

/** A server whose ticket keys can be replaced: `tls.Server`, `https.Server`, `Http2SecureServer`. */
export interface TicketKeyTarget {
  /** Node's `server.setTicketKeys(keys)`. */
  setTicketKeys(keys: Uint8Array): void
}

/** Options of {@link createTicketKeyRotator}. */
export interface TicketKeyRotatorOptions {
  /** How long one key set lives, 60 000 ms (1 min) to 86 400 000 ms (24 h); default 12 h. */
  intervalMs?: number
  /** The clock rotation is scheduled by (default the system clock). */
  clock?: Clock
  /** Randomness for new keys (default `randomBytes` from `@safeguards/core`). */
  random?: RandomSource
}

/** Replaces the ticket keys of the servers attached to it. */
export interface TicketKeyRotator {
  /** When the current keys were made (ms since the epoch, from the clock). */
  readonly rotatedAt: number
  /** How many times the keys were replaced since creation. */
  readonly rotations: number
  /** Sets the current keys on `server` now and on every rotation; returns this rotator. */
  attach(server: TicketKeyTarget): TicketKeyRotator
  /** Replaces the keys now, whatever the schedule. */
  rotate(): void
  /** Replaces the keys when `intervalMs` has passed since the last rotation; true when it did. */
  rotateIfDue(): boolean
  /** Checks `rotateIfDue` every minute (an unref'd timer: it never keeps the process alive). */
  start(): TicketKeyRotator
  /** Stops the timer. */
  stop(): void
}

const MIN_INTERVAL = 60_000
const MAX_INTERVAL = 86_400_000

/**
 * A ticket-key rotator: fresh 48-byte keys from a CSPRNG, set on every attached server, replaced
 * every `intervalMs` (default 12 hours) by the injected clock. Tickets issued under the old keys
 * stop resuming after a rotation (the client does a full handshake), which is the point.
 *
 * @param options - `intervalMs` (1 min to 24 h), `clock`, `random`.
 * @throws {TransportConfigError} when `intervalMs` is outside 1 min to 24 h.
 *
 * @hipaa 164.312(e)(2)(ii) supports
 * @nist SC-12 164.312(e)(2)(ii): session-ticket keys live in memory only and are replaced on a schedule
 * @evidence `rotatedAt` and `rotations` of the running rotator
 * @appResponsibility Behind several servers, share one key set through a secret store and rotate it there, or leave tickets per process.
 * @config intervalMs
 * @verifiedBy packages/transport/test/server-options.test.ts
 *
 * @example
 * ```ts
 * import { createServer } from 'node:https'
 * import { manualClock } from '@safeguards/core'
 * import { createTicketKeyRotator, tlsServerOptions } from '@safeguards/transport'
 *
 * declare const key: string, cert: string
 * const clock = manualClock(Date.UTC(2026, 0, 1))
 * const rotator = createTicketKeyRotator({ clock, intervalMs: 60 * 60_000 })
 * rotator.attach(createServer(tlsServerOptions({ key, cert })))
 * clock.advance(60 * 60_000)
 * rotator.rotateIfDue() // true: the server now issues tickets under new keys
 * ```
 */
export function createTicketKeyRotator(options: TicketKeyRotatorOptions = {}): TicketKeyRotator {
  const intervalMs = options.intervalMs ?? TICKET_KEY_ROTATION_MS
  if (!Number.isSafeInteger(intervalMs) || intervalMs < MIN_INTERVAL || intervalMs > MAX_INTERVAL)
    throw new TransportConfigError('"intervalMs" must be an integer from 60000 (1 min) to 86400000 (24 h)')
  const clock = options.clock ?? systemClock
  const random = options.random ?? randomBytes
  const servers: TicketKeyTarget[] = []
  let keys = random(TICKET_KEYS_LENGTH)
  let rotatedAt = clock.now()
  let rotations = 0
  let timer: ReturnType<typeof setInterval> | undefined

  const rotator: TicketKeyRotator = {
    get rotatedAt(): number {
      return rotatedAt
    },
    get rotations(): number {
      return rotations
    },
    attach(server: TicketKeyTarget): TicketKeyRotator {
      server.setTicketKeys(keys)
      servers.push(server)
      return rotator
    },
    rotate(): void {
      keys.fill(0)
      keys = random(TICKET_KEYS_LENGTH)
      rotatedAt = clock.now()
      rotations++
      for (const s of servers) s.setTicketKeys(keys)
    },
    rotateIfDue(): boolean {
      if (clock.now() - rotatedAt < intervalMs) return false
      rotator.rotate()
      return true
    },
    start(): TicketKeyRotator {
      if (timer === undefined) {
        timer = setInterval(() => rotator.rotateIfDue(), MIN_INTERVAL)
        timer.unref()
      }
      return rotator
    },
    stop(): void {
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
    },
  }
  return rotator
}
