/** Raw node:crypto SHA-256 rates, the verify scenarios' anchor (used in-process and by verify-child.ts). */
import * as nodeCrypto from 'node:crypto'
import { readdirSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'

/** SHA-256 over every segment file of a log, read in 1 MiB chunks, in MB/s (`bytes`: their total). */
export async function rawFileRate(dir: string, bytes: number): Promise<number> {
  const segs = join(dir, 'segments')
  const t = performance.now()
  const h = nodeCrypto.createHash('sha256')
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
