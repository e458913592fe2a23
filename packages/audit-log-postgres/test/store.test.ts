import {
  AuditClosedError,
  AuditConflictError,
  openAuditLog,
  type StoredRecord,
  verifyLog,
  ZERO_HASH,
} from '@safeguards/audit-log'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { AuditPgMigrationError, AuditPgStoreError, openPostgresStore } from '../src/index.js'
import { DATABASE_URL, openTestStore, pgAvailable, uniqueName, useFreshSchema } from './pg-harness.js'
import { buildRecords, event, headAfter, leafHash } from './records.js'

describe.skipIf(!pgAvailable)('openPostgresStore: the AuditStore contract', () => {
  const db = useFreshSchema()

  it('starts empty, appends atomically, reads back the exact bytes', async () => {
    const store = await openTestStore(db, { pool: db.admin, stream: 'ehr-prod' })
    const empty = await store.head()
    expect(empty).toEqual({ size: 0, hash: ZERO_HASH })
    const batch = buildRecords('ehr-prod', empty, 5)
    const head = await store.append(empty, batch)
    expect(head).toEqual(headAfter(batch, empty))
    expect(await store.head()).toEqual(head)
    const more = buildRecords('ehr-prod', head, 3)
    await store.append(head, more)
    const read = []
    for await (const r of store.read(0)) read.push(r)
    expect(read.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(read.map((r) => Buffer.from(r.bytes).toString())).toEqual(
      [...batch, ...more].map((r) => Buffer.from(r.bytes).toString()),
    )
    expect(read.every((r) => Object.getPrototypeOf(r.bytes) === Uint8Array.prototype)).toBe(true)
    // a decorator built with Object.create (metrics wrappers do this) still works
    const wrapped = Object.create(store) as typeof store
    expect(await wrapped.head()).toEqual(await store.head())
    const slice = []
    for await (const r of store.read(2, 4)) slice.push(r.seq)
    expect(slice).toEqual([2, 3])
    await store.close()
  })

  it('reads in pages and honours an abort signal', async () => {
    const store = await openTestStore(db, { pool: db.admin, stream: 'paged', readBatch: 3 })
    const head0 = await store.head()
    const head = await store.append(head0, buildRecords('paged', head0, 10))
    const seqs: number[] = []
    for await (const r of store.read(1, head.size)) seqs.push(r.seq)
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
    // without `to`, full pages continue up to the head as of the call, not beyond
    const unbounded: number[] = []
    for await (const r of store.read(0)) {
      if (r.seq === 0) await store.append(head, buildRecords('paged', head, 2))
      unbounded.push(r.seq)
    }
    expect(unbounded).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    const ac = new AbortController()
    const got: number[] = []
    await expect(
      (async () => {
        for await (const r of store.read(0, undefined, { signal: ac.signal })) {
          got.push(r.seq)
          if (r.seq === 4) ac.abort(new Error('stop'))
        }
      })(),
    ).rejects.toThrow('stop')
    expect(got).toEqual([0, 1, 2, 3, 4])
    await store.close()
  })

  it('orders numerically across digit boundaries (9 < 10 < 100)', async () => {
    const store = await openTestStore(db, { pool: db.admin, stream: 'digits', readBatch: 7 })
    let head = await store.head()
    for (const n of [9, 1, 90, 5]) head = await store.append(head, buildRecords('digits', head, n))
    expect(head.size).toBe(105)
    expect(await store.head()).toEqual(head)
    const seqs: number[] = []
    for await (const r of store.read(8)) seqs.push(r.seq)
    expect(seqs).toEqual(Array.from({ length: 97 }, (_, i) => i + 8))
    for (let i = 0; i < 11; i++) await store.appendCheckpoint(i, { size: i * 10, jws: `{"i":${i}}` })
    expect(await store.checkpointHead()).toEqual({ count: 11, latest: { size: 100, jws: '{"i":10}' } })
    expect((await store.readCheckpoints()).map((c) => c.size)).toEqual([
      0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100,
    ])
    await store.close()
  })

  it('refuses a stale head with AuditConflictError and writes nothing', async () => {
    const a = await openTestStore(db, { pool: db.admin, stream: 'conflict' })
    const b = await openTestStore(db, { stream: 'conflict' })
    const h0 = await a.head()
    const h1 = await a.append(h0, buildRecords('conflict', h0, 2, 'a'))
    const stale = buildRecords('conflict', h0, 1, 'b')
    const err = await b.append(h0, stale).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AuditConflictError)
    expect((err as AuditConflictError).actualSize).toBe(2)
    // same size, different hash (a fork attempt at the head) is a conflict too
    const fork = buildRecords('conflict', { size: 2, hash: leafHash(new Uint8Array([1])) }, 1, 'b')
    await expect(b.append({ size: 2, hash: fork[0]!.prevHash }, fork)).rejects.toBeInstanceOf(
      AuditConflictError,
    )
    expect(await b.head()).toEqual(h1)
    // an empty append is a head check
    expect(await b.append(h1, [])).toEqual(h1)
    await expect(b.append(h0, [])).rejects.toBeInstanceOf(AuditConflictError)
    await a.close()
    await b.close()
    await b.close() // idempotent
    await expect(b.head()).rejects.toBeInstanceOf(AuditClosedError)
    expect(() => b.read(0)).toThrow(AuditClosedError)
  })

  it('builds server-side exactly the records the log builds, and the log refuses a store that builds others', async () => {
    const store = await openTestStore(db, { pool: db.admin, stream: 'built' })
    // through the log (server-built): every stored record is the one the log would have written
    const log = await openAuditLog({
      store,
      closeStore: false,
      clock: { now: () => Date.parse('2026-12-06T12:00:00Z') },
    })
    await Promise.all([1, 2, 3].map((i) => log.append({ ...event, requestId: `b-${i}` })))
    await log.close()
    const stored: StoredRecord[] = []
    for await (const r of store.read(0)) stored.push(r)
    const expected = buildRecords(
      'built',
      { size: 0, hash: ZERO_HASH },
      3,
      'x',
      (seq) => ({ ...event, requestId: `b-${seq + 1}` }),
      '2026-12-06T12:00:00.000Z',
    ).map((r) => Buffer.from(r.bytes).toString())
    expect(stored.map((r) => Buffer.from(r.bytes).toString())).toEqual(expected)
    expect((await verifyLog(store)).ok).toBe(true)
    // a store whose server-built hashes differ from what the log computes is refused, fail closed
    const lying = {
      ...store,
      appendEvents: async (...args: Parameters<typeof store.appendEvents>) => {
        const answer = await store.appendEvents(...args)
        return { missed: answer.missed, hashes: answer.hashes.map(() => new Uint8Array(32)) }
      },
    }
    const liar = await openAuditLog({ store: lying, closeStore: false })
    await expect(liar.append(event)).rejects.toMatchObject({ code: 'ERR_AUDIT_CORRUPT' })
    await liar.close().catch(() => undefined)
    await store.close()
  })

  it('rejects malformed appends before touching the database', async () => {
    const store = await openTestStore(db, { pool: db.admin, stream: 'misuse' })
    const h0 = await store.head()
    const [r0, r1] = buildRecords('misuse', h0, 2)
    await expect(store.append(h0, [r1!])).rejects.toBeInstanceOf(RangeError) // wrong seq
    await expect(store.append(h0, [r0!, { ...r1!, prevHash: ZERO_HASH }])).rejects.toThrow(
      /continue the chain/,
    )
    await expect(store.append(h0, [{ ...r0!, hash: new Uint8Array(31) }])).rejects.toBeInstanceOf(RangeError)
    await expect(store.append({ size: -1, hash: ZERO_HASH }, [r0!])).rejects.toBeInstanceOf(RangeError)
    await expect(store.append(h0, 'nope' as never)).rejects.toBeInstanceOf(TypeError)
    // a hash that does not match the bytes is refused by the database's CHECK, nothing stored
    const lie = { ...r0!, hash: leafHash(new Uint8Array([9])) }
    const err = await store.append(h0, [lie]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AuditPgStoreError)
    expect((err as AuditPgStoreError).sqlState).toBe('23514')
    expect((err as AuditPgStoreError).code).toBe('ERR_AUDIT_STORE')
    expect(await store.head()).toEqual(h0)
    await store.close()
  })

  it('stores checkpoints conditionally, in order, never shrinking', async () => {
    const store = await openTestStore(db, { pool: db.admin, stream: 'ckpt' })
    expect(await store.checkpointHead()).toEqual({ count: 0, latest: null })
    await store.appendCheckpoint(0, { size: 0, jws: '{"payload":"a"}' })
    await store.appendCheckpoint(1, { size: 10, jws: '{"payload":"b"}' })
    await expect(store.appendCheckpoint(1, { size: 12, jws: '{"payload":"c"}' })).rejects.toBeInstanceOf(
      AuditConflictError,
    )
    const shrink = await store
      .appendCheckpoint(2, { size: 9, jws: '{"payload":"d"}' })
      .catch((e: unknown) => e)
    expect((shrink as AuditPgStoreError).sqlState).toBe('SGA02')
    expect(await store.checkpointHead()).toEqual({ count: 2, latest: { size: 10, jws: '{"payload":"b"}' } })
    expect(await store.readCheckpoints()).toEqual([
      { size: 0, jws: '{"payload":"a"}' },
      { size: 10, jws: '{"payload":"b"}' },
    ])
    await expect(store.appendCheckpoint(2, { size: 1, jws: '' })).rejects.toBeInstanceOf(TypeError)
    await store.close()
  })

  it('refuses to open an unmigrated schema, bad options, and a non-durable session', async () => {
    await expect(
      openPostgresStore({ pool: db.admin, schema: uniqueName('sg_alp_none'), stream: 's' }),
    ).rejects.toBeInstanceOf(AuditPgMigrationError)
    await expect(openTestStore(db, { pool: db.admin, stream: '-bad' })).rejects.toBeInstanceOf(RangeError)
    await expect(openPostgresStore({ schema: db.schema, stream: 's' })).rejects.toBeInstanceOf(TypeError)
    const lazy = new pg.Pool({ connectionString: DATABASE_URL, max: 1, options: '-c synchronous_commit=off' })
    await expect(openPostgresStore({ pool: lazy, schema: db.schema, stream: 's' })).rejects.toThrow(
      /synchronous_commit/,
    )
    await lazy.end()
  })

  it('read-only stores never write and refuse unknown streams', async () => {
    const writer = await openTestStore(db, { pool: db.admin, stream: 'ro' })
    const h0 = await writer.head()
    const h1 = await writer.append(h0, buildRecords('ro', h0, 2))
    const reader = await openTestStore(db, { pool: db.admin, stream: 'ro', readOnly: true })
    expect(await reader.head()).toEqual(h1)
    await expect(reader.append(h1, buildRecords('ro', h1, 1))).rejects.toMatchObject({
      code: 'ERR_AUDIT_STORE',
    })
    await expect(reader.appendCheckpoint(0, { size: 2, jws: '{}' })).rejects.toMatchObject({
      code: 'ERR_AUDIT_STORE',
    })
    await expect(openTestStore(db, { pool: db.admin, stream: 'ro-missing', readOnly: true })).rejects.toThrow(
      /does not exist/,
    )
    const { rowCount } = await db.admin.query(
      `SELECT 1 FROM "${db.schema}".audit_stream WHERE stream = 'ro-missing'`,
    )
    expect(rowCount).toBe(0)
    await expect(
      openTestStore(db, { pool: db.admin, stream: 'ro', readOnly: true, migrate: true }),
    ).rejects.toBeInstanceOf(TypeError)
    await reader.close()
    await writer.close()
  })

  it('reports an unreachable server by its error code, without the connection string', async () => {
    const err = await openTestStore(db, {
      connectionString: 'postgres://u:hunter2@127.0.0.1:1/none',
      stream: 's',
      connectTimeoutMs: 2000,
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AuditPgStoreError)
    expect((err as Error).message).toMatch(/ECONNREFUSED|connection error/)
    expect((err as Error).message).not.toContain('hunter2')
  })

  it('migrates on open when asked', async () => {
    const schema = uniqueName('sg_alp_auto')
    try {
      const store = await openPostgresStore({ pool: db.admin, schema, stream: 's', migrate: true })
      expect(await store.head()).toEqual({ size: 0, hash: ZERO_HASH })
      await store.close()
    } finally {
      await db.admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    }
  })
})
