/** LocalKeyring: lifecycle, rotation, rewrap, retire, destroy; the keyring file (mode, sealing). */
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { criticalSink, EventSinkError, manualClock, type SafeguardEvent, Secret } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import {
  createEnvelope,
  EnvelopeDecryptionError,
  type KekProvider,
  KeyringFileError,
  KeyringSealedError,
  KeyringStateError,
  KeyUnavailableError,
  LocalKeyring,
} from '../src/index.js'
import { enc, sameBytes, tempDir } from './helpers.js'

const dir = tempDir()
let n = 0
const path = () => join(dir, `keyring-${n++}.json`)
const unavailable = async (p: Promise<unknown>, keyRef: string, reason: string) => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  )
  expect(e).toBeInstanceOf(KeyUnavailableError)
  expect((e as KeyUnavailableError).keyRef).toBe(keyRef)
  expect((e as KeyUnavailableError).reason).toBe(reason)
}

describe('LocalKeyring lifecycle', () => {
  it('rotates in two phases, rewraps only the header, retires and destroys with opt-in', async () => {
    const p = path()
    const kr = await LocalKeyring.create(p, { name: 'patients' })
    const env = createEnvelope({ provider: kr })
    const ctx = { table: 'patients', id: '7' }
    const old = await env.encrypt(enc('hello'), ctx)
    expect(env.inspect(old).keys).toEqual([{ providerId: 'local', keyRef: 'local:patients@v1' }])

    // phase 1: add (decrypt-capable), still encrypting under v1
    const v2 = await kr.addVersion()
    expect(v2).toMatchObject({ version: 2, state: 'decrypt-only', keyRef: 'local:patients@v2' })
    expect(env.inspect(await env.encrypt(enc('x'), {})).keys[0]?.keyRef).toBe('local:patients@v1')
    // phase 2: promote
    await kr.promote(2)
    expect((await kr.primary()).keyRef).toBe('local:patients@v2')
    expect(await env.needsRewrap(old)).toBe(true)

    // rewrap: new header under v2, body bytes identical, no plaintext involved
    const rewrapped = await env.rewrap(old, ctx)
    const h1 = env.inspect(old).headerLength
    const h2 = env.inspect(rewrapped).headerLength
    expect(rewrapped.subarray(h2)).toEqual(old.subarray(h1))
    expect(env.inspect(rewrapped).keys[0]?.keyRef).toBe('local:patients@v2')
    expect(env.inspect(rewrapped).messageId).toBe(env.inspect(old).messageId)
    expect(await env.needsRewrap(rewrapped)).toBe(false)
    await expect(env.rewrap(old, { ...ctx, id: '8' })).rejects.toBeInstanceOf(EnvelopeDecryptionError)

    // retire v1: rewrapped data reads, the old ciphertext names its key as retired
    await kr.retire(1)
    expect(new TextDecoder().decode(await env.decrypt(rewrapped, ctx))).toBe('hello')
    await unavailable(env.decrypt(old, ctx), 'local:patients@v1', 'retired')
    // another process sees the same states
    const again = await LocalKeyring.open(p)
    expect((await again.list()).map((k) => [k.version, k.state, k.retired ?? false])).toEqual([
      [1, 'disabled', true],
      [2, 'primary', false],
    ])
    await kr.enable(1)
    expect(await env.decrypt(old, ctx)).toEqual(enc('hello'))

    // destroy needs explicit opt-in, never the primary
    await expect(kr.destroy(1, { allowDestroy: false })).rejects.toBeInstanceOf(KeyringStateError)
    await expect(kr.destroy(2, { allowDestroy: true })).rejects.toBeInstanceOf(KeyringStateError)
    await kr.destroy(1, { allowDestroy: true })
    await unavailable(env.decrypt(old, ctx), 'local:patients@v1', 'destroyed')
    expect(readFileSync(p, 'utf8')).not.toContain('"1":')
    await expect(kr.enable(1)).rejects.toBeInstanceOf(KeyringStateError)
    await expect(kr.promote(1)).rejects.toBeInstanceOf(KeyringStateError)
  })

  it('emits each committed lifecycle change as a key event, in order', async () => {
    const events: SafeguardEvent[] = []
    const clock = manualClock(1000)
    const path = join(dir, 'events.json')
    const kr = await LocalKeyring.create(path, { name: 'ev', events: (e) => void events.push(e), clock })
    await kr.addVersion()
    await kr.promote(2)
    await kr.promote(2) // already primary: no change, no event
    await kr.rotate()
    await kr.disable(1)
    await kr.enable(1)
    await kr.retire(1)
    await kr.destroy(1, { allowDestroy: true })
    await expect(kr.disable(3)).rejects.toThrow(KeyringStateError) // refused: no event
    const ev = (type: string, v: number) => ({
      type,
      at: 1000,
      source: '@safeguards/envelope',
      outcome: 'success',
      keyRef: `local:ev@v${v}`,
    })
    expect(events).toEqual([
      ev('key.created', 1),
      ev('key.rotated', 1),
      ev('key.created', 2),
      ev('key.rotated', 2),
      ev('key.created', 3),
      ev('key.rotated', 3),
      ev('key.disabled', 1),
      ev('key.enabled', 1),
      ev('key.retired', 1),
      ev('key.destroyed', 1),
    ])
  })

  it('a failing critical sink rejects the call with ERR_EVENT_SINK after the change is on disk', async () => {
    const path = join(dir, 'events-critical.json')
    await LocalKeyring.create(path)
    const kr = await LocalKeyring.open(path, {
      events: criticalSink(() => {
        throw new Error('audit store down')
      }),
    })
    await expect(kr.addVersion()).rejects.toBeInstanceOf(EventSinkError)
    // the change stands, in this instance and on disk
    expect((await kr.list()).map((k) => k.state)).toEqual(['primary', 'decrypt-only'])
    expect((await (await LocalKeyring.open(path)).list()).map((k) => k.version)).toEqual([1, 2])
    // isolated sinks never fail the call
    const isolated = await LocalKeyring.inMemory({
      events: () => {
        throw new Error('down')
      },
    })
    await expect(isolated.rotate()).resolves.toMatchObject({ version: 2, state: 'primary' })
  })

  it('enforces the lifecycle invariants', async () => {
    const kr = await LocalKeyring.inMemory()
    await expect(kr.disable(1)).rejects.toBeInstanceOf(KeyringStateError)
    await expect(kr.retire(1)).rejects.toBeInstanceOf(KeyringStateError)
    await expect(kr.promote(9)).rejects.toBeInstanceOf(KeyringStateError)
    await kr.addVersion()
    await kr.disable(2)
    await expect(kr.promote(2)).rejects.toBeInstanceOf(KeyringStateError)
    const env = createEnvelope({ provider: kr })
    await unavailable(
      env.rewrap(await env.encrypt(enc('a'), {}), {}, { to: 'local:default@v2' }),
      'local:default@v2',
      'disabled',
    )
    await kr.enable(2)
    const moved = await env.rewrap(await env.encrypt(enc('a'), {}), {}, { to: 'local:default@v2' })
    expect(env.inspect(moved).keys[0]?.keyRef).toBe('local:default@v2')
    await unavailable(kr.describe('local:default@v99'), 'local:default@v99', 'unknown')
    await unavailable(kr.describe('local:other@v1'), 'local:other@v1', 'unknown')
  })

  it('reencrypt moves to a fresh data key and new settings', async () => {
    const kr = await LocalKeyring.inMemory()
    const env = createEnvelope({ provider: kr })
    const ct = await env.encrypt(enc('data'), { a: '1' })
    const re = await env.reencrypt(ct, { a: '1' }, { context: { a: '2' } })
    expect(env.inspect(re).messageId).not.toBe(env.inspect(ct).messageId)
    expect(await env.decrypt(re, { a: '2' })).toEqual(enc('data'))
  })

  it('rewrapStream rewrites only the header', async () => {
    const kr = await LocalKeyring.inMemory()
    const env = createEnvelope({ provider: kr, frameLength: 4096 })
    const ct = await env.encrypt(new Uint8Array(10_000).fill(3), {})
    await kr.rotate()
    const out = new Uint8Array(
      await new Response(
        new Blob([ct as Uint8Array<ArrayBuffer>]).stream().pipeThrough(env.rewrapStream({})),
      ).arrayBuffer(),
    )
    expect(env.inspect(out).keys[0]?.keyRef).toBe('local:default@v2')
    expect(
      sameBytes(out.subarray(env.inspect(out).headerLength), ct.subarray(env.inspect(ct).headerLength)),
    ).toBe(true)
    expect(sameBytes(await env.decrypt(out, {}), new Uint8Array(10_000).fill(3))).toBe(true)
  })

  it('stores only the allow-listed context keys, and merges them back at decrypt', async () => {
    const env = createEnvelope({ provider: await LocalKeyring.inMemory(), storedKeys: ['tenant'] })
    const ct = await env.encrypt(enc('x'), { tenant: 'clinic-9', mrn: 'MRN-1' })
    expect(env.inspect(ct).storedContext).toEqual({ tenant: 'clinic-9' })
    expect(new TextDecoder().decode(ct)).not.toContain('MRN-1')
    expect(await env.decrypt(ct, { mrn: 'MRN-1' })).toEqual(enc('x'))
    await expect(env.decrypt(ct, { mrn: 'MRN-1', tenant: 'other' })).rejects.toBeInstanceOf(
      EnvelopeDecryptionError,
    )
  })

  it('multiple providers: wraps with each, decrypts with any registered one', async () => {
    const a = await LocalKeyring.inMemory({ name: 'a' })
    const kb = await LocalKeyring.inMemory({ name: 'b' })
    const b: KekProvider = {
      id: 'backup',
      wrap: (dek, aad, o) => kb.wrap(dek, aad, o),
      unwrap: (edk, ref, aad) => kb.unwrap(edk, ref, aad),
      describe: (ref) => kb.describe(ref),
      primary: () => kb.primary(),
    }
    const both = createEnvelope({ providers: [a, b] })
    const ct = await both.encrypt(enc('x'), {})
    expect(both.inspect(ct).keys.map((k) => k.providerId)).toEqual(['local', 'backup'])
    expect(await createEnvelope({ provider: b }).decrypt(ct, {})).toEqual(enc('x'))
    expect(await createEnvelope({ provider: a }).decrypt(ct, {})).toEqual(enc('x'))
  })
})

