import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { manualClock } from '@safeguards/core'
import { afterEach, expect } from 'vitest'
import { event as chartRead } from '../bench/events.js'
import {
  type AuditEvent,
  type AuditStore,
  type CheckpointSigner,
  createCheckpointSigner,
  createKeyring,
  directoryAnchor,
  generateCheckpointKey,
  type Keyring,
  openAuditLog,
  openFileStore,
  type VerifyOptions,
  type VerifyReport,
  verifyLog,
} from '../src/index.js'

const dirs: string[] = []

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sg-audit-'))
  dirs.push(d)
  return d
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A valid event; `i` varies the identifiers. */
export function event(i = 0, extra: Partial<AuditEvent> = {}): AuditEvent {
  return { ...chartRead(i, Number.MAX_SAFE_INTEGER, 97), ...extra }
}

/**
 * `verifyLog` on the main thread alone, and on two worker threads with runs of `chunks` records
 * (default 1 and 3: every record sits at a run boundary, or next to one). The reports must be equal:
 * which thread checked which record never shows. Returns the report.
 */
export async function verifyEveryWay(
  store: AuditStore,
  options: VerifyOptions = {},
  chunks: readonly number[] = [1, 3],
): Promise<VerifyReport> {
  const alone = await verifyLog(store, { ...options, workers: 0 })
  for (const chunkRecords of chunks) {
    const threaded = await verifyLog(store, { ...options, workers: 2, chunkRecords })
    expect(threaded, `workers: 2, chunkRecords: ${chunkRecords}`).toEqual(alone)
  }
  return alone
}

/** A fresh checkpoint key pair, a signer with its private key and a keyring with its public key. */
export async function checkpointKeys(): Promise<{
  key: Awaited<ReturnType<typeof generateCheckpointKey>>
  signer: CheckpointSigner
  keyring: Keyring
}> {
  const key = await generateCheckpointKey()
  return {
    key,
    signer: await createCheckpointSigner(key.privateJwk),
    keyring: await createKeyring([{ publicJwk: key.publicJwk }]),
  }
}

/** What {@link signedLog} made. */
export interface SignedLog {
  /** The log directory. */
  dir: string
  /** The checkpoint key pair. */
  key: Awaited<ReturnType<typeof generateCheckpointKey>>
  /** A keyring with the public key. */
  keyring: Keyring
}

/**
 * A signed file log of `n` records ({@link event} 0..n-1), a checkpoint every `every` records (and
 * on close), on a fixed clock, anchored to `anchor` when given.
 */
export async function signedLog(
  n: number,
  options: {
    every?: number
    stream?: string
    anchor?: string
    maxBatch?: number
    segmentMaxBytes?: number
  } = {},
): Promise<SignedLog> {
  const dir = tempDir()
  const { key, signer, keyring } = await checkpointKeys()
  const log = await openAuditLog({
    store: await openFileStore({
      dir,
      stream: options.stream ?? 's',
      ...(options.segmentMaxBytes === undefined ? {} : { segmentMaxBytes: options.segmentMaxBytes }),
    }),
    signer,
    ...(options.anchor === undefined ? {} : { anchor: directoryAnchor(options.anchor) }),
    checkpointEvery: { records: options.every ?? 1000, ms: 0 },
    clock: manualClock(1_700_000_000_000),
    ...(options.maxBatch === undefined ? {} : { maxBatch: options.maxBatch }),
  })
  for (let i = 0; i < n; i++) await log.append(event(i))
  await log.close()
  return { dir, key, keyring }
}

/**
 * A store that forwards the methods every `AuditStore` has to `inner`, and none of its optional fast
 * paths (no `readBatches`, no index), with `parts` replaced.
 */
export function plainStore(inner: AuditStore, parts: Partial<AuditStore> = {}): AuditStore {
  return {
    stream: inner.stream,
    head: () => inner.head(),
    append: (expected, records) => inner.append(expected, records),
    read: (from, to, options) => inner.read(from, to, options),
    appendCheckpoint: (n, cp) => inner.appendCheckpoint(n, cp),
    checkpointHead: () => inner.checkpointHead(),
    readCheckpoints: () => inner.readCheckpoints(),
    close: () => inner.close(),
    ...parts,
  }
}
