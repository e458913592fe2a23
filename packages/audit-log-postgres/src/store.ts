/**
 * The `@safeguards/audit-log` {@link AuditStore} on PostgreSQL, safe with many writers in many
 * processes.
 *
 * Concurrency: an append is one statement, `SELECT … FROM audit_append(…)`, run in autocommit.
 * The function locks the stream's row in `audit_stream_lock` (`FOR UPDATE`: only roles holding
 * `UPDATE` on that table, the writers, can take it; schema version 2's advisory lock could be taken
 * by any role that may connect), reads the head on a fresh snapshot, refuses when it is not the
 * writer's expected head, and otherwise inserts the batch; the lock is released when the statement's
 * transaction commits, after the rows are visible. Every lock wait is bounded by `lockTimeoutMs`
 * (`SET LOCAL lock_timeout` for the append's own transaction): a held lock fails the append with
 * `AuditLockTimeoutError` (`ERR_AUDIT_LOCK_TIMEOUT`), nothing written, and the caller decides.
 *
 * `append` is optimistic: a refused writer catches up (`read`) and retries. The audit log uses
 * `appendEvents` instead: one call (`CALL audit_append_queued(…)`, schema version 5) that queues the
 * batch, and whoever holds the stream's gate then has the database build the records of every
 * queued batch, from every writer, on the head it holds (exactly as the log would; each log
 * recomputes its records and compares the hashes) and inserts them in one transaction (group
 * commit: one lock turn and one WAL flush for all the writers waiting), so none is refused, no lock
 * is held across a round trip, and each call carries what its log queued while the previous call
 * was in flight. Behind
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
 * the trail's integrity (exact bytes; no UPDATE/DELETE path); no pruning API, so retention is
 * the operator's choice (HIPAA sets no period for audit logs).
 *
 * @module
 */
import {
  type AppendRecord,
  AuditClosedError,
  AuditConflictError,
  AuditCorruptionError,
  AuditLockTimeoutError,
  type AuditStore,
  AuditStoreError,
  assertStreamId,
  type CheckpointHead,
  type IndexAnswer,
  type IndexProblem,
  type IndexQuery,
  leafHash,
  type ReadOptions,
  type StoredCheckpoint,
  type StoredRecord,
  type StoreHead,
  ZERO_HASH,
} from '@safeguards/audit-log'
import { assertInteger, timingSafeEqual, utf8Encode } from '@safeguards/core'
import pg from 'pg'
import { AuditPgMigrationError } from './errors.js'
import { checkKeyIndex } from './internal/check-index.js'
import { dbError, sqlState } from './internal/db.js'
import { DEFAULT_SCHEMA, quoteIdentifier } from './internal/identifiers.js'
import { type KeyIndexContext, keyIndexAnswer } from './internal/query-index.js'
import { readPages } from './internal/read-pages.js'
import {
  type CheckpointRow,
  checkHead,
  checkRecords,
  checkSchema,
  DEFAULT_LOCK_TIMEOUT_MS,
  LOCK_NOT_AVAILABLE,
  toBytes,
  toCheckpoint,
  toSafeInteger,
} from './internal/store-checks.js'
import { migrate } from './migrations.js'
import type { PostgresAuditStore, PostgresStoreOptions } from './store-types.js'

export type { PostgresAuditStore, PostgresStoreOptions } from './store-types.js'

