/**
 * Calling the app's resolvers: synchronously when they answer synchronously (no promise per
 * event on the fast path), with a timeout when they return a promise, and with a bounded cache.
 * A resolver that throws, rejects or times out gives `{ u: reason }`, never a guess.
 */

/** Why an answer is unknown. */
export type UnknownReason = 'error' | 'timeout'
/** A resolver's answer: a value, unknown (with why), or a promise of either. */
export type Answer<T> = { v: T } | { u: UnknownReason } | Promise<{ v: T } | { u: UnknownReason }>

const CACHE_MAX = 65_536

/** A resolver wrapped with a cache and a timeout. */
export class Resolver<T> {
  private readonly cache = new Map<string, T>()
  private readonly timeoutMs: number
  private readonly call: (...args: string[]) => T | Promise<T>

  constructor(timeoutMs: number, call: (...args: string[]) => T | Promise<T>) {
    this.timeoutMs = timeoutMs
    this.call = call
  }

  ask(key: string, ...args: string[]): Answer<T> {
    if (this.cache.has(key)) return { v: this.cache.get(key) as T }
    let r: T | Promise<T>
    try {
      r = this.call(...args)
    } catch {
      return { u: 'error' }
    }
    if (!(r instanceof Promise)) return this.keep(key, r)
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<{ u: UnknownReason }>((res) => {
      timer = setTimeout(() => res({ u: 'timeout' }), this.timeoutMs)
    })
    const value = r.then(
      (v): { v: T } => this.keep(key, v),
      (): { u: UnknownReason } => ({ u: 'error' }),
    )
    return Promise.race([value, timeout]).finally(() => clearTimeout(timer))
  }

  private keep(key: string, v: T): { v: T } {
    if (this.cache.size >= CACHE_MAX) this.cache.clear()
    this.cache.set(key, v)
    return { v }
  }
}
