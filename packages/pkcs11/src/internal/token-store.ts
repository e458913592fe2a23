/**
 * How a versioned KEK lives in a PKCS#11 token.
 *
 * - Each version is an AES-256 secret-key token object with `CKA_LABEL = keyName` and
 *   `CKA_ID = u32 big-endian version`, generated inside the token (`C_GenerateKey`) with
 *   `CKA_SENSITIVE`, not `CKA_EXTRACTABLE`, not `CKA_COPYABLE`, `CKA_PRIVATE`, and only the
 *   `CKA_ENCRYPT`/`CKA_DECRYPT` usages (no wrap, unwrap, sign or derive). Its value cannot be read.
 * - Enabled vs disabled is the key object's own `CKA_ENCRYPT`/`CKA_DECRYPT`: the token enforces it
 *   (`CKR_KEY_FUNCTION_NOT_PERMITTED`), whatever the host believes.
 * - What the token cannot express (which version is primary, which disabled versions are retired,
 *   which were destroyed, creation times) is a small JSON document in a private `CKO_DATA` object
 *   (`CKA_LABEL = keyName`, `CKA_APPLICATION = "safeguards/pkcs11 keyring"`) carrying a sequence
 *   number. `CKA_VALUE` of data objects is read-only on some tokens (SoftHSM), so an update
 *   creates the next document and then destroys the older ones; readers take the highest sequence.
 *
 * @module
 */
import { parseJson, utf8Decode, utf8Encode } from '@safeguards/core'
import { Pkcs11KeyPolicyError } from '../errors.js'
import {
  type Attribute,
  ckrName,
  constant,
  type Handle,
  type Pkcs11Library,
  type Pkcs11Module,
} from './binding.js'
import { parseVersionId, readBool, readUlong, versionId } from './codec.js'

/** `CKA_APPLICATION` of the state documents. */
export const STATE_APPLICATION = 'safeguards/pkcs11 keyring'
const MAX_DOC_BYTES = 1 << 20

/** One version's key object as read from the token. */
export interface VersionObject {
  version: number
  handle: Handle
  encrypt: boolean
  decrypt: boolean
  /** Why the object breaks the key policy, when it does (then it is never used). */
  unsafe?: string
}

/** Per-version metadata in the state document. */
export interface VersionMeta {
  createdAt?: number
  retired?: boolean
}

/** The state document. */
export interface StateDoc {
  seq: number
  primary?: number
  versions: Record<string, VersionMeta>
  destroyed: number[]
}

/** Everything the provider knows about one key name. */
export interface TokenState {
  keys: Map<number, VersionObject>
  doc: StateDoc
  docHandles: Handle[]
}

/** The library, its constants and one session: what every function here needs. */
export interface TokenContext {
  library: Pkcs11Library
  binding: Pkcs11Module
  session: Handle
}

const c = (ctx: TokenContext, name: string): number => constant(ctx.binding, name)

function attr(ctx: TokenContext, name: string, value?: Attribute['value']): Attribute {
  return value === undefined ? { type: c(ctx, name) } : { type: c(ctx, name), value }
}

/** `C_FindObjects` over a template, all results. */
export function findObjects(ctx: TokenContext, template: Attribute[]): Handle[] {
  const { library, session } = ctx
  library.C_FindObjectsInit(session, template)
  try {
    const out: Handle[] = []
    for (;;) {
      const batch = library.C_FindObjects(session, 64)
      out.push(...batch)
      if (batch.length < 64) return out
    }
  } finally {
    library.C_FindObjectsFinal(session)
  }
}

function readAttributes(ctx: TokenContext, handle: Handle, names: string[]): Map<string, Uint8Array> {
  const values = ctx.library.C_GetAttributeValue(
    ctx.session,
    handle,
    names.map((n) => attr(ctx, n)),
  )
  const out = new Map<string, Uint8Array>()
  names.forEach((name, i) => {
    const v = values[i]?.value
    if (v instanceof Uint8Array) out.set(name, v)
  })
  return out
}

/** Options of the key policy check. */
export interface KeyPolicy {
  /** Accept keys that were once extractable or not sensitive (imported from a backup). */
  allowImportedKeys: boolean
}

