import { execFile } from 'node:child_process'
import * as nodeCrypto from 'node:crypto'
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import { open } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { utf8Encode } from '@safeguards/core'
import pino from 'pino'
import type { Scenario } from '../../../scripts/bench/types.ts'
import {
  type AuditStore,
  createCheckpointSigner,
  generateCheckpointKey,
  leafHash,
  MerkleTree,
  openAuditLog,
  openFileStore,
  verifyInclusion,
  verifyLog,
} from '../src/index.js'
import { event } from './events.ts'
import { memoryRate, rawFileRate } from './sha-rates.ts'

const dirs: string[] = []
/** Removes the directories the measurements made. */
function removeDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
}
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sg-audit-bench-'))
  dirs.push(d)
  return d
}

const APPENDERS = 64
const APPEND_MS = 3000

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/**
 * The latency of one commit on this disk, measured in the same run: append `bytes` to a file in the
 * bench's temp directory with `O_APPEND` and `fdatasync` it, as the file store does. Returns the
 * median in ms.
 */
function fdatasyncMs(bytes: number, rounds = 100): number {
  const path = join(tempDir(), 'fsync-probe')
  const fd = openSync(path, 'a')
  const buf = new Uint8Array(bytes).fill(0x61)
  const times: number[] = []
  try {
    for (let i = 0; i < rounds; i++) {
      const t = performance.now()
      writeSync(fd, buf)
      fdatasyncSync(fd)
      times.push(performance.now() - t)
    }
  } finally {
    closeSync(fd)
  }
  return median(times)
}

/**
 * Counts the store's appends (one commit each: one write and one fdatasync) and times them, so the
 * notes show how many events one commit carried and how long a commit took in this very run.
 */
function counting(store: AuditStore): {
  store: AuditStore
  commits: () => number
  commitMs: () => number
  commitMeanMs: () => number
} {
  const times: number[] = []
  const append = store.append.bind(store)
  store.append = async (expected, records) => {
    const t = performance.now()
    const head = await append(expected, records)
    times.push(performance.now() - t)
    return head
  }
  return {
    store,
    commits: () => times.length,
    commitMs: () => median(times),
    commitMeanMs: () => times.reduce((a, b) => a + b, 0) / times.length,
  }
}

/**
 * 64 appenders, each awaiting its own durable append before the next (a closed loop: at most 64
 * events are ever waiting, so one commit can carry at most 64). By Little's law the rate is bounded
 * by 64 ÷ (mean commit latency), even with free CPU: the notes give that bound from the commits timed
 * in this run (store.append: write + fdatasync), and a bare fdatasync on the same disk measured after.
 */
async function measureOurs(
  durability: 'fsync' | 'none' = 'fsync',
  appenders = APPENDERS,
  index?: boolean,
): Promise<{ value: number; extra?: Record<string, string> }> {
  const key = await generateCheckpointKey()
  // The index rows use 16 MiB segments on both sides (about 37,000 events each), so a round seals
  // several and the index's sealing work is in the figure.
  const options = index === undefined ? {} : { index, segmentMaxBytes: 16 << 20 }
  const counted = counting(await openFileStore({ dir: tempDir(), stream: 'bench', durability, ...options }))
  const log = await openAuditLog({
    store: counted.store,
    signer: await createCheckpointSigner(key.privateJwk),
    checkpointEvery: { records: 10_000, ms: 60_000 },
  })
  let n = 0
  let stop = false
  const start = performance.now()
  const workers = Array.from({ length: appenders }, async (_, w) => {
    let i = w
    while (!stop) {
      await log.append(event(i))
      i += appenders
      n++
    }
  })
  setTimeout(() => {
    stop = true
  }, APPEND_MS)
  await Promise.all(workers)
  const secs = (performance.now() - start) / 1000
  const commits = counted.commits()
  await log.close()
  const meanMs = counted.commitMeanMs()
  const extra: Record<string, string> = {
    'events/commit': (n / commits).toFixed(1),
    'commit p50': `${counted.commitMs().toFixed(2)} ms`,
    'commit mean': `${meanMs.toFixed(2)} ms`,
  }
  if (durability === 'fsync') {
    const ms = fdatasyncMs(Math.round((n / commits) * 460))
    extra['bare fdatasync p50'] = `${ms.toFixed(2)} ms`
    // Little's law: events in flight ÷ mean time each waits (at least one commit).
    extra[`${appenders} ÷ mean commit`] = `${((appenders / meanMs) * 1000).toFixed(0)} events/s`
  }
  return { value: n / secs, extra }
}

