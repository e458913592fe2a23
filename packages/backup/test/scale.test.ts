/**
 * Scale: 100,000 small files, and a sparse file larger than 4 GiB, in bounded memory.
 *
 * Time budget: hashing 4 GiB costs ~10 s of CPU per pass (SHA-512 + SHA-256) on this 2-core
 * machine, and far more when it is shared, so the >4 GiB test builds its bag by hand with the
 * digests precomputed (coreutils `sha512sum`/`sha256sum` over the same sparse layout) and runs
 * sampled verification, which checks structure, completeness and Payload-Oxum above 2^32 in full
 * and hashes only within the budget. The full hash of the large file (and a bit flipped past 2^32)
 * is a separate script (`pnpm --filter @safeguards/backup test:slow`, test/slow/big-file.ts), and the 10 GiB sparse file is a bench scenario
 * (`bench/backup.bench.ts`).
 *
 * The 100,000-file tree lives on /dev/shm when it exists: creating and deleting 100k inodes on the
 * shared disk takes minutes when eight engineers share it, and the file system is not what is
 * under test.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createBag, verifyBag } from '../src/index.js'
import { BIG_SIZE, bigBag } from './big-file.js'
import { codes } from './helpers.js'

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
    const bag = bigBag()
    const { report } = await verifyBag(bag, { budget: { maxBytes: 1 } })
    rmSync(dirname(bag), { recursive: true, force: true })
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([])
    expect(report.exitCode).toBe(0)
    expect(report.coverage).toMatchObject({ bytesTotal: BIG_SIZE + 1, filesVerified: 1, complete: false })
    expect(report.bag.payloadBytes).toBe(BIG_SIZE + 1)
  })

  it('a Payload-Oxum off by exactly 2^32 fails (no 32-bit truncation anywhere)', async () => {
    const bag = bigBag(false, BIG_SIZE + 1 - 2 ** 32)
    const { report } = await verifyBag(bag, { budget: { maxBytes: 1 } })
    rmSync(dirname(bag), { recursive: true, force: true })
    expect(codes(report)).toEqual(['E_OXUM_MISMATCH'])
  })
})
