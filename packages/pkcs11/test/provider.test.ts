import { bytesToHex, randomBytes, type SafeguardEvent, utf8Encode } from '@safeguards/core'
import {
  EnvelopeDecryptionError,
  KeyUnavailableError,
  memoryUsageStore,
  UsageLimitError,
} from '@safeguards/envelope'
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { Pkcs11ClosedError, Pkcs11KekProvider } from '../src/index.js'
import { describeHsm, type SoftHsm, useSoftHsm, withProvider } from './softhsm.js'

const aadFor = (context: string): Uint8Array => utf8Encode(`hge/v1/wrap\u0000\u0001${context}`)

describeHsm('Pkcs11KekProvider: wrap and unwrap inside the token', () => {
  let hsm: SoftHsm
  let provider: Pkcs11KekProvider

  useSoftHsm(['wrap-tests'], async (h, open) => {
    hsm = h
    provider = await open(h.options('wrap-tests', 'patients'))
    await provider.rotate()
  })

  it('round-trips a data key, with a fresh IV every time', async () => {
    const dek = randomBytes(32)
    const aad = aadFor('patient=p-1')
    const a = await provider.wrap(dek, aad)
    const b = await provider.wrap(dek, aad)
    expect(a.keyRef).toBe('pkcs11:patients@v1')
    expect(a.edk).toHaveLength(61)
    expect(a.edk[0]).toBe(1)
    expect(bytesToHex(a.edk)).not.toBe(bytesToHex(b.edk))
    expect(bytesToHex(a.edk)).not.toContain(bytesToHex(dek))
    expect(await provider.unwrap(a.edk, a.keyRef, aad)).toEqual(dek)
    expect(await provider.unwrap(b.edk, b.keyRef, aad)).toEqual(dek)
  })

  it('reports the token and the primary without key material', async () => {
    expect(provider.token.label).toBe('wrap-tests')
    expect(provider.token.serialNumber).toBe(hsm.serials.get('wrap-tests'))
    const primary = await provider.primary()
    expect(primary).toMatchObject({
      keyRef: 'pkcs11:patients@v1',
      providerId: 'pkcs11',
      version: 1,
      state: 'primary',
    })
    expect(typeof primary.createdAt).toBe('number')
    expect(primary.usage?.limit).toBe(2n ** 32n)
    expect(await provider.describe('pkcs11:patients@v1')).toMatchObject({ state: 'primary' })
  })

  it('uses the injected IV source', async () => {
    const iv = new Uint8Array(12).fill(0xab)
    await withProvider(hsm.options('wrap-tests', 'patients', { random: () => iv.slice() }), async (fixed) => {
      const { edk } = await fixed.wrap(new Uint8Array(32), aadFor('x'))
      expect(edk.subarray(1, 13)).toEqual(iv)
      expect(await provider.unwrap(edk, 'pkcs11:patients@v1', aadFor('x'))).toEqual(new Uint8Array(32))
    })
  })

  it('fails the same way for a wrong context, a wrong version, and every changed, cut or added byte', async () => {
    await provider.addVersion() // v2, decrypt-only: a valid key that did not wrap this EDK
    const dek = randomBytes(32)
    const aad = aadFor('patient=p-2')
    const { edk, keyRef } = await provider.wrap(dek, aad)
    const attempts: Array<() => Promise<Uint8Array>> = [
      () => provider.unwrap(edk, keyRef, aadFor('patient=p-3')),
      () => provider.unwrap(edk, keyRef, new Uint8Array(0)),
      () => provider.unwrap(edk, 'pkcs11:patients@v2', aad),
      () => provider.unwrap(edk.subarray(0, 60), keyRef, aad),
      () => provider.unwrap(new Uint8Array([...edk, 0]), keyRef, aad),
      () => provider.unwrap(new Uint8Array(0), keyRef, aad),
      () => provider.unwrap(new Uint8Array([2, ...edk.subarray(1)]), keyRef, aad),
    ]
    for (let i = 1; i < edk.length; i++) {
      const bad = edk.slice()
      bad[i] = (bad[i] as number) ^ 0x01
      attempts.push(() => provider.unwrap(bad, keyRef, aad))
    }
    for (const attempt of attempts) {
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(EnvelopeDecryptionError)
      expect((error as EnvelopeDecryptionError).message).toBe('decryption failed')
      expect((error as EnvelopeDecryptionError).cause).toBeUndefined()
    }
    // The session pool survived every failure: a good unwrap still works.
    expect(await provider.unwrap(edk, keyRef, aad)).toEqual(dek)
  })

  it('property: any change to the EDK or the AAD fails with EnvelopeDecryptionError', async () => {
    const dek = randomBytes(32)
    const aad = aadFor('tenant=t-9')
    const { edk, keyRef } = await provider.wrap(dek, aad)
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: edk.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        fc.uint8Array({ maxLength: 64 }),
        async (at, mask, otherAad) => {
          const bad = edk.slice()
          bad[at] = (bad[at] as number) ^ mask
          await expect(provider.unwrap(bad, keyRef, aad)).rejects.toBeInstanceOf(EnvelopeDecryptionError)
          if (bytesToHex(otherAad) !== bytesToHex(aad)) {
            await expect(provider.unwrap(edk, keyRef, otherAad)).rejects.toBeInstanceOf(
              EnvelopeDecryptionError,
            )
          }
        },
      ),
      { numRuns: 60 },
    )
  })

  it('refuses key references of other providers, other keys, or malformed versions before any cryptography', async () => {
    const { edk } = await provider.wrap(randomBytes(32), aadFor('a'))
    for (const ref of [
      'local:patients@v1',
      'pkcs11:other@v1',
      'pkcs11:patients@v01',
      'pkcs11:patients@v0',
      'pkcs11:patients@v99',
      'pkcs11:patients@v1 ',
      'pkcs11:patients@v99999999999',
    ]) {
      const error = await provider.unwrap(edk, ref, aadFor('a')).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(KeyUnavailableError)
      expect((error as KeyUnavailableError).reason).toBe('unknown')
      await expect(provider.describe(ref)).rejects.toBeInstanceOf(KeyUnavailableError)
    }
  })

  it('checks its arguments with TypeError and RangeError', async () => {
    await expect(provider.wrap(randomBytes(16), aadFor('a'))).rejects.toThrow(RangeError)
    await expect(provider.wrap('key' as unknown as Uint8Array, aadFor('a'))).rejects.toThrow(TypeError)
    await expect(provider.wrap(randomBytes(32), new Uint8Array(4097))).rejects.toThrow(RangeError)
    await expect(provider.unwrap(new Uint8Array(61), 42 as unknown as string, aadFor('a'))).rejects.toThrow(
      TypeError,
    )
    await expect(
      provider.unwrap('x' as unknown as Uint8Array, 'pkcs11:patients@v1', aadFor('a')),
    ).rejects.toThrow(TypeError)
  })

  it('wraps and unwraps concurrently through a bounded session pool', async () => {
    await withProvider(hsm.options('wrap-tests', 'patients', { maxSessions: 3 }), async (pooled) => {
      const jobs = Array.from({ length: 120 }, (_, i) => ({ dek: randomBytes(32), aad: aadFor(`row=${i}`) }))
      const wrapped = await Promise.all(jobs.map((j) => pooled.wrap(j.dek, j.aad)))
      expect(new Set(wrapped.map((w) => bytesToHex(w.edk.subarray(1, 13)))).size).toBe(jobs.length)
      // Unwraps interleaved with wraps and with deliberate failures on the same pool.
      const mixed = await Promise.allSettled(
        jobs.flatMap((j, i) => [
          pooled.unwrap((wrapped[i] as { edk: Uint8Array }).edk, 'pkcs11:patients@v1', j.aad),
          pooled.unwrap((wrapped[i] as { edk: Uint8Array }).edk, 'pkcs11:patients@v1', aadFor('wrong')),
          pooled.wrap(j.dek, j.aad),
        ]),
      )
      jobs.forEach((j, i) => {
        const ok = mixed[3 * i] as PromiseFulfilledResult<Uint8Array>
        expect(ok.status).toBe('fulfilled')
        expect(ok.value).toEqual(j.dek)
        const bad = mixed[3 * i + 1] as PromiseRejectedResult
        expect(bad.reason).toBeInstanceOf(EnvelopeDecryptionError)
        expect(mixed[3 * i + 2]?.status).toBe('fulfilled')
      })
      expect((await pooled.primary()).usage?.wraps).toBeGreaterThanOrEqual(240n)
    })
  })

  it('enforces the usage budget per version, shared through a UsageStore, and warns once', async () => {
    const warnings: string[] = []
    const store = memoryUsageStore()
    const usage = { limit: 3n, warnAt: 2n, reserveBlock: 1, store }
    const events = (e: SafeguardEvent) => {
      expect(e).toMatchObject({
        type: 'key.budget.warning',
        source: '@safeguards/pkcs11',
        outcome: 'success',
      })
      if (e.type === 'key.budget.warning') warnings.push(`${e.keyRef}:${e.counts?.wraps}/${e.counts?.limit}`)
    }
    const a = await Pkcs11KekProvider.open(hsm.options('wrap-tests', 'patients', { usage, events }))
    const b = await Pkcs11KekProvider.open(hsm.options('wrap-tests', 'patients', { usage, events }))
    try {
      await a.wrap(randomBytes(32), aadFor('u'))
      await b.wrap(randomBytes(32), aadFor('u'))
      await a.wrap(randomBytes(32), aadFor('u'))
      // Three wraps in total across both instances: the shared budget is spent.
      const error = await b.wrap(randomBytes(32), aadFor('u')).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(UsageLimitError)
      expect((error as UsageLimitError).keyRef).toBe('pkcs11:patients@v1')
      // Once per instance: b reserved the 2nd wrap, a the 3rd.
      expect(warnings).toEqual(['pkcs11:patients@v1:2/3', 'pkcs11:patients@v1:3/3'])
      expect((await a.primary()).usage?.limit).toBe(3n)
      expect((await a.primary()).usage?.warnAt).toBe(2n)
      expect(await store.get('pkcs11:patients@v1')).toBeGreaterThanOrEqual(3n)
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('rotates in the token when the budget is spent and the policy is rotate', async () => {
    await withProvider(
      hsm.options('wrap-tests', 'budget', { usage: { limit: 2n, reserveBlock: 1, policy: 'rotate' } }),
      async (rotating) => {
        await rotating.rotate()
        const refs: string[] = []
        const dek = randomBytes(32)
        for (let i = 0; i < 5; i++) refs.push((await rotating.wrap(dek, aadFor('r'))).keyRef)
        expect(refs).toEqual([
          'pkcs11:budget@v1',
          'pkcs11:budget@v1',
          'pkcs11:budget@v2',
          'pkcs11:budget@v2',
          'pkcs11:budget@v3',
        ])
        expect((await rotating.list()).map((d) => d.state)).toEqual([
          'decrypt-only',
          'decrypt-only',
          'primary',
        ])
        // An explicit keyRef never rotates: it throws.
        await expect(rotating.wrap(dek, aadFor('r'), { keyRef: 'pkcs11:budget@v1' })).rejects.toBeInstanceOf(
          UsageLimitError,
        )
      },
    )
  })

  it('finishes operations in flight on close, then refuses new ones', async () => {
    const closing = await Pkcs11KekProvider.open(hsm.options('wrap-tests', 'patients', { maxSessions: 1 }))
    const inFlight = Array.from({ length: 8 }, () => closing.wrap(randomBytes(32), aadFor('c')))
    await closing.close()
    const settled = await Promise.allSettled(inFlight)
    expect(settled.map((s) => s.status)).toEqual(Array(8).fill('fulfilled'))
    await expect(closing.wrap(randomBytes(32), aadFor('c'))).rejects.toBeInstanceOf(Pkcs11ClosedError)
    await closing.close() // idempotent
    // The shared library is still initialised for the provider that remains open.
    const { edk, keyRef } = await provider.wrap(new Uint8Array(32), aadFor('c'))
    expect(await provider.unwrap(edk, keyRef, aadFor('c'))).toEqual(new Uint8Array(32))
  })
})