/** pino writing the same events to a file, no fsync (asynchronous SonicBoom destination). */
async function measurePino(): Promise<{ value: number }> {
  const dest = pino.destination({ dest: join(tempDir(), 'pino.log'), sync: false, minLength: 4096 })
  const logger = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime }, dest)
  let n = 0
  const start = performance.now()
  while (performance.now() - start < APPEND_MS) {
    for (let k = 0; k < 1000; k++) logger.info(event(n++))
    await new Promise((r) => setImmediate(r))
  }
  await new Promise<void>((res) => dest.flush(() => res()))
  const secs = (performance.now() - start) / 1000
  dest.end()
  return { value: n / secs }
}

// ---- verify vs raw SHA-256 ----------------------------------------------------------------------
let verifyDir = ''
let verifyBytes = 0
const VERIFY_RECORDS = 100_000

/** Writes the 100k-record log once for the verify scenarios (removed by the last one, or at exit). */
async function setupVerify(): Promise<void> {
  if (verifyDir !== '' && existsSync(verifyDir)) return
  verifyDir = tempDir()
  const dir = verifyDir
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  const key = await generateCheckpointKey()
  const log = await openAuditLog({
    store: await openFileStore({ dir: verifyDir, stream: 'bench', durability: 'none' }),
    signer: await createCheckpointSigner(key.privateJwk),
    checkpointEvery: { records: 10_000, ms: 0 },
  })
  const chunk: Promise<unknown>[] = []
  for (let i = 0; i < VERIFY_RECORDS; i++) {
    chunk.push(log.append(event(i)))
    if (chunk.length === 4096) await Promise.all(chunk.splice(0))
  }
  await Promise.all(chunk)
  await log.close()
  const segs = join(verifyDir, 'segments')
  verifyBytes = readdirSync(segs).reduce((s, f) => s + statSync(join(segs, f)).size, 0)
}

/**
 * verifyLog over the bench log: one untimed run (it compiles the hot code and, with workers, starts
 * them: the notes give its rate), then 5 timed runs, the median. `workers: 0` is the main thread
 * alone; `'auto'` adds one worker per core but one (the main thread checks runs too). Workers are
 * kept between verifications, as they are between back-to-back verifications in a process.
 */
async function measureVerify(
  workers: 0 | 'auto',
): Promise<{ value: number; extra?: Record<string, string> }> {
  const store = await openFileStore({ dir: verifyDir, readOnly: true })
  const once = async (): Promise<number> => {
    const t = performance.now()
    const report = await verifyLog(store, { workers })
    if (!report.ok) throw new Error('bench log does not verify')
    return verifyBytes / 1e6 / ((performance.now() - t) / 1000)
  }
  const first = await once()
  const runs: number[] = []
  for (let i = 0; i < 5; i++) runs.push(await once())
  const extra: Record<string, string> = {
    records: String(VERIFY_RECORDS),
    'first run': `${first.toFixed(0)} MB/s`,
  }
  if (workers === 'auto') extra.threads = `${Math.min(availableParallelism() - 1, 8) + 1} (main + workers)`
  else Object.assign(extra, await hashCallCosts())
  return { value: median(runs), extra }
}

/**
 * The structural bound of verification, measured in the same run: verifying record i needs its leaf
 * hash (one SHA-256 call over ~460 bytes) and, to recompute checkpoint roots, one Merkle node hash on
 * average (one call over 65 bytes; a tree of n leaves has n - 1 nodes). node:crypto has no batch
 * API, so each is a separate native call with a fixed cost (verify uses the one-shot `crypto.hash`
 * with a latin1 string output, the cheapest form). The best ratio one thread can reach is
 * (raw streaming time per record) ÷ (leaf call + node call).
 */
