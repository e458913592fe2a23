/**
 * Worker threads for the verifier. `node:crypto` hashes on the calling thread, so checking a log on
 * more than one core needs workers. Runs travel to a worker as transferred buffers (no copy) and
 * their facts come back the same way; the main thread checks a run itself whenever every worker
 * already has enough queued (and while the workers start), so it is never idle and a machine with
 * N cores runs N - 1 workers.
 *
 * The worker is its own entry point: `./verify-worker.ts` next to this file in the sources (started
 * with the tsx loader, for tests and benches), `./internal/verify-worker.js` next to the bundle in
 * `dist`. With `workers: 'auto'` a worker that fails to start is left out and its share is checked
 * on the main thread (the facts, and so the report, are the same whichever thread computed them);
 * an explicit count waits for its workers, and one that cannot start fails the verification.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { AuditStoreError } from '../errors.js'
import type { RecordRun } from './runs.js'
import { RunChecker, type RunConfig, type RunFacts, type RunTask } from './verify-run.js'
import type { RunMessage, WorkerReply } from './verify-worker.js'

/** `workers: 'auto'` uses no worker below this many records (starting threads costs more). */
export const AUTO_MIN_RECORDS = 32_768
const MAX_AUTO_WORKERS = 8
/** Runs queued per worker: one being checked, one waiting, so a worker never waits for the main thread. */
const QUEUE_PER_WORKER = 2
/** Runs read ahead of the one being dispatched. */
const READ_AHEAD = 2

/** How many workers a verification uses, and whether it waits for them to start. */
export interface Threads {
  workers: number
  /** Wait until the workers have started (and fail if they cannot), rather than start meanwhile. */
  wait: boolean
}

/**
 * The threads for the `workers` option and a log of `records` records: an explicit count is used as
 * given (and must start); `'auto'` takes one worker per core but one, none for small logs, and the
 * main thread works while they start.
 */
export function threadsFor(workers: number | 'auto', records: number): Threads {
  if (workers !== 'auto') return { workers, wait: true }
  const n = records < AUTO_MIN_RECORDS ? 0 : Math.min(availableParallelism() - 1, MAX_AUTO_WORKERS)
  return { workers: Math.max(0, n), wait: false }
}

/** Idle workers stop after this long without a run (so back-to-back verifications reuse them). */
const IDLE_MS = 5_000

const fromSource = import.meta.url.endsWith('.ts')

function spawn(): Worker {
  if (fromSource) {
    // Tests and benches run the sources: the worker registers the tsx loader before importing the
    // TypeScript entry (an --import in a worker's execArgv does not apply to its entry on Node 20).
    const url = new URL('./verify-worker.ts', import.meta.url).href
    return new Worker(
      `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url)}) })`,
      {
        eval: true,
        execArgv: ['--conditions=@safeguards/source'],
      },
    )
  }
  return new Worker(new URL('./internal/verify-worker.js', import.meta.url))
}

interface Member {
  worker: Worker
  ready: boolean
  queued: number
  /** Settles when the worker has started (or failed to). */
  started: Promise<void>
}

/** A run's facts, and its buffer once free again. */
interface Checked {
  facts: RunFacts
  buffer: ArrayBuffer
}

interface Waiter {
  member: Member
  resolve: (checked: Checked) => void
  reject: (error: unknown) => void
}

function workerError(error: unknown): AuditStoreError {
  return new AuditStoreError('verifier worker thread failed', { cause: error })
}

/**
 * The process's verifier workers, started on demand and kept while verifications follow each other:
 * a worker that has started and warmed up its compiled code is worth keeping for the next log. A
 * worker holds the process open only while it has runs; all of them stop after {@link IDLE_MS}
 * without work.
 */
class RunPool {
  readonly #members: Member[] = []
  readonly #waiting = new Map<number, Waiter>()
  #nextId = 0
  #idle: ReturnType<typeof setTimeout> | null = null
  #spawnError: AuditStoreError | null = null

  /** Starts workers until there are `n` (fewer when the runtime refuses a thread). */
  grow(n: number): void {
    this.#stopIdle()
    while (this.#members.length < n) {
      let worker: Worker
      try {
        worker = spawn()
      } catch (e) {
        this.#spawnError = workerError(e)
        return
      }
      let started: () => void = () => undefined
      let failed: (e: unknown) => void = () => undefined
      const member: Member = {
        worker,
        ready: false,
        queued: 0,
        started: new Promise<void>((resolve, reject) => {
          started = resolve
          failed = reject
        }),
      }
      member.started.catch(() => undefined)
      this.#members.push(member)
      worker.unref()
      worker.on('message', (reply: WorkerReply) => {
        if ('ready' in reply) {
          member.ready = true
          started()
          return
        }
        const w = this.#waiting.get(reply.id)
        if (w === undefined) return
        this.#waiting.delete(reply.id)
        if (--member.queued === 0) worker.unref()
        w.resolve({ facts: reply.facts, buffer: reply.buffer })
      })
      const fail = (error: unknown): void => {
        failed(workerError(error))
        this.#fail(member, workerError(error))
      }
      worker.on('error', fail)
      worker.on('exit', (code) => fail(new Error(`exit ${code}`)))
    }
  }

