/**
 * The real PostgreSQL and Redis for the shared-state tests: whether they answer. With CI=true an
 * unreachable service is an error; elsewhere the suites skip with a printed reason. What a test
 * created is removed with `removeSharedState` (src/shared-state.ts).
 */
import { createClient } from '@redis/client'
import pg from 'pg'

export const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

async function reachable(): Promise<string | null> {
  try {
    const c = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2000 })
    await c.connect()
    await c.end()
  } catch {
    return `PostgreSQL not reachable at ${databaseUrl}`
  }
  try {
    const r = await createClient({
      url: redisUrl,
      socket: { reconnectStrategy: false, connectTimeout: 2000 },
    }).connect()
    await r.close()
  } catch {
    return `Redis not reachable at ${redisUrl}`
  }
  return null
}

/** Why the services cannot be used, or null. Throws with CI=true. */
export async function missingServices(suite: string): Promise<string | null> {
  const missing = await reachable()
  if (missing && process.env.CI === 'true') throw new Error(`CI=true but ${missing}`)
  if (missing) console.warn(`skipping ${suite}: ${missing}`)
  return missing
}