function policyViolation(
  ctx: TokenContext,
  a: Map<string, Uint8Array>,
  policy: KeyPolicy,
): string | undefined {
  if (readUlong(a.get('CKA_KEY_TYPE')) !== c(ctx, 'CKK_AES')) return 'not an AES key'
  if (readUlong(a.get('CKA_VALUE_LEN')) !== 32) return 'not a 256-bit key'
  if (readBool(a.get('CKA_TOKEN')) !== true) return 'not a token object'
  if (readBool(a.get('CKA_SENSITIVE')) !== true) return 'CKA_SENSITIVE is false'
  if (readBool(a.get('CKA_EXTRACTABLE')) !== false) return 'CKA_EXTRACTABLE is true'
  if (!policy.allowImportedKeys) {
    if (readBool(a.get('CKA_ALWAYS_SENSITIVE')) !== true)
      return 'CKA_ALWAYS_SENSITIVE is false (imported key)'
    if (readBool(a.get('CKA_NEVER_EXTRACTABLE')) !== true)
      return 'CKA_NEVER_EXTRACTABLE is false (imported key)'
  }
  return undefined
}

const KEY_ATTRIBUTES = [
  'CKA_ID',
  'CKA_KEY_TYPE',
  'CKA_VALUE_LEN',
  'CKA_TOKEN',
  'CKA_SENSITIVE',
  'CKA_EXTRACTABLE',
  'CKA_ALWAYS_SENSITIVE',
  'CKA_NEVER_EXTRACTABLE',
  'CKA_ENCRYPT',
  'CKA_DECRYPT',
]

/** Reads every version of `keyName` and the newest state document. */
export function loadState(ctx: TokenContext, keyName: string, policy: KeyPolicy): TokenState {
  const keys = new Map<number, VersionObject>()
  const handles = findObjects(ctx, [
    attr(ctx, 'CKA_CLASS', c(ctx, 'CKO_SECRET_KEY')),
    attr(ctx, 'CKA_LABEL', keyName),
  ])
  for (const handle of handles) {
    let a: Map<string, Uint8Array>
    try {
      a = readAttributes(ctx, handle, KEY_ATTRIBUTES)
    } catch (e) {
      // Not an AES key (it lacks an attribute every AES key has): not ours, ignore it.
      const rv = ckrName(e)
      if (rv === 'CKR_ATTRIBUTE_TYPE_INVALID' || rv === 'CKR_ATTRIBUTE_SENSITIVE') continue
      throw e
    }
    const version = parseVersionId(a.get('CKA_ID'))
    if (version === undefined) continue // not a version of ours: ignore, never touch
    const object: VersionObject = {
      version,
      handle,
      encrypt: readBool(a.get('CKA_ENCRYPT')) === true,
      decrypt: readBool(a.get('CKA_DECRYPT')) === true,
    }
    const unsafe = policyViolation(ctx, a, policy)
    if (unsafe !== undefined) object.unsafe = unsafe
    const existing = keys.get(version)
    if (existing !== undefined) {
      existing.unsafe = 'two key objects claim this version'
      continue
    }
    keys.set(version, object)
  }
  const { doc, docHandles } = loadDoc(ctx, keyName)
  return { keys, doc, docHandles }
}

function emptyDoc(): StateDoc {
  return { seq: 0, versions: {}, destroyed: [] }
}

/** Parses a state document; `undefined` for anything that is not a well-formed v1 document (never throws). */
export function parseDoc(bytes: Uint8Array): StateDoc | undefined {
  try {
    const v = parseJson(utf8Decode(bytes), { maxLength: MAX_DOC_BYTES, maxDepth: 8 }) as Record<
      string,
      unknown
    >
    if (typeof v !== 'object' || v === null || v.format !== 1) return undefined
    const seq = v.seq
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return undefined
    const doc: StateDoc = { seq, versions: {}, destroyed: [] }
    if (typeof v.primary === 'number' && Number.isSafeInteger(v.primary)) doc.primary = v.primary
    if (typeof v.versions === 'object' && v.versions !== null && !Array.isArray(v.versions)) {
      for (const [k, meta] of Object.entries(v.versions as Record<string, unknown>)) {
        if (!/^[1-9][0-9]{0,9}$/.test(k) || typeof meta !== 'object' || meta === null) continue
        const m = meta as Record<string, unknown>
        const entry: VersionMeta = {}
        if (typeof m.createdAt === 'number' && Number.isSafeInteger(m.createdAt))
          entry.createdAt = m.createdAt
        if (m.retired === true) entry.retired = true
        doc.versions[k] = entry
      }
    }
    if (Array.isArray(v.destroyed)) {
      doc.destroyed = v.destroyed.filter((n): n is number => typeof n === 'number' && Number.isSafeInteger(n))
    }
    return doc
  } catch {
    return undefined
  }
}

