/**
 * The verifier's memory between runs, kept OUTSIDE the backup store: the newest attestation seen
 * per backup set (to detect replay and rollback, like `pg_verifybackup -m` keeps the manifest
 * apart) and per-file verification times for sampled verification (least recently verified
 * first, so repeated budgeted runs cover everything).
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { parseJson, utf8Encode } from '@safeguards/core'
import { errorCode, writeFileAtomic } from '@safeguards/core/node'
import { BackupStateError } from './errors.js'

/** The newest attestation accepted for one backup set. */
export interface ChainHead {
  /** Its sequence number. */
  seq: number
  /** SHA-256 (hex) of its compact JWS. */
  attestationSha256: string
  /** Its signed creation time. */
  createdAt: string
}

/** When one payload file was last hashed, and whether it matched. */
export interface FileCoverage {
  /** Milliseconds since the epoch. */
  at: number
  /** True when every digest matched. */
  ok: boolean
}

/** Verifier state. */
export interface VerifyState {
  /** Format version. */
  schemaVersion: 1
  /** Chain heads by backup set id. */
  chains: Record<string, ChainHead>
  /** Coverage of one bag (reset when another bag is verified with the same state). */
  coverage: { bag: string; files: Record<string, FileCoverage> } | null
}

/**
 * An empty state.
 *
 * HIPAA: 164.308(a)(7)(ii)(D) testing and revision procedures.
 *
 * @throws never.
 * @example
 * ```ts
 * const state = emptyVerifyState()
 * ```
 */
export function emptyVerifyState(): VerifyState {
  return { schemaVersion: 1, chains: {}, coverage: null }
}

/**
 * Loads a state file; a missing file gives an empty state.
 *
 * HIPAA: 164.308(a)(7)(ii)(D) testing and revision procedures (coverage across runs).
 *
 * @throws {BackupStateError} (`ERR_BACKUP_STATE`) when the file exists but is malformed.
 * @example
 * ```ts
 * const state = await loadVerifyState('/var/lib/safeguards/backup-state.json')
 * ```
 */
export async function loadVerifyState(path: string): Promise<VerifyState> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return emptyVerifyState()
    throw new BackupStateError('state file cannot be read', { cause: error })
  }
  let value: unknown
  try {
    value = parseJson(text, { maxLength: 512 * 1024 * 1024 })
  } catch (error) {
    throw new BackupStateError('state file is not valid JSON', { cause: error })
  }
  const v = value as Partial<VerifyState> | null
  if (
    typeof v !== 'object' ||
    v === null ||
    v.schemaVersion !== 1 ||
    typeof v.chains !== 'object' ||
    v.chains === null ||
    (v.coverage !== null && (typeof v.coverage !== 'object' || typeof v.coverage?.files !== 'object'))
  )
    throw new BackupStateError('state file has an unexpected shape')
  for (const head of Object.values(v.chains)) {
    if (
      typeof head !== 'object' ||
      head === null ||
      !Number.isSafeInteger(head.seq) ||
      typeof head.attestationSha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(head.attestationSha256) ||
      typeof head.createdAt !== 'string'
    )
      throw new BackupStateError('state file has a malformed chain head')
  }
  return v as VerifyState
}

/**
 * Saves a state file atomically and durably (temporary file, fsync, rename, fsync of the
 * directory: core's `writeFileAtomic`), readable by its owner only.
 *
 * HIPAA: 164.308(a)(7)(ii)(D) testing and revision procedures (coverage and chain across runs).
 *
 * @throws {IoError} (`ERR_IO`, from `@safeguards/core`) when the directory is not writable.
 * @example
 * ```ts
 * await saveVerifyState('/var/lib/safeguards/backup-state.json', result.state)
 * ```
 */
export async function saveVerifyState(path: string, state: VerifyState): Promise<void> {
  await writeFileAtomic(path, utf8Encode(`${JSON.stringify(state)}\n`), { mode: 0o600 })
}
