/**
 * The opt-in data-key cache: hits and misses (counted at a real keyring), every limit (age with an
 * injected clock, messages, bytes, entries), invalidation on every key state change, concurrent
 * encryptions sharing a cache, decryption never confusing contexts or key references, the usage
 * budget counting one wrap per cached key, and zeroisation of every key that leaves the cache.
 */
import { join } from 'node:path'
import { manualClock } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { parseHeader } from '../src/format.js'
import {
  createEnvelope,
  type DataKeyCacheOptions,
  EnvelopeDecryptionError,
  type EnvelopeOptions,
  type KekProvider,
  KeyUnavailableError,
  LocalKeyring,
} from '../src/index.js'
import { DataKeyCache } from '../src/internal/key-cache.js'
import { chunked, enc, sameBytes, streamOf, tempDir } from './helpers.js'

/** A real keyring behind a provider that counts wraps and unwraps. */
function counted(kr: LocalKeyring): KekProvider & { wraps: number; unwraps: number } {
  const p = {
    id: kr.id,
    wraps: 0,
    unwraps: 0,
    wrap: (...a: Parameters<KekProvider['wrap']>) => {
      p.wraps++
      return kr.wrap(...a)
    },
    unwrap: (...a: Parameters<KekProvider['unwrap']>) => {
      p.unwraps++
      return kr.unwrap(...a)
    },
    describe: (keyRef: string) => kr.describe(keyRef),
    primary: () => kr.primary(),
    stateEpoch: () => kr.stateEpoch(),
  }
  return p
}

async function setup(cache: DataKeyCacheOptions = {}, extra: Partial<EnvelopeOptions> = {}) {
  const kr = await LocalKeyring.inMemory({ usage: { reserveBlock: 1 } })
  const provider = counted(kr)
  const env = createEnvelope({ provider, dataKeyCache: cache, frameLength: 4096, ...extra })
  const plain = createEnvelope({ provider: kr, frameLength: 4096 }) // uncached reader and writer
  return { kr, provider, env, plain }
}

const ctx = { table: 'patients', column: 'notes', tenant: 'clinic-7' }
const edkOf = (_env: unknown, ct: Uint8Array) =>
  Buffer.from(parseHeader(ct).edks[0]?.edk ?? new Uint8Array(0)).toString('hex')
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  )

