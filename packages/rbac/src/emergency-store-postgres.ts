/**
 * Emergency-access grants on PostgreSQL, shared by every app instance: one row per grant with a
 * version, compare-and-set updates, and `NOTIFY` so other instances see a grant, a revocation or a
 * review within milliseconds (a resync every few seconds covers a missed notification).
 *
 * Structural clients: node-postgres's `Pool` for queries and one dedicated, connected `Client`
 * for `LISTEN` fit as they are; the app owns both connections.
 *
 * Fail closed: every resync first checks the listening connection; when it is gone, or no resync
 * has succeeded for `maxStalenessMs`, `get` answers `undefined` (a decision then finds no grant
 * and denies). A store whose listener died stays closed: open a new one on a new connection.
 * Listing (pending reviews) keeps the last view.
 *
 * HIPAA: 164.312(a)(2)(ii) emergency access procedure; 164.312(b) audit controls (grants survive
 * restarts and await review); 164.308(a)(1)(ii)(D) information system activity review.
 *
 * @module
 */
import { type EmergencyGrant, isEmergencyGrant } from './emergency-access.js'
import type { SharedEmergencyStore } from './emergency-shared.js'
import { deepFreeze } from './internal/deep-freeze.js'
import { sharedView } from './internal/shared-view.js'

/** What the store needs of a query client: node-postgres's `Pool` and `Client` fit. */
export interface GrantSqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
}

/** A dedicated connection that receives notifications: a connected node-postgres `Client`. */
export interface GrantSqlListener extends GrantSqlClient {
  on(
    event: 'notification',
    listener: (message: { channel: string; payload?: string | undefined }) => void,
  ): unknown
}

