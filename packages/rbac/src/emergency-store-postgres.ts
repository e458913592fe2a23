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
import type { SharedEmergencyStore } from './emergency-shared.js'
import { PgGrantView } from './internal/pg-grant-view.js'
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

  const grants = new PgGrantView(client, listener, table, channel, clock)
  listener.on('notification', (message) => grants.notified(message))
  await listener.query(`LISTEN ${channel}`)
  grants.listening = true
  await grants.refresh()
  const timer = setInterval(() => {
    grants.refresh().catch(() => {})
  }, resyncMs)
  // Node's timer must not keep the process alive (the browser's is a number: nothing to do).
  if (typeof timer === 'object') (timer as unknown as { unref(): void }).unref()

  return {
    ...sharedView(grants.view.grants, () => clock.now() - grants.freshAt <= maxStaleness),
    commit: (next, expected) => grants.commit(next, expected),
    fetch: (id) => grants.fetch(id),
    refresh: () => grants.refresh(),
    async close(): Promise<void> {
      clearInterval(timer)
      grants.listening = false
      await listener.query(`UNLISTEN ${channel}`).catch(() => {})
    },
  }
}
