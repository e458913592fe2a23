/**
 * The local view a shared emergency store (PostgreSQL, Redis) keeps for the synchronous decision
 * point: grants by id, each with the stored version it was read at (what the next
 * compare-and-set expects). A missing, hand-edited or corrupted entry is deleted, so it never grants.
 *
 * @module
 */
import type { EmergencyGrant } from '../emergency-access.js'

/** A grant read from a store, with its stored version. */
export interface VersionedGrant {
  readonly grant: EmergencyGrant
  readonly version: number
}

/** Grants by id, and the version each was read at. */
export class GrantView {
  /** The grants, by id (what decisions read). */
  readonly grants: Map<string, EmergencyGrant> = new Map()
  readonly #versions = new WeakMap<EmergencyGrant, number>()

  /** Sets `id`'s grant, or deletes it when `g` is undefined (none, or not well-formed); the grant. */
  put(id: string, g: VersionedGrant | undefined): EmergencyGrant | undefined {
    if (g === undefined) {
      this.grants.delete(id)
      return undefined
    }
    this.#versions.set(g.grant, g.version)
    this.grants.set(id, g.grant)
    return g.grant
  }

  /** The stored version `g` was read at, or undefined when it did not come from this view. */
  versionOf(g: EmergencyGrant): number | undefined {
    return this.#versions.get(g)
  }
}
