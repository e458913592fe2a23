/**
 * The `@safeguards/audit-log` {@link AuditStore} on PostgreSQL, safe with many writers in many
 * processes.
 *
 * Concurrency: every append is one statement, `SELECT … FROM audit_append(…)`, run in autocommit.
 * The function takes the stream's transaction-level advisory lock, reads the head on a fresh
 * snapshot, refuses when it is not the writer's expected head, and otherwise inserts the batch; the
 * lock is released when the statement's transaction commits, after the rows are visible. Behind
 * the lock the table itself refuses forks and gaps: `PRIMARY KEY (stream, seq)`,
 * `UNIQUE (stream, prev_hash)`, a link trigger (record `seq - 1` must have `entry_hash = prev_hash`)
 * and `CHECK (entry_hash = sha256(0x00 || body))`. Sequence numbers come from the chain, never from
 * a sequence or bigserial (those skip values on rollback and say nothing about chain order).
 *
 * Durability: an append resolves after PostgreSQL's COMMIT, which with `synchronous_commit` on
 * (or `local`/`remote_write`/`remote_apply`) means the WAL is flushed. A pool this module creates
 * forces `synchronous_commit=on`; a pool you pass in is checked at open, and `off` is refused.
 *
 * HIPAA: 164.312(b) audit controls (durable, append-only recording from every app instance);
 * 164.312(c)(1) integrity (exact bytes; no UPDATE/DELETE path); 164.316(b)(2)(i) retention (no
 * pruning API).
 *
 * @module
 */
import {
  type AppendRecord,
  AuditClosedError,
  AuditConflictError,
  AuditCorruptionError,
  type AuditStore,
  AuditStoreError,
  assertStreamId,
  type CheckpointHead,
  type ReadOptions,
  type StoredCheckpoint,
  type StoredRecord,
  type StoreHead,
  ZERO_HASH,
} from '@safeguards/audit-log'
import { assertBytes, assertInteger, sha256, timingSafeEqual, utf8Decode, utf8Encode } from '@safeguards/core'
import pg from 'pg'
import { AuditPgMigrationError } from './errors.js'
import { dbError, sqlState } from './internal/db.js'
import { DEFAULT_SCHEMA, quoteIdentifier } from './internal/identifiers.js'
import { migrate, SCHEMA_VERSION } from './migrations.js'

/** Options for {@link openPostgresStore}: a `pool` you own, or a `connectionString` for a pool the store owns. */
export interface PostgresStoreOptions {
  /** Stream identifier: 1-128 characters of `[A-Za-z0-9._-]`, starting alphanumeric. */
  stream: string
  /** Schema holding the audit tables (default `safeguards_audit`). */
  schema?: string
  /** A pool to use. The store never ends it. Takes precedence over `connectionString`. */
  pool?: pg.Pool
  /** Connection string for a pool the store creates and ends on `close()`. */
  connectionString?: string
  /** Size of the pool the store creates (default 4). */
  maxConnections?: number
  /** Rows fetched per query by `read` (default 2000). */
  readBatch?: number
  /**
   * Open for reading only (verifiers, exports): the stream must already exist, nothing is written,
   * and `append`/`appendCheckpoint` throw `AuditStoreError`. Default false.
   */
  readOnly?: boolean
  /** Milliseconds to wait for a new connection of the store's own pool (default 10 000). */
  connectTimeoutMs?: number
  /**
   * Run {@link migrate} before opening (default false). Needs a role allowed to create the schema;
   * applications connecting as the insert-only role leave this off and migrate at deploy time.
   */
  migrate?: boolean
}

/** An {@link AuditStore} on PostgreSQL. */
export interface PostgresAuditStore extends AuditStore {
  /** The schema holding the tables. */
  readonly schema: string
}

type HeadRow = { seq: string; entry_hash: Uint8Array; body: Uint8Array }

const toBytes = (value: Uint8Array): Uint8Array => new Uint8Array(value) // copy out of the driver's Buffer

const LEAF_PREFIX = new Uint8Array([0])

function leafHash(body: Uint8Array): Uint8Array {
  const input = new Uint8Array(body.length + 1)
  input.set(LEAF_PREFIX, 0)
  input.set(body, 1)
  return sha256(input)
}

function toSafeInteger(value: string | number, what: string): number {
  const n = typeof value === 'number' ? value : Number(value)
  if (!Number.isSafeInteger(n) || n < 0) throw new AuditCorruptionError(`${what} is not a safe integer`)
  return n
}

