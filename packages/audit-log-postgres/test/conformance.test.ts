/**
 * The AuditStore conformance suite of @safeguards/audit-log, run against this store: every case
 * gets a fresh, empty stream in this run's own schema.
 */
import { afterAll, beforeAll, describe } from 'vitest'
import { describeStoreConformance } from '../../audit-log/test/store-conformance.js'
import { openPostgresStore } from '../src/index.js'
import { DATABASE_URL, freshSchema, pgAvailable, type TestDb } from './pg-harness.js'

describe.skipIf(!pgAvailable)('PostgreSQL store', () => {
  let db: TestDb
  let n = 0
  beforeAll(async () => {
    db = await freshSchema()
  })
  afterAll(async () => {
    await db?.drop()
  })
  describeStoreConformance('postgres', () =>
    openPostgresStore({
      connectionString: DATABASE_URL,
      schema: db.schema,
      stream: `conf-${++n}`,
      maxConnections: 2,
    }),
  )
})
