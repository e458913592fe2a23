/**
 * Test harness for the real PostgreSQL server: every test file migrates its own schema with a unique
 * name and drops it afterwards, so runs never see each other's data and never touch what others
 * created on the shared server. DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/test.
 * With CI=true a missing server is an error; elsewhere the suites skip with a printed reason.
 */
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { DATABASE_URL, probePostgres, runTsChild } from '../../../scripts/test-support/postgres.js'
import { migrateSubjectKeys } from '../src/index.js'

export { DATABASE_URL }

/** True when the server answered; use with `describe.skipIf(!pgAvailable)`. */
export const pgAvailable: boolean = await probePostgres(
  new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 }),
)

/** A unique lower-case identifier: `prefix_<pid>_<12 hex>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(6).toString('hex')}`
}

/** A migrated schema of our own and an admin pool; `drop()` removes the schema. */
export interface TestDb {
  schema: string
  admin: pg.Pool
  drop(): Promise<void>
}

export async function freshSchema(): Promise<TestDb> {
  const schema = uniqueName('sg_envpg')
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 4 })
  await migrateSubjectKeys(admin, { schema })
  return {
    schema,
    admin,
    async drop() {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await admin.end()
    },
  }
}

/** Runs `test/fixtures/<name>` in its own Node process; resolves with its JSON stdout. */
export function runChild<T>(name: string, input: unknown): Promise<T> {
  const script = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
  const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))
  return runTsChild<T>(name, script, { cwd: repoRoot, stdin: JSON.stringify(input), env: { DATABASE_URL } })
}
