/**
 * Backup verification benchmarks (`pnpm bench backup`).
 *
 * 1. The target: verifying a 1 GiB bag of 500 files must be ≥ 1.3× faster than
 *    `sha256sum -c` over the same manifest. Our side is the default verification (every stage,
 *    BOTH SHA-512 and SHA-256 of every file, in one pass per file, on worker threads); the anchor
 *    spawns coreutils `sha256sum -c --quiet manifest-sha256.txt` in the bag. Rounds alternate
 *    (ours, anchor, ours, anchor, …) so that load from other users of the machine hits both; the
 *    figure is the median MB/s. Files are in the page cache for both sides after the warm-up.
 * 2. The 10 GiB sparse file (moved out of the test suite for time): MB/s and the peak RSS
 *    of the whole process (main thread + hashing workers), against `sha256sum` of the same file.
 */
import { spawn } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Scenario } from '../../../scripts/bench/types.ts'
import { createBag, verifyBag } from '../src/index.js'

const MiB = 1024 * 1024
const GiB = 1024 * MiB

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] })
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))))
  })
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return (performance.now() - t0) / 1000
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

// --- 1 GiB, 500 files -------------------------------------------------------------------------
let root1 = ''
let bag1 = ''
let bytes1 = 0
let pair1: Promise<{ ours: number; anchor: number }> | undefined

async function ourVerify(bag: string): Promise<void> {
  const { report } = await verifyBag(bag)
  if (report.exitCode !== 0) throw new Error(`verify failed: ${report.exitCode}`)
}

function measurePair1(): Promise<{ ours: number; anchor: number }> {
  pair1 ??= (async () => {
    await ourVerify(bag1) // warm-up: page cache and worker start-up paths
    await run('sha256sum', ['-c', '--quiet', 'manifest-sha256.txt'], bag1)
    const ours: number[] = []
    const anchor: number[] = []
    for (let i = 0; i < 5; i++) {
      ours.push(bytes1 / (await timed(() => ourVerify(bag1))) / 1e6)
      anchor.push(
        bytes1 / (await timed(() => run('sha256sum', ['-c', '--quiet', 'manifest-sha256.txt'], bag1))) / 1e6,
      )
    }
    return { ours: median(ours), anchor: median(anchor) }
  })()
  return pair1
}

// --- 10 GiB sparse ----------------------------------------------------------------------------
let root2 = ''
let bag2 = ''
const SIZE2 = 10 * GiB

const scenarios: Scenario[] = [
  {
    name: 'verify a 1 GiB bag of 500 files',
    unit: 'MB/s',
    async setup() {
      root1 = mkdtempSync(join(tmpdir(), 'sg-backup-bench-'))
      const src = join(root1, 'src')
      mkdirSync(src)
      const buf = new Uint8Array(4 * MiB)
      bytes1 = 0
      for (let i = 0; i < 500; i++) {
        // Sizes from 1 to ~3.1 MiB, 1 GiB in total.
        const size = i === 499 ? GiB - bytes1 : Math.floor(MiB + ((i * 7919) % 500) * 4400)
        randomFillSync(buf, 0, size)
        const fd = openSync(join(src, `part-${String(i).padStart(3, '0')}.bin`), 'w')
        writeSync(fd, buf, 0, size)
        closeSync(fd)
        bytes1 += size
      }
      bag1 = (await createBag(src, join(root1, 'bag'), { move: true })).bagDir
    },
    teardown() {
      rmSync(root1, { recursive: true, force: true })
      pair1 = undefined
    },
    ours: {
      name: '@safeguards/backup verifyBag (SHA-512 + SHA-256, all stages)',
      measure: async () => ({ value: (await measurePair1()).ours }),
    },
    anchor: {
      name: 'sha256sum -c (coreutils, SHA-256 only)',
      measure: async () => ({ value: (await measurePair1()).anchor }),
    },
    target: { ratio: 1.3, text: '≥ 1.3× sha256sum -c' },
  },
  {
    name: 'verify a 10 GiB sparse file (bounded memory)',
    unit: 'MB/s',
    async setup() {
      root2 = mkdtempSync(join(tmpdir(), 'sg-backup-bench-'))
      const src = join(root2, 'src')
      mkdirSync(src)
      const fd = openSync(join(src, 'disk.img'), 'w')
      writeSync(fd, new Uint8Array([1]), 0, 1, SIZE2 - 1)
      closeSync(fd)
      bag2 = (await createBag(src, join(root2, 'bag'), { move: true })).bagDir
    },
    teardown() {
      rmSync(root2, { recursive: true, force: true })
    },
    ours: {
      name: '@safeguards/backup verifyBag (SHA-512 + SHA-256)',
      measure: async () => {
        let peak = process.memoryUsage().rss
        const timer = setInterval(() => {
          peak = Math.max(peak, process.memoryUsage().rss)
        }, 50)
        const s = await timed(() => ourVerify(bag2))
        clearInterval(timer)
        return { value: SIZE2 / s / 1e6, extra: { 'peak RSS': `${Math.round(peak / MiB)} MiB` } }
      },
    },
    anchor: {
      name: 'sha256sum (coreutils, SHA-256 only)',
      measure: async () => ({
        value: SIZE2 / (await timed(() => run('sha256sum', ['data/disk.img'], bag2))) / 1e6,
      }),
    },
    target: { text: 'reported; RSS stays flat' },
  },
]
export default scenarios
