/**
 * Freezes a parsed JSON value and everything in it, so that a grant read from a shared store
 * cannot be changed in place by the code that receives it.
 *
 * @module
 */

/** Freezes `v` and every object below it; returns `v`. */
export function deepFreeze(v: unknown): unknown {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x)
    Object.freeze(v)
  }
  return v
}
