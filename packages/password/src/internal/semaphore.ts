/**
 * A counting semaphore with a bounded queue: at most `max` tasks run at once and at most
 * `maxQueue` wait; beyond that `run` rejects at once through `onFull`, so memory stays bounded
 * under a flood of logins.
 */
export interface Semaphore {
  run<T>(task: () => Promise<T>): Promise<T>
  readonly active: number
  readonly queued: number
}

export function createSemaphore(max: number, maxQueue: number, onFull: (queued: number) => Error): Semaphore {
  let active = 0
  const waiting: Array<() => void> = []
  const release = (): void => {
    const next = waiting.shift()
    if (next) next()
    else active--
  }
  return {
    get active() {
      return active
    },
    get queued() {
      return waiting.length
    },
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (active < max) {
        active++
      } else {
        if (waiting.length >= maxQueue) throw onFull(waiting.length)
        // The slot is handed over by `release` without decrementing `active`.
        await new Promise<void>((resolve) => waiting.push(resolve))
      }
      try {
        return await task()
      } finally {
        release()
      }
    },
  }
}
