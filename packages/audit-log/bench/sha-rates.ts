/**
 * Raw node:crypto SHA-256 rates: the verify scenarios' limit (used in-process and by
 * verify-child.ts).
 *
 * The limit is the fastest plain loop that reads the same bytes and hashes them in the same
 * process: synchronous reads into one reusable 1 MiB buffer, one running SHA-256. (An earlier
 * version awaited `FileHandle.read` into a fresh buffer per chunk: a promise round trip and a 1 MiB
 * allocation per read held it near 410–460 MB/s while this loop reaches about 1,230 MB/s on the same
 * machine, so verify looked about 0.6× raw when it was about 0.23×.)
 */
import * as nodeCrypto from 'node:crypto'
import { closeSync, openSync, readdirSync, readSync } from 'node:fs'
import { join } from 'node:path'

/** SHA-256 over every segment file of a log, read in 1 MiB chunks, in MB/s (`bytes`: their total). */
export function rawFileRate(dir: string, bytes: number): number {
  const segs = join(dir, 'segments')
  const buf = new Uint8Array(1 << 20)
  const t = performance.now()
  const h = nodeCrypto.createHash('sha256')
  for (const f of readdirSync(segs).sort()) {
    const fd = openSync(join(segs, f), 'r')
    try {
      for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n))
    } finally {
      closeSync(fd)
    }
  }
  h.digest()
  return bytes / 1e6 / ((performance.now() - t) / 1000)
}

/** SHA-256 of 32 MiB in memory (no I/O), best of 5, in MB/s: shows whether SHA-NI is in use. */
export function memoryRate(): number {
  const big = new Uint8Array(32 << 20).fill(0x61)
  const runs: number[] = []
  for (let i = 0; i < 5; i++) {
    const t = performance.now()
    nodeCrypto.createHash('sha256').update(big).digest()
    runs.push(big.length / 1e6 / ((performance.now() - t) / 1000))
  }
  return Math.max(...runs)
}
