import { ZERO_HASH } from '@safeguards/audit-log'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { grantAppRole, openPostgresStore } from '../src/index.js'
import { freshSchema, pgAvailable, sqlStateOf as state, type TestDb, urlFor } from './pg-harness.js'
import { buildRecords, leafHash } from './records.js'

const EVENT =
  '{"action":"R","agents":[{"requestor":true,"who":"user-9"}],"outcome":0,"patient":"patient-99812","source":{"observer":"clinic-api"},"type":"rest"}'

const TABLES = [
  'audit_entry',
  'audit_stream',
  'audit_checkpoint',
  'audit_schema_migrations',
  'audit_stream_lock',
] as const

describe.skipIf(!pgAvailable)('least privilege and append-only triggers', () => {
  let db: TestDb
  let role: string
  let app: pg.Pool
  let s: string
  beforeAll(async () => {
    db = await freshSchema()
    s = `"${db.schema}"`
    role = await db.createRole()
    await grantAppRole(db.admin, { schema: db.schema, role })
    await grantAppRole(db.admin, { schema: db.schema, role }) // idempotent
    app = new pg.Pool({ connectionString: urlFor(role), max: 2 })
  })
  afterAll(async () => {
    await app?.end()
    await db?.drop()
  })

  it('the application role appends and reads through the store', async () => {
    const store = await openPostgresStore({ pool: app, schema: db.schema, stream: 'app' })
    const h0 = await store.head()
    const h1 = await store.append(h0, buildRecords('app', h0, 3))
    expect(h1.size).toBe(3)
    await store.appendCheckpoint(0, { size: 3, jws: '{"x":1}' })
    const seqs: number[] = []
    for await (const r of store.read(0)) seqs.push(r.seq)
    expect(seqs).toEqual([0, 1, 2])
    await store.close()
  })

  it('the application role appends server-built and queries the key table, but cannot write keys', async () => {
    const store = await openPostgresStore({ pool: app, schema: db.schema, stream: 'keyed' })
    const h0 = await store.head()
    await store.append(h0, buildRecords('keyed', h0, 2))
    // the server-built append, from a stale head: it answers with the two records missed
    const built = await store.appendEvents(h0, [EVENT], '2026-12-06T12:00:00.000Z')
    expect(built.missed).toHaveLength(2)
    expect(await store.head()).toEqual({ size: 3, hash: built.hashes[0] })
    const answer = await store.queryIndex({ patient: 'patient-99812', after: -1, size: 3 })
    const seqs: number[] = []
    for await (const r of answer!.records) seqs.push(r.seq)
    expect(seqs).toEqual([0, 1, 2])
    expect(
      await state(app.query(`INSERT INTO ${s}.audit_entry_key VALUES ('keyed', 'p', 'Patient/forged', 0)`)),
    ).toBe('42501')
    const keys = `${s}.audit_entry_key`
    for (const op of [`UPDATE ${keys} SET value = value`, `DELETE FROM ${keys}`, `TRUNCATE ${keys}`])
      expect(await state(app.query(op))).toBe('42501')
    await store.close()
  })

  it('the application role cannot UPDATE, DELETE, TRUNCATE, disable triggers or change the schema', async () => {
    for (const t of TABLES) {
      // The writer holds UPDATE on the lock table only to lock its rows; the trigger refuses the UPDATE.
      const update = { audit_schema_migrations: '42703', audit_stream_lock: 'SGA01' }[t as string] ?? '42501'
      expect(
        await state(app.query(`UPDATE ${s}.${t} SET stream = stream`).catch((e) => Promise.reject(e))),
      ).toBe(update)
      expect(await state(app.query(`DELETE FROM ${s}.${t}`))).toBe('42501')
      expect(await state(app.query(`TRUNCATE ${s}.${t}`))).toBe('42501')
      expect(await state(app.query(`ALTER TABLE ${s}.${t} DISABLE TRIGGER USER`))).toBe('42501')
      expect(await state(app.query(`DROP TABLE ${s}.${t}`))).toBe('42501')
    }
    expect(await state(app.query(`UPDATE ${s}.audit_schema_migrations SET name = name`))).toBe('42501')
    expect(
      await state(
        app.query(
          `INSERT INTO ${s}.audit_schema_migrations (version, name, checksum) VALUES (2, 'x', repeat('0', 64))`,
        ),
      ),
    ).toBe('42501')
    expect(await state(app.query(`CREATE TABLE ${s}.evil (x int)`))).toBe('42501')
    expect(await state(app.query(`SET session_replication_role = replica`))).toBe('42501')
    const { rows } = await app.query(`SELECT count(*)::int AS n FROM ${s}.audit_entry WHERE stream = 'app'`)
    expect(rows[0].n).toBe(3)
  })

  it('direct INSERTs cannot fork, skip or rewrite the chain', async () => {
    const { rows } = await app.query(
      `SELECT seq, entry_hash FROM ${s}.audit_entry WHERE stream = 'app' ORDER BY seq DESC LIMIT 1`,
    )
    const head = { size: Number(rows[0].seq) + 1, hash: new Uint8Array(rows[0].entry_hash) }
    const insert = (r: { seq: number; prevHash: Uint8Array; hash: Uint8Array; bytes: Uint8Array }) =>
      app.query(
        `INSERT INTO ${s}.audit_entry (stream, seq, prev_hash, entry_hash, body) VALUES ('app', $1, $2, $3, $4)`,
        [r.seq, r.prevHash, r.hash, r.bytes],
      )
    // a second successor of record 1 (fork): same prev_hash
    const [fork] = buildRecords(
      'app',
      {
        size: 2,
        hash: new Uint8Array(
          (await app.query(`SELECT entry_hash FROM ${s}.audit_entry WHERE stream='app' AND seq=1`)).rows[0]
            .entry_hash,
        ),
      },
      1,
      'fork',
    )
    expect(await state(insert(fork!))).toBe('23505')
    // a gap: seq 5 when the head is 3
    const [gap] = buildRecords('app', { size: 5, hash: head.hash }, 1, 'gap')
    expect(await state(insert(gap!))).toBe('SGA02')
    // a record whose prev is not its predecessor's hash
    const [unlinked] = buildRecords('app', { size: head.size, hash: leafHash(new Uint8Array([7])) }, 1, 'x')
    expect(await state(insert(unlinked!))).toBe('SGA02')
    // a second genesis
    const [genesis] = buildRecords('app', { size: 0, hash: ZERO_HASH }, 1, 'g')
    expect(await state(insert(genesis!))).toBe('23505')
    // record 0 of a stream nobody registered
    const [orphan] = buildRecords('orphan', { size: 0, hash: ZERO_HASH }, 1, 'o')
    expect(
      await state(
        app.query(
          `INSERT INTO ${s}.audit_entry (stream, seq, prev_hash, entry_hash, body) VALUES ('orphan', 0, $1, $2, $3)`,
          [orphan!.prevHash, orphan!.hash, orphan!.bytes],
        ),
      ),
    ).toBe('SGA02')
    // a record whose hash is not its bytes' leaf hash
    const [ok] = buildRecords('app', head, 1, 'ok')
    expect(await state(insert({ ...ok!, hash: leafHash(new Uint8Array([1])) }))).toBe('23514')
    // a two-row INSERT whose second row does not link to the first (checked inside the statement)
    const [a, b] = buildRecords('app', head, 2, 'pair')
    const c = buildRecords(
      'app',
      { size: head.size + 1, hash: leafHash(new Uint8Array([3])) },
      1,
      'pair2',
    )[0]!
    expect(
      await state(
        app.query(
          `INSERT INTO ${s}.audit_entry (stream, seq, prev_hash, entry_hash, body)
           VALUES ('app', $1, $2, $3, $4), ('app', $5, $6, $7, $8)`,
          [a!.seq, a!.prevHash, a!.hash, a!.bytes, c.seq, c.prevHash, c.hash, c.bytes],
        ),
      ),
    ).toBe('SGA02')
    expect(b!.seq).toBe(head.size + 1)
    // a three-row INSERT with a gap inside it (rows head, head + 2): the row after the gap has no
    // predecessor in the statement or the table
    const [r0, , r2] = buildRecords('app', head, 3, 'gap3')
    expect(
      await state(
        app.query(
          `INSERT INTO ${s}.audit_entry (stream, seq, prev_hash, entry_hash, body)
           VALUES ('app', $1, $2, $3, $4), ('app', $5, $6, $7, $8)`,
          [r0!.seq, r0!.prevHash, r0!.hash, r0!.bytes, r2!.seq, r2!.prevHash, r2!.hash, r2!.bytes],
        ),
      ),
    ).toBe('SGA02')
    // and the honest successor goes in
    expect(await state(insert(ok!))).toBeUndefined()
  })

  it('triggers refuse UPDATE, DELETE and TRUNCATE even for the owner and superuser', async () => {
    for (const t of TABLES) {
      const col = t === 'audit_schema_migrations' ? 'name' : 'stream'
      expect(await state(db.admin.query(`UPDATE ${s}.${t} SET ${col} = ${col}`))).toBe('SGA01')
      expect(await state(db.admin.query(`DELETE FROM ${s}.${t}`))).toBe('SGA01')
      expect(await state(db.admin.query(`TRUNCATE ${s}.${t} CASCADE`))).toBe('SGA01')
      // statement triggers fire even when no row matches
      expect(await state(db.admin.query(`DELETE FROM ${s}.${t} WHERE false`))).toBe('SGA01')
    }
  })

  it('a read-only (auditor) role can verify but not append', async () => {
    const auditor = await db.createRole()
    await grantAppRole(db.admin, { schema: db.schema, role: auditor, readOnly: true })
    const pool = new pg.Pool({ connectionString: urlFor(auditor), max: 1 })
    try {
      const store = await openPostgresStore({ pool, schema: db.schema, stream: 'app', readOnly: true })
      expect((await store.head()).size).toBeGreaterThan(0)
      await store.close()
      await expect(openPostgresStore({ pool, schema: db.schema, stream: 'app' })).rejects.toMatchObject({
        sqlState: '42501',
      })
      expect(await state(pool.query(`INSERT INTO ${s}.audit_stream (stream) VALUES ('x')`))).toBe('42501')
      expect(
        await state(pool.query(`SELECT * FROM ${s}.audit_append('app', 0, NULL, '{}', '{}', '{}', '{}')`)),
      ).toBe('42501')
    } finally {
      await pool.end()
    }
  })

  it('grantAppRole refuses roles that could rewrite history, and unknown roles', async () => {
    await expect(grantAppRole(db.admin, { schema: db.schema, role: 'postgres' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
    await expect(
      grantAppRole(db.admin, { schema: db.schema, role: 'sg_alp_no_such_role' }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
    const owner = await db.createRole()
    await db.admin.query(`GRANT "${owner}" TO "${role}"`)
    await db.admin.query(`ALTER SCHEMA ${s} OWNER TO "${owner}"`)
    try {
      await expect(grantAppRole(db.admin, { schema: db.schema, role })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      })
    } finally {
      await db.admin.query(`ALTER SCHEMA ${s} OWNER TO CURRENT_USER`)
      await db.admin.query(`REVOKE "${owner}" FROM "${role}"`)
    }
    await expect(grantAppRole(db.admin, { schema: db.schema, role: 'Bad Role' })).rejects.toBeInstanceOf(
      RangeError,
    )
  })
})
