/**
 * Per-patient keys (crypto-shredding): each patient's PHI fields are encrypted under data keys
 * wrapped by that patient's own subject key, and the subject keys are wrapped by the clinic's
 * keyring (`@safeguards/envelope` `createSubjectKeys`). Destroying one patient's subject key makes
 * every copy of that patient's fields unreadable (records, backups), and nobody else's.
 *
 * Where the wrapped subject keys live: `subject-keys.json` in the shared directory (embedded mode;
 * the file store locks, so several processes on one directory agree), or the table of
 * `@safeguards/envelope-postgres` in the clinic's schema (shared mode), so a shred on one instance
 * holds on every other. Shared mode reads the store on every operation (`cacheTtlMs: 0`): another
 * instance refuses a shredded patient's fields at once, not after a cache TTL.
 *
 * HIPAA: 164.310(d)(2)(i) disposal; 164.312(a)(2)(iv) encryption and decryption.
 */
import { join } from 'node:path'
import type { Clock, EventSink } from '@safeguards/core'
import {
  createSubjectKeys,
  fileSubjectKeyStore,
  type KekProvider,
  type SubjectKeyStore,
  type SubjectKeys,
} from '@safeguards/envelope'
import { migrateSubjectKeys, openPostgresSubjectKeyStore } from '@safeguards/envelope-postgres'
import pg from 'pg'
import type { SharedStateOptions } from './clinic.js'

/** The file of the wrapped subject keys and tombstones (embedded mode), in the shared directory. */
export const SUBJECT_KEY_FILE = 'subject-keys.json'

/** The clinic's per-patient keys, and how to close their store. */
export interface ClinicSubjectKeys {
  readonly keys: SubjectKeys
  close(): Promise<void>
}

/** Opens the per-patient keys: on PostgreSQL (the clinic's schema) when shared, else in a file. */
export async function openClinicSubjectKeys(options: {
  sharedDir: string
  shared: SharedStateOptions | undefined
  kek: KekProvider
  clock: Clock
  /** The critical audit sink: `key.destroyed` on a shred, the patient pseudonymised by the sink. */
  events: EventSink
}): Promise<ClinicSubjectKeys> {
  const { shared } = options
  let store: SubjectKeyStore
  let pool: pg.Pool | undefined
  if (shared) {
    pool = new pg.Pool({ connectionString: shared.databaseUrl, max: 2 })
    try {
      await migrateSubjectKeys(pool, { schema: shared.schema })
      store = await openPostgresSubjectKeyStore({ pool, schema: shared.schema })
    } catch (e) {
      await pool.end().catch(() => {})
      throw e
    }
  } else store = fileSubjectKeyStore(join(options.sharedDir, SUBJECT_KEY_FILE))
  const keys = createSubjectKeys({
    kek: options.kek,
    store,
    clock: options.clock,
    events: options.events,
    ...(shared ? { cacheTtlMs: 0 } : {}),
  })
  return {
    keys,
    async close() {
      try {
        await keys.close()
      } finally {
        await pool?.end()
      }
    },
  }
}