describe('the keyring file', () => {
  it('is created with mode 0600, never overwritten, and refused when group/other can read it', async () => {
    const p = path()
    await LocalKeyring.create(p)
    expect(statSync(p).mode & 0o777).toBe(0o600)
    await expect(LocalKeyring.create(p)).rejects.toBeInstanceOf(KeyringFileError)
    chmodSync(p, 0o644)
    await expect(LocalKeyring.open(p)).rejects.toBeInstanceOf(KeyringFileError)
    chmodSync(p, 0o600)
    await expect(LocalKeyring.open(p)).resolves.toBeInstanceOf(LocalKeyring)
    await expect(LocalKeyring.open(join(dir, 'missing.json'))).rejects.toBeInstanceOf(KeyringFileError)
  })

  it('rejects malformed files with a typed error', async () => {
    for (const body of ['not json', '{}', '{"format":"safeguards-keyring","version":2}', '[]']) {
      const p = path()
      writeFileSync(p, body, { mode: 0o600 })
      await expect(LocalKeyring.open(p)).rejects.toBeInstanceOf(KeyringFileError)
    }
  })

  it('seals key material under an environment secret; tampering and wrong secrets fail', async () => {
    const p = path()
    const env = { SG_SECRET: `${'x'.repeat(16)}correct horse battery staple` }
    const kr = await LocalKeyring.create(p, { masterSecret: { env: 'SG_SECRET' }, env })
    const text = readFileSync(p, 'utf8')
    expect(text).not.toContain('"material"')
    expect(kr.sealed).toBe(true)
    const ct = await createEnvelope({ provider: kr }).encrypt(enc('x'), {})
    const opened = await LocalKeyring.open(p, { masterSecret: { env: 'SG_SECRET' }, env })
    expect(await createEnvelope({ provider: opened }).decrypt(ct, {})).toEqual(enc('x'))
    await expect(
      LocalKeyring.open(p, { masterSecret: { env: 'SG_SECRET' }, env: {} }),
    ).rejects.toBeInstanceOf(KeyringSealedError)
    await expect(
      LocalKeyring.open(p, { masterSecret: { env: 'SG_SECRET' }, env: { SG_SECRET: 'y'.repeat(40) } }),
    ).rejects.toBeInstanceOf(KeyringSealedError)
    await expect(LocalKeyring.open(p)).rejects.toBeInstanceOf(KeyringSealedError)
    // flipping a key state in the file breaks the seal (metadata is authenticated)
    const doc = JSON.parse(text)
    doc.keys[0].state = 'disabled'
    writeFileSync(p, JSON.stringify(doc), { mode: 0o600 })
    await expect(LocalKeyring.open(p, { masterSecret: { env: 'SG_SECRET' }, env })).rejects.toBeInstanceOf(
      KeyringSealedError,
    )
    await expect(
      LocalKeyring.create(path(), { masterSecret: { env: 'SG_SECRET' }, env: { SG_SECRET: 'short' } }),
    ).rejects.toThrow(RangeError)
  })

  it('seals under a passphrase through argon2id', async () => {
    const p = path()
    const argon2 = { memoryCost: 19456, timeCost: 2, parallelism: 1 }
    const kr = await LocalKeyring.create(p, {
      masterSecret: { passphrase: Secret.of('open sesame') },
      argon2,
    })
    expect(JSON.parse(readFileSync(p, 'utf8')).seal).toMatchObject({ kdf: 'argon2id', argon2 })
    await kr.addVersion()
    const opened = await LocalKeyring.open(p, { masterSecret: { passphrase: 'open sesame' } })
    expect((await opened.list()).length).toBe(2)
    await expect(LocalKeyring.open(p, { masterSecret: { passphrase: 'wrong' } })).rejects.toBeInstanceOf(
      KeyringSealedError,
    )
    await expect(
      LocalKeyring.open(p, { masterSecret: { env: 'X' }, env: { X: 'z'.repeat(40) } }),
    ).rejects.toBeInstanceOf(KeyringSealedError)
  })

  it('a second instance sees versions added by the first (reload on unknown version)', async () => {
    const p = path()
    const a = await LocalKeyring.create(p)
    const b = await LocalKeyring.open(p)
    await a.rotate()
    const ct = await createEnvelope({ provider: a }).encrypt(enc('x'), {})
    expect(await createEnvelope({ provider: b }).decrypt(ct, {})).toEqual(enc('x'))
  })
})

