/**
 * Test support for the finding stores: a PostgreSQL schema of our own per
 * test (dropped afterwards) on the server at DATABASE_URL, and child processes that admit findings.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import pg from 'pg'

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
