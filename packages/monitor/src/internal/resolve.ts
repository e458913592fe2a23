/**
 * Calling the app's resolvers: synchronously when they answer synchronously (no promise per
 * event on the fast path), with a timeout and a bounded cache when they return a promise.
 * A resolver that throws, rejects or times out gives `{ u: reason }`, never a guess.
 */

/** Why an answer is unknown. */
export type UnknownReason = 'error' | 'timeout'
/** A resolver's answer: a value, unknown (with why), or a promise of either. */
export type Answer<T> = { v: T } | { u: UnknownReason } | Promise<{ v: T } | { u: UnknownReason }>

const CACHE_MAX = 65_536

/** A resolver wrapped with a cache and a timeout. */
export class Resolver<T> {
  /** first argument -> second argument ('' for one-argument resolvers) -> answer. */
  private readonly cache = new Map<string, Map<string, { v: T }>>()
  private cached = 0
  private readonly timeoutMs: number
  private readonly call: (...args: string[]) => T | Promise<T>

  constructor(timeoutMs: number, call: (...args: string[]) => T | Promise<T>) {
    this.timeoutMs = timeoutMs
    this.call = call
  }

  /** Asks about `a` (and `b`, for two-argument resolvers). */
  ask(a: string, b?: string): Answer<T> {
    const inner = this.cache.get(a)
    const k = b ?? ''
    const hit = inner?.get(k)
    if (hit !== undefined) return hit
    let r: T | Promise<T>
    try {
      r = b === undefined ? this.call(a) : this.call(a, b)
    } catch {
      return { u: 'error' }
    }
    if (!(r instanceof Promise)) return { v: r } // a synchronous answer is as cheap as a cached one
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<{ u: UnknownReason }>((res) => {
      timer = setTimeout(() => res({ u: 'timeout' }), this.timeoutMs)
    })
    const value = r.then(
      (v): { v: T } => this.keep(a, k, v),
      (): { u: UnknownReason } => ({ u: 'error' }),
    )
    return Promise.race([value, timeout]).finally(() => clearTimeout(timer))
  }

  private keep(a: string, b: string, v: T): { v: T } {
    if (this.cached >= CACHE_MAX) {
      this.cache.clear()
      this.cached = 0
    }
    let inner = this.cache.get(a)
    if (inner === undefined) {
      inner = new Map()
      this.cache.set(a, inner)
    }
    const answer = { v }
    if (!inner.has(b)) this.cached++
    inner.set(b, answer)
    return answer
  }
}
