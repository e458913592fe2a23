/**
 * The file store's hold on the inter-process lock: taken for a batch, kept while this writer is
 * busy (its next batch usually follows at once) or for a short lease after a conflict (so its retry
 * is not starved), released when idle, and yielded after a long hold when another process waits.
 *
 * @module
 */
import { acquireDirLock, type HeldLock } from '../file-lock.js'

const MAX_HOLD_MS = 10
const YIELD_MS = 5

/** The lock of one log directory, as one store holds it. */
export class LockLease {
  #held: HeldLock | null = null
  #heldAt = 0
  #releaseTimer: ReturnType<typeof setTimeout> | null = null
  #yieldUntil = 0
  readonly #dir: string
  readonly #timeoutMs: number
  readonly #serial: (f: () => Promise<void>) => Promise<void>

  /** @param serial - runs the timed release in the store's queue (never in the middle of a batch). */
  constructor(dir: string, timeoutMs: number, serial: (f: () => Promise<void>) => Promise<void>) {
    this.#dir = dir
    this.#timeoutMs = timeoutMs
    this.#serial = serial
  }

  /**
   * Takes the lock, or keeps using it when still held. Returns whether it was just taken (then the
   * tail must be re-read: another process may have appended).
   */
  async take(): Promise<boolean> {
    if (this.#releaseTimer !== null) {
      clearTimeout(this.#releaseTimer)
      this.#releaseTimer = null
    }
    if (this.#held !== null) return false
    const wait = this.#yieldUntil - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    this.#held = await acquireDirLock(this.#dir, this.#timeoutMs)
    this.#heldAt = performance.now()
    return true
  }

  /** Throws unless the lock is still ours (see `@safeguards/core/node`'s file lock). */
  assertHeld(): void {
    this.#held?.assertHeld()
  }

  /** Releases the lock now. */
  release(): void {
    if (this.#releaseTimer !== null) clearTimeout(this.#releaseTimer)
    this.#releaseTimer = null
    const l = this.#held
    this.#held = null
    l?.release()
  }

  /** After a use: release in `ms` unless used again, or now when held long and contended. */
  afterUse(ms: number): void {
    if (this.#held === null) return
    if (performance.now() - this.#heldAt > MAX_HOLD_MS && this.#held.contended()) {
      this.release()
      this.#yieldUntil = performance.now() + YIELD_MS
      return
    }
    if (this.#releaseTimer === null) {
      const t = setTimeout(() => {
        void this.#serial(async () => {
          if (this.#releaseTimer === t) this.release()
        })
      }, ms)
      t.unref?.()
      this.#releaseTimer = t
    }
  }
}