describe('data-key cache: hits and misses', () => {
  it('wraps once per context, and every message stays a regular envelope', async () => {
    const { provider, env, plain } = await setup()
    const cts: Uint8Array[] = []
    for (let i = 0; i < 20; i++) cts.push(await env.encrypt(enc(`m${i}`), ctx))
    expect(provider.wraps).toBe(1)
    // one data key (same wrapped key), a fresh message id per message
    expect(new Set(cts.map((c) => edkOf(env, c))).size).toBe(1)
    expect(new Set(cts.map((c) => env.inspect(c).messageId)).size).toBe(20)
    // an envelope without a cache reads them
    for (const [i, c] of cts.entries()) expect(await plain.decrypt(c, ctx)).toEqual(enc(`m${i}`))
    // another context is another data key
    await env.encrypt(enc('x'), { ...ctx, column: 'ssn' })
    expect(provider.wraps).toBe(2)
    // records larger than a frame go through the cache too
    const big = new Uint8Array(3 * 4096 + 5).fill(7)
    expect(sameBytes(await plain.decrypt(await env.encrypt(big, ctx), ctx), big)).toBe(true)
    expect(provider.wraps).toBe(2)
  })

  it('unwraps once per wrapped key and context, then decrypts every message under it from memory', async () => {
    const { provider, env, plain } = await setup()
    const cts: Uint8Array[] = []
    for (let i = 0; i < 5; i++) cts.push(await env.encrypt(enc(`m${i}`), ctx))
    const other = await plain.encrypt(enc('other'), ctx) // another data key
    for (let round = 0; round < 3; round++)
      for (const [i, c] of cts.entries()) expect(await env.decrypt(c, ctx)).toEqual(enc(`m${i}`))
    expect(provider.unwraps).toBe(1)
    expect(await env.decrypt(other, ctx)).toEqual(enc('other'))
    expect(await env.decrypt(other, ctx)).toEqual(enc('other'))
    expect(provider.unwraps).toBe(2)
  })

  it('serves stored-context envelopes, and stream decryption, from the cache; streams encrypt with fresh keys', async () => {
    const { provider, env, plain } = await setup({}, { storedKeys: ['tenant'] })
    const a = await env.encrypt(enc('a'), ctx)
    const b = await env.encrypt(enc('b'), ctx)
    expect(provider.wraps).toBe(1)
    expect(env.inspect(a).storedContext).toEqual({ tenant: 'clinic-7' })
    const partial = { table: 'patients', column: 'notes' } // tenant comes from the header
    expect(await env.decrypt(a, partial)).toEqual(enc('a'))
    const streamed = new Uint8Array(
      await new Response(streamOf(chunked(b, 7)).pipeThrough(env.decryptStream(partial))).arrayBuffer(),
    )
    expect(streamed).toEqual(enc('b'))
    expect(provider.unwraps).toBe(1)
    const s1 = await new Response(streamOf([enc('s1')]).pipeThrough(env.encryptStream(ctx))).arrayBuffer()
    const s2 = await new Response(streamOf([enc('s2')]).pipeThrough(env.encryptStream(ctx))).arrayBuffer()
    expect(provider.wraps).toBe(3)
    expect(await plain.decrypt(new Uint8Array(s1), ctx)).toEqual(enc('s1'))
    expect(await plain.decrypt(new Uint8Array(s2), ctx)).toEqual(enc('s2'))
  })

  it('works the same on the Web Crypto and noble backends', async () => {
    for (const backend of ['webcrypto', 'noble'] as const) {
      const { provider, env, plain } = await setup({}, { backend })
      const big = new Uint8Array(2 * 4096 + 3).fill(1)
      const cts = [
        await env.encrypt(enc('a'), ctx),
        await env.encrypt(big, ctx),
        await env.encrypt(enc('c'), ctx),
      ]
      expect(provider.wraps).toBe(1)
      expect(await plain.decrypt(cts[0] as Uint8Array, ctx)).toEqual(enc('a'))
      for (let round = 0; round < 2; round++) {
        expect(await env.decrypt(cts[0] as Uint8Array, ctx)).toEqual(enc('a'))
        expect(sameBytes(await env.decrypt(cts[1] as Uint8Array, ctx), big)).toBe(true)
        expect(await env.decrypt(cts[2] as Uint8Array, ctx)).toEqual(enc('c'))
      }
      expect(provider.unwraps).toBe(1)
      expect(await failure(env.decrypt(cts[0] as Uint8Array, { row: '1' }))).toBeInstanceOf(
        EnvelopeDecryptionError,
      )
    }
  })

  it('rewrap always asks the provider', async () => {
    const { provider, env } = await setup()
    const ct = await env.encrypt(enc('r'), ctx)
    await env.decrypt(ct, ctx)
    const before = provider.unwraps
    await env.rewrap(ct, ctx)
    expect(provider.unwraps).toBe(before + 1)
  })

  it('counts one wrap per cached data key in the usage budget', async () => {
    const { kr, env } = await setup({ maxMessages: 4 })
    for (let i = 0; i < 10; i++) await env.encrypt(enc('x'), ctx)
    expect((await kr.list())[0]?.usage?.wraps).toBe(3n) // messages 1-4, 5-8, 9-10
  })
})

