/**
 * Issue 16 §1: schema version 5's group commit. Writers queue their batches and whoever holds the
 * stream's gate sequences every queued batch in one transaction; a lock timeout still writes
 * nothing; a batch that cannot be stored fails its own writer only; a version 4 deployment upgrades
 * in place and its writer roles append through the queue without running grantAppRole again.
 */
import { openAuditLog, verifyLog, ZERO_HASH } from '@safeguards/audit-log'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { grantAppRole, migrate, openPostgresStore, type PostgresAuditStore } from '../src/index.js'
import { migrateTo } from '../src/migrations.js'
import { freshSchema, pgAvailable, sqlStateOf, urlFor, useAppRoleSchema } from './pg-harness.js'
import { event } from './records.js'

const EVENT = (n: number): string =>
  `{"action":"R","agents":[{"requestor":true,"who":"user-${n}"}],"outcome":0,"patient":"patient-${n}","source":{"observer":"clinic-api"},"type":"rest"}`
const RECORDED = '2026-12-07T01:00:00.000Z'

describe.skipIf(!pgAvailable)('group commit (schema version 5)', () => {
  let n = 0
  const stores: PostgresAuditStore[] = []
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()))
  })
  // registered after the stores' hook, so a test's held connections end (releasing their locks) first
  const env = useAppRoleSchema(12)

  const open = async (stream: string, lockTimeoutMs = 5000): Promise<PostgresAuditStore> => {
    const store = await openPostgresStore({ pool: env.app, schema: env.db.schema, stream, lockTimeoutMs })
    stores.push(store)
    return store
  }
  /** Holds the stream's lock row (as a writer may) until the returned function is called. */
  const holdStreamLock = async (stream: string): Promise<() => Promise<void>> => {
    const holder = await env.connect(env.writer)
    await holder.query('BEGIN')
    await holder.query(
      `SELECT 1 FROM ${env.s}.audit_stream_lock WHERE stream = $1 AND scope = 'entries' FOR UPDATE`,
      [stream],
    )
    return async () => {
      await holder.query('COMMIT')
    }
  }
  /** Holds the stream's gate (as the owner: no writer role may touch it) until the returned function is called. */
  const holdGate = async (stream: string): Promise<() => Promise<void>> => {
    const holder = await env.connect()
    await holder.query('BEGIN')
    await holder.query(`SELECT 1 FROM ${env.s}.audit_stream_gate WHERE stream = $1 FOR UPDATE`, [stream])
    return async () => {
      await holder.query('COMMIT')
    }
  }
  const queued = async (stream: string): Promise<number> =>
    (
      await env.db.admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${env.s}.audit_append_queue WHERE stream = $1`,
        [stream],
      )
    ).rows[0]!.n
  const untilQueued = async (stream: string, count: number): Promise<void> => {
    while ((await queued(stream)) < count) await new Promise((resolve) => setTimeout(resolve, 10))
  }

  it('whoever holds the gate stores every queued batch in one transaction, each writer getting its own records', async () => {
    const stream = `g${++n}`
    const writers = await Promise.all(Array.from({ length: 4 }, () => open(stream)))
    const release = await holdGate(stream)
    const appends = writers.map((w, i) =>
      w.appendEvents({ size: 0, hash: ZERO_HASH }, [EVENT(i), EVENT(i + 10)], RECORDED),
    )
    await untilQueued(stream, 4)
    await release()
    const answers = await Promise.all(appends)
    const { rows } = await env.db.admin.query<{ seq: string; xmin: string; body: Uint8Array }>(
      `SELECT seq::text, xmin::text, body FROM ${env.s}.audit_entry WHERE stream = $1 ORDER BY seq`,
      [stream],
    )
    expect(rows).toHaveLength(8)
    expect(new Set(rows.map((r) => r.xmin)).size).toBe(1)
    // each writer's two records are consecutive, and it was told of every record before them
    const hashes = answers.flatMap((a) => [...a.missed, ...a.hashes])
    for (const a of answers) {
      expect(a.hashes).toHaveLength(2)
      expect(a.missed.length % 2).toBe(0)
    }
    expect(new Set(answers.map((a) => a.missed.length))).toEqual(new Set([0, 2, 4, 6]))
    expect(hashes).toHaveLength(2 + 4 + 6 + 8)
    expect(await queued(stream)).toBe(0)
    const log = await openAuditLog({ store: writers[0]!, closeStore: false })
    expect((await log.append(event)).seq).toBe(8)
    await log.close()
    expect((await verifyLog(writers[0]!)).ok).toBe(true)
  })

  it('a batch that cannot be stored fails its own writer only', async () => {
    const stream = `g${++n}`
    const [good, bad, other] = await Promise.all([open(stream), open(stream), open(stream)])
    const release = await holdGate(stream)
    const head = { size: 0, hash: ZERO_HASH }
    const a = good!.appendEvents(head, [EVENT(1)], RECORDED)
    await untilQueued(stream, 1)
    const b = bad!.appendEvents(head, ['{"not json'], RECORDED).then(
      () => undefined,
      (e: unknown) => e,
    )
    await untilQueued(stream, 2)
    const c = other!.appendEvents(head, [EVENT(3)], RECORDED)
    await untilQueued(stream, 3)
    await release()
    expect((await a).hashes).toHaveLength(1)
    expect(await b).toMatchObject({ code: 'ERR_AUDIT_STORE' })
    expect((await c).missed).toHaveLength(1)
    expect(await good!.head()).toMatchObject({ size: 2 })
    expect((await verifyLog(good!)).ok).toBe(true)
  })

  it('a lone writer appends at once, without queuing', async () => {
    const stream = `g${++n}`
    const store = await open(stream)
    const answer = await store.appendEvents({ size: 0, hash: ZERO_HASH }, [EVENT(1), EVENT(2)], RECORDED)
    expect(answer.hashes).toHaveLength(2)
    const { rows } = await env.db.admin.query(
      `SELECT n_tup_ins::int AS n FROM pg_stat_xact_user_tables WHERE relid = $1::regclass`,
      [`${env.s}.audit_append_queue`],
    )
    expect(rows[0]?.n ?? 0).toBe(0)
    expect(await queued(stream)).toBe(0)
    expect(await store.head()).toEqual({ size: 2, hash: answer.hashes[1] })
  })

  it('writers whose lock wait times out withdraw their batches: nothing is written, the queue is empty', async () => {
    const stream = `g${++n}`
    const writers = await Promise.all([open(stream, 200), open(stream, 200)])
    const release = await holdStreamLock(stream)
    const failed = await Promise.all(
      writers.map((w, i) =>
        w.appendEvents({ size: 0, hash: ZERO_HASH }, [EVENT(i)], RECORDED).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    )
    for (const e of failed) expect(e).toMatchObject({ code: 'ERR_AUDIT_LOCK_TIMEOUT' })
    await release()
    expect(await queued(stream)).toBe(0)
    expect(await writers[0]!.head()).toEqual({ size: 0, hash: ZERO_HASH })
    // released: the same stores carry on
    expect(
      (await writers[1]!.appendEvents({ size: 0, hash: ZERO_HASH }, [EVENT(5)], RECORDED)).hashes,
    ).toHaveLength(1)
  })

  it('writer roles hold nothing on the queue and the gate; other roles cannot queue', async () => {
    const reader = await env.db.createRole()
    await grantAppRole(env.db.admin, { schema: env.db.schema, role: reader, readOnly: true })
    const { rows } = await env.db.admin.query<{ role: string; queue: boolean; gate: boolean; call: boolean }>(
      `SELECT r AS role,
              has_table_privilege(r, $1, 'SELECT') OR has_table_privilege(r, $1, 'INSERT') OR has_table_privilege(r, $1, 'UPDATE') AS queue,
              has_table_privilege(r, $2, 'SELECT') OR has_table_privilege(r, $2, 'UPDATE') AS gate,
              has_function_privilege(r, $3, 'EXECUTE') AS call
         FROM unnest($4::text[]) r`,
      [
        `${env.s}.audit_append_queue`,
        `${env.s}.audit_stream_gate`,
        `${env.s}.audit_append_queued(text, bigint, bytea, bytea[], text, integer, boolean, bigint, bytea, bytea)`,
        [env.writer, reader, 'public'],
      ],
    )
    expect(rows).toEqual([
      { role: env.writer, queue: false, gate: false, call: true },
      { role: reader, queue: false, gate: false, call: false },
      { role: 'public', queue: false, gate: false, call: false },
    ])
    const r = await env.connect(reader)
    expect(
      await sqlStateOf(
        r.query(`CALL ${env.s}.audit_append_queued('x', 0, $1, $2, $3, 1000, NULL, NULL, NULL, NULL)`, [
          ZERO_HASH,
          [new TextEncoder().encode(EVENT(0))],
          RECORDED,
        ]),
      ),
    ).toBe('42501')
  })

  it('upgrades a version 4 deployment in place: its writer roles append through the queue without grantAppRole', async () => {
    const v4 = await freshSchema({ migrateIt: false })
    try {
      const q = `"${v4.schema}"`
      expect(await migrateTo(v4.admin, v4.schema, 4)).toMatchObject({ version: 4 })
      // the grants of version 4's grantAppRole
      const w = await v4.createRole()
      await v4.admin.query(`GRANT USAGE ON SCHEMA ${q} TO "${w}"`)
      await v4.admin.query(
        `GRANT SELECT, INSERT ON ${q}.audit_stream, ${q}.audit_entry, ${q}.audit_checkpoint TO "${w}"`,
      )
      await v4.admin.query(`GRANT SELECT ON ${q}.audit_schema_migrations, ${q}.audit_entry_key TO "${w}"`)
      await v4.admin.query(`GRANT SELECT, INSERT, UPDATE ON ${q}.audit_stream_lock TO "${w}"`)
      await v4.admin.query(
        `GRANT EXECUTE ON FUNCTION ${q}.audit_append(text, bigint, bytea, bigint[], bytea[], bytea[], bytea[], integer),
                                   ${q}.audit_append_checkpoint(text, bigint, bigint, bytea, integer),
                                   ${q}.audit_append_events(text, bigint, bytea, bytea[], text, integer) TO "${w}"`,
      )
      const pool = new pg.Pool({ connectionString: urlFor(w), max: 4 })
      try {
        const enc = new TextEncoder()
        const v4Append = async (known: { size: number; hash: Uint8Array }, events: string[]) => {
          const { rows } = await pool.query<{ ok: boolean; hashes: Uint8Array }>(
            `SELECT ok, hashes FROM ${q}.audit_append_events('old', $1, $2, $3, $4, 1000)`,
            [known.size, known.hash, events.map((e) => enc.encode(e)), RECORDED],
          )
          const h = new Uint8Array(rows[0]!.hashes)
          return { size: known.size + events.length, hash: h.subarray(h.length - 32) }
        }
        await pool.query(`INSERT INTO ${q}.audit_stream (stream) VALUES ('old')`)
        const h2 = await v4Append({ size: 0, hash: ZERO_HASH }, [EVENT(1), EVENT(2)])

        expect(await migrate(v4.admin, { schema: v4.schema })).toMatchObject({ applied: [5], version: 5 })
        const gates = await v4.admin.query(`SELECT stream FROM ${q}.audit_stream_gate`)
        expect(gates.rows).toEqual([{ stream: 'old' }])

        // a writer still running version 4's code keeps appending
        const h3 = await v4Append(h2, [EVENT(3)])
        expect(h3.size).toBe(3)
        // the new code, without re-running grantAppRole: the old stream and a new one, through the log
        for (const stream of ['old', 'new']) {
          const store = await openPostgresStore({ pool, schema: v4.schema, stream })
          const log = await openAuditLog({ store })
          const acks = await Promise.all(
            Array.from({ length: 10 }, (_, i) => log.append({ ...event, requestId: `v5-${i}` })),
          )
          const base = stream === 'old' ? 3 : 0
          expect(acks.map((a) => a.seq).sort((a, b) => a - b)).toEqual(
            Array.from({ length: 10 }, (_, i) => base + i),
          )
          await log.close()
          const check = await openPostgresStore({ pool: v4.admin, schema: v4.schema, stream, readOnly: true })
          expect((await verifyLog(check, { deep: true })).ok).toBe(true)
          await check.close()
        }
      } finally {
        await pool.end()
      }
    } finally {
      await v4.drop()
    }
  })
})