/** Options of {@link openPostgresEmergencyStore}. */
export interface PostgresEmergencyStoreOptions {
  /** Runs the queries (a `pg.Pool`). */
  client: GrantSqlClient
  /** A dedicated connected `pg.Client` for `LISTEN` (not a pool: notifications need one session). */
  listener: GrantSqlListener
  /** Schema of the `emergency_grant` table (created if missing). Default `safeguards_rbac`. */
  schema?: string
  /** Full reload interval, ms (default 5000): covers a notification lost with a dropped connection. */
  resyncIntervalMs?: number
  /** `get` fails closed when the view is older than this, ms (default 3 × the resync interval). */
  maxStalenessMs?: number
  /** The clock for staleness (default `Date.now`). */
  clock?: { now(): number }
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * Opens (and creates if needed) the shared grant table and starts listening.
 *
 * HIPAA: 164.312(a)(2)(ii) emergency access procedure.
 *
 * @hipaa 164.312(a)(2)(ii) supports
 * @nist AC-3 164.312(a)(2)(ii)
 * @nist AC-6(9) 164.312(a)(2)(ii): a grant made on any instance is honoured by all and stays pending review across restarts
 * @evidence the emergency_grant table: every grant with its revocation and review, shared by all instances
 * @appResponsibility Give the store its own listening connection; restrict the table to the app's role; review pending grants.
 * @config schema, resyncIntervalMs, maxStalenessMs
 * @verifiedBy packages/rbac/test/emergency-shared.test.ts
 * @throws {TypeError} when `client` or `listener` lacks `query`, or `schema` is not a lower-case identifier.
 * @example
 * ```ts
 * import pg from 'pg'
 * import { compilePolicy, openPostgresEmergencyStore } from '@safeguards/rbac'
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * const listener = new pg.Client({ connectionString: process.env.DATABASE_URL })
 * await listener.connect()
 * const emergencyStore = await openPostgresEmergencyStore({ client: pool, listener })
 * const pdp = compilePolicy(policy, { emergencyStore })
 * const grant = await pdp.emergency.grantAsync(request) // honoured by every instance
 * ```
 */
export async function openPostgresEmergencyStore(
  options: PostgresEmergencyStoreOptions,
): Promise<SharedEmergencyStore> {
  const { client, listener } = options
  if (typeof client?.query !== 'function') throw new TypeError('"client" expected { query(text, values) }')
  if (typeof listener?.query !== 'function' || typeof listener.on !== 'function')
    throw new TypeError('"listener" expected a connected pg.Client')
  const schema = options.schema ?? 'safeguards_rbac'
  if (!IDENT.test(schema)) throw new TypeError('"schema" expected a lower-case SQL identifier')
  const resyncMs = options.resyncIntervalMs ?? 5000
  const maxStaleness = options.maxStalenessMs ?? 3 * resyncMs
  const clock = options.clock ?? { now: () => Date.now() }
  const table = `${schema}.emergency_grant`
  const channel = `${schema}_emergency_grant`

  // One statement list runs as one transaction; the advisory lock serialises instances creating
  // the table at once (CREATE … IF NOT EXISTS races on the catalog's unique indexes otherwise).
  await client.query(
    `SELECT pg_advisory_xact_lock(hashtext('safeguards_rbac.emergency_grant'), hashtext('${schema}'));
     CREATE SCHEMA IF NOT EXISTS ${schema};
     CREATE TABLE IF NOT EXISTS ${table} (
       id text PRIMARY KEY,
       version bigint NOT NULL,
       body jsonb NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT now())`,
  )

  const view = new Map<string, EmergencyGrant>()
  const versions = new WeakMap<EmergencyGrant, number>()
  let freshAt = Number.NEGATIVE_INFINITY
  let listening = false

  const put = (row: Record<string, unknown> | undefined, id: string): EmergencyGrant | undefined => {
    if (row === undefined) {
      view.delete(id)
      return undefined
    }
    const g = deepFreeze(row.body) as EmergencyGrant
    if (!isEmergencyGrant(g) || g.id !== id) {
      view.delete(id) // a hand-edited or corrupted row never grants
      return undefined
    }
    versions.set(g, Number(row.version))
    view.set(id, g)
    return g
  }
  const fetch = async (id: string): Promise<EmergencyGrant | undefined> => {
    const { rows } = await client.query(`SELECT version, body FROM ${table} WHERE id = $1`, [id])
    return put(rows[0], id)
  }
  const refresh = async (): Promise<void> => {
    const started = clock.now()
    try {
      await listener.query('SELECT 1')
    } catch (e) {
      listening = false // notifications can no longer arrive: fail closed
      freshAt = Number.NEGATIVE_INFINITY
      throw e
    }
    const { rows } = await client.query(`SELECT id, version, body FROM ${table}`)
    const seen = new Set<string>()
    for (const row of rows) {
      seen.add(String(row.id))
      put(row, String(row.id))
    }
    for (const id of view.keys()) if (!seen.has(id)) view.delete(id)
    if (listening) freshAt = started
  }

  listener.on('notification', (message) => {
    if (message.channel !== channel || typeof message.payload !== 'string') return
    fetch(message.payload).catch(() => {
      freshAt = Number.NEGATIVE_INFINITY // could not read what changed: fail closed until a resync
    })
  })
  await listener.query(`LISTEN ${channel}`)
  listening = true
  await refresh()
  const timer = setInterval(() => {
    refresh().catch(() => {})
  }, resyncMs)
  // Node's timer must not keep the process alive (the browser's is a number: nothing to do).
  if (typeof timer === 'object') (timer as unknown as { unref(): void }).unref()

  return {
    ...sharedView(view, () => clock.now() - freshAt <= maxStaleness),
    async commit(next: EmergencyGrant, expected: EmergencyGrant | null): Promise<boolean> {
      const body = JSON.stringify(next)
      const { rows } =
        expected === null
          ? await client.query(
              `WITH ins AS (INSERT INTO ${table} (id, version, body) VALUES ($1, 1, $2::jsonb)
                 ON CONFLICT (id) DO NOTHING RETURNING id, version, body)
               SELECT ins.*, pg_notify($3, ins.id) FROM ins`,
              [next.id, body, channel],
            )
          : await client.query(
              `WITH up AS (UPDATE ${table} SET version = version + 1, body = $2::jsonb, updated_at = now()
                 WHERE id = $1 AND version = $3 RETURNING id, version, body)
               SELECT up.*, pg_notify($4, up.id) FROM up`,
              [next.id, body, versions.get(expected) ?? -1, channel],
            )
      if (rows[0] !== undefined) {
        put(rows[0], next.id)
        return true
      }
      await fetch(next.id)
      return false
    },
    fetch,
    refresh,
    async close(): Promise<void> {
      clearInterval(timer)
      listening = false
      await listener.query(`UNLISTEN ${channel}`).catch(() => {})
    },
  }
}