describe('data-key cache: limits', () => {
  it('expires keys at maxAge on both sides (injected clock)', async () => {
    const clock = manualClock(1_000_000)
    const { provider, env } = await setup({ maxAge: 60_000, clock })
    const a = await env.encrypt(enc('a'), ctx)
    await env.decrypt(a, ctx)
    clock.advance(59_999)
    await env.encrypt(enc('b'), ctx)
    await env.decrypt(a, ctx)
    expect([provider.wraps, provider.unwraps]).toEqual([1, 1])
    clock.advance(1)
    await env.encrypt(enc('c'), ctx)
    await env.decrypt(a, ctx)
    expect([provider.wraps, provider.unwraps]).toEqual([2, 2])
  })

  it('uses a data key for at most maxMessages messages', async () => {
    const { provider, env } = await setup({ maxMessages: 3 })
    const cts: Uint8Array[] = []
    for (let i = 0; i < 7; i++) cts.push(await env.encrypt(enc('x'), ctx))
    expect(provider.wraps).toBe(3)
    const counts = new Map<string, number>()
    for (const c of cts) counts.set(edkOf(env, c), (counts.get(edkOf(env, c)) ?? 0) + 1)
    expect([...counts.values()]).toEqual([3, 3, 1])
  })

  it('uses a data key for at most maxBytes plaintext bytes; a larger message bypasses the cache', async () => {
    const { provider, env } = await setup({ maxBytes: 100 })
    const m40 = new Uint8Array(40)
    await env.encrypt(m40, ctx) // 40
    await env.encrypt(m40, ctx) // 80
    expect(provider.wraps).toBe(1)
    await env.encrypt(m40, ctx) // 120 > 100: a new key
    expect(provider.wraps).toBe(2)
    await env.encrypt(new Uint8Array(100), ctx) // never cacheable, leaves the entry alone
    expect(provider.wraps).toBe(3)
    await env.encrypt(m40, ctx) // 80 on the second key
    expect(provider.wraps).toBe(3)
  })

  it('keeps at most maxEntries keys per side, evicting the least recently used', async () => {
    const { provider, env } = await setup({ maxEntries: 2 })
    const c = (n: number) => ({ row: String(n) })
    await env.encrypt(enc('1'), c(1))
    await env.encrypt(enc('2'), c(2))
    await env.encrypt(enc('1'), c(1)) // 1 is now the most recently used
    await env.encrypt(enc('3'), c(3)) // evicts 2
    expect(provider.wraps).toBe(3)
    await env.encrypt(enc('1'), c(1))
    expect(provider.wraps).toBe(3)
    await env.encrypt(enc('2'), c(2))
    expect(provider.wraps).toBe(4)
  })

  it('refuses bad options', async () => {
    const kr = await LocalKeyring.inMemory()
    const make = (o: unknown) => () =>
      createEnvelope({ provider: kr, dataKeyCache: o as DataKeyCacheOptions })
    expect(make({ maxAge: 0 })).toThrow(RangeError)
    expect(make({ maxAge: 3_600_001 })).toThrow(RangeError)
    expect(make({ maxMessages: 2 ** 32 + 1 })).toThrow(RangeError)
    expect(make({ maxBytes: 0.5 })).toThrow(TypeError)
    expect(make({ maxEntries: 0 })).toThrow(RangeError)
    expect(make({ encrypt: 'yes' })).toThrow(TypeError)
    expect(make({ clock: {} })).toThrow(TypeError)
    expect(make(null)).toThrow(TypeError)
  })
})

