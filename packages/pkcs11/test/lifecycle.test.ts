import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import {
  bytesToHex,
  criticalSink,
  EventSinkError,
  hexToBytes,
  manualClock,
  randomBytes,
  type SafeguardEvent,
  utf8Encode,
} from '@safeguards/core'
import { KeyringStateError, KeyUnavailableError } from '@safeguards/envelope'
import { expect, it } from 'vitest'
import { Pkcs11KekProvider } from '../src/index.js'
import { describeHsm, SOFTHSM_MODULE, type SoftHsm, USER_PIN, useSoftHsm, withProvider } from './softhsm.js'

const run = promisify(execFile)

/** Runs test/fixtures/hsm-child.ts in its own Node process on the same token. */
async function child(input: Record<string, unknown>): Promise<{
  dek: string
  primary: string
  wrapped: { keyRef: string; edk: string }[]
}> {
  const { stdout } = await run(
    process.execPath,
    [
      '--conditions=@safeguards/source',
      '--import',
      'tsx',
      'test/fixtures/hsm-child.ts',
      JSON.stringify(input),
    ],
    { cwd: resolve(import.meta.dirname, '..'), env: { ...process.env, NODE_OPTIONS: '' }, timeout: 60_000 },
  )
  return JSON.parse(stdout)
}

const aad = utf8Encode('hge/v1/wrap|ctx-digest')

async function reason(p: Promise<unknown>): Promise<string | undefined> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  )
  expect(e).toBeInstanceOf(KeyUnavailableError)
  return (e as KeyUnavailableError).reason
}

