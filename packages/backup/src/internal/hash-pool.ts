/**
 * Parallel streaming file hashing on `worker_threads`.
 *
 * `node:crypto`'s `update()` runs synchronously on the calling thread, so hashing on more than
 * one core needs worker threads. Each worker reads a file with large positional reads into one
 * reusable buffer (memory per worker is one buffer, whatever the file size), feeds every
 * requested algorithm from the same read (one pass for SHA-512 and SHA-256), and compares
 * `fstat` before and after to catch a file that changed while it was read. Positions are
 * JavaScript numbers (exact to 2^53), so files above 4 GiB are handled.
 *
 * Files are opened with `O_NOFOLLOW` and their device and inode must match what the walk saw, so
 * a path swapped for a symlink between the walk and the read is refused, never followed.
 *
 * The worker is plain CommonJS evaluated from a string: it needs only `node:` built-ins, and the
 * same code runs from `src/` (tests) and from `dist/` (published).
 *
 * @module
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const fs = require('node:fs')
const crypto = require('node:crypto')
const CHUNK = workerData.chunkSize
const buf = new Uint8Array(CHUNK)
const PROGRESS_EVERY = 64 * 1024 * 1024
function hashOne(job) {
  let fd = -1
  try {
    fd = fs.openSync(job.path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK)
    const before = fs.fstatSync(fd)
    if (!before.isFile()) return { error: 'E_UNEXPECTED_TYPE' }
    if (job.ino !== 0 && (before.ino !== job.ino || before.dev !== job.dev)) return { error: 'E_CHANGED_DURING_READ' }
    const hashes = job.algorithms.map((a) => crypto.createHash(a))
    let pos = 0
    let sinceProgress = 0
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, pos)
      if (n === 0) break
      const chunk = n === CHUNK ? buf : buf.subarray(0, n)
      for (const h of hashes) h.update(chunk)
      pos += n
      sinceProgress += n
      if (sinceProgress >= PROGRESS_EVERY) { parentPort.postMessage({ progress: sinceProgress }); sinceProgress = 0 }
      // Small files: stop at the size fstat reported instead of paying one more read for EOF;
      // growth after that is caught by the second fstat below.
      if (n < CHUNK && pos >= before.size) break
    }
    const after = fs.fstatSync(fd)
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || after.size !== pos) return { error: 'E_CHANGED_DURING_READ' }
    return { size: pos, progress: sinceProgress, digests: hashes.map((h) => h.digest('hex')) }
  } catch (e) {
    const code = e && e.code === 'ELOOP' ? 'E_UNEXPECTED_TYPE' : 'E_UNREADABLE'
    return { error: code, errno: e && typeof e.code === 'string' ? e.code : undefined }
  } finally {
    if (fd >= 0) try { fs.closeSync(fd) } catch {}
  }
}
parentPort.on('message', (batch) => {
  const results = batch.jobs.map(hashOne)
  parentPort.postMessage({ id: batch.id, results })
})
`

/** A file to hash. `ino`/`dev` from the walk (0 to skip the identity check); `size` for batching. */
export interface HashJob {
  path: string
  algorithms: readonly string[]
  ino: number
  dev: number
  size: number
}

/** The outcome for one file. */
export type HashOutcome =
  | { ok: true; size: number; digests: Record<string, string> }
  | { ok: false; error: 'E_UNREADABLE' | 'E_CHANGED_DURING_READ' | 'E_UNEXPECTED_TYPE'; errno?: string }

/** Options for {@link hashFiles}. */
export interface HashFilesOptions {
  /** Worker threads (default: available parallelism, at most the number of batches). */
  concurrency?: number
  /** Read size in bytes (default 1 MiB). */
  chunkSize?: number
  /** Called with bytes hashed since the last call. */
  onBytes?: (bytes: number) => void
  /** Called with the number of files finished since the last call. */
  onFiles?: (files: number) => void
  /** Return false to stop handing out new files (in-flight batches finish). */
  shouldContinue?: () => boolean
}

interface FileResult {
  error?: 'E_UNREADABLE' | 'E_CHANGED_DURING_READ' | 'E_UNEXPECTED_TYPE'
  errno?: string
  size?: number
  progress?: number
  digests?: string[]
}

