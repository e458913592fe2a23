/**
 * Removes what a run in shared mode created: its audit schema on PostgreSQL and every Redis key
 * under its prefix. For the demo's and the tests' per-run schema and prefix only: a real
 * deployment keeps its audit log (retention) and never drops it.
 */
import { createClient } from '@redis/client'
import pg from 'pg'
import type { SharedStateOptions } from './clinic.js'

/** Drops the schema and deletes every Redis key under the prefix. */
export async function removeSharedState(
  shared: Pick<SharedStateOptions, 'databaseUrl' | 'redisUrl' | 'schema' | 'redisPrefix'>,
): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(shared.schema)) throw new RangeError('schema is not a plain identifier')
  if (shared.redisPrefix.length < 4) throw new RangeError('refusing to delete keys under a short prefix')
  const c = new pg.Client({ connectionString: shared.databaseUrl })
  await c.connect()
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${shared.schema}" CASCADE`)
  } finally {
    await c.end()
  }
  const r = await createClient({ url: shared.redisUrl }).connect()
  try {
    const pattern = `${shared.redisPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`
    for await (const keys of r.scanIterator({ MATCH: pattern, COUNT: 100 }))
      if (keys.length > 0) await r.del(keys)
  } finally {
    await r.close()
  }
}
