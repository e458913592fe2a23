/**
 * Command timeouts without a timer per command: one shared timer sweeps the pending commands every
 * quarter of the timeout, so a command that gets no answer fails within 1.25× the timeout. At tens
 * of thousands of validations a second this saves allocating and cancelling a timer for each.
 *
 * @module
 */

interface Pending {
  readonly deadline: number
  readonly reject: (e: Error) => void
}

/** Wraps promises so they reject after about `ms` milliseconds. */
export interface TimeoutGuard {
  guard<T>(promise: Promise<T>): Promise<T>
}

/** Creates a guard; `timeNow` is a monotonic ms clock (default `performance.now`). */
export function createTimeoutGuard(
  ms: number,
  timeNow: () => number = () => performance.now(),
): TimeoutGuard {
  const pending = new Set<Pending>()
  const tickMs = Math.max(1, Math.floor(ms / 4))
  let armed = false
  const tick = (): void => {
    const t = timeNow()
    for (const p of pending) {
      if (t >= p.deadline) {
        pending.delete(p)
        p.reject(new Error('command timed out'))
      }
    }
    armed = pending.size > 0
    if (armed) arm()
  }
  const arm = (): void => {
    const h = setTimeout(tick, tickMs) as unknown as { unref?: () => void }
    h.unref?.()
  }
  return {
    guard<T>(promise: Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const p: Pending = { deadline: timeNow() + ms, reject }
        pending.add(p)
        if (!armed) {
          armed = true
          arm()
        }
        promise.then(
          (v) => {
            pending.delete(p)
            resolve(v)
          },
          (e: unknown) => {
            pending.delete(p)
            reject(e)
          },
        )
      })
    },
  }
}
