/**
 * Issue 13 §1b: no database role other than the audit writers can stop appends, and a lock that
 * is held (by a writer, or behind the owner's DDL) makes appends fail within `lockTimeoutMs` with
 * `ERR_AUDIT_LOCK_TIMEOUT` instead of hanging the request paths that wait on them.
 *
 * Schema version 2 serialised writers with `pg_advisory_xact_lock` on a predictable key: advisory
 * locks need no privilege, so any role that may connect could take that key and hang every writer
 * (the first two tests hang on that code until the test times out).
 */
import { AuditLockTimeoutError, openAuditLog, type StoreHead } from '@safeguards/audit-log'
import { describe, expect, it } from 'vitest'
import { grantAppRole, openPostgresStore, type PostgresAuditStore } from '../src/index.js'
import { pgAvailable, sqlStateOf, useAppRoleSchema } from './pg-harness.js'
import { buildRecords, event } from './records.js'

const LOCK_MODES = [
  'ROW SHARE',
  'ROW EXCLUSIVE',
  'SHARE UPDATE EXCLUSIVE',
  'SHARE',
  'SHARE ROW EXCLUSIVE',
  'EXCLUSIVE',
  'ACCESS EXCLUSIVE',
] as const
const ROW_LOCKS = ['UPDATE', 'NO KEY UPDATE', 'SHARE', 'KEY SHARE'] as const