async function hashCallCosts(): Promise<Record<string, string>> {
  const segs = join(verifyDir, 'segments')
  const first = readdirSync(segs).sort()[0]!
  const fh = await open(join(segs, first), 'r')
  const head = new Uint8Array(4096)
  await fh.read(head, 0, head.length, 0)
  await fh.close()
  const line = head.subarray(0, head.indexOf(0x0a))
  const leafIn = new Uint8Array(line.length + 1)
  leafIn.set(line, 1)
  const nodeIn = new Uint8Array(65).fill(1)
  const perCall = (data: Uint8Array): number => {
    const n = 50_000
    const runs: number[] = []
    for (let r = 0; r < 5; r++) {
      const t = performance.now()
      for (let i = 0; i < n; i++) nodeCrypto.hash('sha256', data, 'binary')
      runs.push(((performance.now() - t) * 1e6) / n)
    }
    return median(runs)
  }
  const leafNs = perCall(leafIn)
  const nodeNs = perCall(nodeIn)
  const big = new Uint8Array(32 << 20).fill(0x61)
  const rawRuns: number[] = []
  for (let r = 0; r < 3; r++) {
    const t = performance.now()
    nodeCrypto.createHash('sha256').update(big).digest()
    rawRuns.push(((performance.now() - t) * 1e6) / big.length)
  }
  const rawNsPerRecord = median(rawRuns) * (verifyBytes / VERIFY_RECORDS)
  return {
    'crypto.hash leaf call': `${leafNs.toFixed(0)} ns (${line.length + 1} B)`,
    'node call': `${nodeNs.toFixed(0)} ns (65 B)`,
    'raw streaming per record': `${rawNsPerRecord.toFixed(0)} ns`,
    'single-thread ceiling': `${(rawNsPerRecord / (leafNs + nodeNs)).toFixed(2)}×`,
  }
}

/**
 * The limit: node:crypto SHA-256 over the segment files in a synchronous loop, read in 1 MiB chunks
 * into one buffer (see sha-rates.ts): 5 runs, the median.
 */
async function measureRawSha(): Promise<{ value: number }> {
  const runs: number[] = []
  for (let i = 0; i < 5; i++) runs.push(rawFileRate(verifyDir, verifyBytes))
  return { value: median(runs) }
}

/**
 * Both sides again in a child process started with `OPENSSL_ia32cap=:~0x20000000`, which turns off
 * OpenSSL's use of the SHA extensions (SHA-NI), as on CPUs without them (the issue's ~330 MB/s
 * machine). The child first checks that raw SHA-256 really slowed down; the figures are reported
 * only if it did.
 */
let noShaNi: { verify: number; raw: number } | null = null

async function measureNoShaNi(): Promise<{ value: number; extra?: Record<string, string> }> {
  const child = fileURLToPath(new URL('./verify-child.ts', import.meta.url))
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--conditions=@safeguards/source', '--import', 'tsx', child, verifyDir, String(verifyBytes)],
      { env: { ...process.env, OPENSSL_ia32cap: ':~0x20000000' }, maxBuffer: 1 << 20 },
      (error, stdout) => (error === null ? resolve(stdout) : reject(error)),
    )
  })
  const r = JSON.parse(out) as { verify: number; raw: number; memory: number }
  const here = memoryRate()
  // SHA-NI is 3-5x faster than OpenSSL's SSE/AVX SHA-256: anything above 0.6x means it stayed on.
  if (r.memory > here * 0.6)
    throw new Error(
      `OPENSSL_ia32cap was not honoured: in-memory SHA-256 ${r.memory.toFixed(0)} MB/s in the child, ${here.toFixed(0)} MB/s here`,
    )
  noShaNi = r
  return {
    value: r.verify,
    extra: {
      'in-memory SHA-256, SHA-NI on (this process)': `${here.toFixed(0)} MB/s`,
      'SHA-NI off (child)': `${r.memory.toFixed(0)} MB/s`,
    },
  }
}

// ---- inclusion proof in a 1,000,000-record tree -------------------------------------------------
const TREE_SIZE = 1_000_000
let tree: MerkleTree | null = null
let sampleLeaves: { i: number; leaf: Uint8Array }[] = []

function setupTree(): void {
  tree = new MerkleTree()
  const sample = new Set(Array.from({ length: 256 }, (_, k) => Math.floor((k * 3_906.25 + 17) % TREE_SIZE)))
  sampleLeaves = []
  for (let i = 0; i < TREE_SIZE; i++) {
    const leaf = leafHash(utf8Encode(`{"seq":${i}}`))
    tree.append(leaf)
    if (sample.has(i)) sampleLeaves.push({ i, leaf })
  }
}

async function measureProof(): Promise<{ value: number; extra?: Record<string, string> }> {
  const t = tree!
  const root = t.root()
  const times: number[] = []
  for (let round = 0; round < 8; round++) {
    for (const { i, leaf } of sampleLeaves) {
      const t0 = performance.now()
      const proof = t.inclusionProof(i, TREE_SIZE)
      const ok = verifyInclusion(leaf, i, TREE_SIZE, proof, root)
      times.push(performance.now() - t0)
      if (!ok) throw new Error('proof failed')
    }
  }
  times.sort((a, b) => a - b)
  const p50 = times[Math.floor(times.length / 2)]!
  const p99 = times[Math.floor(times.length * 0.99)]!
  return { value: p50, extra: { p99: `${p99.toFixed(3)} ms` } }
}

