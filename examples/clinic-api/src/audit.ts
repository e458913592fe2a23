/**
 * The clinic's audit log: hash-chained records (a file store, or one PostgreSQL stream for every
 * instance), signed checkpoints, an anchor directory; its verification and its export. What goes
 * into it is decided by `auditSink`'s table (`@safeguards/audit-log`), never here.
 */
import { cpSync } from 'node:fs'
import {
  type AuditLog,
  type AuditStore,
  createCheckpointSigner,
  createKeyring,
  directoryAnchor,
  openAuditLog,
  openFileStore,
  type VerifyReport,
  verifyLog,
} from '@safeguards/audit-log'
import { openPostgresStore } from '@safeguards/audit-log-postgres'
import { type Clock, type EventSink, sha256 } from '@safeguards/core'
import { errorCode } from '@safeguards/core/node'
import type { SharedStateOptions } from './clinic.js'
import type { ClinicSecrets } from './secrets.js'

/** The open audit log and what the clinic does with it. */
export interface ClinicAudit {
  readonly log: AuditLog
  readonly store: AuditStore
  /** Verifies an audit log directory (for example a copy) with the clinic's checkpoint key. */
  verifyDir(dir: string, events?: EventSink): Promise<VerifyReport>
  /** Verifies the log in use: the file store, or the PostgreSQL stream read only. */
  verifyLive(events?: EventSink): Promise<VerifyReport>
  /** Copies the log in use (records and stored checkpoints) into a file log at `dir`. */
  copyTo(dir: string): Promise<void>
}

/** Opens the audit log: on PostgreSQL when `shared` is given, else in `dir`. */
export async function openClinicAudit(options: {
  dir: string
  anchorDir: string
  shared: SharedStateOptions | undefined
  secrets: ClinicSecrets
  checkpointEveryMs: number
  clock: Clock
}): Promise<ClinicAudit> {
  const { dir, shared } = options
  const keyring = await createKeyring([{ publicJwk: options.secrets.checkpointKey.publicJwk }])
  const anchor = directoryAnchor(options.anchorDir)
  const pg = (readOnly: boolean) =>
    openPostgresStore({
      connectionString: shared!.databaseUrl,
      schema: shared!.schema,
      stream: shared!.stream,
      ...(readOnly ? { readOnly: true, maxConnections: 1 } : { migrate: true, maxConnections: 2 }),
    })
  const store: AuditStore = shared ? await pg(false) : await openFileStore({ dir, stream: 'clinic-api' })
  const log = await openAuditLog({
    store,
    signer: await createCheckpointSigner(options.secrets.checkpointKey.privateJwk),
    anchor,
    checkpointEvery: { records: 16, ms: options.checkpointEveryMs },
    clock: options.clock,
    onError: (e) => console.error(`audit checkpoint failed (${errorCode(e) ?? 'error'})`),
  })
  const verifyDir = async (d: string, events?: EventSink): Promise<VerifyReport> =>
    verifyLog(await openFileStore({ dir: d, readOnly: true }), {
      keyring,
      anchor,
      ...(events ? { events } : {}),
    })
  return {
    log,
    store,
    verifyDir,
    async verifyLive(events) {
      if (!shared) return verifyDir(dir, events)
      const ro = await pg(true)
      try {
        return await verifyLog(ro, { keyring, anchor, ...(events ? { events } : {}) })
      } finally {
        await ro.close()
      }
    },
    // An export reads the stored checkpoints first, then the records: every checkpoint copied
    // covers records that are copied too, even while other instances keep appending.
    async copyTo(to) {
      if (!shared) {
        cpSync(dir, to, { recursive: true })
        return
      }
      const checkpoints = await store.readCheckpoints()
      const copy = await openFileStore({ dir: to, stream: store.stream })
      try {
        let head = await copy.head()
        for await (const r of store.read(0)) {
          const hash = sha256(new Uint8Array([0, ...r.bytes]))
          head = await copy.append(head, [{ seq: r.seq, bytes: r.bytes, hash, prevHash: head.hash }])
        }
        for (const [i, cp] of checkpoints.entries()) await copy.appendCheckpoint(i, cp)
      } finally {
        await copy.close()
      }
    },
  }
}
