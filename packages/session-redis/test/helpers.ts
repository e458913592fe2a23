import { randomBytes } from 'node:crypto'
import { createClient } from '@redis/client'

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

const make = () =>
  createClient({ url: REDIS_URL, socket: { reconnectStrategy: false, connectTimeout: 2000 } })
export type Client = ReturnType<typeof make>

/** Connects to the shared Redis; null (with a printed reason) when it is absent outside CI. */
export async function connect(): Promise<Client | null> {
  const client = make()
  client.on('error', () => {})
  try {
    await client.connect()
    return client
  } catch (e) {
    if (process.env.CI === 'true') throw e
    console.warn(`session-redis tests skipped: no Redis at ${REDIS_URL} (${(e as Error).message})`)
    return null
  }
}

/** A prefix unique to this test run: the shared Redis is used by other engineers too. */
export function runPrefix(label: string): string {
  return `sgtest:session:${label}:${process.pid}:${randomBytes(6).toString('hex')}:`
}

/** Every key under `prefix` (SCAN, never KEYS). */
export async function keysUnder(client: Client, prefix: string): Promise<string[]> {
  const out: string[] = []
  let cursor = '0'
  do {
    const reply = (await client.sendCommand(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])) as [
      string,
      string[],
    ]
    cursor = reply[0]
    out.push(...reply[1])
  } while (cursor !== '0')
  return out
}

/** Deletes only our own keys. */
export async function cleanup(client: Client, prefix: string): Promise<void> {
  const keys = await keysUnder(client, prefix)
  for (let i = 0; i < keys.length; i += 500) await client.sendCommand(['UNLINK', ...keys.slice(i, i + 500)])
}
