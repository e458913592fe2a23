/**
 * The file store's `checkpoints.jsonl`: one stored checkpoint (`{"jws":…,"size":…}`, canonical)
 * per line, in write order. A last line without its newline is a torn write: never acknowledged,
 * ignored by readers and cut by the next writer.
 *
 * @module
 */
import { closeSync, fstatSync, ftruncateSync, readFileSync } from 'node:fs'
import { canonicalize, utf8Encode } from '@safeguards/core'
import { errorCode, fsyncDirSync } from '@safeguards/core/node'
import { AuditConflictError, CheckpointError } from '../../errors.js'
import type { StoredCheckpoint } from '../../store.js'
import { datasync, ioError, NL, openOrFail, writeAll } from './segments.js'

/** The stored checkpoints of `cpPath` (none when the file does not exist). */
export function readCheckpointLines(cpPath: string): StoredCheckpoint[] {
  let text: string
  try {
    text = readFileSync(cpPath, 'utf8')
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return []
    throw ioError('read checkpoints', e)
  }
  const out: StoredCheckpoint[] = []
  const lines = text.split('\n')
  // A last line without newline is a torn checkpoint write: not acknowledged, ignored.
  for (let i = 0; i < lines.length - 1; i++) {
    const line = lines[i]!
    try {
      const v = JSON.parse(line) as { size?: unknown; jws?: unknown }
      if (!Number.isSafeInteger(v.size) || typeof v.jws !== 'string') throw new Error('shape')
      out.push({ size: v.size as number, jws: v.jws })
    } catch (e) {
      throw new CheckpointError(`checkpoint line ${i + 1} is not a stored checkpoint`, { cause: e })
    }
  }
  return out
}

/** How {@link appendCheckpointLine} writes. */
export interface CheckpointWrite {
  /** The log directory (fsynced when the file is created). */
  dir: string
  /** Throws unless the inter-process lock is still ours (checked just before the write). */
  assertHeld: () => void
  /** `fdatasync` before returning. */
  durable: boolean
}

/**
 * Appends `checkpoint` as line `expectedCount` (0-based), under the caller's lock: cuts a torn last
 * line first, and refuses with a conflict when another writer appended one.
 */
export async function appendCheckpointLine(
  cpPath: string,
  expectedCount: number,
  checkpoint: StoredCheckpoint,
  how: CheckpointWrite,
): Promise<void> {
  const fd = openOrFail(cpPath, 'a+', 'checkpoints')
  try {
    // Cut a torn last line first, so the new line starts clean.
    const size = fstatSync(fd).size
    if (size > 0) {
      const all = readFileSync(cpPath)
      const lastNl = all.lastIndexOf(NL)
      if (lastNl !== all.length - 1) ftruncateSync(fd, lastNl + 1)
    }
    const count = readCheckpointLines(cpPath).length
    if (count !== expectedCount) throw new AuditConflictError(expectedCount, count)
    const line = utf8Encode(`${canonicalize({ jws: checkpoint.jws, size: checkpoint.size })}\n`)
    how.assertHeld()
    writeAll(fd, line)
    if (how.durable) await datasync(fd)
    if (size === 0) fsyncDirSync(how.dir)
  } finally {
    closeSync(fd)
  }
}
