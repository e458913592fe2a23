/**
 * Wraps and unwraps per second through SoftHSM2: the provider (argument checks, state cache,
 * usage budget, session pool, EDK framing, error mapping) against the binding's raw calls
 * (`C_EncryptInit` + `C_Encrypt` / `C_DecryptInit` + `C_Decrypt` on one session, same key, same
 * AES-256-GCM parameters, async as ours). SoftHSM is a software token: a network HSM adds its own
 * round trip to both sides, so the provider's overhead matters even less there.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Secret } from '@safeguards/core'
import * as pkcs11js from 'pkcs11js'
import type { Scenario } from '../../../scripts/bench/types.ts'
import { Pkcs11KekProvider } from '../src/index.js'

const MODULE = process.env.SOFTHSM2_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so'
const PIN = '246813579'
const k = ((pkcs11js as unknown as { default?: typeof pkcs11js }).default ?? pkcs11js) as typeof pkcs11js

const dek = crypto.getRandomValues(new Uint8Array(32))
const aad = crypto.getRandomValues(new Uint8Array(45))

let dir: string | undefined
let provider: Pkcs11KekProvider | undefined
let pooled: Pkcs11KekProvider | undefined
let raw: { p: pkcs11js.PKCS11; s: Buffer; key: Buffer } | undefined
let wrapped: { keyRef: string; edk: Uint8Array } | undefined
let rawSealed: { iv: Buffer; ct: Buffer } | undefined
let opened = 0

async function setup(): Promise<void> {
  if (opened++ > 0) return
  dir = mkdtempSync(join(tmpdir(), 'sg-softhsm-bench-'))
  const conf = join(dir, 'softhsm2.conf')
  writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`)
  process.env.SOFTHSM2_CONF = conf
  const init = spawnSync('softhsm2-util', [
    '--init-token',
    '--free',
    '--label',
    'bench',
    '--so-pin',
    '12345678',
    '--pin',
    PIN,
  ])
  if (init.status !== 0) throw new Error(`softhsm2-util failed: ${init.stderr}`)
  const options = { module: MODULE, token: { label: 'bench' }, pin: Secret.of(PIN), keyName: 'bench' }
  provider = await Pkcs11KekProvider.open({ ...options, maxSessions: 1 })
  await provider.rotate()
  pooled = await Pkcs11KekProvider.open({ ...options, maxSessions: 4 })
  wrapped = await provider.wrap(dek, aad)

  const p = new k.PKCS11()
  p.load(MODULE)
  try {
    p.C_Initialize()
  } catch {
    // already initialised by the provider in this process
  }
  const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === 'bench') as Buffer
  const s = p.C_OpenSession(slot, k.CKF_SERIAL_SESSION)
  p.C_FindObjectsInit(s, [
    { type: k.CKA_CLASS, value: k.CKO_SECRET_KEY },
    { type: k.CKA_LABEL, value: 'bench' },
  ])
  const key = p.C_FindObjects(s, 1)[0] as Buffer
  p.C_FindObjectsFinal(s)
  raw = { p, s, key }
  const iv = Buffer.from(crypto.getRandomValues(new Uint8Array(12)))
  rawSealed = { iv, ct: await rawEncrypt(iv) }
}

async function teardown(): Promise<void> {
  if (--opened > 0) return
  raw?.p.C_CloseSession(raw.s)
  await provider?.close()
  await pooled?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
}

function gcm(iv: Buffer): pkcs11js.Mechanism {
  const parameter: pkcs11js.AesGCM = {
    type: k.CK_PARAMS_AES_GCM,
    iv,
    aad: Buffer.from(aad),
    ivBits: 96,
    tagBits: 128,
  }
  return { mechanism: k.CKM_AES_GCM, parameter }
}

function rawEncrypt(iv: Buffer): Promise<Buffer> {
  const r = raw as NonNullable<typeof raw>
  r.p.C_EncryptInit(r.s, gcm(iv), r.key)
  return new Promise((resolve, reject) =>
    r.p.C_Encrypt(r.s, Buffer.from(dek), Buffer.alloc(48), (e, out) => (e ? reject(e) : resolve(out))),
  )
}

function rawDecrypt(): Promise<Buffer> {
  const r = raw as NonNullable<typeof raw>
  const sealed = rawSealed as NonNullable<typeof rawSealed>
  r.p.C_DecryptInit(r.s, gcm(sealed.iv), r.key)
  return new Promise((resolve, reject) =>
    r.p.C_Decrypt(r.s, sealed.ct, Buffer.alloc(48), (e, out) => (e ? reject(e) : resolve(out))),
  )
}

const available = existsSync(MODULE) && spawnSync('softhsm2-util', ['--version']).status === 0
if (!available) console.warn(`pkcs11 bench skipped: SoftHSM2 not installed (${MODULE})`)

const scenarios: Scenario[] = available
  ? [
      {
        name: 'pkcs11 wrap a 32-B data key (SoftHSM2, AES-256-GCM in the token)',
        unit: 'ops/s',
        setup,
        teardown,
        ours: { name: '@safeguards/pkcs11 wrap', op: () => (provider as Pkcs11KekProvider).wrap(dek, aad) },
        anchor: {
          name: 'pkcs11js C_EncryptInit+C_Encrypt',
          op: () => rawEncrypt(Buffer.from(crypto.getRandomValues(new Uint8Array(12)))),
        },
        target: { ratio: 0.5, text: 'overhead ≤ 2× the raw call (our own bar)' },
      },
      {
        name: 'pkcs11 unwrap (SoftHSM2)',
        unit: 'ops/s',
        setup,
        teardown,
        ours: {
          name: '@safeguards/pkcs11 unwrap',
          op: () => {
            const w = wrapped as NonNullable<typeof wrapped>
            return (provider as Pkcs11KekProvider).unwrap(w.edk, w.keyRef, aad)
          },
        },
        anchor: { name: 'pkcs11js C_DecryptInit+C_Decrypt', op: rawDecrypt },
        target: { ratio: 0.5, text: 'overhead ≤ 2× the raw call (our own bar)' },
      },
      {
        // An op is a batch of 32 concurrent wraps (the harness's custom-measure path drops its
        // result rows' notes, so this stays an op-timed scenario). Multiply by 32 for wraps/s.
        name: 'pkcs11 batches of 32 concurrent wraps (SoftHSM2)',
        unit: 'batches/s',
        setup,
        teardown,
        ours: {
          name: '@safeguards/pkcs11 wrap ×32, pool of 4 sessions',
          op: () =>
            Promise.all(Array.from({ length: 32 }, () => (pooled as Pkcs11KekProvider).wrap(dek, aad))),
        },
        anchor: {
          name: 'pkcs11js raw ×32, 1 session, sequential',
          op: async () => {
            for (let i = 0; i < 32; i++)
              await rawEncrypt(Buffer.from(crypto.getRandomValues(new Uint8Array(12))))
          },
        },
        target: { text: 'reported (2 shared cores)' },
      },
    ]
  : []

export default scenarios
