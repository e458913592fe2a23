/**
 * Delivering events to an application's listener (audit sinks, notifications) so that nothing
 * the listener does can change the outcome of the operation that emitted them: a throw or a
 * rejected promise goes to an error reporter, and a reporter that throws is ignored.
 *
 * HIPAA: 164.312(b) audit controls (a failing audit sink is reported, not turned into a failed or
 * granted login).
 *
 * @module
 */

/**
 * Calls `listener(event)` and routes anything it throws, or a promise it returns that rejects, to
 * `onError(error, event)`. Never throws and never awaits the listener.
 *
 * @param listener - the application's event hook, if any (sync or async).
 * @param onError - receives the listener's error with the event, if any; its own errors are ignored.
 * @param event - the event (it must already carry no secrets).
 * @throws never.
 * @example
 * ```ts
 * const emit = (e: SessionEvent): void => notifyListener(options.onEvent, options.onEventError, e)
 * ```
 */
export function notifyListener<E>(
  listener: ((event: E) => unknown) | undefined,
  onError: ((error: unknown, event: E) => void) | undefined,
  event: E,
): void {
  if (listener === undefined) return
  const report = (error: unknown): void => {
    try {
      onError?.(error, event)
    } catch {
      // Nowhere left to report to; the caller's outcome must not change.
    }
  }
  try {
    const r = listener(event)
    if (r instanceof Promise) r.catch(report)
  } catch (e) {
    report(e)
  }
}