  /** Resolves when the first `n` workers have started; rejects when one of them could not. */
  async ready(n: number): Promise<void> {
    if (this.#members.length < n) throw this.#spawnError ?? workerError(new Error('not started'))
    await Promise.all(this.#members.slice(0, n).map((m) => m.started))
  }

  /** A worker that stopped: its runs fail (a bug, or out of memory) and it is replaced on demand. */
  #fail(member: Member, error: unknown): void {
    const i = this.#members.indexOf(member)
    if (i >= 0) this.#members.splice(i, 1)
    for (const [id, w] of this.#waiting) {
      if (w.member !== member) continue
      this.#waiting.delete(id)
      w.reject(error)
    }
  }

  #stopIdle(): void {
    if (this.#idle !== null) clearTimeout(this.#idle)
    this.#idle = null
  }

  /** Called when a verification is done with the pool: the workers stop unless another follows. */
  release(): void {
    this.#stopIdle()
    this.#idle = setTimeout(() => {
      this.#idle = null
      if (this.#waiting.size > 0) return
      for (const m of this.#members.splice(0)) void m.worker.terminate()
    }, IDLE_MS)
    this.#idle.unref()
  }

  /**
   * Hands the run to the least busy ready worker among the first `limit` and returns its facts, or
   * returns null when each has a full queue (or none has started yet): then the caller checks the
   * run itself. The run's buffers are transferred: the caller must not use them afterwards.
   */
  trySubmit(task: RunTask, config: RunConfig, limit: number): Promise<Checked> | null {
    let best: Member | undefined
    for (const m of this.#members.slice(0, limit))
      if (m.ready && m.queued < QUEUE_PER_WORKER && (best === undefined || m.queued < best.queued)) best = m
    if (best === undefined) return null
    const member = best
    const id = this.#nextId++
    const message: RunMessage = {
      id,
      config,
      from: task.from,
      buffer: task.bytes.buffer as ArrayBuffer,
      byteOffset: task.bytes.byteOffset,
      length: task.bytes.length,
      ends: task.ends,
      cuts: [...task.cuts],
      treeEnd: task.treeEnd,
    }
    return new Promise<Checked>((resolve, reject) => {
      this.#waiting.set(id, { member, resolve, reject })
      if (member.queued++ === 0) member.worker.ref()
      member.worker.postMessage(message, [message.buffer, task.ends.buffer as ArrayBuffer])
    })
  }
}

let pool: RunPool | null = null

/** A run's place in line: its facts, once known. */
interface Slot {
  done: boolean
  checked?: Checked
  failure?: { error: unknown }
  settled: Promise<void>
}

function slot(checked: Promise<Checked> | Checked): Slot {
  if (!(checked instanceof Promise)) return { done: true, checked, settled: Promise.resolve() }
  const s: Slot = { done: false, settled: Promise.resolve() }
  s.settled = checked.then(
    (c) => {
      s.done = true
      s.checked = c
    },
    (error: unknown) => {
      s.done = true
      s.failure = { error }
    },
  )
  return s
}

/** Read buffers of the usual size, kept for the next reads once their runs are checked. */
class Buffers {
  readonly #free: ArrayBuffer[] = []
  #size = 0
  readonly #max: number

  constructor(max: number) {
    this.#max = max
  }

  readonly alloc = (size: number): Uint8Array => {
    if (size === this.#size) {
      const b = this.#free.pop()
      if (b !== undefined) return new Uint8Array(b)
    }
    return new Uint8Array(size)
  }

  recycle(buffer: ArrayBuffer): void {
    if (buffer.byteLength !== this.#size) {
      if (this.#size !== 0 && buffer.byteLength < this.#size) return
      this.#size = buffer.byteLength
      this.#free.length = 0
    }
    if (this.#free.length < this.#max) this.#free.push(buffer)
  }
}

/**
 * Checks every run, on `workers` worker threads and the main thread, and hands the facts to
 * `consume` in run order. Runs wait in order for their facts; at most a few more than the threads
 * are held at once.
 */
export async function checkRuns(
  read: (alloc: (size: number) => Uint8Array) => AsyncIterable<RecordRun>,
  task: (run: RecordRun) => RunTask,
  config: RunConfig,
  threads: Threads,
  consume: (facts: RunFacts) => void,
): Promise<void> {
  const workers = threads.workers
  let shared: RunPool | null = null
  try {
    if (workers > 0) {
      shared = pool ??= new RunPool()
      shared.grow(workers)
      if (threads.wait) await shared.ready(workers)
    }
    await dispatch(read, task, config, workers, shared, consume)
  } finally {
    shared?.release()
  }
}

async function dispatch(
  read: (alloc: (size: number) => Uint8Array) => AsyncIterable<RecordRun>,
  task: (run: RecordRun) => RunTask,
  config: RunConfig,
  workers: number,
  shared: RunPool | null,
  consume: (facts: RunFacts) => void,
): Promise<void> {
  let local: RunChecker | null = null
  const queue: Slot[] = []
  const limit = 2 * (workers + 1) + 2
  const buffers = new Buffers(limit + READ_AHEAD + 1)
  const take = async (): Promise<void> => {
    const s = queue.shift()!
    await s.settled
    if (s.failure !== undefined) throw s.failure.error
    consume(s.checked!.facts)
    buffers.recycle(s.checked!.buffer)
  }
  // Reads run ahead (in libuv's threads) while runs are checked.
  const it = read(buffers.alloc)[Symbol.asyncIterator]()
  const ahead = Array.from({ length: READ_AHEAD }, () => it.next())
  try {
    for (let r = await ahead.shift()!; r.done !== true; r = await ahead.shift()!) {
      ahead.push(it.next())
      const t = task(r.value)
      const sent = shared?.trySubmit(t, config, workers) ?? null
      if (sent !== null) queue.push(slot(sent))
      else {
        local ??= new RunChecker(config)
        queue.push(slot({ facts: local.check(t), buffer: t.bytes.buffer as ArrayBuffer }))
      }
      while (queue.length > 0 && (queue[0]!.done || queue.length > limit)) await take()
    }
  } catch (e) {
    await Promise.allSettled(ahead)
    await it.return?.()
    throw e
  }
  while (queue.length > 0) await take()
}
