/**
 * A resumable, idempotent key-rotation job: walks a table of envelope ciphertexts in key order,
 * rewraps every one still under an old key version to the keyring's primary (header only, the
 * plaintext is never produced), checkpoints its position to a file after each batch, and retires
 * the old versions once a full pass finds none left under them.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import {
  type EncryptionContext,
  type Envelope,
  inspectEnvelope,
  type LocalKeyring,
} from '@safeguards/envelope'

/** One encrypted field, bound to its context (table, column, row). */
export interface EncryptedRow {
  readonly id: string
  readonly context: EncryptionContext
  readonly ciphertext: Uint8Array
}

/** Where the rows live. A database table in production; {@link memoryTable} here. */
export interface RowTable {
  /** Up to `limit` rows with `id > after`, in ascending id order. */
  page(after: string | null, limit: number): Promise<EncryptedRow[]>
  /** Compare-and-swap: replaces the ciphertext only if it is still `expected`; returns whether it did. */
  replace(id: string, expected: Uint8Array, next: Uint8Array): Promise<boolean>
}

/** The job's options. */
export interface RotationJobOptions {
  envelope: Envelope
  keyring: LocalKeyring
  table: RowTable
  /** The checkpoint file (JSON `{ after }`), written atomically after each batch. */
  checkpointFile: string
  /** Rows per page (default 100). */
  batchSize?: number
  /** Stop after this many batches (to bound a run, or to simulate an interruption in tests). */
  maxBatches?: number
  /** Stop between batches when aborted (a deploy, a SIGTERM). */
  signal?: AbortSignal
}

/** What a run did. */
export interface RotationReport {
  /** `true` once a full pass completed (the checkpoint is then reset). */
  complete: boolean
  scanned: number
  rewrapped: number
  /** Rows changed by someone else between read and write (picked up on the next pass). */
  conflicts: number
  /** Versions retired at the end of a complete pass with none left under them. */
  retired: number[]
  /** Rows still under a non-primary version after the pass, by key reference. */
  remaining: Record<string, number>
}

function readCheckpoint(file: string): string | null {
  if (!existsSync(file)) return null
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { after?: unknown }
  return typeof parsed.after === 'string' ? parsed.after : null
}

function writeCheckpoint(file: string, after: string | null): void {
  const tmp = `${file}.tmp`
  writeFileSync(tmp, `${JSON.stringify({ after })}\n`)
  renameSync(tmp, file) // atomic: a crash leaves the old or the new checkpoint, never half of one
}

/**
 * Runs (or resumes) the rotation. Safe to run any number of times: rows already under the
 * primary are skipped, a row changed concurrently is left for the next pass, and retirement
 * happens only after a complete pass proves that no row still needs the old version.
 *
 * HIPAA: 164.312(a)(2)(iv) encryption and decryption (key lifecycle), 164.308(a)(1)(ii)(B) risk
 * management (limiting how much data one key protects).
 */
export async function runRotationJob(options: RotationJobOptions): Promise<RotationReport> {
  const { envelope, keyring, table, checkpointFile } = options
  const batchSize = options.batchSize ?? 100
  let after = readCheckpoint(checkpointFile)
  const report: RotationReport = {
    complete: false,
    scanned: 0,
    rewrapped: 0,
    conflicts: 0,
    retired: [],
    remaining: {},
  }
  let batches = 0
  for (;;) {
    if (options.signal?.aborted) return report
    if (options.maxBatches !== undefined && batches >= options.maxBatches) return report
    const rows = await table.page(after, batchSize)
    if (rows.length === 0) break
    for (const row of rows) {
      report.scanned++
      if (!(await envelope.needsRewrap(row.ciphertext))) continue
      const next = await envelope.rewrap(row.ciphertext, row.context)
      if (await table.replace(row.id, row.ciphertext, next)) report.rewrapped++
      else report.conflicts++
    }
    after = (rows[rows.length - 1] as EncryptedRow).id
    writeCheckpoint(checkpointFile, after)
    batches++
  }

  // A full pass is done: count what is still under an old version (conflicts, concurrent writers).
  const primary = (await keyring.primary()).keyRef
  for (let cursor: string | null = null; ; ) {
    const rows = await table.page(cursor, batchSize)
    if (rows.length === 0) break
    for (const row of rows) {
      for (const k of inspectEnvelope(row.ciphertext).keys)
        if (k.keyRef !== primary) report.remaining[k.keyRef] = (report.remaining[k.keyRef] ?? 0) + 1
    }
    cursor = (rows[rows.length - 1] as EncryptedRow).id
  }
  for (const key of await keyring.list()) {
    if (key.state !== 'decrypt-only' || key.retired) continue
    if ((report.remaining[key.keyRef] ?? 0) > 0) continue
    await keyring.retire(key.version)
    report.retired.push(key.version)
  }
  writeCheckpoint(checkpointFile, null)
  report.complete = true
  return report
}

/** An in-memory table (a `Map` kept in id order on read). Stands in for a database table. */
export function memoryTable(rows: Iterable<EncryptedRow> = []): RowTable & {
  rows: Map<string, EncryptedRow>
} {
  const map = new Map<string, EncryptedRow>()
  for (const r of rows) map.set(r.id, r)
  return {
    rows: map,
    async page(after, limit) {
      return [...map.values()]
        .filter((r) => after === null || r.id > after)
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .slice(0, limit)
    },
    async replace(id, expected, next) {
      const row = map.get(id)
      if (!row || row.ciphertext !== expected) return false
      map.set(id, { ...row, ciphertext: next })
      return true
    },
  }
}
