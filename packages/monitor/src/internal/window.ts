/**
 * Exact sliding-window state for one key (no sketches: evidence must list seqs). A window at
 * stream time `τ` holds the qualifying events with time in `(τ − W, τ]`. Entries live in a deque
 * (parallel arrays with a moving head); a distinct counter also keeps, per value, how many of the
 * window's entries carry it, so the number of distinct values is the map's size.
 */
export class WindowDeque {
  private ts: number[] = []
  private seqs: number[] = []
  private vals: string[] = []
  private head = 0
  /** value -> entries in the window carrying it (distinct counters only). */
  readonly distinct: Map<string, number> | undefined

  constructor(distinct: boolean) {
    this.distinct = distinct ? new Map() : undefined
  }

  /** Number of events in the window. */
  get size(): number {
    return this.ts.length - this.head
  }

  /** Number of distinct values in the window (the event count for a plain counter). */
  get measure(): number {
    return this.distinct === undefined ? this.size : this.distinct.size
  }

  /** Adds an event at stream time `t` (non-decreasing) and drops those at or before `t − w`. */
  push(t: number, seq: number, value: string, w: number): void {
    this.ts.push(t)
    this.seqs.push(seq)
    this.vals.push(value)
    if (this.distinct !== undefined) this.distinct.set(value, (this.distinct.get(value) ?? 0) + 1)
    this.evict(t - w)
  }

  /** Drops the events at or before `edge`. */
  evict(edge: number): void {
    while (this.head < this.ts.length && (this.ts[this.head] as number) <= edge) {
      if (this.distinct !== undefined) {
        const v = this.vals[this.head] as string
        const n = (this.distinct.get(v) as number) - 1
        if (n === 0) this.distinct.delete(v)
        else this.distinct.set(v, n)
      }
      this.head++
    }
    if (this.head > 64 && this.head * 2 > this.ts.length) {
      this.ts = this.ts.slice(this.head)
      this.seqs = this.seqs.slice(this.head)
      this.vals = this.vals.slice(this.head)
      this.head = 0
    }
  }

  /** The window's events, oldest first: seqs, stream times and values. */
  entries(): { seqs: number[]; ts: number[]; vals: string[] } {
    return {
      seqs: this.seqs.slice(this.head),
      ts: this.ts.slice(this.head),
      vals: this.vals.slice(this.head),
    }
  }
}