/** Verifying the bench log with `workers`, against reading and hashing its bytes in one thread. */
function verifyCase(what: string, ours: string, workers: 0 | 'auto'): Scenario {
  return {
    name: `verify a ${VERIFY_RECORDS / 1000}k-record log, ${what}`,
    unit: 'MB/s',
    ours: { name: ours, measure: () => measureVerify(workers) },
    limit: {
      name: 'read + SHA-256 loop over the same file bytes (sync, one thread)',
      measure: measureRawSha,
    },
    rounds: 3,
    target: { ratio: 0.5, text: '≥ 0.5× limit (raw SHA-256)' },
    setup: setupVerify,
  }
}

/** The two durabilities the append scenarios run with: how their names begin, and our side's name. */
const APPEND_MODES = {
  fsync: {
    what: 'append, file store, durable group commit',
    ours: '@safeguards/audit-log file store (fdatasync)',
  },
  none: {
    what: 'append, file store WITHOUT fsync (CPU side only)',
    ours: "@safeguards/audit-log file store (durability: 'none')",
  },
} as const

/** Appending with `appenders` concurrent appenders, against pino writing the same events to a file. */
function appendCase(
  durability: keyof typeof APPEND_MODES,
  appenders: number,
  target: NonNullable<Scenario['target']>,
  more = '',
): Scenario {
  return {
    name: `${APPEND_MODES[durability].what}, ${appenders} concurrent appenders${more}`,
    unit: 'events/s',
    ours: { name: APPEND_MODES[durability].ours, measure: () => measureOurs(durability, appenders) },
    anchor: { name: 'pino to a file, no fsync', measure: measurePino },
    target,
    teardown: removeDirs,
  }
}

/** The index's upkeep: the same appends with the index (ours) and with `index: false` (the anchor). */
function indexUpkeepCase(
  durability: keyof typeof APPEND_MODES,
  rounds: number,
  target: NonNullable<Scenario['target']>,
): Scenario {
  return {
    name: `${APPEND_MODES[durability].what}, ${APPENDERS} concurrent appenders: index upkeep on vs off`,
    unit: 'events/s',
    ours: {
      name: 'file store with its index (the default)',
      measure: () => measureOurs(durability, APPENDERS, true),
    },
    anchor: {
      name: 'file store with index: false',
      measure: () => measureOurs(durability, APPENDERS, false),
    },
    rounds,
    target,
    teardown: removeDirs,
  }
}

const scenarios: Scenario[] = [
  appendCase('fsync', APPENDERS, { ratio: 0.25, value: 50_000, text: '≥ 50k/s and ≥ 0.25× pino' }),
  appendCase(
    'fsync',
    1024,
    { text: 'reported only (not the issue workload: shows the in-flight ÷ commit bound)' },
    ' (more events in flight)',
  ),
  appendCase('none', APPENDERS, { text: 'reported only (shows the fsync share)' }),
  indexUpkeepCase('fsync', 7, { ratio: 0.9, text: '≥ 0.9× without the index (upkeep ≤ 10%)' }),
  indexUpkeepCase('none', 5, { text: "reported only (the upkeep's CPU share, which fsync hides)" }),
  verifyCase('one thread', '@safeguards/audit-log verifyLog (workers: 0)', 0),
  verifyCase('worker threads (the default)', "@safeguards/audit-log verifyLog (workers: 'auto')", 'auto'),
  {
    name: `verify a ${VERIFY_RECORDS / 1000}k-record log, worker threads, both sides WITHOUT SHA extensions (OPENSSL_ia32cap=:~0x20000000)`,
    unit: 'MB/s',
    ours: { name: "@safeguards/audit-log verifyLog (workers: 'auto'), SHA-NI off", measure: measureNoShaNi },
    limit: {
      name: 'read + SHA-256 loop over the same file bytes (sync, one thread), SHA-NI off',
      measure: async () => ({ value: noShaNi!.raw }),
    },
    target: { text: "reported (hardware like the issue author's: ~330 MB/s SHA-256)" },
    teardown: removeDirs,
  },
  {
    name: 'inclusion proof, one record of a 1,000,000-record log (produce + check)',
    unit: 'ms',
    lowerIsBetter: true,
    ours: {
      name: '@safeguards/audit-log MerkleTree.inclusionProof + verifyInclusion',
      measure: measureProof,
    },
    target: { value: 1, text: '< 1 ms' },
    setup: setupTree,
    teardown: () => {
      tree = null
    },
  },
]

export default scenarios
