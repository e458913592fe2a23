/**
 * Test harness for the real PostgreSQL server: every test file gets its own schema (and roles) with
 * a unique name, created from scratch and dropped afterwards, so runs never see each other's data
 * and never touch what other people created on the shared server.
 *
 * DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/test. With CI=true a missing server is
 * an error; elsewhere the suites skip with a printed reason.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, afterEach, beforeAll } from 'vitest'
import {
  grantAppRole,
  migrate,
  openPostgresStore,
  type PostgresAuditStore,
  type PostgresStoreOptions,
} from '../src/index.js'

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

async function probe(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return undefined
  } catch (error) {
    return `PostgreSQL unreachable at DATABASE_URL (${(error as Error).message})`
  } finally {
    await client.end().catch(() => {})
  }
}

const reason = await probe()
if (reason !== undefined) {
  if (process.env.CI === 'true') throw new Error(`${reason}; CI=true requires the server`)
  console.warn(`skipping PostgreSQL tests: ${reason}`)
}

/** True when the server answered; use with `describe.skipIf(!pgAvailable)`. */
export const pgAvailable: boolean = reason === undefined

/** The SQLSTATE a query fails with, or undefined when it succeeds. */
export function sqlStateOf(query: Promise<unknown>): Promise<string | undefined> {
  return query.then(
    () => undefined,
    (e: { code?: string }) => e.code,
  )
}

/** A unique lower-case identifier: `prefix_<pid>_<12 hex>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(6).toString('hex')}`
}

/** A connection string for `user` on the same server and database. */
export function urlFor(user: string): string {
  const url = new URL(DATABASE_URL)
  url.username = user
  url.password = ''
  return url.toString()
}

/** A migrated schema of our own and a superuser pool; `drop()` removes the schema and any roles made. */
export interface TestDb {
  schema: string
  /** A pool connected as the (super)user of DATABASE_URL. */
  admin: pg.Pool
  /** Creates a LOGIN role that is dropped by `drop()`. */
  createRole(): Promise<string>
  drop(): Promise<void>
}

export async function freshSchema(options: { migrateIt?: boolean } = {}): Promise<TestDb> {
  const schema = uniqueName('sg_alp')
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 4 })
  const roles: string[] = []
  if (options.migrateIt !== false) await migrate(admin, { schema })
  return {
    schema,
    admin,
    async createRole(): Promise<string> {
      const role = uniqueName('sg_alp_role')
      await admin.query(`CREATE ROLE "${role}" LOGIN`)
      roles.push(role)
      return role
    },
    async drop(): Promise<void> {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      for (const role of roles) {
        await admin.query(`DROP OWNED BY "${role}"`)
        await admin.query(`DROP ROLE IF EXISTS "${role}"`)
      }
      await admin.end()
    },
  }
}

/** What {@link appRoleSchema} made: the schema, its quoted name, an app role and a pool as that role. */
export interface AppRoleSchema {
  db: TestDb
  /** The schema name, double-quoted for SQL. */
  s: string
  /** A LOGIN role given the app's privileges by `grantAppRole`. */
  writer: string
  /** A pool of `max` connections as `writer`. */
  app: pg.Pool
  /** Ends the pool, then drops the schema and the roles. */
  close(): Promise<void>
}

/** A fresh migrated schema (see {@link freshSchema}), an app role on it and a pool connected as that role. */
export async function appRoleSchema(max: number): Promise<AppRoleSchema> {
  const db = await freshSchema()
  const writer = await db.createRole()
  await grantAppRole(db.admin, { schema: db.schema, role: writer })
  const app = new pg.Pool({ connectionString: urlFor(writer), max })
  return {
    db,
    s: `"${db.schema}"`,
    writer,
    app,
    close: async () => {
      await app.end()
      await db.drop()
    },
  }
}

/** {@link appRoleSchema} for the enclosing `describe`, with connections that end after each test. */
export interface AppRoleSuite extends AppRoleSchema {
  /**
   * A connection as `role` (as the owner, on DATABASE_URL, when omitted), ended after the test:
   * ending it releases whatever locks it holds.
   */
  connect(role?: string): Promise<pg.Client>
}

/**
 * {@link appRoleSchema} for the enclosing `describe`: made before its tests, closed after them.
 * The object is filled in by the `beforeAll` hook.
 */
export function useAppRoleSchema(max: number): AppRoleSuite {
  const held: pg.Client[] = []
  const suite = {
    connect: async (role?: string): Promise<pg.Client> => {
      const client = new pg.Client({ connectionString: role === undefined ? DATABASE_URL : urlFor(role) })
      await client.connect()
      held.push(client)
      return client
    },
  } as AppRoleSuite
  beforeAll(async () => {
    Object.assign(suite, await appRoleSchema(max))
  })
  afterEach(async () => {
    await Promise.all(held.splice(0).map((c) => c.end().catch(() => {})))
  })
  afterAll(async () => {
    await suite.close?.()
  })
  return suite
}

/**
 * A fresh schema for the enclosing `describe`: made before its tests (see {@link freshSchema}) and
 * dropped after them. The object is filled in by the `beforeAll` hook.
 */
export function useFreshSchema(options: { migrateIt?: boolean } = {}): TestDb {
  const db = {} as TestDb
  beforeAll(async () => {
    Object.assign(db, await freshSchema(options))
  })
  afterAll(async () => {
    await db.drop?.()
  })
  return db
}

/** `openPostgresStore` on the test's schema, with a pool of its own on DATABASE_URL unless `pool` is given. */
export function openTestStore(
  db: TestDb,
  options: Omit<PostgresStoreOptions, 'schema'>,
): Promise<PostgresAuditStore> {
  return openPostgresStore({ connectionString: DATABASE_URL, ...options, schema: db.schema })
}
