/**
 * Emergency-access grants shared by every instance of an app: the contract a shared store
 * (PostgreSQL, Redis) meets, and the compare-and-set the registry's async methods use.
 *
 * Decisions stay synchronous: a shared store keeps a local view of the grants (what `get` and
 * `list` read), brought up to date by the store's notifications, and every change goes through an
 * atomic compare-and-set on the shared database, so of two instances revoking or reviewing one
 * grant at once exactly one wins. Expiry needs no message at all: every instance compares the
 * grant's `expiresAt` with its own clock.
 *
 * HIPAA: 164.312(a)(2)(ii) emergency access procedure (a grant made on one instance is honoured
 * by all, and awaits review whatever restarts); 164.312(b) audit controls.
 *
 * @module
 */
import type { EmergencyAccessStore, EmergencyGrant } from './emergency-access.js'
import { EmergencyGrantStateError } from './errors.js'

/**
 * An {@link EmergencyAccessStore} shared between app instances. `get`/`list` read the local view;
 * `set` refuses (a shared store changes only through {@link SharedEmergencyStore.commit}, which the
 * registry's `grantAsync`, `revokeAsync` and `reviewAsync` use).
 */
export interface SharedEmergencyStore extends EmergencyAccessStore {
  /** Marks the store as shared (the sync registry methods refuse it). */
  readonly shared: true
  /**
   * Stores `next` if the stored grant with its id is still `expected` (`null`: no grant with that
   * id yet), atomically across instances. True when stored; false when another change came
   * first. Either way, the local view then holds what the database holds.
   */
  commit(next: EmergencyGrant, expected: EmergencyGrant | null): Promise<boolean>
  /** Reads one grant from the database (and refreshes the local view with it). */
  fetch(id: string): Promise<EmergencyGrant | undefined>
  /** Reloads every grant from the database into the local view. */
  refresh(): Promise<void>
  /** Stops listening and polling (the app owns and closes its connections). */
  close(): Promise<void>
}

/**
 * True when `store` is a {@link SharedEmergencyStore}.
 *
 * @example
 * ```ts
 * if (isSharedEmergencyStore(store)) await pdp.emergency.reviewAsync(id, review)
 * ```
 * @throws never
 */
export function isSharedEmergencyStore(store: EmergencyAccessStore): store is SharedEmergencyStore {
  return (store as Partial<SharedEmergencyStore>).shared === true
}

/**
 * Compare-and-set on any store: a shared store's atomic commit, or for a local store the same
 * check in process (the grant is still `expected`) before `set`.
 */
export async function commitGrant(
  store: EmergencyAccessStore,
  next: EmergencyGrant,
  expected: EmergencyGrant | null,
): Promise<boolean> {
  if (isSharedEmergencyStore(store)) return store.commit(next, expected)
  if ((store.get(next.id) ?? null) !== expected) return false
  store.set(next)
  return true
}

/** The grant `id` as stored now: from the database for a shared store, else the local store. */
export async function fetchGrant(
  store: EmergencyAccessStore,
  id: string,
): Promise<EmergencyGrant | undefined> {
  if (typeof id !== 'string') return undefined
  return isSharedEmergencyStore(store) ? store.fetch(id) : store.get(id)
}

/** The error a shared store's `set` throws: its changes go through the async registry methods. */
export function sharedSetError(): EmergencyGrantStateError {
  return new EmergencyGrantStateError(
    'a shared emergency store changes only through grantAsync, revokeAsync and reviewAsync',
  )
}