interface WorkerMessage {
  id?: number
  progress?: number
  results?: FileResult[]
}

/** Default worker count: the machine's available parallelism. */
export function defaultConcurrency(): number {
  return Math.max(1, availableParallelism())
}

const BATCH_FILES = 128
const BATCH_BYTES = 8 * 1024 * 1024

/**
 * Hashes `jobs` in parallel. Small files travel to the workers in batches (up to 128 files or
 * 8 MiB) so that 100,000 small files do not cost 100,000 message round trips. Resolves to one
 * outcome per job index; jobs not started because `shouldContinue` returned false are absent.
 */
export async function hashFiles(
  jobs: readonly HashJob[],
  options: HashFilesOptions = {},
): Promise<Map<number, HashOutcome>> {
  const results = new Map<number, HashOutcome>()
  if (jobs.length === 0) return results
  const batches = batchJobs(jobs)
  const size = Math.max(1, Math.min(options.concurrency ?? defaultConcurrency(), batches.length))
  const chunkSize = options.chunkSize ?? 1024 * 1024
  const inFlightPerWorker = 2
  let next = 0
  let stopped = false
  const workers: Worker[] = []
  try {
    await new Promise<void>((resolve, reject) => {
      let active = 0
      const finishIfDone = (): void => {
        if (active === 0 && (next >= batches.length || stopped)) resolve()
      }
      const dispatch = (worker: Worker): boolean => {
        if (next >= batches.length || stopped) return false
        if (options.shouldContinue && !options.shouldContinue()) {
          stopped = true
          return false
        }
        const id = next++
        active++
        const batch = (batches[id] as number[]).map((i) => {
          const job = jobs[i] as HashJob
          return { path: job.path, algorithms: job.algorithms, ino: job.ino, dev: job.dev }
        })
        worker.postMessage({ id, jobs: batch })
        return true
      }
      for (let w = 0; w < size; w++) {
        const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { chunkSize } })
        workers.push(worker)
        worker.on('error', reject)
        worker.on('message', (msg: WorkerMessage) => {
          if (msg.results === undefined) {
            if (msg.progress) options.onBytes?.(msg.progress)
            return
          }
          active--
          const indexes = batches[msg.id as number] as number[]
          const tail = recordResults(jobs, indexes, msg.results, results)
          if (tail > 0) options.onBytes?.(tail)
          options.onFiles?.(indexes.length)
          dispatch(worker)
          finishIfDone()
        })
        for (let k = 0; k < inFlightPerWorker; k++) if (!dispatch(worker)) break
      }
      finishIfDone()
    })
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
  return results
}

/** Job indexes in batches of up to 128 files or 8 MiB (a larger file travels alone). */
function batchJobs(jobs: readonly HashJob[]): number[][] {
  const batches: number[][] = []
  let current: number[] = []
  let bytes = 0
  jobs.forEach((job, i) => {
    if (current.length > 0 && (current.length >= BATCH_FILES || bytes + job.size > BATCH_BYTES)) {
      batches.push(current)
      current = []
      bytes = 0
    }
    current.push(i)
    bytes += job.size
  })
  if (current.length > 0) batches.push(current)
  return batches
}

/** Stores a batch's outcomes by job index; returns the bytes hashed not yet reported as progress. */
function recordResults(
  jobs: readonly HashJob[],
  indexes: readonly number[],
  batch: NonNullable<WorkerMessage['results']>,
  results: Map<number, HashOutcome>,
): number {
  let tail = 0
  batch.forEach((r, k) => {
    const index = indexes[k] as number
    const job = jobs[index] as HashJob
    if (r.error !== undefined) {
      results.set(index, {
        ok: false,
        error: r.error,
        ...(r.errno === undefined ? {} : { errno: r.errno }),
      })
      return
    }
    tail += r.progress ?? 0
    const digests: Record<string, string> = {}
    job.algorithms.forEach((a, j) => {
      digests[a] = (r.digests as string[])[j] as string
    })
    results.set(index, { ok: true, size: r.size as number, digests })
  })
  return tail
}
