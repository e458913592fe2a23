import { ZERO_HASH } from '@safeguards/audit-log'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuditPgMigrationError, migrate, openPostgresStore, SCHEMA_VERSION } from '../src/index.js'
import { migrateTo } from '../src/migrations.js'
import { freshSchema, pgAvailable, type TestDb, urlFor } from './pg-harness.js'
import { buildRecords } from './records.js'

const EVENT =
  '{"action":"R","agents":[{"requestor":true,"who":"user-9"}],"outcome":0,"patient":"patient-7","source":{"observer":"clinic-api"},"type":"rest"}'

describe.skipIf(!pgAvailable)('migrate', () => {
  let db: TestDb
  beforeAll(async () => {
    db = await freshSchema({ migrateIt: false })
  })
  afterAll(async () => {
    await db?.drop()
  })

  it('creates the schema once, records it, and is idempotent under concurrency', async () => {
    const results = await Promise.all([1, 2, 3].map(() => migrate(db.admin, { schema: db.schema })))
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, SCHEMA_VERSION])
    const again = await migrate(db.admin, { schema: db.schema })
    expect(again).toEqual({ schema: db.schema, applied: [], version: SCHEMA_VERSION })
    const { rows } = await db.admin.query(
      `SELECT version, name, checksum, applied_by FROM "${db.schema}".audit_schema_migrations`,
    )
    expect(rows).toHaveLength(SCHEMA_VERSION)
    expect(rows[0].checksum).toMatch(/^[0-9a-f]{64}$/)
  })

  it('refuses to run over an edited history or a newer schema', async () => {
    const s = `"${db.schema}"`
    await db.admin.query('BEGIN')
    await db.admin.query(`ALTER TABLE ${s}.audit_schema_migrations DISABLE TRIGGER USER`)
    await db.admin.query(
      `UPDATE ${s}.audit_schema_migrations SET checksum = repeat('0', 64) WHERE version = 1`,
    )
    await db.admin.query('COMMIT')
    await expect(migrate(db.admin, { schema: db.schema })).rejects.toThrow(AuditPgMigrationError)
    await db.admin.query(
      `INSERT INTO ${s}.audit_schema_migrations (version, name, checksum) VALUES (999, 'future', repeat('1', 64))`,
    )
    await expect(migrate(db.admin, { schema: db.schema })).rejects.toMatchObject({
      code: 'ERR_AUDIT_PG_MIGRATION',
      message: expect.stringContaining('newer'),
    })
  })

  it('rejects schema names that are not plain identifiers before touching the database', async () => {
    for (const bad of ['', 'Audit', 'a-b', 'x"; DROP TABLE t; --', 'a'.repeat(64), 5]) {
      await expect(migrate(db.admin, { schema: bad as string })).rejects.toBeInstanceOf(
        typeof bad === 'string' ? RangeError : TypeError,
      )
    }
  })

  it('upgrades a version 2 deployment in place: its writer roles keep appending, under the new lock', async () => {
    const v2 = await freshSchema({ migrateIt: false })
    try {
      const s = `"${v2.schema}"`
      expect(await migrateTo(v2.admin, v2.schema, 2)).toMatchObject({ applied: [1, 2], version: 2 })
      // the grants of version 2's grantAppRole
      const writer = await v2.createRole()
      const reader = await v2.createRole()
      await v2.admin.query(`GRANT USAGE ON SCHEMA ${s} TO "${writer}", "${reader}"`)
      await v2.admin.query(
        `GRANT SELECT, INSERT ON ${s}.audit_stream, ${s}.audit_entry, ${s}.audit_checkpoint TO "${writer}"`,
      )
      await v2.admin.query(`GRANT SELECT ON ${s}.audit_schema_migrations TO "${writer}"`)
      await v2.admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${s} TO "${reader}"`)
      await v2.admin.query(
        `GRANT EXECUTE ON FUNCTION ${s}.audit_append(text, bigint, bytea, bigint[], bytea[], bytea[], bytea[]),
                                   ${s}.audit_append_checkpoint(text, bigint, bigint, bytea) TO "${writer}"`,
      )
      const app = new pg.Pool({ connectionString: urlFor(writer), max: 2 })
      try {
        // a version 2 writer's calls: register, append 2 records, checkpoint
        const v2Append = (head: { size: number; hash: Uint8Array }, n: number) => {
          const rs = buildRecords('old', head, n)
          return app.query(`SELECT ok, size FROM ${s}.audit_append($1, $2, $3, $4, $5, $6, $7)`, [
            'old',
            head.size,
            head.hash,
            rs.map((r) => r.seq),
            rs.map((r) => r.prevHash),
            rs.map((r) => r.hash),
            rs.map((r) => r.bytes),
          ])
        }
        await app.query(`INSERT INTO ${s}.audit_stream (stream) VALUES ('old')`)
        expect((await v2Append({ size: 0, hash: ZERO_HASH }, 2)).rows[0]).toMatchObject({ ok: true })

        expect(await migrate(v2.admin, { schema: v2.schema })).toMatchObject({
          applied: [3, 4, 5],
          version: 5,
        })

        // the existing stream has its lock rows; the writer may lock them, the reader and PUBLIC may not
        const { rows } = await v2.admin.query(
          `SELECT stream, scope FROM ${s}.audit_stream_lock ORDER BY stream, scope`,
        )
        expect(rows).toEqual([
          { stream: 'old', scope: 'checkpoints' },
          { stream: 'old', scope: 'entries' },
        ])
        const privileges = await v2.admin.query(
          `SELECT r AS role, has_table_privilege(r, $1, 'UPDATE') AS lock,
                  has_function_privilege(r, $2, 'EXECUTE') AS append
             FROM unnest($3::text[]) r`,
          [
            `${s}.audit_stream_lock`,
            `${s}.audit_append(text, bigint, bytea, bigint[], bytea[], bytea[], bytea[], integer)`,
            [writer, reader, 'public'],
          ],
        )
        expect(privileges.rows).toEqual([
          { role: writer, lock: true, append: true },
          { role: reader, lock: false, append: false },
          { role: 'public', lock: false, append: false },
        ])

        // a writer still running version 2's code (7 arguments) keeps appending
        const h2 = { size: 2, hash: buildRecords('old', { size: 0, hash: ZERO_HASH }, 2)[1]!.hash }
        expect((await v2Append(h2, 1)).rows[0]).toMatchObject({ ok: true })
        // the new code, without re-running grantAppRole: the old stream, a new stream, checkpoints
        for (const stream of ['old', 'new']) {
          const store = await openPostgresStore({ pool: app, schema: v2.schema, stream })
          const head = await store.head()
          expect((await store.append(head, buildRecords(stream, head, 2, 'v3'))).size).toBe(head.size + 2)
          // version 4's server-built append, from a stale head: the function was granted too
          const built = await store.appendEvents(head, [EVENT], '2026-12-06T12:00:00.000Z')
          expect(built.missed).toHaveLength(2)
          expect(built.hashes).toHaveLength(1)
          expect(await store.head()).toEqual({ size: head.size + 3, hash: built.hashes[0] })
          await store.appendCheckpoint(0, { size: head.size + 2, jws: '{"x":1}' })
          await store.close()
        }
      } finally {
        await app.end()
      }
    } finally {
      await v2.drop()
    }
  })
})