describe('data-key cache: key state changes invalidate it at once', () => {
  const changes: Array<[string, (kr: LocalKeyring) => Promise<unknown>]> = [
    ['addVersion', (kr) => kr.addVersion()],
    ['promote', async (kr) => kr.promote((await kr.addVersion()).version)],
    ['rotate', (kr) => kr.rotate()],
    ['disable', async (kr) => kr.disable((await kr.addVersion()).version)],
    ['retire', async (kr) => kr.retire((await kr.addVersion()).version)],
    [
      'enable',
      async (kr) => {
        const v = (await kr.addVersion()).version
        await kr.disable(v)
        return kr.enable(v)
      },
    ],
    ['destroy', async (kr) => kr.destroy((await kr.addVersion()).version, { allowDestroy: true })],
  ]
  for (const [name, change] of changes) {
    it(`${name} drops every cached key on both sides`, async () => {
      const { kr, provider, env } = await setup()
      const ct = await env.encrypt(enc('x'), ctx)
      await env.decrypt(ct, ctx)
      await change(kr)
      await env.encrypt(enc('y'), ctx)
      await env.decrypt(ct, ctx)
      expect([provider.wraps, provider.unwraps]).toEqual([2, 2])
    })
  }

  it('after rotate, new messages are under the new primary at once', async () => {
    const { kr, env } = await setup()
    await env.encrypt(enc('x'), ctx)
    await kr.rotate()
    expect(env.inspect(await env.encrypt(enc('y'), ctx)).keys[0]?.keyRef).toBe('local:default@v2')
  })

  it('after disable or destroy, no cached data key decrypts', async () => {
    const { kr, env } = await setup()
    const ct = await env.encrypt(enc('x'), ctx) // under v1
    await env.decrypt(ct, ctx) // v1's data key is now cached for decryption too
    await kr.rotate()
    await kr.disable(1)
    const e = await failure(env.decrypt(ct, ctx))
    expect(e).toBeInstanceOf(KeyUnavailableError)
    expect((e as KeyUnavailableError).reason).toBe('disabled')
    await kr.enable(1)
    expect(await env.decrypt(ct, ctx)).toEqual(enc('x'))
    await kr.destroy(1, { allowDestroy: true })
    expect(((await failure(env.decrypt(ct, ctx))) as KeyUnavailableError).reason).toBe('destroyed')
    // and a stream decryption neither
    const streamed = failure(new Response(streamOf([ct]).pipeThrough(env.decryptStream(ctx))).arrayBuffer())
    expect(await streamed).toBeInstanceOf(KeyUnavailableError)
  })

  it('a change made by another instance takes effect when this one reloads the keyring file', async () => {
    const path = join(tempDir(), 'keyring.json')
    const a = await LocalKeyring.create(path)
    const b = await LocalKeyring.open(path)
    const env = createEnvelope({ provider: b, dataKeyCache: {} })
    const ct = await env.encrypt(enc('x'), ctx)
    await env.decrypt(ct, ctx)
    await a.rotate()
    await a.disable(1)
    await b.reload()
    expect(await failure(env.decrypt(ct, ctx))).toBeInstanceOf(KeyUnavailableError)
    expect(env.inspect(await env.encrypt(enc('y'), ctx)).keys[0]?.keyRef).toBe('local:default@v2')
  })

  it('a change made by another instance stops cached keys within refreshMs, even when every lookup hits', async () => {
    const path = join(tempDir(), 'keyring.json')
    const clock = manualClock(Date.UTC(2026, 10, 22, 9))
    const a = await LocalKeyring.create(path)
    const b = await LocalKeyring.open(path, { clock, refreshMs: 5000 })
    const env = createEnvelope({ provider: b, dataKeyCache: { clock } })
    const ct = await env.encrypt(enc('x'), ctx)
    expect(await env.decrypt(ct, ctx)).toEqual(enc('x'))
    await a.rotate()
    await a.disable(1)
    expect(await env.decrypt(ct, ctx)).toEqual(enc('x')) // within the interval: still cached
    clock.advance(5000)
    b.stateEpoch() // the next lookup starts the due check in the background
    for (
      let i = 0;
      i < 100 &&
      (await env.decrypt(ct, ctx).then(
        () => true,
        () => false,
      ));
      i++
    )
      await new Promise((r) => setTimeout(r, 5))
    expect(await failure(env.decrypt(ct, ctx))).toBeInstanceOf(KeyUnavailableError)
  })

  it('a key fetched before a change is not cached after it', async () => {
    const { kr, provider, env } = await setup()
    // hold the provider's answers until the key state has changed
    let open!: () => void
    const gate = new Promise<void>((r) => {
      open = r
    })
    const wrap = provider.wrap
    const unwrap = provider.unwrap
    provider.wrap = async (...a) => {
      await gate
      return wrap(...a)
    }
    provider.unwrap = async (...a) => {
      await gate
      return unwrap(...a)
    }
    const ct = await createEnvelope({ provider: kr }).encrypt(enc('x'), ctx)
    const writing = env.encrypt(enc('y'), ctx)
    const reading = env.decrypt(ct, ctx)
    await kr.addVersion()
    // another call sees the change first (and empties the cache) before the held keys arrive
    const other = env.encrypt(enc('o'), { row: 'other' })
    open()
    await Promise.all([writing, reading, other])
    await env.encrypt(enc('z'), ctx)
    await env.decrypt(ct, ctx)
    expect([provider.wraps, provider.unwraps]).toEqual([3, 2])
  })

  it('clearCache() and close() drop the keys; after close() nothing is cached any more', async () => {
    const { provider, env } = await setup()
    const ct = await env.encrypt(enc('x'), ctx)
    await env.decrypt(ct, ctx)
    env.clearCache()
    await env.encrypt(enc('y'), ctx)
    await env.decrypt(ct, ctx)
    expect([provider.wraps, provider.unwraps]).toEqual([2, 2])
    env.close()
    await env.encrypt(enc('z'), ctx)
    await env.encrypt(enc('z'), ctx)
    await env.decrypt(ct, ctx)
    await env.decrypt(ct, ctx)
    expect([provider.wraps, provider.unwraps]).toEqual([4, 4])
  })
})

