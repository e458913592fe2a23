import { randomBytes } from 'node:crypto'
import { createClient } from '@redis/client'
import { createSessionManager } from '@safeguards/session'
import type { CustomSide, Scenario } from '../../../scripts/bench/types.ts'
import { createRedisSessionStore } from '../src/index.js'

const CALLERS = 64
const ROUND_MS = 1000
const ROUNDS = 5
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `sgbench:session:${process.pid}:${randomBytes(4).toString('hex')}:`
const client = createClient({ url })
client.on('error', () => {})
const sessions = createSessionManager({
  store: createRedisSessionStore({ client, prefix }),
  maxSessionsPerUser: CALLERS,
})
const tokens: string[] = []
const getKeys: string[] = []

interface Round {
  rate: number
  p50: number
  p99: number
}

/** One round: 64 concurrent callers for ROUND_MS; the rate and latency percentiles. */
async function round(op: (caller: number) => Promise<unknown>): Promise<Round> {
  const latencies: number[] = []
  const start = performance.now()
  const end = start + ROUND_MS
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, i) => {
      while (performance.now() < end) {
        const t0 = performance.now()
        await op(i)
        latencies.push(performance.now() - t0)
      }
    }),
  )
  const elapsed = performance.now() - start
  latencies.sort((a, b) => a - b)
  const q = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] as number
  return { rate: (latencies.length / elapsed) * 1000, p50: q(0.5), p99: q(0.99) }
}

const median = (rs: Round[]): Round =>
  [...rs].sort((a, b) => a.rate - b.rate)[Math.floor(rs.length / 2)] as Round
const report = (r: Round): { value: number; extra: Record<string, string> } => ({
  value: r.rate,
  extra: { p50: `${r.p50.toFixed(2)} ms`, p99: `${r.p99.toFixed(2)} ms` },
})

const validateOp = async (i: number): Promise<void> => {
  if ((await sessions.validate(tokens[i])) === null) throw new Error('session lost during the bench')
}
const getOp = (i: number): Promise<unknown> => client.sendCommand(['GET', getKeys[i] as string])

// The harness runs custom sides one after the other; on a shared machine the load drifts between
// them. So "ours" runs the rounds of both sides interleaved (ours, GET, ours, GET…, after one
// warm-up round each) and hands the GET rounds to the anchor side: the same run, the same drift.
let anchorRounds: Round[] = []
const ours: CustomSide = {
  name: '@safeguards/session-redis validate(token) with activity (Lua touch), node-redis 6',
  measure: async () => {
    await round(validateOp)
    await round(getOp)
    const mine: Round[] = []
    anchorRounds = []
    for (let r = 0; r < ROUNDS; r++) {
      mine.push(await round(validateOp))
      anchorRounds.push(await round(getOp))
    }
    return report(median(mine))
  },
}
const anchor: CustomSide = {
  name: 'raw GET, same node-redis client and connection',
  measure: async () => report(median(anchorRounds)),
}

const scenarios: Scenario[] = [
  {
    name: 'Redis validate with activity, 64 concurrent callers, loopback',
    unit: 'ops/s',
    setup: async () => {
      await client.connect()
      for (let i = 0; i < CALLERS; i++) {
        tokens.push((await sessions.create(`u-bench-${i % 8}`)).token)
        const key = `${prefix}get:${i}`
        await client.sendCommand(['SET', key, 'x'.repeat(160)])
        getKeys.push(key)
      }
    },
    teardown: async () => {
      let cursor = '0'
      do {
        const [next, keys] = (await client.sendCommand([
          'SCAN',
          cursor,
          'MATCH',
          `${prefix}*`,
          'COUNT',
          '1000',
        ])) as [string, string[]]
        cursor = next
        if (keys.length > 0) await client.sendCommand(['UNLINK', ...keys])
      } while (cursor !== '0')
      await client.close()
    },
    ours,
    anchor,
    target: { ratio: 0.5, text: '≥ 0.5× raw GET' },
  },
]
export default scenarios
