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
const buf = Buffer.allocUnsafe(CHUNK)
const PROGRESS_EVERY = 64 * 1024 * 1024
parentPort.on('message', (job) => {
  let fd = -1
  try {
    fd = fs.openSync(job.path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
    const before = fs.fstatSync(fd)
    if (!before.isFile()) { parentPort.postMessage({ id: job.id, error: 'E_UNEXPECTED_TYPE' }); return }
    if (job.ino !== 0 && (before.ino !== job.ino || before.dev !== job.dev)) {
      parentPort.postMessage({ id: job.id, error: 'E_CHANGED_DURING_READ' }); return
    }
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
      if (sinceProgress >= PROGRESS_EVERY) { parentPort.postMessage({ id: job.id, progress: sinceProgress }); sinceProgress = 0 }
    }
    const after = fs.fstatSync(fd)
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || after.size !== pos) {
      parentPort.postMessage({ id: job.id, error: 'E_CHANGED_DURING_READ' }); return
    }
    parentPort.postMessage({ id: job.id, size: pos, progress: sinceProgress, digests: hashes.map((h) => h.digest('hex')) })
  } catch (e) {
    const code = e && e.code === 'ELOOP' ? 'E_UNEXPECTED_TYPE' : 'E_UNREADABLE'
    parentPort.postMessage({ id: job.id, error: code, errno: e && typeof e.code === 'string' ? e.code : undefined })
  } finally {
    if (fd >= 0) try { fs.closeSync(fd) } catch {}
  }
})
`

/** A file to hash. `ino`/`dev` from the walk (0 to skip the identity check). */
export interface HashJob {
  path: string
  algorithms: readonly string[]
  ino: number
  dev: number
}

/** The outcome for one file. */
export type HashOutcome =
  | { ok: true; size: number; digests: Record<string, string> }
  | { ok: false; error: 'E_UNREADABLE' | 'E_CHANGED_DURING_READ' | 'E_UNEXPECTED_TYPE'; errno?: string }

/** Options for {@link hashFiles}. */
export interface HashFilesOptions {
  /** Worker threads (default: available parallelism, at most the number of files). */
  concurrency?: number
  /** Read size in bytes (default 1 MiB). */
  chunkSize?: number
  /** Called with bytes hashed since the last call. */
  onBytes?: (bytes: number) => void
  /** Called after each file. */
  onFile?: () => void
  /** Return false to stop handing out new files (in-flight files finish). */
  shouldContinue?: () => boolean
}

interface WorkerMessage {
  id: number
  error?: 'E_UNREADABLE' | 'E_CHANGED_DURING_READ' | 'E_UNEXPECTED_TYPE'
  errno?: string
  size?: number
  progress?: number
  digests?: string[]
}

/** Default worker count: the machine's available parallelism. */
export function defaultConcurrency(): number {
  return Math.max(1, availableParallelism())
}

/**
 * Hashes `jobs` in parallel. Resolves to one outcome per job index; jobs not started because
 * `shouldContinue` returned false are absent from the map.
 */
export async function hashFiles(
  jobs: readonly HashJob[],
  options: HashFilesOptions = {},
): Promise<Map<number, HashOutcome>> {
  const results = new Map<number, HashOutcome>()
  if (jobs.length === 0) return results
  const size = Math.max(1, Math.min(options.concurrency ?? defaultConcurrency(), jobs.length))
  const chunkSize = options.chunkSize ?? 1024 * 1024
  const inFlightPerWorker = 4
  let next = 0
  let stopped = false
  const workers: Worker[] = []
  try {
    await new Promise<void>((resolve, reject) => {
      let active = 0
      const finishIfDone = (): void => {
        if (active === 0 && (next >= jobs.length || stopped)) resolve()
      }
      const dispatch = (worker: Worker): boolean => {
        if (next >= jobs.length || stopped) return false
        if (options.shouldContinue && !options.shouldContinue()) {
          stopped = true
          return false
        }
        const id = next++
        const job = jobs[id] as HashJob
        active++
        worker.postMessage({ id, path: job.path, algorithms: job.algorithms, ino: job.ino, dev: job.dev })
        return true
      }
      for (let w = 0; w < size; w++) {
        const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { chunkSize } })
        workers.push(worker)
        worker.on('error', reject)
        worker.on('message', (msg: WorkerMessage) => {
          if (msg.progress) options.onBytes?.(msg.progress)
          if (msg.digests === undefined && msg.error === undefined) return
          active--
          const job = jobs[msg.id] as HashJob
          if (msg.error !== undefined) {
            results.set(msg.id, {
              ok: false,
              error: msg.error,
              ...(msg.errno === undefined ? {} : { errno: msg.errno }),
            })
          } else {
            const digests: Record<string, string> = {}
            job.algorithms.forEach((a, i) => {
              digests[a] = (msg.digests as string[])[i] as string
            })
            results.set(msg.id, { ok: true, size: msg.size as number, digests })
          }
          options.onFile?.()
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
