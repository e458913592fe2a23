/**
 * Creates a file whole or not at all, and only once: the bytes go to a temporary file (synced),
 * which is then hard-linked to its name. `link` fails when the name exists, so when several
 * instances start together exactly one creates the file and the others read it; none ever reads a
 * half-written one.
 */
import { closeSync, fsyncSync, linkSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { bytesToHex, randomBytes } from '@safeguards/core'
import { errorCode } from '@safeguards/core/node'

/**
 * Creates `path` with `bytes` (mode `mode`) unless it exists. Resolves true when this call created
 * it, false when it was already there.
 *
 * @throws the file system's error for anything but an existing file.
 */
export function writeOnce(path: string, bytes: Uint8Array, mode = 0o600): boolean {
  const tmp = join(dirname(path), `.tmp-${bytesToHex(randomBytes(8))}`)
  const fd = openSync(tmp, 'wx', mode)
  try {
    let written = 0
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(tmp, path)
    return true
  } catch (e) {
    if (errorCode(e) === 'EEXIST') return false
    throw e
  } finally {
    unlinkSync(tmp)
  }
}
