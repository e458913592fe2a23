/**
 * The synchronous half of a shared emergency store (PostgreSQL, Redis): decisions read the local
 * view, which answers nothing while it is stale (fail closed), and `set` refuses.
 *
 * @module
 */
import type { EmergencyGrant } from '../emergency-access.js'
import { type SharedEmergencyStore, sharedSetError } from '../emergency-shared.js'

/** `get`, `set`, `list` and `shared` over `view`; `get` finds nothing unless `fresh()`. */
export function sharedView(
  view: ReadonlyMap<string, EmergencyGrant>,
  fresh: () => boolean,
): Pick<SharedEmergencyStore, 'shared' | 'get' | 'set' | 'list'> {
  return {
    shared: true,
    get(id: string): EmergencyGrant | undefined {
      return fresh() ? view.get(id) : undefined
    },
    set(): void {
      throw sharedSetError()
    },
    list(): Iterable<EmergencyGrant> {
      return view.values()
    },
  }
}
