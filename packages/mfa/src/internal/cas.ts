/**
 * The one compare-and-set loop of `@safeguards/mfa`: every state change (throttle counters,
 * credentials, recovery codes) is a single-key compare-and-set on the {@link MfaStore}, retried
 * while another writer wins, so no lock is needed and a lost update is impossible.
 *
 * @module
 */
import { MfaStoreError } from '../errors.js'
import type { MfaStore } from '../store.js'

/**
 * What one step of an update decided: stop with `result`, or write `next` (the new value, or
 * `null` to delete the key) and answer `result` once that write wins.
 */
export interface CasStep<T> {
  readonly result: T
  readonly next?: string | null
}

const MAX_RETRIES = 64

/**
 * Applies `step` to the current value of `key` until its write wins (or it decides to write
 * nothing).
 *
 * @throws {MfaStoreError} when 64 attempts in a row lose to other writers (`what` names the state).
 */
export async function casUpdate<T>(
  store: MfaStore,
  key: string,
  what: string,
  step: (raw: string | null) => CasStep<T>,
): Promise<T> {
  for (let i = 0; i < MAX_RETRIES; i++) {
    const raw = await store.get(key)
    const { result, next } = step(raw)
    if (next === undefined || (await store.compareAndSet(key, raw, next))) return result
  }
  throw new MfaStoreError(`${what} update did not converge`)
}
