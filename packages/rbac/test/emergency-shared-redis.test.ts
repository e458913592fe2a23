/**
 * Emergency access across instances (issue 19 §3) on a real Redis: a grant made on one instance is
 * honoured on another within 100 ms, revocations and reviews are atomic across instances, expiry
 * needs no message, a grant survives SIGKILL and a restart still awaiting review, a corrupted
 * entry never grants, and an unreachable Redis fails closed with a typed error.
 */
import { randomBytes } from 'node:crypto'
import { createClient } from '@redis/client'
import { manualClock } from '@safeguards/core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { scriptCacheFlushed } from '../../../scripts/test-support/redis.js'
import {
  compilePolicy,
  EmergencyStoreUnavailableError,
  type GrantRedisClient,
  openRedisEmergencyStore,
  type PolicyDocument,
  type RedisEmergencyStoreOptions,
  type SharedEmergencyStore,
} from '../src/index.js'
import { clinic, emergencyRequest, MONDAY_10AM } from './helpers.js'
import { describeSharedStore, readP2, type SharedInstance, until } from './shared-store-cases.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `sgtest:rbac:${process.pid}:${randomBytes(6).toString('hex')}:`
const UNAVAILABLE = { code: 'ERR_RBAC_EMERGENCY_STORE_UNAVAILABLE' }

const make = () =>
  createClient({ url: REDIS_URL, socket: { reconnectStrategy: false, connectTimeout: 2000 } })
type Client = ReturnType<typeof make>
const clients: Client[] = []
const connect = async (): Promise<Client> => {
  const client = make()
  client.on('error', () => {})
  await client.connect()
  clients.push(client)
  return client
}

interface Instance extends SharedInstance {
  client: Client
}

const stores: SharedEmergencyStore[] = []
let redis: Client

async function instance(
  options: Partial<RedisEmergencyStoreOptions> = {},
  policy: PolicyDocument = clinic,
): Promise<Instance> {
  const client = await connect()
  const store = await openRedisEmergencyStore({ client, prefix, ...options })
  stores.push(store)
  const clock = manualClock(MONDAY_10AM)
  const pdp = compilePolicy(policy, { clock, emergencyStore: store, resolvers: { careTeam: () => false } })
  return { pdp, store, client, clock }
}

beforeAll(async () => {
  redis = await connect()
})

afterAll(async () => {
  for (const s of stores) await s.close()
  let cursor = '0' // delete only this run's keys (SCAN, never KEYS: the Redis is shared)
  do {
    const [next, keys] = (await redis.sendCommand(['SCAN', cursor, 'MATCH', `${prefix}*`])) as [
      string,
      string[],
    ]
    if (keys.length > 0) await redis.sendCommand(['UNLINK', ...keys])
    cursor = next
  } while (cursor !== '0')
  for (const c of clients) if (c.isOpen) await c.close()
})