describe('data-key cache: concurrency', () => {
  it('concurrent encryptions share one wrap, and respect maxMessages', async () => {
    const { provider, env, plain } = await setup()
    const cts = await Promise.all(Array.from({ length: 50 }, (_, i) => env.encrypt(enc(`m${i}`), ctx)))
    expect(provider.wraps).toBe(1)
    for (const [i, c] of cts.entries()) expect(await plain.decrypt(c, ctx)).toEqual(enc(`m${i}`))

    const limited = await setup({ maxMessages: 8 })
    const many = await Promise.all(
      Array.from({ length: 50 }, (_, i) => limited.env.encrypt(enc(`m${i}`), i % 2 ? ctx : { row: '1' })),
    )
    const counts = new Map<string, number>()
    for (const c of many) counts.set(edkOf(limited.env, c), (counts.get(edkOf(limited.env, c)) ?? 0) + 1)
    for (const n of counts.values()) expect(n).toBeLessThanOrEqual(8)
    expect(limited.provider.wraps).toBe(counts.size)
    expect(counts.size).toBeGreaterThanOrEqual(Math.ceil(25 / 8) * 2)
    for (const [i, c] of many.entries())
      expect(await limited.plain.decrypt(c, i % 2 ? ctx : { row: '1' })).toEqual(enc(`m${i}`))
  })

  it('a failed wrap fails its callers and leaves nothing cached', async () => {
    const kr = await LocalKeyring.inMemory({ usage: { limit: 1n, reserveBlock: 1 } })
    const env = createEnvelope({ provider: kr, dataKeyCache: { maxMessages: 1 } })
    await env.encrypt(enc('x'), ctx) // the only wrap the budget allows (maxMessages 1: not kept)
    const results = await Promise.allSettled([1, 2, 3].map(() => env.encrypt(enc('y'), ctx)))
    expect(results.every((r) => r.status === 'rejected')).toBe(true)
  })
})

