/**
 * Where emergency-access grants live: in memory for one instance, and in PostgreSQL (the table
 * `<schema>.emergency_grant` beside the audit log) when instances share state, so a grant made on
 * one instance is honoured on the others and awaits review whatever restarts.
 */
import { type EmergencyAccessStore, openPostgresEmergencyStore } from '@safeguards/rbac'
import pg from 'pg'
import type { SharedStateOptions } from './clinic.js'

/** The grant store, and how to close its connections. */
export interface GrantStore {
  /** Undefined: rbac's default in-memory store. */
  readonly store: EmergencyAccessStore | undefined
  close(): Promise<void>
}

/** Opens the shared grant store in shared mode; nothing to open otherwise. */
export async function openGrantStore(shared: SharedStateOptions | undefined): Promise<GrantStore> {
  if (shared === undefined) return { store: undefined, close: async () => {} }
  const pool = new pg.Pool({ connectionString: shared.databaseUrl, max: 4 })
  const listener = new pg.Client({ connectionString: shared.databaseUrl })
  try {
    await listener.connect()
    const store = await openPostgresEmergencyStore({ client: pool, listener, schema: shared.schema })
    return {
      store,
      async close() {
        await store.close()
        await listener.end()
        await pool.end()
      },
    }
  } catch (e) {
    await listener.end().catch(() => {})
    await pool.end().catch(() => {})
    throw e
  }
}
