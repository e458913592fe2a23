import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { manualClock, type SafeguardEvent } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  createEnvelope,
  createSubjectEnvelope,
  createSubjectKeys,
  EnvelopeDecryptionError,
  fileSubjectKeyStore,
  LocalKeyring,
  memorySubjectKeyStore,
  type SubjectKeyStore,
  SubjectShreddedError,
} from '../src/index.js'
import { dec, enc, rejectionCode, tempDir } from './helpers.js'

async function setup(store: SubjectKeyStore = memorySubjectKeyStore(), cacheTtlMs?: number) {
  const kek = await LocalKeyring.inMemory()
  const events: SafeguardEvent[] = []
  const subjects = createSubjectKeys({
    kek,
    store,
    events: (e) => {
      events.push(e)
    },
    ...(cacheTtlMs === undefined ? {} : { cacheTtlMs }),
  })
  return { kek, store, subjects, events, envelope: createSubjectEnvelope({ subjects }) }
}

describe('per-subject keys', () => {
  it('round-trips and names an opaque subject key reference in the header', async () => {
    const { envelope, subjects } = await setup()
    const ct = await envelope.encrypt('MRN-000123', enc('555-0100'), { column: 'phone' })
    expect(dec(await envelope.decrypt(ct, { column: 'phone' }))).toBe('555-0100')
    const [key] = envelope.inspect(ct).keys
    expect(key?.providerId).toBe('subject')
    expect(key?.keyRef).toMatch(/^subject:[A-Za-z0-9_-]{22}@v1$/)
    expect(key?.keyRef).not.toContain('MRN')
    expect(key?.keyRef).toBe(await subjects.keyRefOf('MRN-000123'))
    expect(await subjects.keyRefOf('MRN-000124')).not.toBe(key?.keyRef)
    // the same subject keeps one key; the context is still checked
    const ct2 = await envelope.encrypt('MRN-000123', enc('x'), { column: 'ssn' })
    expect(envelope.inspect(ct2).keys[0]?.keyRef).toBe(key?.keyRef)
    expect(await rejectionCode(envelope.decrypt(ct2, { column: 'phone' }))).toBe(
      'ERR_ENVELOPE_DECRYPTION_FAILED',
    )
  })

  it('shredSubject makes every message of that subject fail with ERR_SUBJECT_SHREDDED, and only those', async () => {
    const { envelope, subjects, events } = await setup()
    const mine = await Promise.all(['a', 'b', 'c'].map((f) => envelope.encrypt('p-1', enc(f), { f })))
    const other = await envelope.encrypt('p-2', enc('keep'), { f: 'a' })
    const r = await subjects.shredSubject('p-1', { actor: 'privacy-officer' })
    expect(r).toEqual({ keyRef: await subjects.keyRefOf('p-1'), outcome: 'destroyed' })
    for (const [i, ct] of mine.entries()) {
      const e = await envelope.decrypt(ct, { f: ['a', 'b', 'c'][i] as string }).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(SubjectShreddedError)
      expect(e).not.toBeInstanceOf(EnvelopeDecryptionError)
      expect((e as SubjectShreddedError).code).toBe('ERR_SUBJECT_SHREDDED')
      expect((e as SubjectShreddedError).message).not.toContain('p-1')
    }
    expect(dec(await envelope.decrypt(other, { f: 'a' }))).toBe('keep')
    // irreversible: no new key for the id
    expect(await rejectionCode(envelope.encrypt('p-1', enc('new'), {}))).toBe('ERR_SUBJECT_SHREDDED')
    expect(await subjects.status('p-1')).toBe('shredded')
    expect(await subjects.shredSubject('p-1')).toMatchObject({ outcome: 'already-shredded' })
    expect(events[0]).toMatchObject({
      type: 'key.destroyed',
      source: '@safeguards/envelope',
      outcome: 'success',
      keyRef: r.keyRef,
      subject: 'p-1',
      actor: 'privacy-officer',
      code: 'destroyed',
    })
  })

  it('a subject shredded before it had a key can never get one', async () => {
    const { envelope, subjects } = await setup()
    expect(await subjects.status('p-9')).toBe('none')
    expect(await subjects.shredSubject('p-9')).toMatchObject({ outcome: 'tombstoned' })
    expect(await rejectionCode(envelope.encrypt('p-9', enc('x'), {}))).toBe('ERR_SUBJECT_SHREDDED')
    expect(await rejectionCode(subjects.ensureSubjects(['p-9', 'p-10']))).toBeUndefined()
    expect(await rejectionCode(envelope.encrypt('p-9', enc('x'), {}))).toBe('ERR_SUBJECT_SHREDDED')
    expect(await subjects.status('p-10')).toBe('active')
  })

  it('other instances see a shred at once with TTL 0, and within the TTL otherwise', async () => {
    const store = memorySubjectKeyStore()
    const kek = await LocalKeyring.inMemory()
    const clock = manualClock(1_000)
    const a = createSubjectKeys({ kek, store })
    const strict = createSubjectKeys({ kek, store, cacheTtlMs: 0 })
    const cached = createSubjectKeys({ kek, store, cacheTtlMs: 5_000, clock })
    const ct = await createSubjectEnvelope({ subjects: a }).encrypt('p-1', enc('x'), {})
    const strictEnv = createSubjectEnvelope({ subjects: strict })
    const cachedEnv = createSubjectEnvelope({ subjects: cached })
    expect(dec(await strictEnv.decrypt(ct, {}))).toBe('x')
    expect(dec(await cachedEnv.decrypt(ct, {}))).toBe('x')
    await a.shredSubject('p-1')
    expect(await rejectionCode(strictEnv.decrypt(ct, {}))).toBe('ERR_SUBJECT_SHREDDED')
    clock.advance(4_999)
    expect(dec(await cachedEnv.decrypt(ct, {}))).toBe('x') // still cached: the stated window
    clock.advance(1)
    expect(await rejectionCode(cachedEnv.decrypt(ct, {}))).toBe('ERR_SUBJECT_SHREDDED')
  })

  it('a key evicted while concurrent callers still hold it is not zeroised under them (noble, tiny cache)', async () => {
    const kek = await LocalKeyring.inMemory()
    const store = memorySubjectKeyStore()
    const subjects = createSubjectKeys({ kek, store, backend: 'noble', maxCacheEntries: 2 })
    const env = createSubjectEnvelope({ subjects, backend: 'noble' })
    const ids = Array.from({ length: 30 }, (_, i) => `p-${i}`)
    const cts = await Promise.all(
      ids.flatMap((id) => [env.encrypt(id, enc(id), {}), env.encrypt(id, enc(id), {})]),
    )
    const reader = createSubjectEnvelope({ subjects: createSubjectKeys({ kek, store, cacheTtlMs: 0 }) })
    const out = await Promise.all(cts.map(async (ct) => dec(await reader.decrypt(ct, {}))))
    expect(out).toEqual(ids.flatMap((id) => [id, id]))
    expect(await Promise.all(cts.map(async (ct) => dec(await env.decrypt(ct, {}))))).toEqual(out)
  })

  it('a tampered wrapped key is a decryption failure, not a shred', async () => {
    const { envelope } = await setup()
    const ct = await envelope.encrypt('p-1', enc('x'), {})
    const keyRef = envelope.inspect(ct).keys[0]?.keyRef as string
    // the wrapped data key follows the key reference (u16 length, then the 60 bytes)
    const at = Buffer.from(ct).indexOf(Buffer.from(keyRef)) + keyRef.length + 2
    const bad = ct.slice()
    bad[at + 20] = (bad[at + 20] as number) ^ 1
    expect(await rejectionCode(envelope.decrypt(bad, {}))).toBe('ERR_ENVELOPE_DECRYPTION_FAILED')
    // a subject key moved to another subject's record does not open either
    const { subjects, store } = await setup()
    const env = createSubjectEnvelope({ subjects })
    const c1 = await env.encrypt('p-1', enc('x'), {})
    await env.encrypt('p-2', enc('y'), {})
    const r1 = (await subjects.keyRefOf('p-1')).slice(8, -3)
    const r2 = (await subjects.keyRefOf('p-2')).slice(8, -3)
    const rec1 = await store.get(r1)
    const rec2 = await store.get(r2)
    await store.replaceWrapped(r1, rec1?.wrapped as never, rec2?.wrapped as never)
    subjects.clearCache()
    expect(await rejectionCode(env.decrypt(c1, {}))).toBe('ERR_ENVELOPE_DECRYPTION_FAILED')
  })

  it('KEK rotation rewraps subject keys without touching ciphertexts', async () => {
    const { envelope, subjects, kek, store } = await setup()
    const cts = await Promise.all(['p-1', 'p-2', 'p-3'].map((s) => envelope.encrypt(s, enc(s), {})))
    const before = cts.map((c) => c.slice())
    await subjects.shredSubject('p-3')
    await kek.rotate()
    const r = await subjects.rewrapSubjectKeys({ batchSize: 1 })
    expect(r).toEqual({ rewrapped: 3, current: 0, skipped: 0 }) // p-1, p-2 and the namespace key
    expect(await subjects.rewrapSubjectKeys()).toEqual({ rewrapped: 0, current: 3, skipped: 0 })
    await kek.retire(1)
    const fresh = createSubjectEnvelope({ subjects: createSubjectKeys({ kek, store }) })
    expect(cts).toEqual(before)
    expect(dec(await fresh.decrypt(cts[0] as Uint8Array, {}))).toBe('p-1')
    expect(dec(await fresh.decrypt(cts[1] as Uint8Array, {}))).toBe('p-2')
    expect(await rejectionCode(fresh.decrypt(cts[2] as Uint8Array, {}))).toBe('ERR_SUBJECT_SHREDDED')
    for (const rec of await store.listActive(undefined, 10))
      expect(rec.wrapped?.keyRef).toBe('local:default@v2')
  })

  it('plain envelopes use the providers: forSubject to encrypt, provider to decrypt', async () => {
    const { subjects } = await setup()
    const ct = await createEnvelope({ provider: subjects.forSubject('p-1') }).encrypt(enc('x'), {})
    expect(dec(await createEnvelope({ provider: subjects.provider }).decrypt(ct, {}))).toBe('x')
    expect(await rejectionCode(createEnvelope({ provider: subjects.provider }).encrypt(enc('x'), {}))).toBe(
      'ERR_ENVELOPE_KEY_UNAVAILABLE',
    )
    expect((await subjects.provider.describe(await subjects.keyRefOf('p-1'))).state).toBe('primary')
    // an envelope's data-key cache drops its keys when this instance shreds (stateEpoch changes)
    const cached = createEnvelope({ provider: subjects.provider, dataKeyCache: { maxAge: 60_000 } })
    expect(dec(await cached.decrypt(ct, {}))).toBe('x')
    await subjects.shredSubject('p-1')
    expect(await rejectionCode(cached.decrypt(ct, {}))).toBe('ERR_SUBJECT_SHREDDED')
    expect((await subjects.provider.describe(await subjects.keyRefOf('p-1'))).state).toBe('destroyed')
  })

  it('checks its arguments', async () => {
    const kek = await LocalKeyring.inMemory()
    const store = memorySubjectKeyStore()
    expect(() => createSubjectKeys({ kek, store, cacheTtlMs: -1 })).toThrow(RangeError)
    expect(() => createSubjectKeys({ kek, store, id: 'local' })).toThrow(TypeError)
    expect(() => createSubjectKeys({ kek, store: {} as SubjectKeyStore })).toThrow(TypeError)
    const subjects = createSubjectKeys({ kek, store })
    expect(() => subjects.forSubject('')).toThrow(RangeError)
    expect(() => subjects.forSubject(1 as unknown as string)).toThrow(TypeError)
    expect(
      await rejectionCode(createSubjectEnvelope({ subjects }).encrypt('\ud800', enc('x'), {})),
    ).toContain('RangeError')
  })
})

