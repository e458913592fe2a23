/**
 * Atomic file replacement: write a sibling temporary file, fsync it, then rename it over the
 * target, so readers (Prometheus' textfile collector, the next verifier run) never see a partial
 * file.
 *
 * @module
 */
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { bytesToHex, randomBytes } from '@safeguards/core'

/** Writes `data` to `path` atomically (same directory temp file + fsync + rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${bytesToHex(randomBytes(8))}.tmp`)
  const handle = await open(tmp, 'wx', mode)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await rm(tmp, { force: true })
    throw error
  }
  await handle.close()
  try {
    await rename(tmp, path)
  } catch (error) {
    await rm(tmp, { force: true })
    throw error
  }
}
