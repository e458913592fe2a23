import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { utf8Encode } from '@safeguards/core'
import pino from 'pino'
import type { Scenario } from '../../../scripts/bench/types.ts'
import {
  type AuditEvent,
  createCheckpointSigner,
  generateCheckpointKey,
  leafHash,
  MerkleTree,
  openAuditLog,
  openFileStore,
  verifyInclusion,
  verifyLog,
} from '../src/index.js'

const dirs: string[] = []
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sg-audit-bench-'))
  dirs.push(d)
  return d
}

function event(i: number): AuditEvent {
  return {
    type: 'rest',
    subtype: ['read'],
    action: 'R',
    outcome: 0,
    agents: [{ who: `Practitioner/${i % 997}`, requestor: true, type: 'humanuser', role: ['doctor'] }],
    source: { observer: 'ehr-api', site: 'clinic-1' },
    patient: `Patient/${i}`,
    entities: [{ what: `Observation/${i * 7}`, type: '2', role: '4' }],
    requestId: `req-${i}`,
  }
}

const APPENDERS = 64
const APPEND_MS = 3000

/** 64 appenders, each awaiting its own durable append before the next. */
async function measureOurs(
  durability: 'fsync' | 'none' = 'fsync',
): Promise<{ value: number; extra?: Record<string, string> }> {
  const key = await generateCheckpointKey()
  const log = await openAuditLog({
    store: await openFileStore({ dir: tempDir(), stream: 'bench', durability }),
    signer: await createCheckpointSigner(key.privateJwk),
    checkpointEvery: { records: 10_000, ms: 60_000 },
  })
  let n = 0
  let stop = false
  const start = performance.now()
  const workers = Array.from({ length: APPENDERS }, async (_, w) => {
    let i = w
    while (!stop) {
      await log.append(event(i))
      i += APPENDERS
      n++
    }
  })
  setTimeout(() => {
    stop = true
  }, APPEND_MS)
  await Promise.all(workers)
  const secs = (performance.now() - start) / 1000
  await log.close()
  return { value: n / secs }
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

async function setupVerify(): Promise<void> {
  verifyDir = tempDir()
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

async function measureVerify(): Promise<{ value: number; extra?: Record<string, string> }> {
  const store = await openFileStore({ dir: verifyDir, readOnly: true })
  const runs: number[] = []
  for (let i = 0; i < 3; i++) {
    const t = performance.now()
    const report = await verifyLog(store)
    if (!report.ok) throw new Error('bench log does not verify')
    runs.push(verifyBytes / 1e6 / ((performance.now() - t) / 1000))
  }
  runs.sort((a, b) => a - b)
  return { value: runs[1]!, extra: { records: String(VERIFY_RECORDS) } }
}

async function measureRawSha(): Promise<{ value: number }> {
  const segs = join(verifyDir, 'segments')
  const runs: number[] = []
  for (let i = 0; i < 3; i++) {
    const t = performance.now()
    const h = createHash('sha256')
    for (const f of readdirSync(segs).sort()) {
      const fh = await open(join(segs, f), 'r')
      for (;;) {
        const buf = new Uint8Array(1 << 20)
        const { bytesRead } = await fh.read(buf, 0, buf.length, null)
        if (bytesRead === 0) break
        h.update(buf.subarray(0, bytesRead))
      }
      await fh.close()
    }
    h.digest()
    runs.push(verifyBytes / 1e6 / ((performance.now() - t) / 1000))
  }
  runs.sort((a, b) => a - b)
  return { value: runs[1]! }
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

const scenarios: Scenario[] = [
  {
    name: 'append, file store, durable group commit, 64 concurrent appenders',
    unit: 'events/s',
    ours: { name: '@safeguards/audit-log file store (fdatasync)', measure: () => measureOurs('fsync') },
    anchor: { name: 'pino to a file, no fsync', measure: measurePino },
    target: { ratio: 0.25, value: 50_000, text: '≥ 50k/s and ≥ 0.25× pino' },
    teardown: () => {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
    },
  },
  {
    name: 'append, file store WITHOUT fsync (CPU side only), 64 concurrent appenders',
    unit: 'events/s',
    ours: {
      name: "@safeguards/audit-log file store (durability: 'none')",
      measure: () => measureOurs('none'),
    },
    anchor: { name: 'pino to a file, no fsync', measure: measurePino },
    target: { text: 'reported only (shows the fsync share)' },
    teardown: () => {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
    },
  },
  {
    name: `verify a ${VERIFY_RECORDS / 1000}k-record log`,
    unit: 'MB/s',
    ours: { name: '@safeguards/audit-log verifyLog', measure: measureVerify },
    anchor: { name: 'node:crypto SHA-256 over the same file bytes', measure: measureRawSha },
    target: { ratio: 0.5, text: '≥ 0.5× raw SHA-256' },
    setup: setupVerify,
    teardown: () => {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
    },
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
