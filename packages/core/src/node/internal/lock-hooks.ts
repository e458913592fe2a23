/**
 * Test seam of the file lock: the tests set `pause` to stretch every window between two file-system
 * steps (read the holder, judge it, claim the break, re-read, remove) and show that no interleaving
 * lets two processes hold the lock. Not part of the public API (`./internal/*` is not exported).
 */

/** The windows of the lock code, in the order a waiter meets them. */
export type LockPoint =
  | 'before-link'
  | 'after-eexist'
  | 'after-read-holder'
  | 'after-judged-dead'
  | 'after-claim'
  | 'after-reread'
  | 'after-break'
  | 'after-acquire'
  | 'before-release'

/** Set by tests only. */
export const lockHooks: { pause: ((point: LockPoint) => Promise<void>) | undefined } = { pause: undefined }