function checkHead(head: unknown, name: string): asserts head is StoreHead {
  if (typeof head !== 'object' || head === null) throw new TypeError(`"${name}" expected a StoreHead`)
  const h = head as StoreHead
  assertInteger(h.size, `${name}.size`, 0)
  assertBytes(h.hash, `${name}.hash`, 32)
}

function checkRecords(expected: StoreHead, records: readonly AppendRecord[]): void {
  if (!Array.isArray(records)) throw new TypeError('"records" expected an array')
  let prev = expected.hash
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as AppendRecord
    if (typeof r !== 'object' || r === null) throw new TypeError(`"records[${i}]" expected an AppendRecord`)
    assertInteger(r.seq, `records[${i}].seq`, expected.size + i, expected.size + i)
    assertBytes(r.bytes, `records[${i}].bytes`)
    assertBytes(r.hash, `records[${i}].hash`, 32)
    assertBytes(r.prevHash, `records[${i}].prevHash`, 32)
    if (!timingSafeEqual(r.prevHash, prev)) {
      throw new RangeError(`"records[${i}].prevHash" does not continue the chain`)
    }
    prev = r.hash
  }
}

async function checkSchema(pool: pg.Pool, schema: string, q: string): Promise<void> {
  let version: number
  try {
    const { rows } = await pool.query<{ v: number | null }>(
      `SELECT max(version) AS v FROM ${q}.audit_schema_migrations`,
    )
    version = rows[0]?.v ?? 0
  } catch (error) {
    const state = sqlState(error)
    if (state === '42P01' || state === '3F000') {
      throw new AuditPgMigrationError(`schema ${schema} is not migrated: run migrate() first`, {
        cause: error,
      })
    }
    throw error
  }
  if (version < SCHEMA_VERSION) {
    throw new AuditPgMigrationError(
      `schema ${schema} is at version ${version}, this package needs ${SCHEMA_VERSION}: run migrate()`,
    )
  }
  if (version > SCHEMA_VERSION) {
    throw new AuditPgMigrationError(
      `schema ${schema} is at version ${version}, newer than this package (${SCHEMA_VERSION})`,
    )
  }
}

