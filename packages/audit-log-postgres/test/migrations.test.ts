import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuditPgMigrationError, migrate, SCHEMA_VERSION } from '../src/index.js'
import { freshSchema, pgAvailable, type TestDb } from './pg-harness.js'

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
})
