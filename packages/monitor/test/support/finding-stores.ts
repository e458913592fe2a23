/**
 * Test support for the finding stores: a PostgreSQL schema of our own per
 * test (dropped afterwards) on the server at DATABASE_URL, and child processes that admit findings.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { ManualClock } from '@safeguards/core'
import pg from 'pg'
import { type FindingStore, openFindingStore, openPostgresFindingStore } from '../../src/index.js'

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** Why the server cannot be used, or undefined when it answers. */
async function unreachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 })
  const why = await client.connect().then(
    () => client.query('SELECT 1').then(() => undefined),
    (e: Error) => `PostgreSQL unreachable at DATABASE_URL (${e.message})`,
  )
  await client.end().catch(() => undefined)
  return why
}

const reason = await unreachable()
if (reason !== undefined && process.env.CI === 'true') throw new Error(`${reason}; CI=true requires it`)
if (reason !== undefined) console.warn(`skipping PostgreSQL tests: ${reason}`)

/** True when the server answered. */
export const pgAvailable: boolean = reason === undefined

/** A unique schema name. */
export function uniqueSchema(): string {
  return `sg_mon_${process.pid}_${randomBytes(6).toString('hex')}`
}

const run = promisify(execFile)
const repoRoot = fileURLToPath(new URL('../../../..', import.meta.url))

/** Runs the admitting fixture in its own process; resolves with the ids it was told are new. */
export async function runAdmitter(args: readonly string[]): Promise<string[]> {
  const script = fileURLToPath(new URL('../fixtures/admit-process.ts', import.meta.url))
  const node = ['--conditions=@safeguards/source', '--import', 'tsx', script, ...args]
  const { stdout } = await run(process.execPath, node, { cwd: repoRoot })
  return JSON.parse(stdout) as string[]
}

/** One kind of finding store: opens fresh, empty stores and removes them all on `cleanup`. */
export interface StoreKind {
  name: string
  available: boolean
  open(clock: ManualClock): Promise<FindingStore>
  cleanup(): Promise<void>
}

/** File stores, each in a fresh temporary folder (`dirs`, newest last) under `prefix`. */
export function fileStores(prefix = 'sg-findings-'): StoreKind & { dirs: string[] } {
  const dirs: string[] = []
  return {
    name: 'file',
    available: true,
    dirs,
    async open(clock) {
      const dir = mkdtempSync(join(tmpdir(), prefix))
      dirs.push(dir)
      return openFindingStore({ dir, clock })
    },
    async cleanup() {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
    },
  }
}

/**
 * PostgreSQL stores, each in a schema of its own (`schemas`, newest last) on one pool of `max`
 * connections; `query` runs SQL on that pool, `end` closes it.
 */
export function postgresStores(max: number): StoreKind & {
  schemas: string[]
  query(sql: string): Promise<pg.QueryResult>
  end(): Promise<void>
} {
  let pool: pg.Pool | undefined
  const opened = (): pg.Pool => {
    pool ??= new pg.Pool({ connectionString: DATABASE_URL, max })
    return pool
  }
  const schemas: string[] = []
  return {
    name: 'postgres',
    available: pgAvailable,
    schemas,
    query: (sql) => opened().query(sql),
    async open(clock) {
      const schema = uniqueSchema()
      schemas.push(schema)
      return openPostgresFindingStore({ client: opened(), schema, clock })
    },
    async cleanup() {
      for (const s of schemas.splice(0)) await pool?.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`)
    },
    async end() {
      await pool?.end()
    },
  }
}