/**
 * Opens (and registers) a stream in a migrated schema. Appends from any number of stores, in any
 * number of processes, on the same stream are serialised by PostgreSQL; a writer whose head is stale
 * gets an {@link AuditConflictError} and the log catches up and retries.
 *
 * HIPAA: 164.312(b) audit controls; 164.312(c)(1) integrity; 164.316(b)(2)(i) retention.
 *
 * @throws {TypeError} / {RangeError} for a malformed stream id, schema name or option.
 * @throws {AuditPgMigrationError} (code `ERR_AUDIT_PG_MIGRATION`) when the schema is missing or at
 *   another version.
 * @throws {AuditPgStoreError} (code `ERR_AUDIT_STORE`) when the server cannot be reached or refuses,
 *   or `synchronous_commit` is off (appends would be acknowledged before they are durable).
 * @example
 * ```ts
 * import pg from 'pg'
 * import { openAuditLog } from '@safeguards/audit-log'
 * import { openPostgresStore } from '@safeguards/audit-log-postgres'
 *
 * const pool = new pg.Pool({ connectionString: process.env.AUDIT_DATABASE_URL })
 * const store = await openPostgresStore({ pool, schema: 'audit', stream: 'ehr-prod' })
 * const head = await store.head() // { size, hash }
 * ```
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresAuditStore> {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" expected an object')
  const { stream } = options
  assertStreamId(stream)
  const schema = options.schema ?? DEFAULT_SCHEMA
  const q = quoteIdentifier(schema, 'schema')
  const readBatch = options.readBatch ?? 2000
  assertInteger(readBatch, 'readBatch', 1, 100_000)
  const maxConnections = options.maxConnections ?? 4
  assertInteger(maxConnections, 'maxConnections', 1, 1000)
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000
  assertInteger(connectTimeoutMs, 'connectTimeoutMs', 1, 3_600_000)
  const readOnly = options.readOnly === true
  if (readOnly && options.migrate === true) throw new TypeError('"readOnly" and "migrate" exclude each other')
  let pool: pg.Pool
  let ownPool = false
  if (options.pool !== undefined) {
    if (!(options.pool instanceof pg.Pool)) throw new TypeError('"pool" expected a pg.Pool')
    pool = options.pool
  } else {
    if (typeof options.connectionString !== 'string' || options.connectionString === '') {
      throw new TypeError('"pool" or "connectionString" is required')
    }
    pool = new pg.Pool({
      connectionString: options.connectionString,
      max: maxConnections,
      connectionTimeoutMillis: connectTimeoutMs,
      options: '-c synchronous_commit=on',
    })
    ownPool = true
  }
  // An idle pooled connection that dies (server restart) must not crash the process.
  const onIdleError = (): void => {}
  pool.on('error', onIdleError)

  try {
    if (options.migrate === true) await migrate(pool, { schema })
    await checkSchema(pool, schema, q)
    if (readOnly) {
      const { rowCount } = await pool.query(`SELECT 1 FROM ${q}.audit_stream WHERE stream = $1`, [stream])
      if (rowCount === 0) throw new AuditStoreError(`stream ${stream} does not exist in schema ${schema}`)
    } else {
      const { rows } = await pool.query<{ sc: string }>(`SELECT current_setting('synchronous_commit') AS sc`)
      if (rows[0]?.sc === 'off') {
        throw new AuditStoreError(
          'synchronous_commit is off: appends would be acknowledged before they are durable',
        )
      }
      await pool.query(`INSERT INTO ${q}.audit_stream (stream) VALUES ($1) ON CONFLICT (stream) DO NOTHING`, [
        stream,
      ])
    }
  } catch (error) {
    if (ownPool) await pool.end().catch(() => {})
    else pool.off('error', onIdleError)
    if (error instanceof AuditPgMigrationError || error instanceof AuditStoreError) throw error
    throw dbError(`@safeguards/audit-log-postgres: opening stream ${stream} in schema ${schema}`, error)
  }

  let closed = false
  const live = (): void => {
    if (closed) throw new AuditClosedError()
  }
  const writable = (): void => {
    live()
    if (readOnly) throw new AuditStoreError('the store was opened read-only')
  }

  const head = async (): Promise<StoreHead> => {
    live()
    let row: HeadRow | undefined
    try {
      const res = await pool.query<HeadRow>(
        `SELECT e.seq::text AS seq, e.entry_hash, e.body FROM ${q}.audit_entry e
          WHERE e.stream = $1 ORDER BY e.seq DESC LIMIT 1`,
        [stream],
      )
      row = res.rows[0]
    } catch (error) {
      throw dbError('reading the head', error)
    }
    if (row === undefined) return { size: 0, hash: ZERO_HASH }
    const seq = toSafeInteger(row.seq, 'tail sequence number')
    const hash = toBytes(row.entry_hash)
    // The CHECK constraint makes this impossible unless someone with DDL rights dropped it: fail closed.
    if (hash.length !== 32 || !timingSafeEqual(hash, leafHash(row.body))) {
      throw new AuditCorruptionError('stored tail record does not match its entry hash', seq)
    }
    return { size: seq + 1, hash }
  }

  const store: PostgresAuditStore = {
    stream,
    schema,
    head,

    async append(expected: StoreHead, records: readonly AppendRecord[]): Promise<StoreHead> {
      writable()
      checkHead(expected, 'expected')
      checkRecords(expected, records)
      if (records.length === 0) {
        const actual = await head()
        if (actual.size !== expected.size || !timingSafeEqual(actual.hash, expected.hash)) {
          throw new AuditConflictError(expected.size, actual.size)
        }
        return actual
      }
      let row: { ok: boolean; size: string; hash: Uint8Array } | undefined
      try {
        const res = await pool.query<{ ok: boolean; size: string; hash: Uint8Array }>(
          `SELECT ok, size::text AS size, hash FROM ${q}.audit_append($1, $2, $3, $4, $5, $6, $7)`,
          [
            stream,
            expected.size,
            expected.hash,
            records.map((r) => r.seq),
            records.map((r) => r.prevHash),
            records.map((r) => r.hash),
            records.map((r) => r.bytes),
          ],
        )
        row = res.rows[0]
      } catch (error) {
        // A writer that bypassed audit_append() took the slot first: the head moved.
        if (sqlState(error) === '23505') throw new AuditConflictError(expected.size, (await head()).size)
        throw dbError('appending records', error)
      }
      if (row === undefined) throw new AuditStoreError('appending records returned no status')
      const size = toSafeInteger(row.size, 'head size')
      if (!row.ok) throw new AuditConflictError(expected.size, size)
      return { size, hash: toBytes(row.hash) }
    },

    read(from: number, to?: number, readOptions?: ReadOptions): AsyncIterable<StoredRecord> {
      live()
      assertInteger(from, 'from', 0)
      if (to !== undefined) assertInteger(to, 'to', 0)
      const signal = readOptions?.signal
      return {
        async *[Symbol.asyncIterator](): AsyncGenerator<StoredRecord, void, undefined> {
          const end = to ?? (await head()).size
          let next = from
          while (next < end) {
            signal?.throwIfAborted()
            live()
            let rows: { seq: string; body: Uint8Array }[]
            try {
              ;({ rows } = await pool.query<{ seq: string; body: Uint8Array }>(
                `SELECT e.seq::text AS seq, e.body FROM ${q}.audit_entry e
                  WHERE e.stream = $1 AND e.seq >= $2 AND e.seq < $3 ORDER BY e.seq LIMIT $4`,
                [stream, next, end, readBatch],
              ))
            } catch (error) {
              throw dbError('reading records', error)
            }
            if (rows.length === 0) return
            for (const row of rows) {
              signal?.throwIfAborted()
              const seq = toSafeInteger(row.seq, 'sequence number')
              yield { seq, bytes: toBytes(row.body) }
              next = seq + 1
            }
          }
        },
      }
    },

    async appendCheckpoint(expectedCount: number, checkpoint: StoredCheckpoint): Promise<void> {
      writable()
      assertInteger(expectedCount, 'expectedCount', 0)
      if (typeof checkpoint !== 'object' || checkpoint === null) {
        throw new TypeError('"checkpoint" expected a StoredCheckpoint')
      }
      assertInteger(checkpoint.size, 'checkpoint.size', 0)
      if (typeof checkpoint.jws !== 'string' || checkpoint.jws === '') {
        throw new TypeError('"checkpoint.jws" expected a non-empty string')
      }
      let row: { ok: boolean; count: string } | undefined
      try {
        const res = await pool.query<{ ok: boolean; count: string }>(
          `SELECT ok, count::text AS count FROM ${q}.audit_append_checkpoint($1, $2, $3, $4)`,
          [stream, expectedCount, checkpoint.size, utf8Encode(checkpoint.jws)],
        )
        row = res.rows[0]
      } catch (error) {
        throw dbError('appending a checkpoint', error)
      }
      if (row === undefined) throw new AuditStoreError('appending a checkpoint returned no status')
      if (!row.ok) throw new AuditConflictError(expectedCount, toSafeInteger(row.count, 'checkpoint count'))
    },

    async checkpointHead(): Promise<CheckpointHead> {
      live()
      let rows: { idx: string; size: string; body: Uint8Array }[]
      try {
        ;({ rows } = await pool.query(
          `SELECT c.idx::text AS idx, c.size::text AS size, c.body FROM ${q}.audit_checkpoint c
            WHERE c.stream = $1 ORDER BY c.idx DESC LIMIT 1`,
          [stream],
        ))
      } catch (error) {
        throw dbError('reading the latest checkpoint', error)
      }
      const row = rows[0]
      if (row === undefined) return { count: 0, latest: null }
      return { count: toSafeInteger(row.idx, 'checkpoint index') + 1, latest: toCheckpoint(row) }
    },

    async readCheckpoints(): Promise<readonly StoredCheckpoint[]> {
      live()
      let rows: { idx: string; size: string; body: Uint8Array }[]
      try {
        ;({ rows } = await pool.query(
          `SELECT c.idx::text AS idx, c.size::text AS size, c.body FROM ${q}.audit_checkpoint c
            WHERE c.stream = $1 ORDER BY c.idx`,
          [stream],
        ))
      } catch (error) {
        throw dbError('reading checkpoints', error)
      }
      return rows.map(toCheckpoint)
    },

    async close(): Promise<void> {
      if (closed) return
      closed = true
      if (ownPool) await pool.end().catch(() => {})
      else pool.off('error', onIdleError)
    },
  }
  return store
}

function toCheckpoint(row: { idx: string; size: string; body: Uint8Array }): StoredCheckpoint {
  const size = toSafeInteger(row.size, 'checkpoint size')
  let jws: string
  try {
    jws = utf8Decode(toBytes(row.body))
  } catch {
    throw new AuditCorruptionError(`checkpoint ${row.idx} is not UTF-8`)
  }
  return { size, jws }
}
