/**
 * Backup verification benchmarks (`pnpm bench backup`). Each scenario has two comparisons, measured
 * in the same run in alternating rounds (ours, peer, limit, ours, …) so that load from other users
 * of the machine hits all three; the figure is the median MB/s, the notes give each side's range.
 *
 * - the **peer**: what a user would run instead: coreutils `sha256sum -c` / `sha512sum -c` over the
 *   bag's manifests. (bagit-python would be the other natural peer; it is not packaged for Debian
 *   12 and PyPI is not reachable from the project's machine, so it is not measured.) Coreutils 9.1
 *   does not use the CPU's SHA extensions, while OpenSSL (so Node) does: against this peer we look
 *   faster than we are.
 * - the **limit** (`./limit.ts`): the fastest plain loop that reads the same bytes and computes
 *   the same hashes in this process, on as many threads as the verifier uses. Targets are set
 *   against the limit.
 *
 * 1. Verifying a 1 GiB bag of 500 files with the SHA-256 manifest only (the work `sha256sum -c`
 *    does): ours checks `manifestAlgorithms: ['sha256']` with every other stage in full (paths,
 *    completeness, Payload-Oxum) on worker threads. The original target was ≥ 1.3× the
 *    peer; from now on the target is against the limit.
 * 2. The default verification (SHA-512 AND SHA-256 of every file, one pass per file) against the
 *    same work by the peer (`sha512sum -c` then `sha256sum -c`) and by the limit.
 * 3. The 10 GiB sparse file (moved out of the test suite for time): MB/s and the peak RSS
 *    of the whole process (main thread + hashing workers). One file, so one hashing thread on
 *    every side.
 *
 * Files are in the page cache for every side after the warm-up.
 */
import { spawn } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Scenario } from '../../../scripts/bench/types.ts'
import { createBag, verifyBag } from '../src/index.js'
import { type HashLimit, hashLimit } from './limit.ts'

const MiB = 1024 * 1024
const GiB = 1024 * MiB

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] })
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))))
  })
}

/** The peer for both manifests: what a user types, one coreutils tool after the other. */
async function coreutilsBoth(bag: string): Promise<void> {
  await run('sha512sum', ['-c', '--quiet', 'manifest-sha512.txt'], bag)
  await run('sha256sum', ['-c', '--quiet', 'manifest-sha256.txt'], bag)
}

/** The payload files of a bag (flat `data/`, as the bench's bags are). */
const payload = (bag: string): string[] => readdirSync(join(bag, 'data')).map((f) => join(bag, 'data', f))

let limit: HashLimit | null = null
async function startLimit(files: string[], algorithms: string[]): Promise<void> {
  limit = hashLimit(files, algorithms)
  process.stderr.write(`bench: limit on ${limit.threads} thread(s), ${algorithms.join(' + ')}\n`)
}
async function stopLimit(): Promise<void> {
  await limit?.close()
  limit = null
}

// --- 1 GiB, 500 files -------------------------------------------------------------------------
// Op sides: the harness times a warm-up and 5 alternating rounds (ours, peer, limit, ours, …) of
// one verification each and reports the median.
let root1 = ''
let bag1 = ''

async function ourVerify(bag: string, manifestAlgorithms?: string[]): Promise<void> {
  const { report } = await verifyBag(bag, manifestAlgorithms === undefined ? {} : { manifestAlgorithms })
  if (report.exitCode !== 0) throw new Error(`verify failed: ${report.exitCode}`)
}

async function ensureBag1(): Promise<void> {
  if (bag1 !== '') return
  root1 = mkdtempSync(join(tmpdir(), 'sg-backup-bench-'))
  process.once('exit', () => rmSync(root1, { recursive: true, force: true }))
  const src = join(root1, 'src')
  mkdirSync(src)
  const buf = new Uint8Array(4 * MiB)
  let bytes = 0
  for (let i = 0; i < 500; i++) {
    // Sizes from 1 to ~3.1 MiB, exactly 1 GiB in total.
    const size = i === 499 ? GiB - bytes : Math.floor(MiB + ((i * 7919) % 500) * 4400)
    randomFillSync(buf, 0, size)
    const fd = openSync(join(src, `part-${String(i).padStart(3, '0')}.bin`), 'w')
    writeSync(fd, buf, 0, size)
    closeSync(fd)
    bytes += size
  }
  bag1 = (await createBag(src, join(root1, 'bag'), { move: true })).bagDir
}