describe.skipIf(!pgAvailable)('no role but a writer can stop appends (issue 13 §1b)', () => {
  /** Its `connect` gives the connections that hold locks; they end after each test, releasing them. */
  const env = useAppRoleSchema(4)
  let stream = 0
  const openStore = async (lockTimeoutMs?: number): Promise<PostgresAuditStore> =>
    openPostgresStore({
      pool: env.app,
      schema: env.db.schema,
      stream: `s${++stream}`,
      ...(lockTimeoutMs === undefined ? {} : { lockTimeoutMs }),
    })
  const appendOne = async (store: PostgresAuditStore, head: StoreHead): Promise<StoreHead> =>
    store.append(head, buildRecords(store.stream, head, 1, `t${head.size}`))

  it('a role with no grants holding the advisory keys of schema version 2 does not stop appends or checkpoints', async () => {
    const store = await openStore()
    const nobody = await env.connect(await env.db.createRole())
    await nobody.query(
      'SELECT pg_advisory_lock(hashtextextended($1, 0)), pg_advisory_lock(hashtextextended($2, 0))',
      [
        `safeguards-audit:${env.db.schema}:${store.stream}`,
        `safeguards-audit-checkpoint:${env.db.schema}:${store.stream}`,
      ],
    )
    const h1 = await store.append(await store.head(), buildRecords(store.stream, await store.head(), 3))
    expect(h1.size).toBe(3)
    await store.appendCheckpoint(0, { size: 3, jws: '{"x":1}' })
    expect((await store.checkpointHead()).count).toBe(1)
    // and through the log: every append acknowledged
    const log = await openAuditLog({ store, closeStore: false })
    const acks = await Promise.all(
      Array.from({ length: 20 }, (_, i) => log.append({ ...event, requestId: `r${i}` })),
    )
    expect(acks.map((a) => a.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => 3 + i))
    await log.close()
    await store.close()
  })

  it('a role with SELECT on every table can take no lock that stops appends', async () => {
    const store = await openStore()
    const reader = await env.db.createRole()
    await grantAppRole(env.db.admin, { schema: env.db.schema, role: reader, readOnly: true })
    // The worst case: a careless DBA also gave it SELECT on everything in the schema, lock table included.
    await env.db.admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${env.s} TO "${reader}"`)
    const { rows } = await env.db.admin.query<{ t: string }>(
      `SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1`,
      [env.db.schema],
    )
    const tables = rows.map((r) => `${env.s}."${r.t}"`)
    const r = await env.connect(reader)
    for (const t of tables) {
      for (const lock of ROW_LOCKS) {
        expect(await sqlStateOf(r.query(`SELECT 1 FROM ${t} FOR ${lock}`)), `${t} FOR ${lock}`).toBe('42501')
      }
      for (const mode of LOCK_MODES) {
        await r.query('BEGIN')
        expect(await sqlStateOf(r.query(`LOCK TABLE ${t} IN ${mode} MODE`)), `${t} ${mode}`).toBe('42501')
        await r.query('ROLLBACK')
      }
    }
    // What it can do: a long REPEATABLE READ transaction that has read everything and holds ACCESS
    // SHARE on every table, plus every advisory key the store or migrate() ever used.
    await r.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
    for (const t of tables) {
      await r.query(`LOCK TABLE ${t} IN ACCESS SHARE MODE`)
      await r.query(`SELECT count(*) FROM ${t}`)
    }
    for (const key of ['safeguards-audit', 'safeguards-audit-checkpoint']) {
      await r.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `${key}:${env.db.schema}:${store.stream}`,
      ])
    }
    await r.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `safeguards-audit-migrate:${env.db.schema}`,
    ])
    let head = await store.head()
    for (let i = 0; i < 5; i++) head = await appendOne(store, head)
    expect(head.size).toBe(5)
    await store.appendCheckpoint(0, { size: 5, jws: '{"x":1}' })
    await r.query('COMMIT')
    expect(tables).toContain(`${env.s}."audit_stream_lock"`)
    await store.close()
  })

  it('the writers lock is a row only writers may lock: a verifier role gets no privilege on it', async () => {
    const reader = await env.db.createRole()
    await grantAppRole(env.db.admin, { schema: env.db.schema, role: reader, readOnly: true })
    const { rows } = await env.db.admin.query<{ role: string; sel: boolean; upd: boolean }>(
      `SELECT r AS role, has_table_privilege(r, $1, 'SELECT') AS sel, has_table_privilege(r, $1, 'UPDATE') AS upd
         FROM unnest($2::text[]) r`,
      [`${env.s}.audit_stream_lock`, [env.writer, reader, 'public']],
    )
    expect(rows).toEqual([
      { role: env.writer, sel: true, upd: true },
      { role: reader, sel: false, upd: false },
      { role: 'public', sel: false, upd: false },
    ])
  })

  it('a held stream lock makes appends fail within lockTimeoutMs with ERR_AUDIT_LOCK_TIMEOUT, writing nothing', async () => {
    const store = await openStore(150)
    const h1 = await appendOne(store, await store.head())
    const holder = await env.connect(env.writer)
    await holder.query('BEGIN')
    await holder.query(
      `SELECT 1 FROM ${env.s}.audit_stream_lock WHERE stream = $1 AND scope = 'entries' FOR UPDATE`,
      [store.stream],
    )
    const refused = await store.append(h1, buildRecords(store.stream, h1, 2)).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(AuditLockTimeoutError)
    expect(refused).toMatchObject({ code: 'ERR_AUDIT_LOCK_TIMEOUT', category: 'unavailable' })
    // a stale writer waiting for the append in flight is bounded too
    const stale = await store
      .append(
        { size: 0, hash: new Uint8Array(32) },
        buildRecords(store.stream, { size: 0, hash: new Uint8Array(32) }, 1),
      )
      .catch((e: unknown) => e)
    expect(stale).toMatchObject({ code: 'ERR_AUDIT_LOCK_TIMEOUT' })
    // through the log: the caller's append fails closed, with the code
    const log = await openAuditLog({ store, closeStore: false })
    await expect(log.append(event)).rejects.toMatchObject({ code: 'ERR_AUDIT_LOCK_TIMEOUT' })
    expect(await store.head()).toEqual(h1)
    await holder.query('COMMIT')
    // released: the same store and the same log carry on
    expect((await log.append(event)).seq).toBe(1)
    await log.close()
    await store.close()
  })

  it('a held checkpoint lock makes checkpoint appends fail with ERR_AUDIT_LOCK_TIMEOUT', async () => {
    const store = await openStore(150)
    const holder = await env.connect(env.writer)
    await holder.query('BEGIN')
    await holder.query(
      `SELECT 1 FROM ${env.s}.audit_stream_lock WHERE stream = $1 AND scope = 'checkpoints' FOR UPDATE`,
      [store.stream],
    )
    await expect(store.appendCheckpoint(0, { size: 0, jws: '{"x":1}' })).rejects.toMatchObject({
      code: 'ERR_AUDIT_LOCK_TIMEOUT',
    })
    // records are not behind the checkpoint lock
    expect((await appendOne(store, await store.head())).size).toBe(1)
    await holder.query('COMMIT')
    await store.appendCheckpoint(0, { size: 1, jws: '{"x":1}' })
    expect((await store.checkpointHead()).count).toBe(1)
    await store.close()
  })

  it('a reader holding ACCESS SHARE while the owner queues DDL delays appends only up to the bound', async () => {
    const store = await openStore(150)
    const reader = await env.db.createRole()
    await grantAppRole(env.db.admin, { schema: env.db.schema, role: reader, readOnly: true })
    const r = await env.connect(reader)
    await r.query('BEGIN')
    await r.query(`LOCK TABLE ${env.s}.audit_entry IN ACCESS SHARE MODE`)
    const owner = await env.connect()
    await owner.query('BEGIN')
    const ddl = owner.query(`LOCK TABLE ${env.s}.audit_entry IN ACCESS EXCLUSIVE MODE`).then(
      () => undefined,
      (e: unknown) => e,
    )
    // wait until the owner's request is queued (everything after it queues behind it)
    for (;;) {
      const { rowCount } = await env.db.admin.query(
        `SELECT 1 FROM pg_locks WHERE relation = $1::regclass AND mode = 'AccessExclusiveLock' AND NOT granted`,
        [`${env.s}.audit_entry`],
      )
      if (rowCount !== 0) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await expect(appendOne(store, { size: 0, hash: new Uint8Array(32) })).rejects.toMatchObject({
      code: 'ERR_AUDIT_LOCK_TIMEOUT',
    })
    await r.query('ROLLBACK')
    expect(await ddl).toBeUndefined()
    await owner.query('ROLLBACK')
    expect((await appendOne(store, await store.head())).size).toBe(1)
    await store.close()
  })

  it('validates lockTimeoutMs', async () => {
    for (const bad of [0, -1, 3_600_001]) {
      await expect(openStore(bad)).rejects.toBeInstanceOf(RangeError)
    }
    for (const bad of [1.5, '5000', Number.NaN]) {
      await expect(openStore(bad as number)).rejects.toBeInstanceOf(TypeError)
    }
  })
})
