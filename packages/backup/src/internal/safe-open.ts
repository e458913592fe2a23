/**
 * Opening files found by the walk, without following symlinks: `O_NOFOLLOW` refuses a final
 * symlink, `O_NONBLOCK` keeps a FIFO swapped in from blocking the open, and the device and inode
 * must still be the ones the walk saw (so a directory swapped for a symlink between the walk and
 * the open cannot redirect the read outside the bag: the inode would differ).
 *
 * @module
 */
import { constants } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import type { WalkEntry } from './walk.js'

/** Thrown when the file on disk is no longer the one the walk saw. */
export class ChangedError extends Error {}

/** Opens `path` read-only if it is still the regular file `entry` describes. */
export async function openWalked(path: string, entry: Pick<WalkEntry, 'ino' | 'dev'>): Promise<FileHandle> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  try {
    const st = await handle.stat()
    if (!st.isFile() || st.ino !== entry.ino || st.dev !== entry.dev) throw new ChangedError('changed')
    return handle
  } catch (error) {
    await handle.close()
    throw error
  }
}

/** Reads a walked file completely (tag files, and payload files for whole-file ciphers). */
export async function readWalked(path: string, entry: Pick<WalkEntry, 'ino' | 'dev'>): Promise<Uint8Array> {
  const handle = await openWalked(path, entry)
  try {
    return await handle.readFile()
  } finally {
    await handle.close()
  }
}
