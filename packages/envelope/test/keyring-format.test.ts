/**
 * The keyring file format (docs/formats/envelope-v1.md, section 14) against fixed vectors
 * (test/vectors/keyring-v1.json and the keyring files beside it), three ways:
 *   1. the library, given the vector's scripted clock and randomness, writes each file byte for byte;
 *   2. the library opens each committed file and its keys wrap and unwrap as the vector says;
 *   3. an independent decoder written from the specification, with @noble/ciphers and
 *      @noble/hashes only (no code from this package), parses and unseals each file and finds the
 *      same key material, which then unwraps what the library wrapped (section 7) and back.
 * Set SAFEGUARDS_WRITE_VECTORS=1 to rewrite the committed files from the vector descriptions.
 */
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gcm } from '@noble/ciphers/aes.js'
import { argon2id } from '@noble/hashes/argon2.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha512 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import { KeyringSealedError, LocalKeyring, type LocalKeyringOptions } from '../src/index.js'
import { concat, tempDir } from './helpers.js'

interface Step {
  op: 'create' | 'rotate' | 'retire' | 'addVersion' | 'destroy'
  at: number
  version?: number
}
interface ExpectedKey {
  version: number
  state: string
  createdAt: number
  retired?: boolean
  material?: string
}
interface Vector {
  name: string
  file: string
  keyringName: string
  secret: null | { env: string; value: string } | { passphrase: string }
  argon2?: { memoryCost: number; timeCost: number; parallelism: number }
  steps: Step[]
  random: string[]
  expect: { masterKey?: string; keys: ExpectedKey[] }
}

const dir = join(import.meta.dirname, 'vectors')
const { vectors } = JSON.parse(readFileSync(join(dir, 'keyring-v1.json'), 'utf8')) as { vectors: Vector[] }
const work = tempDir()
const te = new TextEncoder()

function libraryOptions(v: Vector, clock?: { now(): number }, random?: (n: number) => Uint8Array) {
  const options: LocalKeyringOptions = { name: v.keyringName }
  if (v.secret !== null && 'env' in v.secret) {
    options.masterSecret = { env: v.secret.env }
    options.env = { [v.secret.env]: v.secret.value }
  } else if (v.secret !== null) options.masterSecret = { passphrase: v.secret.passphrase }
  if (v.argon2) options.argon2 = v.argon2
  if (clock) options.clock = clock
  if (random) options.random = random
  return options
}

/** Runs the vector's steps through the library; returns the file it wrote. */
let builds = 0
async function build(v: Vector): Promise<Uint8Array> {
  const path = join(work, `built-${++builds}-${v.file}`)
  let now = 0
  const clock = { now: () => now }
  const queue = v.random.map(hexToBytes)
  const random = (n: number): Uint8Array => {
    const next = queue.shift()
    if (next === undefined || next.length !== n) throw new Error(`unscripted random(${n}) in ${v.name}`)
    return next
  }
  let kr: LocalKeyring | undefined
  for (const s of v.steps) {
    now = s.at
    if (s.op === 'create') kr = await LocalKeyring.create(path, libraryOptions(v, clock, random))
    else if (s.op === 'rotate') await kr?.rotate()
    else if (s.op === 'addVersion') await kr?.addVersion()
    else if (s.op === 'retire') await kr?.retire(s.version as number)
    else await kr?.destroy(s.version as number, { allowDestroy: true })
  }
  expect(queue).toEqual([]) // every scripted byte was used
  return readFileSync(path)
}

/** A committed vector file, copied with mode 0600 (the library refuses group- or world-readable files). */
function committedCopy(v: Vector): string {
  const path = join(work, `open-${v.file}`)
  copyFileSync(join(dir, v.file), path)
  chmodSync(path, 0o600)
  return path
}

// ---- the independent decoder, from section 14 of the specification ------------------------------