describe('fileSubjectKeyStore', () => {
  it('keeps a tombstone across restarts and erases the wrapped key from the file', async () => {
    const path = join(tempDir(), 'subject-keys.json')
    const kek = await LocalKeyring.inMemory()
    const first = createSubjectKeys({ kek, store: fileSubjectKeyStore(path) })
    const env1 = createSubjectEnvelope({ subjects: first })
    const ct = await env1.encrypt('p-1', enc('x'), {})
    const keep = await env1.encrypt('p-2', enc('y'), {})
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const ref = (await first.keyRefOf('p-1')).slice('subject:'.length, -3)
    const wrapped = JSON.parse(readFileSync(path, 'utf8')).keys[ref].edk as string
    expect(readFileSync(path, 'utf8')).not.toContain('p-1')
    await first.shredSubject('p-1')
    await first.close()
    const text = readFileSync(path, 'utf8')
    expect(text).not.toContain(wrapped)
    expect(JSON.parse(text).keys[ref]).toMatchObject({ state: 'shredded' })
    // a restart: a new store instance and new subject keys over the same file
    const second = createSubjectKeys({ kek, store: fileSubjectKeyStore(path), cacheTtlMs: 0 })
    const env2 = createSubjectEnvelope({ subjects: second })
    expect(await rejectionCode(env2.decrypt(ct, {}))).toBe('ERR_SUBJECT_SHREDDED')
    expect(await rejectionCode(env2.encrypt('p-1', enc('again'), {}))).toBe('ERR_SUBJECT_SHREDDED')
    expect(dec(await env2.decrypt(keep, {}))).toBe('y')
  })

  it('two writers creating the first key of a subject agree on one key', async () => {
    const path = join(tempDir(), 'subject-keys.json')
    const kek = await LocalKeyring.inMemory()
    const store1 = fileSubjectKeyStore(path)
    // the namespace key is created once, before the race on the subject key
    await createSubjectKeys({ kek, store: store1 }).keyRefOf('warm-up')
    const envs = [store1, fileSubjectKeyStore(path)].map((store) =>
      createSubjectEnvelope({ subjects: createSubjectKeys({ kek, store }) }),
    )
    const cts = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (envs[i % 2] as (typeof envs)[0]).encrypt('p-1', enc(`v${i}`), {})),
    )
    const reader = createSubjectEnvelope({
      subjects: createSubjectKeys({ kek, store: fileSubjectKeyStore(path) }),
    })
    for (const [i, ct] of cts.entries()) expect(dec(await reader.decrypt(ct, {}))).toBe(`v${i}`)
    const text = JSON.parse(readFileSync(path, 'utf8'))
    expect(Object.keys(text.keys)).toHaveLength(2) // the namespace key and p-1's
  })

  it('reports a malformed file with ERR_SUBJECT_KEY_STORE', async () => {
    const dir = tempDir()
    const path = join(dir, 'bad.json')
    const { writeFileSync } = await import('node:fs')
    writeFileSync(path, '{"format":"nope"}', { mode: 0o600 })
    expect(await rejectionCode(fileSubjectKeyStore(path).get('abc'))).toBe('ERR_SUBJECT_KEY_STORE')
  })
})
