/**
 * A verifier worker thread: checks the runs the verifier sends ({@link RunChecker}) and returns
 * their facts. Built as its own entry (`dist/internal/verify-worker.js`); see `verify-pool.ts`.
 */
import { parentPort } from 'node:worker_threads'
import { RunChecker, type RunConfig, type RunFacts } from './verify-run.js'

/** A run sent to a worker: the task's arrays travel as transferred buffers. */
export interface RunMessage {
  id: number
  config: RunConfig
  from: number
  buffer: ArrayBuffer
  byteOffset: number
  length: number
  ends: Float64Array
  cuts: number[]
  treeEnd: number
}

/** A worker's answer: `ready` once, then one `facts` per run, with the run's buffer given back. */
export type WorkerReply = { ready: true } | { id: number; facts: RunFacts; buffer: ArrayBuffer }

const port = parentPort
if (port !== null) {
  // One checker per stream and mode: a worker serves every verification in the process.
  const checkers = new Map<string, RunChecker>()
  port.on('message', (m: RunMessage) => {
    const key = `${m.config.deep ? 1 : 0}${m.config.stream}`
    let checker = checkers.get(key)
    if (checker === undefined) {
      if (checkers.size >= 16) checkers.clear()
      checker = new RunChecker(m.config)
      checkers.set(key, checker)
    }
    const facts = checker.check({
      from: m.from,
      bytes: new Uint8Array(m.buffer, m.byteOffset, m.length),
      ends: m.ends,
      cuts: m.cuts,
      treeEnd: m.treeEnd,
    })
    const reply: WorkerReply = { id: m.id, facts, buffer: m.buffer }
    port.postMessage(reply, [
      facts.seqs.buffer,
      facts.flags.buffer,
      facts.heights.buffer,
      facts.roots.buffer,
      m.buffer,
    ])
  })
  const ready: WorkerReply = { ready: true }
  port.postMessage(ready)
}
