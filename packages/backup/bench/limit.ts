/**
 * The limit of the verification benchmarks: the fastest plain loop that reads the same bytes and
 * computes the same hashes in the same process, on as many threads as the verifier uses.
 *
 * Worker threads (started once and kept, so no start-up cost is timed) take the next file from a
 * shared counter, read it sequentially into one reusable 1 MiB buffer with `readSync`, and feed
 * every requested algorithm from the same read, as the verifier's workers do, and nothing else:
 * no walk, no manifest parsing, no `fstat` checks, no batching messages, no report. The files are
 * handed out largest first. Nothing that does the verifier's hashing can be much faster than this,
 * so ours ÷ limit says how much of the machine the verifier uses; a peer tool such as
 * `sha256sum` can be slow for its own reasons (coreutils 9.1 does not use the SHA extensions that
 * OpenSSL, and so Node, use).
 */
import { statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const fs = require('node:fs')
const crypto = require('node:crypto')
const buf = new Uint8Array(1024 * 1024)
const next = new Int32Array(workerData.counter)
parentPort.on('message', ({ files, algorithms }) => {
  for (let i = Atomics.add(next, 0, 1); i < files.length; i = Atomics.add(next, 0, 1)) {
    const fd = fs.openSync(files[i], 'r')
    const hashes = algorithms.map((a) => crypto.createHash(a))
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null)
      if (n === 0) break
      const chunk = n === buf.length ? buf : buf.subarray(0, n)
      for (const h of hashes) h.update(chunk)
    }
    fs.closeSync(fd)
    for (const h of hashes) h.digest('hex')
  }
  parentPort.postMessage('done')
})
`

/** A pool of plain hashing loops. */
export interface HashLimit {
  /** Threads in use: the verifier's default (available parallelism), at most one per file. */
  readonly threads: number
  /** Hashes every file once with every algorithm. */
  run(): Promise<void>
  close(): Promise<void>
}

/** Starts `threads` workers (default: as many as the verifier would use) for `files`. */
export function hashLimit(
  files: readonly string[],
  algorithms: readonly string[],
  threads?: number,
): HashLimit {
  const ordered = [...files].sort((a, b) => statSync(b).size - statSync(a).size)
  const count = Math.max(1, Math.min(threads ?? availableParallelism(), ordered.length))
  const counter = new SharedArrayBuffer(4)
  const next = new Int32Array(counter)
  const workers = Array.from(
    { length: count },
    () => new Worker(SOURCE, { eval: true, workerData: { counter } }),
  )
  const pass = (w: Worker): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const fail = (error: Error): void => reject(error)
      w.once('error', fail)
      w.once('message', () => {
        w.off('error', fail)
        resolve()
      })
      w.postMessage({ files: ordered, algorithms })
    })
  return {
    threads: count,
    async run() {
      Atomics.store(next, 0, 0)
      await Promise.all(workers.map(pass))
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()))
    },
  }
}
