/**
 * Anchors: copies of signed checkpoints kept where the log's writer cannot rewrite them. The
 * verifier recomputes the root at every anchored size and compares it, so a truncated log, or one
 * whose suffix was rewritten with fresh hashes, no longer matches.
 *
 * {@link directoryAnchor} is the embedded default: a directory (ideally on another host, a
 * WORM/object-lock mount, or a backup medium) where each checkpoint is written once under its chain
 * index with exclusive create; a different checkpoint at an existing index is refused (that would
 * be equivocation). A file appears whole or not at all (written and synced under a temporary name,
 * then hard-linked into place), so a verifier listing the directory while a writer anchors never
 * reads half a checkpoint. The {@link AnchorSink} interface admits S3 Object Lock, an RFC 3161 timestamping
 * authority or a C2SP witness later.
 *
 * HIPAA: 164.312(b) audit controls: protection of the trail itself (SP 800-53 AU-9), tamper
 * evidence that survives a compromised writer, with checkpoints kept apart from the log.
 *
 * @module
 */
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { canonicalize } from '@safeguards/core'
import { errorCode, fsyncDirSync } from '@safeguards/core/node'
import { AuditStoreError, CheckpointError } from './errors.js'
import { assertStreamId } from './record.js'
import type { StoredCheckpoint } from './store.js'

/** A checkpoint as anchored: the stored checkpoint plus its chain index. */
export interface AnchoredCheckpoint extends StoredCheckpoint {
  /** The checkpoint's chain index. */
  readonly index: number
}

/**
 * Where checkpoints are copied. The log anchors a checkpoint only after the store has it, so every
 * anchored checkpoint is also in the store; the verifier relies on that when it lists the anchor
 * before reading the store's checkpoints (see {@link verifyLog}).
 */
export interface AnchorSink {
  /**
   * Stores a checkpoint for `origin`, write-once per index.
   *
   * @throws {CheckpointError} when a different checkpoint is already anchored at that index.
   * @throws {AuditStoreError} on I/O failure.
   */
  put(origin: string, checkpoint: AnchoredCheckpoint): Promise<void>
  /**
   * Every anchored checkpoint of `origin`, by index (empty when none was anchored).
   *
   * @throws {AuditStoreError} on I/O failure, or when the anchor itself is missing (a directory
   *   anchor whose directory does not exist).
   */
  list(origin: string): Promise<readonly AnchoredCheckpoint[]>
}

let tmpCounter = 0
let host: string | undefined

/** Writes `text` to `path` and syncs it; the file must not exist (`wx`). */
function writeSynced(path: string, text: string): void {
  const fd = openSync(path, 'wx', 0o644)
  try {
    const bytes = new TextEncoder().encode(text)
    let written = 0
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * Creates `path` with `text` whole or not at all: the text goes to a temporary file first, which is
 * then hard-linked to `path` (`link` fails with `EEXIST` when `path` exists: exclusive create).
 * Where hard links are not supported, falls back to an exclusive create of `path` itself.
 */
function createWhole(dir: string, path: string, text: string): void {
  host ??= hostname()
  const tmp = join(dir, `.tmp-${host}-${process.pid}-${(tmpCounter++).toString(36)}`)
  writeSynced(tmp, text)
  try {
    linkSync(tmp, path)
  } catch (e) {
    const code = errorCode(e)
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw e
    writeSynced(path, text)
  } finally {
    try {
      unlinkSync(tmp)
    } catch {
      /* already gone */
    }
  }
  fsyncDirSync(dir)
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * An anchor in a directory: `<dir>/<origin>/<index, 20 digits>.json`, each created exclusively and
 * atomically (a reader never sees a partly written file). `put` creates the directories it needs;
 * `list` refuses a `dir` that does not exist (a mistyped anchor path must not pass for an anchor
 * that holds nothing), and returns no checkpoint when `dir` exists without `<origin>`.
 *
 * HIPAA: 164.312(b) audit controls (protection of the trail, SP 800-53 AU-9).
 *
 * @throws {TypeError} when `dir` is not a non-empty string.
 * @example
 * ```ts
 * const anchor = directoryAnchor('/mnt/worm/audit-anchors')
 * const log = await openAuditLog({ store, signer, anchor })
 * ```
 */
export function directoryAnchor(dir: string): AnchorSink {
  if (typeof dir !== 'string' || dir === '') throw new TypeError('"dir" expected a path')
  return {
    async put(origin: string, checkpoint: AnchoredCheckpoint): Promise<void> {
      assertStreamId(origin)
      const sub = join(dir, origin)
      const path = join(sub, `${String(checkpoint.index).padStart(20, '0')}.json`)
      const text = `${canonicalize({ index: checkpoint.index, jws: checkpoint.jws, size: checkpoint.size })}\n`
      try {
        mkdirSync(sub, { recursive: true })
        createWhole(sub, path, text)
      } catch (e) {
        const code = errorCode(e)
        if (code !== 'EEXIST')
          throw new AuditStoreError(`anchor write failed (${code ?? 'unknown'})`, { cause: e })
        if (readFileSync(path, 'utf8') !== text)
          throw new CheckpointError(`a different checkpoint is already anchored at index ${checkpoint.index}`)
      }
    },
    async list(origin: string): Promise<readonly AnchoredCheckpoint[]> {
      assertStreamId(origin)
      const sub = join(dir, origin)
      let names: string[]
      try {
        names = readdirSync(sub)
      } catch (e) {
        const code = errorCode(e)
        // No checkpoint of this stream was ever anchored here; but a missing anchor directory is a
        // wrong path (a typo must not read as an empty anchor).
        if (code === 'ENOENT' && isDirectory(dir)) return []
        throw new AuditStoreError(
          code === 'ENOENT' ? 'anchor directory does not exist' : `anchor read failed (${code ?? 'unknown'})`,
          { cause: e },
        )
      }
      const out: AnchoredCheckpoint[] = []
      for (const n of names.filter((x) => /^\d{20}\.json$/.test(x)).sort()) {
        try {
          const v = JSON.parse(readFileSync(join(sub, n), 'utf8')) as Record<string, unknown>
          if (!Number.isSafeInteger(v.index) || !Number.isSafeInteger(v.size) || typeof v.jws !== 'string')
            throw new Error('shape')
          out.push({ index: v.index as number, size: v.size as number, jws: v.jws })
        } catch (e) {
          throw new CheckpointError(`anchored checkpoint ${n} is malformed`, { cause: e })
        }
      }
      return out
    },
  }
}
