import { randomUUID } from 'node:crypto'
import { createClient } from 'redis'
import { afterAll, describe } from 'vitest'
import { createRedisStore, type MfaStore } from '../src/index.js'

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

function make() {
  return createClient({ url: REDIS_URL, socket: { connectTimeout: 2000, reconnectStrategy: false } })
}
type Client = ReturnType<typeof make>

/** Connects to the shared Redis, or explains why not. With CI=true a missing server is a failure. */
export async function connectRedis(): Promise<{ client: Client | null; reason?: string }> {
  const client = make()
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
    return { client }
  } catch (e) {
    if (process.env.CI === 'true') throw new Error(`Redis required under CI=true: ${String(e)}`)
    console.warn(`skipping Redis tests: no server at ${REDIS_URL} (${String(e)})`)
    return { client: null, reason: String(e) }
  }
}

/** A unique key prefix for one test run, and a cleanup that deletes only keys under it. */
export function runPrefix(): string {
  return `sg-test:mfa:${randomUUID()}:`
}

export async function cleanPrefix(client: Client, prefix: string): Promise<void> {
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
    const list = Array.isArray(keys) ? keys : [keys]
    if (list.length > 0) await client.del(list as string[])
  }
}

export function redisStore(client: Client, prefix: string): MfaStore {
  return createRedisStore({ client, prefix })
}

/**
 * Registers a Redis-backed suite: connects to the shared server (skipping with a printed reason when
 * it is absent, failing under CI=true), gives the suite a unique key prefix, and afterwards deletes
 * only the keys under that prefix.
 */
export async function describeRedis(
  title: string,
  body: (redis: { client: Client; prefix: string }) => void,
): Promise<void> {
  const redis = await connectRedis()
  const prefix = runPrefix()
  describe.skipIf(redis.client === null)(title, () => {
    afterAll(async () => {
      if (redis.client) {
        await cleanPrefix(redis.client, prefix)
        await redis.client.quit()
      }
    })
    body({ client: redis.client as Client, prefix })
  })
}
