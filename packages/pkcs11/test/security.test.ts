import { inspect } from 'node:util'
import { randomBytes, Secret, utf8Encode } from '@safeguards/core'
import { KeyUnavailableError } from '@safeguards/envelope'
import * as pkcs11js from 'pkcs11js'
import { expect, it } from 'vitest'
import {
  Pkcs11KekProvider,
  Pkcs11KeyPolicyError,
  Pkcs11LoginError,
  Pkcs11ModuleError,
  Pkcs11TokenNotFoundError,
} from '../src/index.js'
import { describeHsm, SOFTHSM_MODULE, type SoftHsm, USER_PIN, useSoftHsm, withProvider } from './softhsm.js'

const aad = utf8Encode('hge/v1/wrap|digest')
const k = ((pkcs11js as unknown as { default?: typeof pkcs11js }).default ?? pkcs11js) as typeof pkcs11js

/** A second, raw view of the token through the binding: what an attacker holding the PIN could call. */
function rawSession(label: string): { p: pkcs11js.PKCS11; s: Buffer } {
  const p = new k.PKCS11()
  p.load(SOFTHSM_MODULE)
  try {
    p.C_Initialize()
  } catch (e) {
    if (!String(e).includes('CKR_CRYPTOKI_ALREADY_INITIALIZED')) throw e
  }
  const slot = p.C_GetSlotList(true).find((sl) => p.C_GetTokenInfo(sl).label.trim() === label)
  if (slot === undefined) throw new Error(`no token ${label}`)
  const s = p.C_OpenSession(slot, k.CKF_SERIAL_SESSION | k.CKF_RW_SESSION)
  try {
    p.C_Login(s, k.CKU_USER, USER_PIN)
  } catch (e) {
    if (!String(e).includes('CKR_USER_ALREADY_LOGGED_IN')) throw e
  }
  return { p, s }
}

function findKeys(p: pkcs11js.PKCS11, s: Buffer, label: string): Buffer[] {
  p.C_FindObjectsInit(s, [
    { type: k.CKA_CLASS, value: k.CKO_SECRET_KEY },
    { type: k.CKA_LABEL, value: label },
  ])
  const found = p.C_FindObjects(s, 100)
  p.C_FindObjectsFinal(s)
  return found
}

function rawKey(
  p: pkcs11js.PKCS11,
  s: Buffer,
  label: string,
  id: number[],
  attrs: { sensitive: boolean; extractable: boolean },
): Buffer {
  return p.C_GenerateKey(s, { mechanism: k.CKM_AES_KEY_GEN }, [
    { type: k.CKA_CLASS, value: k.CKO_SECRET_KEY },
    { type: k.CKA_KEY_TYPE, value: k.CKK_AES },
    { type: k.CKA_VALUE_LEN, value: 32 },
    { type: k.CKA_TOKEN, value: true },
    { type: k.CKA_PRIVATE, value: true },
    { type: k.CKA_SENSITIVE, value: attrs.sensitive },
    { type: k.CKA_EXTRACTABLE, value: attrs.extractable },
    { type: k.CKA_ENCRYPT, value: true },
    { type: k.CKA_DECRYPT, value: true },
    { type: k.CKA_LABEL, value: label },
    { type: k.CKA_ID, value: Buffer.from(id) },
  ])
}

/** A key generated with the same attributes as the provider's own versions. */
function rawKeyLikeOurs(p: pkcs11js.PKCS11, s: Buffer, label: string, id: number[]): Buffer {
  return rawKey(p, s, label, id, { sensitive: true, extractable: false })
}

const rv = (fn: () => unknown): string => {
  try {
    fn()
    return 'ok'
  } catch (e) {
    return /CKR_[A-Z_]+/.exec(String(e))?.[0] ?? String(e)
  }
}

