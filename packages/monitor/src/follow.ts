/**
 * Follow mode: review a log as it grows. The same push engine as a batch review, fed with the
 * records past the last one seen each time the store's head moves (polled), so following gives
 * the findings a batch review of the same records gives. A finding is delivered when its episode
 * closes (`onFinding`); `onOpen` announces an episode when it opens, with its stable id, so an
 * alert need not wait for the window to pass. The wall clock only paces the polling.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review; 164.308(a)(5)(ii)(C) log-in
 * monitoring; 164.308(a)(6)(ii) identifying suspected security incidents.
 *
 * @module
 */
import type { AuditStore } from '@safeguards/audit-log'
import { createMonitor, type MonitorResult } from './monitor.js'
import type { ReviewOptions } from './review.js'

/** Options of {@link followLog}. */
export interface FollowOptions extends Omit<ReviewOptions, 'to' | 'stream'> {
  /** Stops following: the open episodes are then closed and the result returned. Required. */
  signal: AbortSignal
  /** How often the store's head is read when nothing is new (default 200 ms). */
  pollMs?: number
  /** Called after each batch is reviewed, with the next seq to read. */
  onProgress?: (next: number) => void
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((res) => {
    if (signal.aborted) return res()
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      res()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/**
 * Follows a store from `from` (default 0) until `signal` aborts, then closes the open episodes and
 * resolves with the result (with `keepFindings: false`, findings only reach the callbacks).
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review; 164.308(a)(5)(ii)(C) log-in monitoring.
 *
 * @throws {AuditStoreError} on I/O failure of the store.
 * @throws {RangeError} when `pollMs` is not a positive number.
 * @example
 * ```ts
 * const stop = new AbortController()
 * process.once('SIGTERM', () => stop.abort())
 * const result = await followLog(store, { signal: stop.signal, onFinding: (f) => alert(f.id) })
 * ```
 */
export async function followLog(store: AuditStore, options: FollowOptions): Promise<MonitorResult> {
  const pollMs = options.pollMs ?? 200
  if (!(pollMs > 0)) throw new RangeError('"pollMs" expected a positive number of milliseconds')
  const { from, signal, pollMs: _p, onProgress, ...rest } = options
  const monitor = createMonitor({ ...rest, stream: store.stream })
  let next = from ?? 0
  while (!signal.aborted) {
    const head = await store.head()
    if (head.size <= next) {
      await pause(pollMs, signal)
      continue
    }
    for await (const batch of store.readBatches?.(next, head.size) ?? oneByOne(store, next, head.size)) {
      await monitor.feed(batch)
      next = (batch[batch.length - 1]?.seq ?? next - 1) + 1
      onProgress?.(next)
    }
  }
  monitor.flush()
  return monitor.result()
}

async function* oneByOne(
  store: AuditStore,
  from: number,
  to: number,
): AsyncIterable<readonly { seq: number; bytes: Uint8Array }[]> {
  for await (const r of store.read(from, to)) yield [r]
}
