/**
 * Scale: 100,000 small files, and a sparse file larger than 4 GiB, in bounded memory.
 *
 * Time budget: hashing 4 GiB costs ~10 s of CPU per pass (SHA-512 + SHA-256) on this 2-core
 * machine, and far more when it is shared, so the >4 GiB test builds its bag by hand with the
 * digests precomputed (coreutils `sha512sum`/`sha256sum` over the same sparse layout) and runs
 * sampled verification, which checks structure, completeness and Payload-Oxum above 2^32 in full
 * and hashes only within the budget. The full hash of the large file (and a bit flipped past 2^32)
 * runs when BACKUP_SLOW_TESTS=1, and the 10 GiB sparse file is a bench scenario
 * (`bench/backup.bench.ts`).
 *
 * The 100,000-file tree lives on /dev/shm when it exists: creating and deleting 100k inodes on the
 * shared disk takes minutes when eight engineers share it, and the file system is not what is
 * under test.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createBag, verifyBag } from '../src/index.js'
import { codes, tempDir, writeTree } from './helpers.js'

const GiB = 1024 ** 3
const BIG_SIZE = 4 * GiB + 1024 * 1024
const BIG_SHA512 =
  'c0f896d652e58fe7456514aaad7a36123d293d29c64f4b22d16a1b4ac6526fa42bc446f695b7ab77b25dd08b9a72dee800059978270786a2d4158aa29b16f267'
const BIG_SHA256 = '48c5bc7caa4a369c77b3a57b983435819d33cbbbb454b38c47e5943aca3d7702'
const SMALL_SHA512 =
  'a4abd4448c49562d828115d13a1fccea927f52b4d5459297f8b43e42da89238bc13626e43dcb38ddb082488927ec904fb42057443983e88585179d50551afe62'
const SMALL_SHA256 = '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881'

/** Writes the sparse layout whose digests are above: zeros, [1,2,3] at 4 GiB + 4 KiB, 9 at the end. */
function writeBig(path: string, flip = false): void {
  const fd = openSync(path, 'w')
  writeSync(fd, new Uint8Array([1, 2, flip ? 2 : 3]), 0, 3, 4 * GiB + 4096)
  writeSync(fd, new Uint8Array([9]), 0, 1, BIG_SIZE - 1)
  closeSync(fd)
}

function bigBag(flip = false, oxumBytes: number = BIG_SIZE + 1): string {
  const bag = tempDir('big')
  mkdirSync(join(bag, 'data'))
  writeBig(join(bag, 'data/big.img'), flip)
  writeTree(bag, {
    'data/small.txt': 'x',
    'bagit.txt': 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n',
    'bag-info.txt': `Payload-Oxum: ${oxumBytes}.2\n`,
    'manifest-sha512.txt': `${BIG_SHA512}  data/big.img\n${SMALL_SHA512}  data/small.txt\n`,
    'manifest-sha256.txt': `${BIG_SHA256}  data/big.img\n${SMALL_SHA256}  data/small.txt\n`,
  })
  return bag
}

describe('scale', () => {
  it('a bag of 100,000 small files creates and verifies in bounded memory', {
    timeout: 240_000,
  }, async () => {
    const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir()
    const root = mkdtempSync(join(base, 'sg-backup-100k-'))
    try {
      const src = join(root, 'src')
      for (let d = 0; d < 100; d++) {
        const dir = join(src, `d${d}`)
        mkdirSync(dir, { recursive: true })
        for (let f = 0; f < 1000; f++) writeFileSync(join(dir, `f${f}.txt`), `${d}/${f}\n`)
      }
      const created = await createBag(src, join(root, 'bag'), { move: true })
      expect(created.files).toBe(100_000)
      const heapBefore = process.memoryUsage().heapUsed
      let peak = 0
      const { report } = await verifyBag(created.bagDir, {
        onProgress: () => {
          peak = Math.max(peak, process.memoryUsage().heapUsed - heapBefore)
        },
      })
      expect(report.findings.filter((f) => f.severity === 'error')).toEqual([])
      expect(report.coverage).toMatchObject({ filesVerified: 100_000, complete: true })
      expect(report.counts.filesHashed).toBe(100_000)
      // Manifests of 100k entries (~20 MB of text) and the per-file state stay well under 400 MB.
      expect(peak).toBeLessThan(400 * 1024 * 1024)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('a sparse file above 4 GiB: exact sizes and Payload-Oxum past 2^32, sampled', async () => {
    const { report } = await verifyBag(bigBag(), { budget: { maxBytes: 1 } })
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([])
    expect(report.exitCode).toBe(0)
    expect(report.coverage).toMatchObject({ bytesTotal: BIG_SIZE + 1, filesVerified: 1, complete: false })
    expect(report.bag.payloadBytes).toBe(BIG_SIZE + 1)
  })

  it('a Payload-Oxum off by exactly 2^32 fails (no 32-bit truncation anywhere)', async () => {
    const { report } = await verifyBag(bigBag(false, BIG_SIZE + 1 - 2 ** 32), { budget: { maxBytes: 1 } })
    expect(codes(report)).toEqual(['E_OXUM_MISMATCH'])
  })

  it.runIf(process.env.BACKUP_SLOW_TESTS === '1')(
    'full hash of the >4 GiB file, and a bit flipped past 2^32 is found',
    { timeout: 900_000 },
    async () => {
      expect((await verifyBag(bigBag())).report.exitCode).toBe(0)
      const { report } = await verifyBag(bigBag(true))
      expect(codes(report)).toEqual(['E_DIGEST_MISMATCH', 'E_DIGEST_MISMATCH'])
    },
  )
})