describe('data-key cache: decryption never confuses contexts or key references', () => {
  it('a wrong context fails with the one generic error, before and after caching', async () => {
    const { env } = await setup()
    const ct = await env.encrypt(enc('secret'), ctx)
    const wrong = { ...ctx, column: 'ssn' }
    expect(await failure(env.decrypt(ct, wrong))).toBeInstanceOf(EnvelopeDecryptionError)
    await env.decrypt(ct, ctx) // cached now for ctx
    expect(await failure(env.decrypt(ct, wrong))).toBeInstanceOf(EnvelopeDecryptionError)
    // a message under another context but the same data key cannot borrow the cached entry
    const other = await env.encrypt(enc('other'), wrong)
    expect(await failure(env.decrypt(other, ctx))).toBeInstanceOf(EnvelopeDecryptionError)
    expect(await env.decrypt(other, wrong)).toEqual(enc('other'))
  })

  it('a wrapped key relabelled to another version misses the cache and fails', async () => {
    const { kr, env } = await setup()
    await kr.addVersion() // v2, same name length: the header keeps its size
    const ct = await env.encrypt(enc('secret'), ctx)
    await env.decrypt(ct, ctx) // (v1, edk, ctx) cached
    const relabelled = ct.slice()
    const at = Buffer.from(relabelled).indexOf('local:default@v1')
    relabelled[at + 'local:default@v'.length] = 0x32 // '2'
    expect(env.inspect(relabelled).keys[0]?.keyRef).toBe('local:default@v2')
    expect(await failure(env.decrypt(relabelled, ctx))).toBeInstanceOf(EnvelopeDecryptionError)
  })

  it('any changed byte still fails with a cached key', async () => {
    const { env } = await setup()
    const ct = await env.encrypt(enc('secret record'), ctx)
    await env.decrypt(ct, ctx)
    const header = env.inspect(ct).headerLength
    for (const at of [10, 41, header - 40, header - 1, header + 2, ct.length - 1]) {
      const bad = ct.slice()
      bad[at] = (bad[at] as number) ^ 1
      expect(await failure(env.decrypt(bad, ctx)), `byte ${at}`).toBeInstanceOf(EnvelopeDecryptionError)
    }
  })
})

describe('data-key cache internals: zeroisation', () => {
  const material = (fill: number) => ({
    dek: new Uint8Array(32).fill(fill),
    keyRefs: ['local:default@v1'],
    template: new Uint8Array(120),
    info: new Uint8Array(40),
    version: 2 as const,
    authLength: 78,
  })

  it('zeroises keys on eviction, expiry, clear and close', () => {
    const clock = manualClock(0)
    const cache = new DataKeyCache({ maxEntries: 2, maxAge: 1000, clock }, [])
    const deks = [1, 2, 3].map((n) => new Uint8Array(32).fill(n))
    const gen = cache.generation()
    for (const [i, d] of deks.entries()) expect(cache.putRead(`k${i}`, d, new Uint8Array(40), gen)).toBe(true)
    expect(deks[0]?.every((b) => b === 0)).toBe(true) // evicted (least recently used)
    expect(deks[1]?.every((b) => b === 2)).toBe(true)
    clock.advance(1000)
    expect(cache.getRead('k1')).toBeUndefined()
    expect(deks[1]?.every((b) => b === 0)).toBe(true) // expired
    expect(cache.sweep()).toBeUndefined()
    expect(deks[2]?.every((b) => b === 0)).toBe(true) // swept

    const m = material(9)
    expect(cache.putWrite('w', m, 10, cache.generation())).toBe(true)
    const r = new Uint8Array(32).fill(4)
    expect(cache.putRead('r', r, new Uint8Array(40), cache.generation())).toBe(true)
    cache.clear()
    expect(m.dek.every((b) => b === 0) && r.every((b) => b === 0)).toBe(true)

    const m2 = material(5)
    expect(cache.putWrite('w', m2, 10, cache.generation())).toBe(true)
    cache.close()
    expect(m2.dek.every((b) => b === 0)).toBe(true)
    expect(cache.putWrite('w', material(6), 10, cache.generation())).toBe(false)
    expect(cache.encrypt || cache.decrypt).toBe(false)
  })

  it('an exhausted key is handed to its last user to zeroise, and a stale generation is refused', () => {
    const cache = new DataKeyCache({ maxMessages: 2 }, [])
    const m = material(7)
    const gen = cache.generation()
    expect(cache.putWrite('w', m, 1, gen)).toBe(true) // message 1
    expect(cache.takeWrite('w', 1)).toEqual({ material: m, owned: true }) // message 2: the last
    expect(cache.takeWrite('w', 1)).toBeUndefined()
    cache.clear()
    expect(cache.putWrite('w', material(8), 1, gen)).toBe(false)
    cache.close()
  })
})