/** A scenario on the 1 GiB bag: our verifier (all manifests, or `algorithms` only), a peer, the limit. */
function bag1Scenario(o: {
  name: string
  algorithms: string[] | undefined
  ours: string
  anchor: NonNullable<Scenario['anchor']>
  limit: string
  target: NonNullable<Scenario['target']>
}): Scenario {
  return {
    name: o.name,
    unit: 'MB/s',
    bytesPerOp: GiB,
    timeMs: 500,
    async setup() {
      await ensureBag1()
      await startLimit(payload(bag1), o.algorithms ?? ['sha512', 'sha256'])
    },
    teardown: stopLimit,
    ours: { name: o.ours, op: () => ourVerify(bag1, o.algorithms) },
    anchor: o.anchor,
    limit: { name: o.limit, op: () => limit!.run() },
    target: o.target,
  }
}

// --- 10 GiB sparse ----------------------------------------------------------------------------
let root2 = ''
let bag2 = ''
const SIZE2 = 10 * GiB
let peakRss = 0

const scenarios: Scenario[] = [
  bag1Scenario({
    name: 'verify a 1 GiB bag of 500 files: the SHA-256 manifest, as sha256sum -c does',
    algorithms: ['sha256'],
    ours: "@safeguards/backup verifyBag, manifestAlgorithms ['sha256'] (all stages)",
    anchor: {
      name: 'sha256sum -c (coreutils 9.1, SHA-256 only, no SHA extensions)',
      op: () => run('sha256sum', ['-c', '--quiet', 'manifest-sha256.txt'], bag1),
    },
    limit: 'plain read + SHA-256 loop, same threads',
    target: { ratio: 0.8, text: '≥ 0.8× limit (was ≥ 1.3× sha256sum -c)' },
  }),
  bag1Scenario({
    name: 'verify a 1 GiB bag of 500 files: both manifests (the default)',
    algorithms: undefined,
    ours: '@safeguards/backup verifyBag (SHA-512 + SHA-256, all stages)',
    anchor: { name: 'sha512sum -c, then sha256sum -c (coreutils 9.1)', op: () => coreutilsBoth(bag1) },
    limit: 'plain read + SHA-512 + SHA-256 loop, same threads',
    target: { ratio: 0.8, text: '≥ 0.8× limit' },
  }),
  {
    name: 'verify a 10 GiB sparse file (bounded memory)',
    unit: 'MB/s',
    bytesPerOp: SIZE2,
    timeMs: 500,
    // About a minute per operation and side here: two alternating rounds, no warm-up (the file is
    // sparse, so there is no page cache to fill).
    rounds: 2,
    warmup: false,
    async setup() {
      root2 = mkdtempSync(join(tmpdir(), 'sg-backup-bench-'))
      const src = join(root2, 'src')
      mkdirSync(src)
      const fd = openSync(join(src, 'disk.img'), 'w')
      writeSync(fd, new Uint8Array([1]), 0, 1, SIZE2 - 1)
      closeSync(fd)
      bag2 = (await createBag(src, join(root2, 'bag'), { move: true })).bagDir
      peakRss = process.memoryUsage().rss
    },
    teardown() {
      rmSync(root2, { recursive: true, force: true })
      process.stderr.write(
        `bench: 10 GiB sparse file: peak RSS during verification ${Math.round(peakRss / MiB)} MiB\n`,
      )
    },
    ours: {
      name: '@safeguards/backup verifyBag (SHA-512 + SHA-256)',
      op: async () => {
        const timer = setInterval(() => {
          peakRss = Math.max(peakRss, process.memoryUsage().rss)
        }, 50)
        try {
          await ourVerify(bag2)
        } finally {
          clearInterval(timer)
        }
      },
    },
    anchor: {
      name: 'sha512sum -c, then sha256sum -c (coreutils 9.1)',
      op: () => coreutilsBoth(bag2),
    },
    limit: {
      // Started and stopped per operation (a few ms of a minute) so that no idle limit worker
      // counts in the verifier's peak RSS.
      name: 'plain read + SHA-512 + SHA-256 loop, one thread',
      op: async () => {
        const once = hashLimit(payload(bag2), ['sha512', 'sha256'])
        try {
          await once.run()
        } finally {
          await once.close()
        }
      },
    },
    target: { ratio: 0.8, text: '≥ 0.8× limit; peak RSS on stderr' },
  },
]
export default scenarios