/** RFC 8785 for what a keyring document holds: objects (keys sorted by UTF-16 units), arrays, strings, safe integers, booleans. */
function jcs(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(jcs).join(',')}]`
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${jcs((v as Record<string, unknown>)[k])}`).join(',')}}`
  }
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new Error('not an integer')
  return JSON.stringify(v)
}

const b64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0))

interface Decoded {
  name: string
  keys: { version: number; state: string; createdAt: number; retired?: boolean }[]
  masterKey?: Uint8Array
  material: Map<number, Uint8Array>
}

function specDecode(text: string, secret: Vector['secret']): Decoded {
  const doc = JSON.parse(text)
  if (doc.format !== 'safeguards-keyring' || doc.version !== 1) throw new Error('not a keyring v1')
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(doc.name)) throw new Error('name')
  const states = ['primary', 'decrypt-only', 'disabled', 'destroyed']
  for (const k of doc.keys)
    if (!states.includes(k.state) || !Number.isSafeInteger(k.createdAt)) throw new Error('key')
  if (doc.keys.filter((k: { state: string }) => k.state === 'primary').length > 1)
    throw new Error('two primaries')
  let materialJson: Record<string, string>
  let masterKey: Uint8Array | undefined
  if (doc.seal === undefined) materialJson = doc.material
  else {
    const { iv, ct, ...seal } = doc.seal
    const salt = b64(seal.salt)
    if (seal.kdf === 'env' && secret !== null && 'env' in secret) {
      masterKey = hkdf(sha512, te.encode(secret.value), salt, te.encode('safeguards-keyring/v1/master'), 32)
    } else if (seal.kdf === 'argon2id' && secret !== null && 'passphrase' in secret) {
      const { memoryCost: m, timeCost: t, parallelism: p } = seal.argon2
      masterKey = argon2id(te.encode(secret.passphrase), salt, { m, t, p, dkLen: 32, version: 0x13 })
    } else throw new Error('no secret for this seal')
    const aad = te.encode(
      jcs({ format: doc.format, version: doc.version, name: doc.name, keys: doc.keys, seal }),
    )
    const plain = gcm(masterKey, b64(iv), aad).decrypt(b64(ct)) // throws when anything bound differs
    materialJson = JSON.parse(new TextDecoder().decode(plain))
  }
  const material = new Map<number, Uint8Array>()
  for (const k of doc.keys) {
    if (k.state === 'destroyed') {
      if (materialJson[String(k.version)] !== undefined) throw new Error('a destroyed version has material')
      continue
    }
    const raw = b64(materialJson[String(k.version)] as string)
    if (raw.length !== 32) throw new Error('key length')
    material.set(k.version, raw)
  }
  return { name: doc.name, keys: doc.keys, ...(masterKey ? { masterKey } : {}), material }
}

/** Section 7: a local-keyring wrap, from the specification. */
function specWrapAad(keyRef: string, wrapAad: Uint8Array): Uint8Array {
  const ref = te.encode(keyRef)
  return concat(Uint8Array.of(ref.length >> 8, ref.length & 255), ref, wrapAad)
}

// -----------------------------------------------------------------------------------------------------

if (process.env.SAFEGUARDS_WRITE_VECTORS === '1') {
  it('writes the vector files', async () => {
    for (const v of vectors) writeFileSync(join(dir, v.file), await build(v))
  })
}

describe('keyring file vectors', () => {
  it.each(vectors.map((v) => [v.name, v] as const))(
    '%s: the library writes the committed file byte for byte',
    async (_, v) => {
      const built = await build(v)
      expect(new TextDecoder().decode(built)).toBe(readFileSync(join(dir, v.file), 'utf8'))
    },
  )

  it.each(vectors.map((v) => [v.name, v] as const))(
    '%s: the independent decoder finds the documented keys and material',
    (_, v) => {
      const d = specDecode(readFileSync(join(dir, v.file), 'utf8'), v.secret)
      expect(d.name).toBe(v.keyringName)
      expect(d.keys).toEqual(v.expect.keys.map(({ material: _m, ...k }) => k))
      for (const k of v.expect.keys) {
        const got = d.material.get(k.version)
        expect(got === undefined ? undefined : bytesToHex(got), `v${k.version}`).toBe(k.material)
      }
      expect(d.masterKey === undefined ? undefined : bytesToHex(d.masterKey)).toBe(v.expect.masterKey)
    },
  )

  it.each(vectors.map((v) => [v.name, v] as const))(
    '%s: the library opens it, and its wraps unwrap with the decoded material (and back)',
    async (_, v) => {
      const kr = await LocalKeyring.open(committedCopy(v), libraryOptions(v))
      const listed = await kr.list()
      expect(listed.map((k) => [k.keyRef, k.state, k.retired === true, k.createdAt])).toEqual(
        v.expect.keys.map((k) => [
          `local:${v.keyringName}@v${k.version}`,
          k.state,
          k.retired === true,
          k.createdAt,
        ]),
      )
      const d = specDecode(readFileSync(join(dir, v.file), 'utf8'), v.secret)
      const dek = Uint8Array.from({ length: 32 }, (_, i) => 0x20 + i)
      const aad = te.encode('hge/v1/wrap: any bytes')
      for (const k of v.expect.keys.filter((x) => x.state === 'primary' || x.state === 'decrypt-only')) {
        const keyRef = `local:${v.keyringName}@v${k.version}`
        const material = d.material.get(k.version) as Uint8Array
        // library wraps → decoder unwraps (edk = iv[12] ‖ ct ‖ tag)
        const { edk } = await kr.wrap(dek, aad, { keyRef })
        expect(edk.length).toBe(60)
        expect(
          bytesToHex(gcm(material, edk.subarray(0, 12), specWrapAad(keyRef, aad)).decrypt(edk.subarray(12))),
        ).toBe(bytesToHex(dek))
        // decoder wraps → library unwraps
        const iv = hexToBytes('f0f1f2f3f4f5f6f7f8f9fafb')
        const mine = concat(iv, gcm(material, iv, specWrapAad(keyRef, aad)).encrypt(dek))
        expect(bytesToHex(await kr.unwrap(mine, keyRef, aad))).toBe(bytesToHex(dek))
      }
    },
  )

  it('the seal binds the metadata: a sealed file whose key states were edited opens in neither decoder', async () => {
    const v = vectors.find((x) => x.name === 'sealed-env') as Vector
    const doc = JSON.parse(readFileSync(join(dir, v.file), 'utf8'))
    doc.keys[0].state = 'decrypt-only' // resurrect the destroyed version's record
    const text = `${JSON.stringify(doc, null, 2)}\n`
    expect(() => specDecode(text, v.secret)).toThrow()
    const path = join(work, 'tampered.json')
    writeFileSync(path, text, { mode: 0o600 })
    await expect(LocalKeyring.open(path, libraryOptions(v))).rejects.toBeInstanceOf(KeyringSealedError)
  })

  it('a wrong secret opens in neither decoder', async () => {
    const v = vectors.find((x) => x.name === 'sealed-env') as Vector
    const wrong = { env: 'SAFEGUARDS_KEYRING_SECRET', value: 'another-secret-of-at-least-32-bytes-000000' }
    expect(() => specDecode(readFileSync(join(dir, v.file), 'utf8'), wrong)).toThrow()
    await expect(
      LocalKeyring.open(committedCopy(v), libraryOptions({ ...v, secret: wrong })),
    ).rejects.toBeInstanceOf(KeyringSealedError)
  })
})