describeHsm(
  'Pkcs11KekProvider: key material stays in the token; PIN, token and module failures are typed',
  () => {
    let hsm: SoftHsm
    let provider: Pkcs11KekProvider

    useSoftHsm(['vault', 'pin-tests'], async (h, open) => {
      hsm = h
      provider = await open(h.options('vault', 'records', { cacheTtlMs: 0 }))
      await provider.rotate()
      await provider.addVersion()
    })

    it('creates KEK versions that cannot be read, exported, copied or made extractable', () => {
      const { p, s } = rawSession('vault')
      const keys = findKeys(p, s, 'records')
      expect(keys).toHaveLength(2)
      for (const key of keys) {
        expect(rv(() => p.C_GetAttributeValue(s, key, [{ type: k.CKA_VALUE }]))).toBe(
          'CKR_ATTRIBUTE_SENSITIVE',
        )
        const flags = p
          .C_GetAttributeValue(s, key, [
            { type: k.CKA_SENSITIVE },
            { type: k.CKA_EXTRACTABLE },
            { type: k.CKA_ALWAYS_SENSITIVE },
            { type: k.CKA_NEVER_EXTRACTABLE },
            { type: k.CKA_WRAP },
            { type: k.CKA_UNWRAP },
            { type: k.CKA_DERIVE },
            { type: k.CKA_COPYABLE },
            { type: k.CKA_TOKEN },
          ])
          .map((a) => (a.value as Buffer)[0])
        expect(flags).toEqual([1, 0, 1, 1, 0, 0, 0, 0, 1])
        expect(rv(() => p.C_SetAttributeValue(s, key, [{ type: k.CKA_EXTRACTABLE, value: true }]))).not.toBe(
          'ok',
        )
        expect(rv(() => p.C_SetAttributeValue(s, key, [{ type: k.CKA_SENSITIVE, value: false }]))).not.toBe(
          'ok',
        )
        expect(rv(() => p.C_CopyObject(s, key, [{ type: k.CKA_EXTRACTABLE, value: true }]))).not.toBe('ok')
        // Wrapping the KEK out under another key is refused by the token.
        const wrapping = p.C_GenerateKey(s, { mechanism: k.CKM_AES_KEY_GEN }, [
          { type: k.CKA_VALUE_LEN, value: 32 },
          { type: k.CKA_TOKEN, value: false },
          { type: k.CKA_WRAP, value: true },
        ])
        expect(
          rv(() => p.C_WrapKey(s, { mechanism: k.CKM_AES_KEY_WRAP_PAD }, wrapping, key, Buffer.alloc(128))),
        ).toBe('CKR_KEY_UNEXTRACTABLE')
        p.C_DestroyObject(s, wrapping)
      }
      p.C_CloseSession(s)
    })

    it('refuses versions whose key object breaks the key policy, and ignores objects that are not versions', async () => {
      const { p, s } = rawSession('vault')
      rawKey(p, s, 'records', [0, 0, 0, 9], { sensitive: false, extractable: true })
      // An "imported" key: created readable, then locked down. Its value may exist outside the token.
      const imported = rawKey(p, s, 'records', [0, 0, 0, 10], { sensitive: false, extractable: true })
      p.C_SetAttributeValue(s, imported, [{ type: k.CKA_SENSITIVE, value: true }])
      p.C_SetAttributeValue(s, imported, [{ type: k.CKA_EXTRACTABLE, value: false }])
      rawKey(p, s, 'records', [1, 2], { sensitive: true, extractable: false }) // not a version id
      p.C_CloseSession(s)

      const dek = randomBytes(32)
      for (const ref of ['pkcs11:records@v9', 'pkcs11:records@v10']) {
        await expect(provider.wrap(dek, aad, { keyRef: ref })).rejects.toBeInstanceOf(Pkcs11KeyPolicyError)
        await expect(provider.unwrap(new Uint8Array(61), ref, aad)).rejects.toBeInstanceOf(
          Pkcs11KeyPolicyError,
        )
      }
      await expect(provider.promote(9)).rejects.toThrow(/CKA_SENSITIVE is false/)
      await expect(provider.promote(10)).rejects.toThrow(/CKA_ALWAYS_SENSITIVE is false/)
      expect((await provider.list()).map((d) => d.version)).toEqual([1, 2, 9, 10])
      expect((await provider.addVersion()).version).toBe(11)

      // An operator who restored keys from an HSM backup may accept imported keys explicitly.
      await withProvider(hsm.options('vault', 'records', { allowImportedKeys: true }), async (lenient) => {
        const w = await lenient.wrap(dek, aad, { keyRef: 'pkcs11:records@v10' })
        expect(await lenient.unwrap(w.edk, w.keyRef, aad)).toEqual(dek)
        await expect(lenient.wrap(dek, aad, { keyRef: 'pkcs11:records@v9' })).rejects.toThrow(
          /CKA_SENSITIVE is false/,
        )
      })
    })

    it('refuses a version that two key objects claim', async () => {
      await withProvider(hsm.options('vault', 'dupes', { cacheTtlMs: 0 }), async (dupes) => {
        await dupes.rotate()
        const { p, s } = rawSession('vault')
        rawKey(p, s, 'dupes', [0, 0, 0, 1], { sensitive: true, extractable: false })
        p.C_CloseSession(s)
        await expect(dupes.wrap(randomBytes(32), aad)).rejects.toThrow(/two key objects claim this version/)
      })
    })

    it('reports a wrong PIN as Pkcs11LoginError, without the PIN anywhere', async () => {
      const wrong = '11112222'
      const options = hsm.options('pin-tests', 'k', { pin: Secret.of(wrong) })
      const error = await Pkcs11KekProvider.open(options).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(Pkcs11LoginError)
      expect((error as Pkcs11LoginError).code).toBe('ERR_PKCS11_LOGIN')
      expect((error as Pkcs11LoginError).reason).toBe('pin-incorrect')
      for (const text of [
        String(error),
        JSON.stringify(error),
        inspect(error),
        JSON.stringify(options),
        inspect(options),
      ]) {
        expect(text).not.toContain(wrong)
        expect(text).not.toContain(USER_PIN)
      }
    })

    it('refuses a different PIN while the token is logged in for this process', async () => {
      await withProvider(hsm.options('pin-tests', 'k'), async (good) => {
        // PKCS#11 answers CKR_USER_ALREADY_LOGGED_IN before checking a PIN: the provider checks it.
        const error = await Pkcs11KekProvider.open(
          hsm.options('pin-tests', 'k', { pin: Secret.of('0000') }),
        ).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(Pkcs11LoginError)
        const second = await Pkcs11KekProvider.open(hsm.options('pin-tests', 'k'))
        await second.close()
        expect(inspect(good)).not.toContain(USER_PIN)
      })
    })

    it('finds the token by serial number, and reports a missing token', async () => {
      const serial = hsm.serials.get('pin-tests') as string
      const bySerial = await Pkcs11KekProvider.open({ ...hsm.options('x', 'k'), token: { serial } })
      expect(bySerial.token.label).toBe('pin-tests')
      await bySerial.close()
      await expect(Pkcs11KekProvider.open(hsm.options('no-such-token', 'k'))).rejects.toBeInstanceOf(
        Pkcs11TokenNotFoundError,
      )
      await expect(
        Pkcs11KekProvider.open({ ...hsm.options('x', 'k'), token: { serial: '0000000000000000' } }),
      ).rejects.toThrow(/0 tokens match serial/)
    })

    it('reports a missing or foreign library as Pkcs11ModuleError', async () => {
      for (const module of ['/nonexistent/libpkcs11.so', '/usr/lib/x86_64-linux-gnu/libz.so.1']) {
        const error = await Pkcs11KekProvider.open({ ...hsm.options('vault', 'k'), module }).catch(
          (e: unknown) => e,
        )
        expect(error).toBeInstanceOf(Pkcs11ModuleError)
        expect((error as Pkcs11ModuleError).code).toBe('ERR_PKCS11_MODULE')
      }
      // The provider already open on the real library is unaffected.
      const w = await provider.wrap(randomBytes(32), aad)
      await expect(provider.unwrap(w.edk, w.keyRef, aad)).resolves.toHaveLength(32)
    })

    it('validates options: the PIN must be a Secret', async () => {
      const base = hsm.options('vault', 'records')
      const bad: unknown[] = [
        { ...base, pin: USER_PIN },
        { ...base, pin: Secret.of(1234) },
        { ...base, keyName: 'has space' },
        { ...base, keyName: '' },
        { ...base, providerId: 'a:b' },
        { ...base, token: { label: 'a', serial: 'b' } },
        { ...base, token: {} },
        { ...base, module: '' },
        null,
      ]
      for (const options of bad) {
        await expect(Pkcs11KekProvider.open(options as never)).rejects.toThrow(TypeError)
      }
      await expect(Pkcs11KekProvider.open({ ...base, maxSessions: 0 })).rejects.toThrow(RangeError)
      await expect(Pkcs11KekProvider.open({ ...base, cacheTtlMs: -1 })).rejects.toThrow(RangeError)
      await expect(Pkcs11KekProvider.open({ ...base, usage: { limit: 2n ** 33n } })).rejects.toThrow(
        RangeError,
      )
      await expect(Pkcs11KekProvider.open({ ...base, usage: { warnAt: 0n } })).rejects.toThrow(RangeError)
      await expect(Pkcs11KekProvider.open({ ...base, usage: { reserveBlock: 0 } })).rejects.toThrow(
        RangeError,
      )
      await expect(
        Pkcs11KekProvider.open({ ...base, usage: { policy: 'later' as unknown as 'throw' } }),
      ).rejects.toThrow(TypeError)
    })

    it('recovers when the token drops every session and the login (C_CloseAllSessions)', async () => {
      await withProvider(
        hsm.options('vault', 'records', { maxSessions: 4, cacheTtlMs: 0 }),
        async (pooled) => {
          const dek = randomBytes(32)
          const before = await Promise.all(Array.from({ length: 8 }, () => pooled.wrap(dek, aad)))
          const { p, s } = rawSession('vault')
          const slot = p.C_GetSessionInfo(s).slotID
          p.C_CloseAllSessions(slot) // every session of this process on the token, and with them the login
          // The next operations discard the dead sessions, open new ones and log in again.
          const after = await Promise.all(Array.from({ length: 8 }, () => pooled.wrap(dek, aad)))
          for (const w of [...before, ...after])
            expect(await pooled.unwrap(w.edk, w.keyRef, aad)).toEqual(dek)
          // The other provider on the same token recovers the same way.
          const w = await provider.wrap(dek, aad)
          expect(await provider.unwrap(w.edk, w.keyRef, aad)).toEqual(dek)
        },
      )
    })

    it('hands a fresh session to the callers queued behind a session that died', async () => {
      await withProvider(
        hsm.options('vault', 'records', { maxSessions: 1, cacheTtlMs: 3_600_000 }),
        async (single) => {
          const dek = randomBytes(32)
          const jobs = Array.from({ length: 10 }, () => single.wrap(dek, aad))
          // Before any of them reaches the token, its only (idle) session dies.
          const { p, s } = rawSession('vault')
          p.C_CloseAllSessions(p.C_GetSessionInfo(s).slotID)
          const done = await Promise.all(jobs)
          for (const w of done) expect(await single.unwrap(w.edk, w.keyRef, aad)).toEqual(dek)
        },
      )
    })

    it('follows a key object replaced behind its back, and reports one removed behind its back', async () => {
      await withProvider(hsm.options('vault', 'swap', { cacheTtlMs: 3_600_000 }), async (app) => {
        await app.rotate()
        await app.rotate() // v2 primary, v1 decrypt-only
        const dek = randomBytes(32)
        const old = await app.wrap(dek, aad, { keyRef: 'pkcs11:swap@v1' })
        const { p, s } = rawSession('vault')
        const idOf = (h: Buffer): number => {
          const id = p.C_GetAttributeValue(s, h, [{ type: k.CKA_ID }])[0]?.value as Buffer
          return id.readUInt32BE(0)
        }
        const [first, second] = findKeys(p, s, 'swap').sort((a, b) => idOf(a) - idOf(b)) as [Buffer, Buffer]
        // v2 replaced by a new object (same label and id, new key): the cached handle is now invalid.
        p.C_DestroyObject(s, second)
        rawKeyLikeOurs(p, s, 'swap', [0, 0, 0, 2])
        const w = await app.wrap(dek, aad) // re-reads the state and retries with the new handle
        expect(w.keyRef).toBe('pkcs11:swap@v2')
        expect(await app.unwrap(w.edk, w.keyRef, aad)).toEqual(dek)
        // v1 removed outright (no tombstone): unknown, found out from the token, typed.
        p.C_DestroyObject(s, first)
        p.C_CloseSession(s)
        const error = await app.unwrap(old.edk, old.keyRef, aad).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(KeyUnavailableError)
        expect((error as KeyUnavailableError).reason).toBe('unknown')
      })
    })

    it('keeps unknown versions unknown after a re-read', async () => {
      const error = await provider
        .unwrap(new Uint8Array(61), 'pkcs11:records@v500', aad)
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(KeyUnavailableError)
      expect((error as KeyUnavailableError).reason).toBe('unknown')
    })
  },
)