function docTemplate(ctx: TokenContext, keyName: string): Attribute[] {
  return [
    attr(ctx, 'CKA_CLASS', c(ctx, 'CKO_DATA')),
    attr(ctx, 'CKA_LABEL', keyName),
    attr(ctx, 'CKA_APPLICATION', STATE_APPLICATION),
  ]
}

function loadDoc(ctx: TokenContext, keyName: string): { doc: StateDoc; docHandles: Handle[] } {
  const docHandles = findObjects(ctx, docTemplate(ctx, keyName))
  let best: StateDoc | undefined
  for (const handle of docHandles) {
    const value = readAttributes(ctx, handle, ['CKA_VALUE']).get('CKA_VALUE')
    const doc = value === undefined ? undefined : parseDoc(value)
    if (doc !== undefined && (best === undefined || doc.seq > best.seq)) best = doc
  }
  return { doc: best ?? emptyDoc(), docHandles }
}

/** Writes `doc` as the next document (sequence + 1), then removes the older ones. */
export function writeDoc(ctx: TokenContext, keyName: string, state: TokenState, doc: StateDoc): void {
  const next = { ...doc, seq: state.doc.seq + 1 }
  const json = JSON.stringify({
    format: 1,
    seq: next.seq,
    ...(next.primary === undefined ? {} : { primary: next.primary }),
    versions: next.versions,
    destroyed: [...new Set(next.destroyed)].sort((a, b) => a - b),
  })
  ctx.library.C_CreateObject(ctx.session, [
    ...docTemplate(ctx, keyName),
    attr(ctx, 'CKA_TOKEN', true),
    attr(ctx, 'CKA_PRIVATE', true),
    attr(ctx, 'CKA_MODIFIABLE', true),
    attr(ctx, 'CKA_VALUE', utf8Encode(json)),
  ])
  for (const handle of state.docHandles) ctx.library.C_DestroyObject(ctx.session, handle)
}

/**
 * Generates version `version` of `keyName` inside the token. When another writer created the
 * same version concurrently (two objects now claim it), our object is destroyed and `undefined`
 * is returned so that the caller retries with the next number.
 */
export function generateVersion(ctx: TokenContext, keyName: string, version: number): Handle | undefined {
  const id = versionId(version)
  const handle = ctx.library.C_GenerateKey(ctx.session, { mechanism: c(ctx, 'CKM_AES_KEY_GEN') }, [
    attr(ctx, 'CKA_CLASS', c(ctx, 'CKO_SECRET_KEY')),
    attr(ctx, 'CKA_KEY_TYPE', c(ctx, 'CKK_AES')),
    attr(ctx, 'CKA_VALUE_LEN', 32),
    attr(ctx, 'CKA_TOKEN', true),
    attr(ctx, 'CKA_PRIVATE', true),
    attr(ctx, 'CKA_SENSITIVE', true),
    attr(ctx, 'CKA_EXTRACTABLE', false),
    attr(ctx, 'CKA_MODIFIABLE', true),
    attr(ctx, 'CKA_COPYABLE', false),
    attr(ctx, 'CKA_ENCRYPT', true),
    attr(ctx, 'CKA_DECRYPT', true),
    attr(ctx, 'CKA_WRAP', false),
    attr(ctx, 'CKA_UNWRAP', false),
    attr(ctx, 'CKA_SIGN', false),
    attr(ctx, 'CKA_VERIFY', false),
    attr(ctx, 'CKA_DERIVE', false),
    attr(ctx, 'CKA_LABEL', keyName),
    attr(ctx, 'CKA_ID', id),
  ])
  const claimants = findObjects(ctx, [
    attr(ctx, 'CKA_CLASS', c(ctx, 'CKO_SECRET_KEY')),
    attr(ctx, 'CKA_LABEL', keyName),
    attr(ctx, 'CKA_ID', id),
  ])
  if (claimants.length > 1) {
    ctx.library.C_DestroyObject(ctx.session, handle)
    return undefined
  }
  return handle
}

/** Sets both usages of a version's key object (enable or disable it in the token itself). */
export function setUsable(ctx: TokenContext, handle: Handle, usable: boolean): void {
  ctx.library.C_SetAttributeValue(ctx.session, handle, [
    attr(ctx, 'CKA_ENCRYPT', usable),
    attr(ctx, 'CKA_DECRYPT', usable),
  ])
}

/** Throws when a version object breaks the key policy. */
export function assertSafe(object: VersionObject, keyRef: string): void {
  if (object.unsafe !== undefined) throw new Pkcs11KeyPolicyError(keyRef, object.unsafe)
}