/**
 * Opens (and registers) a stream in a migrated schema. Appends from any number of stores, in any
 * number of processes, on the same stream are serialised by PostgreSQL on the stream's lock row,
 * which only writer roles may lock; a writer whose head is stale gets an {@link AuditConflictError}
 * and the log catches up and retries. An append or checkpoint append that cannot get a lock within
 * `lockTimeoutMs` (default 5000) throws `AuditLockTimeoutError` (code `ERR_AUDIT_LOCK_TIMEOUT`)
 * having written nothing; the log passes it to the caller without retrying (fail closed).
 *
 * HIPAA: supports 164.312(b) audit controls (durable, append-only recording from every instance).
 *
 * @hipaa 164.312(b) supports
 * @nist AU-9 164.312(b): UPDATE, DELETE and TRUNCATE are refused by triggers and chain links are checked by the database
 * @nist AU-11 164.312(b): the store has no deletion or pruning path, so records last as long as the retention you set
 * @evidence the hash-chained audit_entry table; UPDATE, DELETE and TRUNCATE refused by triggers
 * @appResponsibility Run the application as a role with INSERT and SELECT only (grantAppRole); anchor checkpoints outside the database.
 * @appResponsibility Set retention yourself (HIPAA sets no period for audit logs; state law, your policy and the activity-review records that rely on the log decide) and back the database up.
 * @config schema, stream, lockTimeoutMs, synchronous_commit must stay on
 * @verifiedBy packages/audit-log-postgres/test/store.test.ts
 * @verifiedBy packages/audit-log-postgres/test/concurrency.test.ts
 * @verifiedBy packages/audit-log-postgres/test/privileges.test.ts
 * @verifiedBy packages/audit-log-postgres/test/lock-denial.test.ts
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
 * const store = await openPostgresStore({ pool, schema: 'audit', stream: 'ehr-prod', lockTimeoutMs: 2000 })
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
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS
  assertInteger(lockTimeoutMs, 'lockTimeoutMs', 1, 3_600_000)
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
  pool.on('error', ignore)

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
    if (ownPool) await pool.end().catch(ignore)
    else pool.off('error', ignore)
    if (error instanceof AuditPgMigrationError || error instanceof AuditStoreError) throw error
    throw dbError(`@safeguards/audit-log-postgres: opening stream ${stream} in schema ${schema}`, error)
  }
  return new PgStore({ pool, ownPool, stream, schema, q, readBatch, readOnly, lockTimeoutMs })
}

const ignore = (): void => {}

type AppendStatus = { ok: boolean; size: string; hash: Uint8Array }

interface PgStoreInit {
  pool: pg.Pool
  ownPool: boolean
  stream: string
  schema: string
  q: string
  readBatch: number
  readOnly: boolean
  lockTimeoutMs: number
}

class PgStore implements PostgresAuditStore {
  readonly stream: string
  readonly schema: string
  readonly #pool: pg.Pool
  readonly #ownPool: boolean
  readonly #q: string
  readonly #readBatch: number
  readonly #readOnly: boolean
  readonly #lockTimeoutMs: number
  #closed = false

  constructor(init: PgStoreInit) {
    this.stream = init.stream
    this.schema = init.schema
    this.#pool = init.pool
    this.#ownPool = init.ownPool
    this.#q = init.q
    this.#readBatch = init.readBatch
    this.#readOnly = init.readOnly
    this.#lockTimeoutMs = init.lockTimeoutMs
    // Bound, so wrappers (metrics decorators, Object.create, Proxy) can call them with another `this`.
    this.head = this.head.bind(this)
    this.append = this.append.bind(this)
    this.read = this.read.bind(this)
    this.readBatches = this.readBatches.bind(this)
    this.appendCheckpoint = this.appendCheckpoint.bind(this)
    this.checkpointHead = this.checkpointHead.bind(this)
    this.readCheckpoints = this.readCheckpoints.bind(this)
    this.queryIndex = this.queryIndex.bind(this)
    this.checkIndex = this.checkIndex.bind(this)
    this.appendEvents = this.appendEvents.bind(this)
    this.close = this.close.bind(this)
  }

  #live(): void {
    if (this.#closed) throw new AuditClosedError()
  }

  #writable(): void {
    this.#live()
    if (this.#readOnly) throw new AuditStoreError('the store was opened read-only')
  }

  /** A lock wait past `lockTimeoutMs` is its own typed error (nothing was written); the rest are store errors. */
  #failure(operation: string, error: unknown): Error {
    if (sqlState(error) === LOCK_NOT_AVAILABLE)
      return new AuditLockTimeoutError(this.#lockTimeoutMs, { cause: error })
    return dbError(operation, error)
  }

  async head(): Promise<StoreHead> {
    this.#live()
    let row: { seq: string; entry_hash: Uint8Array; body: Uint8Array } | undefined
    try {
      const res = await this.#pool.query<{ seq: string; entry_hash: Uint8Array; body: Uint8Array }>(
        `SELECT e.seq::text AS seq, e.entry_hash, e.body FROM ${this.#q}.audit_entry e
          WHERE e.stream = $1 ORDER BY e.seq DESC LIMIT 1`,
        [this.stream],
      )
      row = res.rows[0]
    } catch (error) {
      throw dbError('reading the head', error)
    }
    if (row === undefined) return { size: 0, hash: ZERO_HASH }
    const seq = toSafeInteger(row.seq, 'tail sequence number')
    const hash = toBytes(row.entry_hash)
    // The CHECK constraint makes this impossible unless someone with DDL rights dropped it. A writer
    // fails closed; a read-only store (a verifier) reports the stored head and lets the verifier
    // locate the damage from the bytes.
    if (!this.#readOnly && (hash.length !== 32 || !timingSafeEqual(hash, leafHash(row.body)))) {
      throw new AuditCorruptionError('stored tail record does not match its entry hash', seq)
    }
    return { size: seq + 1, hash }
  }

  async append(expected: StoreHead, records: readonly AppendRecord[]): Promise<StoreHead> {
    this.#writable()
    checkHead(expected, 'expected')
    checkRecords(expected, records)
    if (records.length === 0) {
      const actual = await this.head()
      if (actual.size !== expected.size || !timingSafeEqual(actual.hash, expected.hash)) {
        throw new AuditConflictError(expected.size, actual.size)
      }
      return actual
    }
    const args = [
      this.stream,
      expected.size,
      expected.hash,
      records.map((r) => r.seq),
      records.map((r) => r.prevHash),
      records.map((r) => r.hash),
      records.map((r) => r.bytes),
      this.#lockTimeoutMs,
    ]
    const sql = `SELECT ok, size::text AS size, hash FROM ${this.#q}.audit_append($1, $2, $3, $4, $5, $6, $7, $8)`
    let status: AppendStatus | undefined
    try {
      status = (await this.#pool.query<AppendStatus>(sql, args)).rows[0]
    } catch (error) {
      // A writer that bypassed audit_append() took the slot first: the head moved.
      if (sqlState(error) === '23505') throw new AuditConflictError(expected.size, (await this.head()).size)
      throw this.#failure('appending records', error)
    }
    if (status === undefined) throw new AuditStoreError('appending records returned no status')
    const size = toSafeInteger(status.size, 'head size')
    if (!status.ok) throw new AuditConflictError(expected.size, size)
    return { size, hash: toBytes(status.hash) }
  }

  /**
   * Appends `events` (canonical JSON texts) as the next records, built by the database under the
   * stream's lock on the head it holds, together with the batches other writers queued meanwhile
   * (one call, so no round trip while the lock is held and never a refusal for a moved head;
   * durable when it resolves): returns the entry hashes of the records stored after `known`
   * that the caller had not seen, and those of the new records, in order. The audit log uses it and
   * recomputes every new record from what it sent to check the returned hashes.
   *
   * @throws {AuditLockTimeoutError} when the lock is not granted in time (nothing written).
   * @throws {AuditCorruptionError} when the stored log does not continue `known`.
   * @throws {AuditPgStoreError} when PostgreSQL refuses or cannot be reached.
   */
  async appendEvents(
    known: StoreHead,
    events: readonly string[],
    recorded: string,
  ): Promise<{ missed: Uint8Array[]; hashes: Uint8Array[] }> {
    this.#writable()
    checkHead(known, 'known')
    type EventsRow = {
      ok: boolean
      size: string | null
      missed: Uint8Array | null
      hashes: Uint8Array | null
    }
    let row: EventsRow | undefined
    try {
      ;({
        rows: [row],
      } = await this.#pool.query<EventsRow>(
        `CALL ${this.#q}.audit_append_queued($1, $2, $3, $4, $5, $6, NULL, NULL, NULL, NULL)`,
        [
          this.stream,
          known.size,
          known.hash,
          events.map((e) => utf8Encode(e)),
          recorded,
          this.#lockTimeoutMs,
        ],
      ))
    } catch (error) {
      throw this.#failure('appending records', error)
    }
    if (row === undefined) throw new AuditStoreError('appending records returned no status')
    if (!row.ok)
      throw new AuditCorruptionError("the stored log does not continue the writer's head", known.size)
    const split = (b: Uint8Array | null): Uint8Array[] => {
      const all = b === null ? new Uint8Array(0) : toBytes(b)
      if (all.length % 32 !== 0) throw new AuditCorruptionError('a stored entry hash is malformed')
      const out: Uint8Array[] = []
      for (let at = 0; at < all.length; at += 32) out.push(all.subarray(at, at + 32))
      return out
    }
    const missed = split(row.missed)
    const hashes = split(row.hashes)
    if (
      toSafeInteger(row.size ?? '', 'head size') !== known.size + missed.length ||
      hashes.length !== events.length
    )
      throw new AuditCorruptionError('the store answered an append with the wrong number of records')
    return { missed, hashes }
  }

  read(from: number, to?: number, readOptions?: ReadOptions): AsyncIterable<StoredRecord> {
    const pages = this.readBatches(from, to, readOptions)
    const signal = readOptions?.signal
    return {
      async *[Symbol.asyncIterator](): AsyncGenerator<StoredRecord, void, undefined> {
        for await (const page of pages) {
          for (const record of page) {
            signal?.throwIfAborted()
            yield record
          }
        }
      },
    }
  }

  /** {@link AuditStore.readBatches}: the same records as `read`, one array per query page. */
  readBatches(from: number, to?: number, readOptions?: ReadOptions): AsyncIterable<readonly StoredRecord[]> {
    this.#live()
    assertInteger(from, 'from', 0)
    if (to !== undefined) assertInteger(to, 'to', 0)
    const signal = readOptions?.signal
    const store = this
    return {
      async *[Symbol.asyncIterator](): AsyncGenerator<readonly StoredRecord[], void, undefined> {
        yield* readPages(store.#context(), from, to, signal)
      },
    }
  }

  async appendCheckpoint(expectedCount: number, checkpoint: StoredCheckpoint): Promise<void> {
    this.#writable()
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
      const res = await this.#pool.query<{ ok: boolean; count: string }>(
        `SELECT ok, count::text AS count FROM ${this.#q}.audit_append_checkpoint($1, $2, $3, $4, $5)`,
        [this.stream, expectedCount, checkpoint.size, utf8Encode(checkpoint.jws), this.#lockTimeoutMs],
      )
      row = res.rows[0]
    } catch (error) {
      throw this.#failure('appending a checkpoint', error)
    }
    if (row === undefined) throw new AuditStoreError('appending a checkpoint returned no status')
    if (!row.ok) throw new AuditConflictError(expectedCount, toSafeInteger(row.count, 'checkpoint count'))
  }

  async checkpointHead(): Promise<CheckpointHead> {
    this.#live()
    let rows: CheckpointRow[]
    try {
      ;({ rows } = await this.#pool.query<CheckpointRow>(
        `SELECT c.idx::text AS idx, c.size::text AS size, c.body FROM ${this.#q}.audit_checkpoint c
          WHERE c.stream = $1 ORDER BY c.idx DESC LIMIT 1`,
        [this.stream],
      ))
    } catch (error) {
      throw dbError('reading the latest checkpoint', error)
    }
    const row = rows[0]
    if (row === undefined) return { count: 0, latest: null }
    return { count: toSafeInteger(row.idx, 'checkpoint index') + 1, latest: toCheckpoint(row) }
  }

  async readCheckpoints(): Promise<readonly StoredCheckpoint[]> {
    this.#live()
    let rows: CheckpointRow[]
    try {
      ;({ rows } = await this.#pool.query<CheckpointRow>(
        `SELECT c.idx::text AS idx, c.size::text AS size, c.body FROM ${this.#q}.audit_checkpoint c
          WHERE c.stream = $1 ORDER BY c.idx`,
        [this.stream],
      ))
    } catch (error) {
      throw dbError('reading checkpoints', error)
    }
    return rows.map(toCheckpoint)
  }

  /**
   * {@link AuditStore.queryIndex} through the key table (schema version 4): complete for every
   * committed record, since its rows are written in the append's transaction.
   */
  async queryIndex(query: IndexQuery): Promise<IndexAnswer | undefined> {
    this.#live()
    return keyIndexAnswer(this.#context(), query)
  }

  /**
   * {@link AuditStore.checkIndex}: the key table against the records below `size`, with the keys
   * recomputed from the stored bytes (`verifyLog` with `deep: true` reports `INDEX_MISMATCH`).
   */
  async checkIndex(size: number, readOptions?: ReadOptions): Promise<readonly IndexProblem[]> {
    this.#live()
    return checkKeyIndex(this.#context(), this.readBatches, size, readOptions)
  }

  #context(): KeyIndexContext {
    return {
      pool: this.#pool,
      q: this.#q,
      stream: this.stream,
      pageSize: this.#readBatch,
      live: () => this.#live(),
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#ownPool) await this.#pool.end().catch(ignore)
    else this.#pool.off('error', ignore)
  }
}
