/**
 * The local keyring's file: its JSON document (`format: safeguards-keyring`, `version: 1`), the
 * checks a document must pass before anything in it is used (bounded, so a tampered file cannot
 * exhaust memory or time), reading it safely (a regular file, mode 0600, at most 4 MiB), and the
 * signature that tells whether another process replaced it.
 */
import { base64ToBytes, bytesToBase64, parseJson, utf8Decode, utf8Encode } from '@safeguards/core'
import { KeyringFileError } from '../errors.js'
import { fs, isNotFound } from './fs.js'
import type { KeyMeta } from './keyring-lifecycle.js'
import { MAX_VERSIONS } from './keyring-lifecycle.js'
import type { SealedMaterial, SealMeta } from './keyring-seal.js'

/** The keyring file's document. */
export interface KeyringDoc {
  format: 'safeguards-keyring'
  version: 1
  name: string
  keys: KeyMeta[]
  seal?: SealMeta & SealedMaterial
  material?: Record<string, string>
}

/** The provider id of the local keyring, the first part of its key references. */
export const PROVIDER_ID = 'local'
/** What a keyring name may be. */
export const NAME_RE: RegExp = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const MAX_FILE_BYTES = 4 * 1024 * 1024
const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/
const STATES = ['primary', 'decrypt-only', 'disabled', 'destroyed']

/** `local:<name>@v<version>`. */
export function keyRefOf(name: string, version: number): string {
  return `${PROVIDER_ID}:${name}@v${version}`
}

/** The version a key reference of keyring `name` names, or undefined. */
export function versionOf(name: string, keyRef: string): number | undefined {
  const prefix = `${PROVIDER_ID}:${name}@v`
  if (typeof keyRef !== 'string' || !keyRef.startsWith(prefix)) return undefined
  const v = keyRef.slice(prefix.length)
  if (!/^[1-9][0-9]{0,8}$/.test(v)) return undefined
  return Number(v)
}

/** What identifies one version of the keyring file: an atomic replace gives a new inode. */
export function fileSig(st: { ino: number | bigint; size: number | bigint; mtimeMs: number }): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}`
}

const malformed = (what: string, cause?: unknown): KeyringFileError =>
  new KeyringFileError(`keyring file is malformed (${what})`, {
    ...(cause === undefined ? {} : { cause }),
    category: 'invalid-input',
  })

/**
 * Reads the keyring file: a regular file, not accessible by group or others, at most 4 MiB.
 *
 * @throws {KeyringFileError} when it is missing, unreadable, too permissive or too large.
 */
export async function readKeyringFile(path: string): Promise<{ text: string; sig: string }> {
  const f = await fs()
  try {
    const st = await f.stat(path)
    const unsafe = (message: string) => new KeyringFileError(message, { category: 'invalid-input' })
    if (!st.isFile()) throw unsafe(`cannot read the keyring ${path}: not a regular file`)
    const platform = (globalThis as { process?: { platform?: string } }).process?.platform
    if (platform !== 'win32' && (st.mode & 0o077) !== 0)
      throw unsafe(`keyring file ${path} is accessible by group or others (chmod 600 it)`)
    if (st.size > MAX_FILE_BYTES) throw unsafe(`keyring file ${path} is too large`)
    return { text: utf8Decode(await f.readFile(path)), sig: fileSig(st) }
  } catch (e) {
    if (e instanceof KeyringFileError) throw e
    if (isNotFound(e)) throw new KeyringFileError(`keyring file not found: ${path}`, { cause: e })
    throw new KeyringFileError(`cannot read the keyring ${path}`, { cause: e })
  }
}

/** The current signature of the file, or undefined when it cannot be read (reported by the next load). */
export async function currentSig(path: string): Promise<string | undefined> {
  const st = await (await fs()).stat(path).catch(() => undefined)
  return st === undefined ? undefined : fileSig(st)
}

/**
 * Parses and checks a keyring document.
 *
 * @throws {KeyringFileError} (`invalid-input`) naming the first field that is wrong.
 */
export function parseKeyringDoc(text: string): KeyringDoc {
  let v: unknown
  try {
    v = parseJson(text)
  } catch (e) {
    throw malformed('not JSON', e)
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed('not an object')
  const d = v as Record<string, unknown>
  if (d.format !== 'safeguards-keyring') throw malformed('format')
  if (d.version !== 1) throw malformed('version')
  if (typeof d.name !== 'string' || !NAME_RE.test(d.name)) throw malformed('name')
  checkKeys(d.keys)
  if (d.seal !== undefined) checkSeal(d.seal)
  if (d.seal === undefined && (typeof d.material !== 'object' || d.material === null))
    throw malformed('material')
  return v as KeyringDoc
}

function checkKeys(keys: unknown): void {
  if (!Array.isArray(keys) || keys.length > MAX_VERSIONS) throw malformed('keys')
  const seen = new Set<number>()
  let primaries = 0
  for (const k of keys as unknown[]) {
    const m = k as Record<string, unknown>
    if (typeof m !== 'object' || m === null) throw malformed('key')
    if (!Number.isSafeInteger(m.version) || (m.version as number) < 1 || seen.has(m.version as number))
      throw malformed('version')
    seen.add(m.version as number)
    if (!STATES.includes(m.state as string)) throw malformed('state')
    if (m.state === 'primary') primaries++
    if (!Number.isSafeInteger(m.createdAt)) throw malformed('createdAt')
  }
  if (primaries > 1) throw malformed('more than one primary')
}

function checkSeal(seal: unknown): void {
  const s = seal as Record<string, unknown>
  if (typeof s !== 'object' || s === null) throw malformed('seal')
  if (s.kdf !== 'env' && s.kdf !== 'argon2id') throw malformed('seal kdf')
  for (const f of ['salt', 'iv', 'ct'])
    if (typeof s[f] !== 'string' || !B64_RE.test(s[f] as string)) throw malformed(`seal ${f}`)
  if (s.kdf !== 'argon2id') return
  // bounded so that a tampered file cannot make opening it exhaust memory or time
  const a = s.argon2 as Record<string, unknown> | undefined
  const ok = (v: unknown, min: number, max: number) =>
    Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max
  if (!a || !ok(a.memoryCost, 19456, 4 * 1024 * 1024) || !ok(a.timeCost, 1, 100) || !ok(a.parallelism, 1, 16))
    throw malformed('argon2 parameters')
}

/**
 * The key material of every version that is not destroyed, from the plain `version → base64` map.
 *
 * @throws {KeyringFileError} when a version's material is missing or not a 32-byte key.
 */
export function decodeMaterial(
  keys: readonly KeyMeta[],
  plain: Record<string, string>,
): Map<number, Uint8Array> {
  const material = new Map<number, Uint8Array>()
  for (const k of keys) {
    if (k.state === 'destroyed') continue
    const b64 = plain[String(k.version)]
    if (typeof b64 !== 'string' || !B64_RE.test(b64)) throw malformed('missing material')
    const raw = base64ToBytes(b64)
    if (raw.length !== 32) throw malformed('key length')
    material.set(k.version, raw)
  }
  return material
}

/** The `version → base64` map of the material. */
export function encodeMaterial(material: ReadonlyMap<number, Uint8Array>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [v, raw] of material) out[String(v)] = bytesToBase64(raw)
  return out
}

/** The file's bytes for a document. */
export function serializeDoc(doc: KeyringDoc): Uint8Array {
  return utf8Encode(`${JSON.stringify(doc, null, 2)}\n`)
}
