import { resolve } from 'node:path'
import { base64urlToBytes, bytesToHex, manualClock, utf8Encode } from '@safeguards/core'
import { createSessionManager, type SessionStore, SessionStoreUnavailableError } from '@safeguards/session'
import { afterAll, describe, expect, it } from 'vitest'
import { type LinePeer, startLinePeer } from '../../../scripts/test-support/line-peer.js'
import { scriptCacheFlushed } from '../../../scripts/test-support/redis.js'
import { schema as dataSchema, sessionDataContract } from '../../session/test/data-contract.js'
import { storeContract } from '../../session/test/store-contract.js'
import { createRedisSessionStore, type RedisCommandClient } from '../src/index.js'
import { cleanup, connect, keysUnder, REDIS_URL, runPrefix } from './helpers.js'

const client = await connect()
const T0 = Date.UTC(2026, 0, 1, 9)
const prefixes: string[] = []
const fresh = (label: string): string => {
  const p = runPrefix(label)
  prefixes.push(p)
  return p
}

afterAll(async () => {
  if (client === null) return
  for (const p of prefixes) await cleanup(client, p)
  await client.close()
})

describe.skipIf(client === null)('redis store', () => {
  const redis = client as NonNullable<typeof client>
  storeContract(
    'redis (exact activity writes)',
    () => createRedisSessionStore({ client: redis, prefix: fresh('contract'), activityWriteIntervalMs: 0 }),
    40,
  )
  storeContract(
    'redis (default: activity written at most once a second)',
    () => createRedisSessionStore({ client: redis, prefix: fresh('contract-default') }),
    40,
    1000,
  )

  sessionDataContract('redis', () => createRedisSessionStore({ client: redis, prefix: fresh('data') }))
  sessionDataContract('redis (activity written at most once a second)', () =>
    createRedisSessionStore({ client: redis, prefix: fresh('data-default'), activityWriteIntervalMs: 1000 }),
  )

  it('keeps no raw token anywhere in Redis (keys, hashes, sets, tombstones)', async () => {
    const prefix = fresh('notoken')
    const clock = manualClock(T0)
    const sessions = createSessionManager({
      store: createRedisSessionStore({ client: redis, prefix }),
      clock,
      maxSessionsPerUser: 2,
    })
    const tokens: string[] = []
    for (let i = 0; i < 3; i++) tokens.push((await sessions.create('u-secret', { role: 'clinician' })).token) // one evicted
    const rotated = await sessions.rotate(tokens[2])
    tokens.push(rotated!.token)
    const re = await sessions.reauthenticate(rotated!.token)
    tokens.push(re!.token)
    await sessions.validate(re!.token)
    await sessions.revoke(tokens[1])
    const keys = await keysUnder(redis, prefix)
    expect(keys.length).toBeGreaterThan(3)
    let dump = keys.join('\n')
    for (const k of keys) {
      const type = String(await redis.sendCommand(['TYPE', k]))
      if (type === 'zset') dump += JSON.stringify(await redis.sendCommand(['ZRANGE', k, '0', '-1']))
      else if (type === 'string') dump += String(await redis.sendCommand(['GET', k]))
      else throw new Error(`unexpected key type ${type}`)
    }
    for (const t of tokens) {
      expect(dump).not.toContain(t)
      expect(dump).not.toContain(bytesToHex(base64urlToBytes(t)))
      expect(dump).not.toContain(bytesToHex(utf8Encode(t)))
    }
    // the user id is not in any key name either (the index is named by its hash)
    expect(keys.join('\n')).not.toContain('u-secret')
  })

  it('sets key TTLs from the deadlines: record at its deadline + grace, tombstone until the absolute deadline', async () => {
    const prefix = fresh('ttl')
    const clock = manualClock(T0)
    const store = createRedisSessionStore({ client: redis, prefix, expiryGraceMs: 1000 })
    const sessions = createSessionManager({ store, clock })
    const { token, session } = await sessions.create('u-ttl')
    const pttl = Number(await redis.sendCommand(['PTTL', `${prefix}s:${session.id}`]))
    expect(pttl).toBeGreaterThan(15 * 60_000 + 1000 - 5000)
    expect(pttl).toBeLessThanOrEqual(15 * 60_000 + 1000)
    clock.advance(60 * 60_000 - 1)
    await sessions.validate(token, { activity: false }) // expired: gone
    expect(await redis.sendCommand(['EXISTS', `${prefix}s:${session.id}`])).toBe(0)
    const b = await sessions.create('u-ttl')
    await sessions.revoke(b.token)
    const tomb = Number(await redis.sendCommand(['PTTL', `${prefix}t:${b.session.id}`]))
    expect(tomb).toBeGreaterThan(12 * 3_600_000 - 5000)
    expect(tomb).toBeLessThanOrEqual(12 * 3_600_000 + 1000)
  })

  it('refreshes the key TTL at most once per grace period, never letting it lapse before the idle deadline', async () => {
    const prefix = fresh('refresh')
    const clock = manualClock(T0)
    const sessions = createSessionManager({
      store: createRedisSessionStore({
        client: redis,
        prefix,
        expiryGraceMs: 60_000,
        activityWriteIntervalMs: 0,
      }),
      clock,
    })
    const { token, session } = await sessions.create('u-refresh')
    const key = `${prefix}s:${session.id}`
    const field = async (n: number): Promise<number> =>
      Number(String(await redis.sendCommand(['GET', key])).split('|')[n])
    expect(await field(1)).toBe(T0) // e: TTL set at creation
    clock.advance(59_999)
    await sessions.validate(token)
    expect(await field(0)).toBe(T0 + 59_999) // l moved
    expect(await field(1)).toBe(T0) // e did not: no PEXPIRE within the grace period
    clock.advance(1)
    await sessions.validate(token)
    expect(await field(1)).toBe(T0 + 60_000) // refreshed
    const pttl = Number(await redis.sendCommand(['PTTL', key]))
    expect(pttl).toBeGreaterThan(15 * 60_000 + 60_000 - 5000)
  })

  describe('two app instances in two processes', () => {
    let peer: LinePeer
    let prefix: string
    const ask = (op: string, arg = '', data?: unknown): Promise<unknown> => peer.ask(op, arg, data)

    it('starts the peer', async () => {
      prefix = fresh('peer')
      peer = startLinePeer(
        resolve(import.meta.dirname, 'fixtures/peer.ts'),
        [REDIS_URL, prefix],
        resolve(import.meta.dirname, '..'),
      )
      expect(await peer.ready).toEqual({ ready: true })
    })

    it('a logout in one instance is honoured at once by the other, both ways', async () => {
      const here = createSessionManager({ store: createRedisSessionStore({ client: redis, prefix }) })
      const mine = await here.create('u-two')
      expect(await ask('validate', mine.token)).toEqual({ result: true })
      expect(await ask('revoke', mine.token)).toEqual({ result: true })
      expect(await here.validate(mine.token)).toBeNull()
      const { result: theirs } = (await ask('create', 'u-two')) as { result: string }
      expect(await here.validate(theirs)).not.toBeNull()
      expect(await here.revoke(theirs)).toBe(true)
      expect(await ask('validate', theirs)).toEqual({ result: false })
    })

    it('revokeAll in one process logs the user out of sessions made in both', async () => {
      const here = createSessionManager({ store: createRedisSessionStore({ client: redis, prefix }) })
      const a = await here.create('u-all')
      const { result: b } = (await ask('create', 'u-all')) as { result: string }
      const { result: c } = (await ask('create', 'u-all')) as { result: string }
      const other = await here.create('u-keep')
      expect(await ask('revokeAll', 'u-all')).toEqual({ result: 3 })
      expect(await here.validate(a.token)).toBeNull()
      expect(await here.validate(b)).toBeNull()
      expect(await ask('validate', c)).toEqual({ result: false })
      expect(await ask('validate', other.token)).toEqual({ result: true })
      const d = await here.create('u-all')
      expect(await here.revokeAll('u-all')).toBe(1)
      expect(await ask('validate', d.token)).toEqual({ result: false })
    })

    it('session data written in one process is read, updated and kept on rotation in the other', async () => {
      const here = createSessionManager({
        store: createRedisSessionStore({ client: redis, prefix }),
        data: { schema: dataSchema },
      })
      const mine = await here.create('u-data', { data: { tenant: 't-here' } })
      expect(await ask('data', mine.token)).toEqual({ result: { tenant: 't-here' } })
      expect(await ask('update', mine.token, { tenant: 't-peer', csrf: 'x' })).toEqual({
        result: { tenant: 't-peer', csrf: 'x' },
      })
      expect((await here.validate(mine.token))?.data).toEqual({ tenant: 't-peer', csrf: 'x' })
      const { result: theirs } = (await ask('create', 'u-data', { tenant: 'ünïcødé-✓' })) as {
        result: string
      }
      const rotated = await here.rotate(theirs)
      expect(rotated?.session.data).toEqual({ tenant: 'ünïcødé-✓' })
      expect(await ask('data', rotated?.token)).toEqual({ result: { tenant: 'ünïcødé-✓' } })
      expect(await ask('data', theirs)).toEqual({ result: null })
      expect(await here.revoke(rotated?.token)).toBe(true)
      expect(await ask('update', rotated?.token, { tenant: 'back' })).toEqual({ result: null })
      const keys = await keysUnder(redis, prefix)
      expect(keys.filter((k) => k.includes(':d:'))).toHaveLength(1) // mine's; the revoked one is gone
    })

    it('stops the peer', async () => {
      const exited = new Promise((res) => peer.child.on('exit', res))
      peer.child.stdin.write(`${JSON.stringify({ op: 'quit' })}\n`)
      expect(await exited).toBe(0)
    })
  })

  it('recovers from NOSCRIPT (script cache flushed) by loading the script again', async () => {
    const { client: flaky, flushed } = scriptCacheFlushed(redis) // each script's first EVALSHA fails
    const sessions = createSessionManager({
      store: createRedisSessionStore({ client: flaky, prefix: fresh('noscript') }),
    })
    const { token } = await sessions.create('u')
    expect(await sessions.validate(token)).not.toBeNull()
    expect(flushed.size).toBeGreaterThan(0) // the reload path ran
  })

  it('a closed connection fails closed with a typed error; malformed tokens still give null', async () => {
    const dead = (await connect()) as NonNullable<typeof client>
    dead.destroy()
    const sessions = createSessionManager({
      store: createRedisSessionStore({ client: dead, prefix: fresh('down') }),
    })
    const token = `${'A'.repeat(42)}E`
    await expect(sessions.validate(token)).rejects.toBeInstanceOf(SessionStoreUnavailableError)
    await expect(sessions.create('u')).rejects.toMatchObject({ code: 'ERR_SESSION_STORE_UNAVAILABLE' })
    await expect(sessions.isRevoked('a'.repeat(64))).rejects.toBeInstanceOf(SessionStoreUnavailableError)
    expect(await sessions.validate('not a token')).toBeNull()
  })

  it('a server that does not answer in time fails closed (command timeout)', async () => {
    const slow = (await connect()) as NonNullable<typeof client>
    const store = createRedisSessionStore({ client: slow, prefix: fresh('slow'), commandTimeoutMs: 50 })
    const sessions = createSessionManager({ store })
    // A blocking pop holds the connection: the next command gets no answer for a second.
    const blocking = slow.sendCommand(['BLPOP', `${prefixes.at(-1)}never`, '1']).catch(() => null)
    await expect(sessions.validate(`${'A'.repeat(42)}E`)).rejects.toBeInstanceOf(SessionStoreUnavailableError)
    await blocking
    await slow.close()
  })

  it('an unexpected reply is a typed error, not a session', async () => {
    const touchReplies: unknown[] = [
      ['array', 'instead', 'of', 'string'],
      'A|-|1|2',
      'A|-||0|4|5|1|2|-|k|u',
      'Z|-|3|0|4|5|1|2|-|k|u',
      'A|-|x|0|4|5|1|2|-|k|u',
      'A|-|3|0|4|5|1|2|admin|k|u', // role without its marker
      'X|soon|3|0|4|5|1|2|-|k|u',
    ]
    const fake: RedisCommandClient = {
      sendCommand: async (args) => (args[0] === 'SCRIPT' ? 'sha' : touchReplies.shift()),
    }
    const store: SessionStore = createRedisSessionStore({ client: fake })
    for (let i = 0; i < 7; i++)
      await expect(store.touch('a'.repeat(64), T0, true)).rejects.toBeInstanceOf(SessionStoreUnavailableError)
    const ok: RedisCommandClient = {
      sendCommand: async (args) =>
        args[0] === 'SCRIPT' ? 'sha' : 'A|-|3|0|4|5|1|2|+admin|k|user|with|pipes',
    }
    expect(await createRedisSessionStore({ client: ok }).touch('a'.repeat(64), T0, true)).toMatchObject({
      status: 'active',
      record: { userId: 'user|with|pipes', role: 'admin', createdAt: 1, absoluteExpiresAt: 5 },
    })
    const arrays: unknown[] = [
      'sha',
      'not-an-array',
      ['active', 'id', 'u'],
      ['weird'],
      ['expired', 'soon', ...Array(8).fill('1')],
    ]
    const fake2: RedisCommandClient = { sendCommand: async () => arrays.shift() }
    const store2 = createRedisSessionStore({ client: fake2 })
    for (let i = 0; i < 4; i++)
      await expect(
        store2.replace('a'.repeat(64), {} as never, T0).catch((e) => Promise.reject(e)),
      ).rejects.toBeInstanceOf(SessionStoreUnavailableError)
    const bad: RedisCommandClient = { sendCommand: async () => 42 }
    await expect(createRedisSessionStore({ client: bad }).list('u', T0)).rejects.toBeInstanceOf(
      SessionStoreUnavailableError,
    )
  })

  it('validates its options', () => {
    expect(() => createRedisSessionStore({ client: {} as never })).toThrow(TypeError)
    expect(() => createRedisSessionStore({ client: redis, prefix: '' })).toThrow(RangeError)
    expect(() => createRedisSessionStore({ client: redis, prefix: 'a b' })).toThrow(RangeError)
    expect(() => createRedisSessionStore({ client: redis, prefix: 'a|b' })).toThrow(RangeError)
    expect(() => createRedisSessionStore({ client: redis, prefix: 5 as never })).toThrow(TypeError)
    expect(() => createRedisSessionStore({ client: redis, commandTimeoutMs: 0 })).toThrow(RangeError)
    expect(() => createRedisSessionStore({ client: redis, activityWriteIntervalMs: -1 })).toThrow(RangeError)
    expect(() => createRedisSessionStore({ client: redis, expiryGraceMs: 1.5 })).toThrow(TypeError)
  })
})
