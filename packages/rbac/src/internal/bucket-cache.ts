/**
 * Memory for the rule index: buckets built on first use and kept (bounded), and the decisions of
 * two roles' unconditional hits kept per bucket (bounded). Memoisation only: a cached value is
 * the value a rebuild would give, so no decision depends on what is cached.
 */
import type { Decision } from '../decision.js'
import type { Bucket, Hit, RuleIndex } from './rule-index.js'

/** Most (action, type) buckets kept; beyond, buckets are rebuilt per request (bounded memory). */
const MAX_CACHED_BUCKETS = 16384
/** Most two-role decisions cached per bucket. */
const MAX_CACHED_PAIRS = 1024

/** The bucket of an action and a resource type. */
export type BucketLookup = (action: string, type: string) => Bucket

/** Bucket lookup over `index`: explicit (action, type) pairs cached; unknown names share fallbacks. */
export function createBucketCache(index: RuleIndex): BucketLookup {
  const typeLevels = new Map<string, Map<string, Bucket>>()
  const actionFallback = new Map<string, Bucket>() // explicit action, unknown type
  const unknownActionByType = new Map<string, Bucket>() // unknown action, explicit type
  let unknownBoth: Bucket | undefined
  /** The bucket under `key` in `cache`, built on first use. */
  const cached = (cache: Map<string, Bucket>, key: string, build: () => Bucket): Bucket => {
    let b = cache.get(key)
    if (b === undefined) {
      b = build()
      cache.set(key, b)
    }
    return b
  }

  const actions = index.actions
  const types = index.types
  let cachedBuckets = 0
  return (action, type) => {
    const knownAction = actions.has(action)
    const knownType = types.has(type)
    if (knownAction && knownType) {
      let level = typeLevels.get(action)
      if (level === undefined) {
        level = new Map()
        typeLevels.set(action, level)
      }
      let b = level.get(type)
      if (b === undefined) {
        b = index.build(action, type)
        // Bounded memory: past the cap (a huge vocabulary), buckets are built per request instead.
        if (cachedBuckets < MAX_CACHED_BUCKETS) {
          cachedBuckets++
          level.set(type, b)
        }
      }
      return b
    }
    // Names no rule uses share fallbacks, so junk requests do not grow the cache.
    if (knownAction) return cached(actionFallback, action, () => index.build(action, undefined))
    if (knownType) return cached(unknownActionByType, type, () => index.build(undefined, type))
    unknownBoth ??= index.build(undefined, undefined)
    return unknownBoth
  }
}

/**
 * The precomputed decision for the unconditional hits of role `x` (and `y` when `y ≥ 0`), all
 * allows or all denies.
 */
export function pairDecision(
  index: RuleIndex,
  nRoles: number,
  bucket: Bucket,
  x: number,
  y: number,
  allow: boolean,
): Decision {
  if (y < 0) return (allow ? bucket.allowDecision : bucket.denyDecision).get(x) as Decision
  const lo = Math.min(x, y)
  const hi = Math.max(x, y)
  // No effect bit: a pair is always a deny pair (both roles deny) or an allow pair (neither does).
  // Stryker disable next-line ArithmeticOperator: equivalent, each mutant is still injective over lo < hi ≤ nRoles
  const key = lo * (nRoles + 1) + hi
  let d = bucket.pairs.get(key)
  if (d === undefined) {
    const hits = allow ? bucket.allow : bucket.deny
    d = index.simpleDecision([...(hits.get(lo) as Hit[]), ...(hits.get(hi) as Hit[])], allow)
    if (bucket.pairs.size < MAX_CACHED_PAIRS) bucket.pairs.set(key, d)
  }
  return d
}