describeHsm('Pkcs11KekProvider: key versions, rotation and lifecycle in the token', () => {
  let hsm: SoftHsm
  let admin: Pkcs11KekProvider
  const clock = manualClock(Date.UTC(2026, 10, 22, 12))
  const events: SafeguardEvent[] = []
  /** Takes the events seen so far as `type vN` strings, checking their common fields. */
  const taken = (): string[] => {
    const out = events.map((e) => {
      expect(e).toEqual({
        type: e.type,
        at: clock.now(),
        source: '@safeguards/pkcs11',
        outcome: 'success',
        keyRef: (e as { keyRef: string }).keyRef,
      })
      return `${e.type} ${(e as { keyRef: string }).keyRef}`
    })
    events.length = 0
    return out
  }

  useSoftHsm(['lifecycle'], async (h, open) => {
    hsm = h
    admin = await open(
      h.options('lifecycle', 'claims', { clock, cacheTtlMs: 0, events: (e) => void events.push(e) }),
    )
  })

  it('has no primary until the first rotation', async () => {
    expect(await admin.list()).toEqual([])
    expect(await reason(admin.wrap(randomBytes(32), aad))).toBe('no-primary')
    expect(await reason(admin.primary())).toBe('no-primary')
  })

  it('rotates in two phases, and every version keeps unwrapping what it wrapped', async () => {
    const v1 = await admin.rotate()
    expect(v1).toMatchObject({ keyRef: 'pkcs11:claims@v1', state: 'primary', createdAt: clock.now() })
    expect(taken()).toEqual(['key.created pkcs11:claims@v1', 'key.rotated pkcs11:claims@v1'])
    const dek1 = randomBytes(32)
    const w1 = await admin.wrap(dek1, aad)

    clock.advance(86_400_000)
    const v2 = await admin.addVersion()
    expect(v2).toMatchObject({ keyRef: 'pkcs11:claims@v2', state: 'decrypt-only', createdAt: clock.now() })
    expect((await admin.wrap(randomBytes(32), aad)).keyRef).toBe('pkcs11:claims@v1') // not promoted yet

    // rewrap --to a decrypt-only version is allowed
    const early = await admin.wrap(dek1, aad, { keyRef: 'pkcs11:claims@v2' })
    expect(early.keyRef).toBe('pkcs11:claims@v2')
    expect(await admin.unwrap(early.edk, early.keyRef, aad)).toEqual(dek1)

    await admin.promote(2)
    await admin.promote(2) // already the primary: nothing changes, no event
    expect(taken()).toEqual(['key.created pkcs11:claims@v2', 'key.rotated pkcs11:claims@v2'])
    const dek2 = randomBytes(32)
    const w2 = await admin.wrap(dek2, aad)
    expect(w2.keyRef).toBe('pkcs11:claims@v2')
    expect(await admin.unwrap(w1.edk, w1.keyRef, aad)).toEqual(dek1)
    expect(await admin.unwrap(w2.edk, w2.keyRef, aad)).toEqual(dek2)
    expect((await admin.list()).map((d) => `${d.version}:${d.state}`)).toEqual([
      '1:decrypt-only',
      '2:primary',
    ])
  })

  it('retires, disables, re-enables and, only on explicit opt-in, destroys a version', async () => {
    const dek = randomBytes(32)
    const w1 = await admin.wrap(dek, aad, { keyRef: 'pkcs11:claims@v1' })

    await expect(admin.retire(2)).rejects.toBeInstanceOf(KeyringStateError) // the primary
    await expect(admin.disable(2)).rejects.toBeInstanceOf(KeyringStateError)

    expect(await admin.retire(1)).toMatchObject({ state: 'disabled', retired: true })
    expect(await reason(admin.unwrap(w1.edk, w1.keyRef, aad))).toBe('retired')
    expect(await reason(admin.wrap(dek, aad, { keyRef: 'pkcs11:claims@v1' }))).toBe('retired')
    await expect(admin.promote(1)).rejects.toBeInstanceOf(KeyringStateError) // only enabled keys can be promoted

    expect(await admin.enable(1)).toMatchObject({ state: 'decrypt-only' })
    expect((await admin.describe('pkcs11:claims@v1')).retired).toBeUndefined()
    expect(await admin.unwrap(w1.edk, w1.keyRef, aad)).toEqual(dek)

    expect(await admin.disable(1)).toMatchObject({ state: 'disabled' })
    expect(await reason(admin.unwrap(w1.edk, w1.keyRef, aad))).toBe('disabled')

    await admin.enable(1)
    await expect(admin.destroy(1, { allowDestroy: true })).rejects.toThrow(/disable or retire it first/)
    await admin.retire(1)
    await expect(admin.destroy(1, { allowDestroy: false })).rejects.toBeInstanceOf(KeyringStateError)
    await expect(admin.destroy(1, undefined as unknown as { allowDestroy: boolean })).rejects.toBeInstanceOf(
      KeyringStateError,
    )
    expect(await admin.destroy(1, { allowDestroy: true })).toMatchObject({ state: 'destroyed' })
    expect(await reason(admin.unwrap(w1.edk, w1.keyRef, aad))).toBe('destroyed')
    expect(await admin.describe('pkcs11:claims@v1')).toMatchObject({ state: 'destroyed' })
    await expect(admin.enable(1)).rejects.toBeInstanceOf(KeyringStateError)
    await expect(admin.promote(7)).rejects.toBeInstanceOf(KeyringStateError)
    await expect(admin.promote(0)).rejects.toThrow(RangeError)

    expect(taken()).toEqual([
      'key.retired pkcs11:claims@v1',
      'key.enabled pkcs11:claims@v1',
      'key.disabled pkcs11:claims@v1',
      'key.enabled pkcs11:claims@v1',
      'key.retired pkcs11:claims@v1',
      'key.destroyed pkcs11:claims@v1',
    ])

    // A destroyed version's number is never reused.
    expect((await admin.addVersion()).version).toBe(3)
    expect(taken()).toEqual(['key.created pkcs11:claims@v3'])
    expect((await admin.list()).map((d) => `${d.version}:${d.state}`)).toEqual([
      '1:destroyed',
      '2:primary',
      '3:decrypt-only',
    ])
  })

  it('a failing critical sink rejects with ERR_EVENT_SINK after the change is in the token', async () => {
    const strict = await Pkcs11KekProvider.open(
      hsm.options('lifecycle', 'strict', {
        cacheTtlMs: 0,
        events: criticalSink(() => {
          throw new Error('audit store down')
        }),
      }),
    )
    try {
      await expect(strict.addVersion()).rejects.toBeInstanceOf(EventSinkError)
      // the change stands: version 1 is in the token
      expect((await strict.list()).map((d) => `${d.version}:${d.state}`)).toEqual(['1:decrypt-only'])
      expect(taken()).toEqual([]) // another provider's sinks hear nothing
    } finally {
      await strict.close()
    }
  })

  it('shares state between providers through the token, and the token itself enforces a disable', async () => {
    // A second provider (another app instance) with a long cache: it does not re-read the state.
    await withProvider(hsm.options('lifecycle', 'claims', { cacheTtlMs: 3_600_000 }), async (app) => {
      const dek = randomBytes(32)
      const w3 = await admin.wrap(dek, aad, { keyRef: 'pkcs11:claims@v3' })
      expect(await app.unwrap(w3.edk, w3.keyRef, aad)).toEqual(dek) // v3 added before app opened
      await admin.addVersion() // v4: app has not seen it yet
      const w4 = await admin.wrap(dek, aad, { keyRef: 'pkcs11:claims@v4' })
      expect(await app.unwrap(w4.edk, w4.keyRef, aad)).toEqual(dek) // unknown version: re-read once

      await admin.disable(3)
      // The app's cache still says v3 is enabled; the token refuses, and the app reports it typed.
      expect(await reason(app.unwrap(w3.edk, w3.keyRef, aad))).toBe('disabled')
      expect((await app.describe('pkcs11:claims@v3')).state).toBe('disabled')

      await admin.promote(4)
      expect((await app.primary()).version).toBe(2) // stale until refreshed
      await app.refresh()
      expect((await app.primary()).version).toBe(4)
      expect((await app.wrap(dek, aad)).keyRef).toBe('pkcs11:claims@v4')
    })
  })

  it('serialises concurrent lifecycle changes without losing one', async () => {
    const before = (await admin.list()).length
    const added = await Promise.all([admin.addVersion(), admin.addVersion(), admin.addVersion()])
    expect(new Set(added.map((d) => d.version)).size).toBe(3)
    expect((await admin.list()).length).toBe(before + 3)
  })

  it('shares keys and state with another process on the same token, wrapping concurrently', async () => {
    const dek = randomBytes(32)
    const { keyRef, edk } = await admin.wrap(dek, aad)
    const input = {
      module: SOFTHSM_MODULE,
      label: 'lifecycle',
      keyName: 'claims',
      pin: USER_PIN,
      edk: bytesToHex(edk),
      keyRef,
      aad: bytesToHex(aad),
      wraps: 40,
    }
    // Two other processes and this one wrap at the same time under the same HSM key.
    const [a, b, ours] = await Promise.all([
      child(input),
      child(input),
      Promise.all(Array.from({ length: 40 }, () => admin.wrap(dek, aad))),
    ])
    for (const out of [a, b]) {
      expect(out.dek).toBe(bytesToHex(dek))
      expect(out.primary).toBe((await admin.primary()).keyRef)
      for (const w of out.wrapped) expect(await admin.unwrap(hexToBytes(w.edk), w.keyRef, aad)).toEqual(dek)
    }
    for (const w of ours) expect(await admin.unwrap(w.edk, w.keyRef, aad)).toEqual(dek)
    // A rotation here is what the next process sees.
    const next = await admin.rotate()
    expect((await child({ ...input, wraps: 1 })).primary).toBe(next.keyRef)
  })
})
