/**
 * The PostgreSQL {@link FindingStore}: a `finding` table holding each finding's current status and a
 * `finding_transition` table holding every transition, both changed by one statement per call (so
 * atomic against other processes without a transaction). It takes a structural client (a `pg.Pool`
 * fits), so this package has no dependency on a driver.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review; 164.312(c)(1) integrity.
 *
 * @module
 */
import { type Clock, systemClock } from '@safeguards/core'
import type { DetectorName, Severity } from './detectors.js'
import { MonitorFindingStoreError, MonitorFindingUnknownError } from './errors.js'
import type { Finding } from './finding.js'
import {
  checkReview,
  checkUntil,
  distinctFindings,
  iso,
  refuseSelfReview,
} from './internal/lifecycle-rules.js'
import type {
  AcknowledgeOptions,
  Disposition,
  FindingState,
  FindingStatus,
  FindingStore,
  SuppressOptions,
} from './lifecycle.js'

/**
 * What the PostgreSQL store needs of a client: node-postgres's `Pool` and `Client` fit.
 *
 * @example
 * ```ts
 * const client: SqlClient = new pg.Pool({ connectionString })
 * ```
 */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
}

/** Options of {@link openPostgresFindingStore}. */
export interface PostgresFindingStoreOptions {
  /** The client (a pool; its lifetime stays the caller's). */
  client: SqlClient
  /** The schema of the tables (default `safeguards_monitor`), created when missing. */
  schema?: string
  /** Clock for transition times and suppression expiry. */
  clock?: Clock
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/

function ddl(s: string): string {
  // One implicit transaction (simple protocol): the advisory lock serialises concurrent first opens.
  return `SELECT pg_advisory_xact_lock(hashtext('safeguards_monitor.ddl'));
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.finding (
  id text PRIMARY KEY, detector text NOT NULL, severity text NOT NULL, who text,
  state text NOT NULL CHECK (state IN ('new', 'acknowledged', 'suppressed')),
  first_seen timestamptz NOT NULL, at timestamptz NOT NULL,
  disposition text CHECK (disposition IN ('appropriate', 'inappropriate', 'false-positive')),
  reviewer text, until timestamptz);
CREATE TABLE IF NOT EXISTS ${s}.finding_transition (
  seq bigserial PRIMARY KEY, id text NOT NULL REFERENCES ${s}.finding (id), op text NOT NULL,
  disposition text, reviewer text, until timestamptz, at timestamptz NOT NULL);`
}

const COLUMNS = `id, detector, severity, who, state, first_seen, at, disposition, reviewer, until`

const time = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString()

function rowStatus(r: Record<string, unknown>): FindingStatus {
  return {
    id: String(r.id),
    detector: r.detector as DetectorName,
    severity: r.severity as Severity,
    ...(r.who === null ? {} : { who: String(r.who) }),
    state: r.state as FindingState,
    firstSeen: time(r.first_seen),
    at: time(r.at),
    ...(r.disposition === null ? {} : { disposition: r.disposition as Disposition }),
    ...(r.reviewer === null ? {} : { by: String(r.reviewer) }),
    ...(r.until === null ? {} : { until: time(r.until) }),
  }
}

/**
 * Opens the PostgreSQL finding store, creating its schema and tables when missing.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) activity review; 164.308(a)(6)(ii) response and reporting.
 *
 * @hipaa 164.308(a)(1)(ii)(D) supports
 * @hipaa 164.308(a)(6)(ii) supports
 * @nist AU-6 164.308(a)(1)(ii)(D): keeps each finding's review outcome (disposition, reviewer, time), so review is documented and a re-run never alerts twice
 * @nist IR-5 164.308(a)(6)(ii): tracks suspected incidents by stable finding id from new to acknowledged or suppressed, and refuses a review by the finding's own subject
 * @evidence the findings store: every finding's status, disposition, reviewer and time, as an append-only history
 * @appResponsibility Disposition every finding within your policy's time, by reviewers independent of the people reviewed; escalate inappropriate accesses under your incident procedures and sanction policy.
 * @verifiedBy packages/monitor/test/finding-store.test.ts
 *
 * @throws {RangeError} for a schema name that is not a plain lower-case identifier.
 * @throws whatever the client throws (connection, permissions).
 * @example
 * ```ts
 * import pg from 'pg'
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * const store = await openPostgresFindingStore({ client: pool })
 * const fresh = await store.admit(result.findings)
 * ```
 */
export async function openPostgresFindingStore(options: PostgresFindingStoreOptions): Promise<FindingStore> {
  const { client } = options
  if (typeof client?.query !== 'function') throw new TypeError('"client" expected { query(text, values) }')
  const schema = options.schema ?? 'safeguards_monitor'
  if (!SCHEMA.test(schema)) throw new RangeError('"schema" expected a lower-case SQL identifier')
  const s = `"${schema}"`
  const clock = options.clock ?? systemClock
  await client.query(ddl(s))

  async function get(id: string): Promise<FindingStatus | undefined> {
    const { rows } = await client.query(`SELECT ${COLUMNS} FROM ${s}.finding WHERE id = $1`, [id])
    return rows[0] === undefined ? undefined : rowStatus(rows[0])
  }

  /** Applies a review unless the finding is unknown or `by` is its subject; then explains a refusal. */
  async function review(id: string, by: string, set: string, values: unknown[]): Promise<FindingStatus> {
    const { rows } = await client.query(
      `WITH up AS (UPDATE ${s}.finding SET ${set}, reviewer = $2::text, at = $3::timestamptz
         WHERE id = $1 AND who IS DISTINCT FROM $2::text RETURNING ${COLUMNS}),
       t AS (INSERT INTO ${s}.finding_transition (id, op, disposition, reviewer, until, at)
         SELECT id, CASE state WHEN 'acknowledged' THEN 'ack' ELSE 'suppress' END,
           disposition, reviewer, until, at FROM up)
       SELECT ${COLUMNS} FROM up`,
      [id, by, ...values],
    )
    if (rows[0] !== undefined) return rowStatus(rows[0])
    const status = await get(id)
    if (status === undefined) throw new MonitorFindingUnknownError(id)
    refuseSelfReview(status, by)
    throw new MonitorFindingStoreError(`finding ${id}: the review matched no row`)
  }

  return {
    admit: (findings: readonly Finding[]): Promise<Finding[]> => admit(client, s, findings, clock),
    async acknowledge(id: string, options: AcknowledgeOptions): Promise<FindingStatus> {
      checkReview(id, options?.by, options?.disposition)
      const set = `state = 'acknowledged', disposition = $4::text, until = NULL`
      return review(id, options.by, set, [iso(clock.now()), options.disposition])
    },
    async suppress(id: string, options: SuppressOptions): Promise<FindingStatus> {
      checkReview(id, options?.by)
      const now = clock.now()
      checkUntil(options.until, now)
      const set = `state = 'suppressed', until = $4::timestamptz, disposition = NULL`
      return review(id, options.by, set, [iso(now), iso(options.until)])
    },
    get(id: string): Promise<FindingStatus | undefined> {
      return get(id)
    },
    async list(): Promise<FindingStatus[]> {
      const { rows } = await client.query(
        `SELECT ${COLUMNS} FROM ${s}.finding ORDER BY first_seen, id COLLATE "C"`,
      )
      return rows.map(rowStatus)
    },
    async close(): Promise<void> {},
  }
}

/**
 * Admits the findings that are new, or whose suppression has ended (one statement: the rows and
 * their `admit` transitions); returns those admitted.
 */
async function admit(
  client: SqlClient,
  s: string,
  findings: readonly Finding[],
  clock: Clock,
): Promise<Finding[]> {
  const list = distinctFindings(findings)
  if (list.length === 0) return []
  const input = list.map((f) => ({
    id: f.id,
    detector: f.detector,
    severity: f.severity,
    who: f.who ?? null,
  }))
  const { rows } = await client.query(
    `WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb)
         AS x(id text, detector text, severity text, who text)),
       up AS (INSERT INTO ${s}.finding AS f (id, detector, severity, who, state, first_seen, at)
         SELECT id, detector, severity, who, 'new', $2::timestamptz, $2::timestamptz FROM input
         ON CONFLICT (id) DO UPDATE SET state = 'new', at = $2::timestamptz, until = NULL, disposition = NULL, reviewer = NULL
         WHERE f.state = 'suppressed' AND f.until <= $2::timestamptz
         RETURNING id),
       t AS (INSERT INTO ${s}.finding_transition (id, op, at) SELECT id, 'admit', $2::timestamptz FROM up)
       SELECT id FROM up`,
    [JSON.stringify(input), iso(clock.now())],
  )
  const fresh = new Set(rows.map((r) => String(r.id)))
  return list.filter((f) => fresh.has(f.id))
}