describeSharedStore('emergency grants shared on Redis', {
  instance: () => instance(),
  peer: { fixture: 'grant-instance-redis.ts', args: [REDIS_URL, prefix] },
  expectOneReviewStored: async (run) => {
    const counter = Number(await redis.sendCommand(['GET', `${prefix}version`]))
    const { grant: g, reviewer } = await run()
    const entry = String(await redis.sendCommand(['HGET', `${prefix}grants`, g.id]))
    expect(entry.slice(0, 2)).toBe('3|') // granted, revoked, reviewed once
    expect(JSON.parse(entry.slice(2)).review.reviewer).toBe(reviewer)
    expect(Number(await redis.sendCommand(['GET', `${prefix}version`]))).toBe(counter + 3)
  },
  more: (ab) => {
    it('a corrupted entry never grants, whatever is wrong with it', async () => {
      const { a, b } = ab()
      const g = await a.pdp.emergency.grantAsync(emergencyRequest())
      await b.store.fetch(g.id)
      expect(b.pdp.decide(readP2(g.id)).reason).toBe('emergency_access')
      const good = JSON.stringify(g)
      for (const bad of [
        `2|${JSON.stringify({ ...g, expiresAt: 'soon' })}`, // not a grant
        `2|${JSON.stringify({ ...g, id: 'another' })}`, // another grant's body
        `2|${good.slice(0, -1)}`, // truncated JSON
        `x|${good}`, // no version
        good, // no version at all
      ]) {
        await redis.sendCommand(['HSET', `${prefix}grants`, g.id, bad])
        await b.store.refresh()
        expect(b.pdp.decide(readP2(g.id)).reason).toBe('no_matching_allow')
        expect(await b.store.fetch(g.id)).toBeUndefined()
        // The registry refuses to change it, on any instance.
        await expect(a.pdp.emergency.revokeAsync(g.id, 'u-adm')).rejects.toMatchObject({
          code: 'ERR_RBAC_EMERGENCY_NOT_FOUND',
        })
      }
    })

    it('the periodic resync picks up a change made without the counter (a hand edit, a restore)', async () => {
      const c = await instance({ resyncIntervalMs: 100 })
      const g = await c.pdp.emergency.grantAsync(emergencyRequest())
      await until('grant', () => c.pdp.decide(readP2(g.id)).reason === 'emergency_access')
      await redis.sendCommand(['HDEL', `${prefix}grants`, g.id])
      await until('deletion', () => c.pdp.decide(readP2(g.id)).reason === 'no_matching_allow', 1000)
    })

    it('dual control across instances: approved on B, honoured on A; of two approvals one is stored', async () => {
      const dual = {
        ...clinic,
        emergencyAccess: { ...clinic.emergencyAccess, approvers: 1 },
      } as PolicyDocument
      const [c, d] = [await instance({}, dual), await instance({}, dual)]
      const g = await c.pdp.emergency.grantAsync(emergencyRequest())
      await until('grant', () => d.store.get(g.id) !== undefined)
      expect(d.pdp.decide(readP2(g.id)).emergencyAccess?.status).toBe('pending_approval')
      const outcomes = await Promise.allSettled([
        d.pdp.emergency.approveAsync(g.id, 'u-charge'),
        c.pdp.emergency.approveAsync(g.id, 'u-charge2'),
      ])
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
      await until('approval', () => c.pdp.decide(readP2(g.id)).reason === 'emergency_access')
      const entry = String(await redis.sendCommand(['HGET', `${prefix}grants`, g.id]))
      expect(entry.slice(0, 2)).toBe('2|')
      expect(JSON.parse(entry.slice(2)).approvals).toHaveLength(1)
    })

    it('Redis unreachable: decisions deny emergency access, the async methods throw a typed error', async () => {
      const { a } = ab()
      const c = await instance({ maxStalenessMs: 300 })
      const g = await c.pdp.emergency.grantAsync(emergencyRequest())
      expect(c.pdp.decide(readP2(g.id)).reason).toBe('emergency_access')
      c.client.destroy()
      await until('fail closed', () => c.pdp.decide(readP2(g.id)).reason === 'no_matching_allow', 1000)
      expect(c.store.get(g.id)).toBeUndefined()
      await expect(c.pdp.emergency.grantAsync(emergencyRequest())).rejects.toBeInstanceOf(
        EmergencyStoreUnavailableError,
      )
      await expect(c.pdp.emergency.revokeAsync(g.id, 'u-adm')).rejects.toMatchObject(UNAVAILABLE)
      await expect(
        c.pdp.emergency.reviewAsync(g.id, { reviewer: 'u-priv', outcome: 'appropriate', notes: 'ok' }),
      ).rejects.toMatchObject(UNAVAILABLE)
      await expect(c.store.refresh()).rejects.toMatchObject(UNAVAILABLE)
      await expect(openRedisEmergencyStore({ client: c.client, prefix })).rejects.toMatchObject(UNAVAILABLE)
      // The other instances are unaffected.
      expect(a.pdp.decide(readP2(g.id)).reason).toBe('emergency_access')
    })

    it('a server that does not answer in time fails closed (command timeout)', async () => {
      const slow = await instance({ commandTimeoutMs: 50 })
      // A blocking pop holds the connection: the next command gets no answer for a second.
      const blocking = slow.client.sendCommand(['BLPOP', `${prefix}never`, '1']).catch(() => null)
      await expect(slow.pdp.emergency.grantAsync(emergencyRequest())).rejects.toMatchObject(UNAVAILABLE)
      await blocking
    })

    it('recovers from NOSCRIPT (script cache flushed) by loading the script again', async () => {
      const { client: flaky, flushed } = scriptCacheFlushed(redis) // each script's first EVALSHA fails
      const store = await openRedisEmergencyStore({ client: flaky, prefix })
      stores.push(store)
      const pdp = compilePolicy(clinic, { clock: manualClock(MONDAY_10AM), emergencyStore: store })
      const g = await pdp.emergency.grantAsync(emergencyRequest())
      expect(store.get(g.id)).toEqual(g)
      expect(await store.fetch(g.id)).toEqual(g)
      expect(flushed.size).toBe(2) // the reload and the insert each loaded their script again
    })

    it('an unexpected reply is a typed error, not a grant', async () => {
      for (const reply of ['not an array', [1], ['0', 'odd'], [0, []]]) {
        const fake: GrantRedisClient = {
          sendCommand: async (args) => (args[0] === 'SCRIPT' ? 'sha' : reply),
        }
        await expect(openRedisEmergencyStore({ client: fake })).rejects.toBeInstanceOf(
          EmergencyStoreUnavailableError,
        )
      }
    })

    it('checks its options', async () => {
      const client = redis
      await expect(openRedisEmergencyStore({ client: {} as GrantRedisClient })).rejects.toBeInstanceOf(
        TypeError,
      )
      await expect(openRedisEmergencyStore({ client, prefix: 1 as never })).rejects.toBeInstanceOf(TypeError)
      await expect(openRedisEmergencyStore({ client, prefix: '' })).rejects.toBeInstanceOf(RangeError)
      await expect(openRedisEmergencyStore({ client, prefix: 'a b' })).rejects.toBeInstanceOf(RangeError)
      await expect(openRedisEmergencyStore({ client, pollIntervalMs: 0 })).rejects.toBeInstanceOf(RangeError)
      await expect(openRedisEmergencyStore({ client, maxStalenessMs: 1.5 })).rejects.toBeInstanceOf(TypeError)
    })
  },
})