describe('a keyring file shared by several processes', () => {
  it("picks up another instance's rotation and retirement within refreshMs, without reload()", async () => {
    const p = path()
    const clock = manualClock(Date.UTC(2026, 10, 22, 9))
    const a = await LocalKeyring.create(p, { name: 'shared' })
    const b = await LocalKeyring.open(p, { clock, refreshMs: 1000 })
    const envB = createEnvelope({ provider: b })
    const old = await envB.encrypt(enc('before'), {})
    await a.rotate() // v2 primary
    await a.retire(1)
    // Within the interval B has not looked: it still wraps under v1 (the documented window).
    expect(envB.inspect(await envB.encrypt(enc('x'), {})).keys[0]?.keyRef).toBe('local:shared@v1')
    clock.advance(1000)
    const fresh = await envB.encrypt(enc('y'), {})
    expect(envB.inspect(fresh).keys[0]?.keyRef).toBe('local:shared@v2')
    await unavailable(envB.decrypt(old, {}), 'local:shared@v1', 'retired')
    expect(await envB.decrypt(fresh, {})).toEqual(enc('y'))
  })

  it('checks at most once per interval, and not after its own writes', async () => {
    const p = path()
    const clock = manualClock(Date.UTC(2026, 10, 22, 9))
    const kr = await LocalKeyring.create(p, { clock, refreshMs: 1000 })
    await kr.rotate() // its own write: not a change by someone else
    const epoch = kr.stateEpoch()
    clock.advance(1000)
    await createEnvelope({ provider: kr }).encrypt(enc('z'), {})
    expect(kr.stateEpoch()).toBe(epoch)
    // Another process's write moves the epoch at the next due check.
    const other = await LocalKeyring.open(p)
    await other.rotate()
    await createEnvelope({ provider: kr }).encrypt(enc('z'), {})
    expect(kr.stateEpoch()).toBe(epoch) // not due yet
    clock.advance(1000)
    const ct = await createEnvelope({ provider: kr }).encrypt(enc('z'), {})
    expect(kr.stateEpoch()).not.toBe(epoch)
    expect(createEnvelope({ provider: kr }).inspect(ct).keys[0]?.keyRef).toBe('local:default@v3')
  })

  it('refuses a bad refreshMs', async () => {
    for (const refreshMs of [-1, 1.5, 86_400_001, Number.NaN]) {
      await expect(LocalKeyring.open(path(), { refreshMs })).rejects.toBeInstanceOf(RangeError)
    }
  })
})

describe('the keyring file, tampered', () => {
  it('rejects bad seal fields and unbounded argon2 parameters before any work', async () => {
    const p = join(dir, 'tampered-seal.json')
    await LocalKeyring.create(p, {
      masterSecret: { passphrase: 'pw' },
      argon2: { memoryCost: 19456, timeCost: 1, parallelism: 1 },
    })
    const doc = JSON.parse(readFileSync(p, 'utf8'))
    for (const mutate of [
      (d: { seal: Record<string, unknown> }) => {
        d.seal.argon2 = { memoryCost: 2 ** 31, timeCost: 1, parallelism: 1 }
      },
      (d: { seal: Record<string, unknown> }) => {
        d.seal.kdf = 'scrypt'
      },
      (d: { seal: Record<string, unknown> }) => {
        d.seal.iv = '!!'
      },
    ]) {
      const copy = structuredClone(doc)
      mutate(copy)
      writeFileSync(p, JSON.stringify(copy), { mode: 0o600 })
      await expect(LocalKeyring.open(p, { masterSecret: { passphrase: 'pw' } })).rejects.toBeInstanceOf(
        KeyringFileError,
      )
    }
  })
})
