/**
 * `@safeguards/core/node`: the SDK's shared Node I/O. Durable atomic writes, the one inter-process
 * file lock, directory fsync and `errorCode`. Node only (the root entry `@safeguards/core` stays free
 * of `node:` imports and runs in browsers and edge runtimes).
 *
 * @packageDocumentation
 */
export type { WriteFileAtomicOptions } from './atomic-write.js'
export { fsyncDir, fsyncDirSync, writeFileAtomic } from './atomic-write.js'
export { errorCode } from './error-code.js'
export type { FileLock, FileLockOptions } from './file-lock.js'
export { acquireFileLock, withFileLock } from './file-lock.js'
