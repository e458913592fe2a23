/**
 * The lifecycle changes made in the token, each on a freshly read state inside one session:
 * generate a version, promote, enable or disable (retire), destroy. Each returns the version and
 * the event it announces once the change is read back (none when nothing changed).
 */
import { assertInteger, type SafeguardEventType } from '@safeguards/core'
import { KekProviderError, KeyringStateError } from '@safeguards/envelope'
import { MAX_VERSION } from './codec.js'
import {
  assertSafe,
  generateVersion,
  type StateDoc,
  setUsable,
  type TokenContext,
  type TokenState,
  type VersionObject,
  writeDoc,
} from './token-store.js'

/** A lifecycle change's version and the event it announces (none when nothing changed). */
export type KeyChange = readonly [
  number,
  Exclude<Extract<SafeguardEventType, `key.${string}`>, 'key.budget.warning'> | undefined,
]

/** Which key a change concerns. */
export interface LifecycleScope {
  providerId: string
  keyName: string
  keyRef: (version: number) => string
}

/** Where a change is made: the key, a session, and the state freshly read in it. */
export interface LifecycleSite extends LifecycleScope {
  ctx: TokenContext
  state: TokenState
}

function cloneDoc(doc: StateDoc): StateDoc {
  const versions: StateDoc['versions'] = {}
  for (const [k, v] of Object.entries(doc.versions)) versions[k] = { ...v }
  const out: StateDoc = { seq: doc.seq, versions, destroyed: [...doc.destroyed] }
  if (doc.primary !== undefined) out.primary = doc.primary
  return out
}

/** Writes the state document as `edit` changes a copy of it. */
function editDoc(site: LifecycleSite, edit: (doc: StateDoc) => void): void {
  const doc = cloneDoc(site.state.doc)
  edit(doc)
  writeDoc(site.ctx, site.keyName, site.state, doc)
}

/** The key object of an existing, not destroyed version. */
function target(site: LifecycleSite, version: number): VersionObject {
  const { state } = site
  assertInteger(version, 'version', 1, MAX_VERSION)
  const object = state.keys.get(version)
  if (object === undefined || state.doc.destroyed.includes(version)) {
    throw new KeyringStateError(`version ${version} of ${site.keyName} does not exist`)
  }
  return object
}

/** Generates the next version in the token (decrypt-only), never reusing a number. */
export function addVersionIn(site: LifecycleSite, now: number): KeyChange {
  const { ctx, state } = site
  let next = Math.max(
    0,
    ...state.keys.keys(),
    ...state.doc.destroyed,
    ...Object.keys(state.doc.versions).map(Number),
  )
  for (let attempt = 0; attempt < 5; attempt++) {
    next++
    if (next > MAX_VERSION) throw new KeyringStateError('no version number left')
    if (generateVersion(ctx, site.keyName, next) === undefined) continue
    editDoc(site, (doc) => {
      doc.versions[String(next)] = { createdAt: now }
    })
    return [next, 'key.created']
  }
  throw new KekProviderError(site.providerId, 'another writer keeps creating the same version numbers')
}

/** Makes an enabled version the primary. */
export function promoteIn(site: LifecycleSite, version: number): KeyChange {
  const { ctx, state } = site
  const object = target(site, version)
  if (!object.decrypt) throw new KeyringStateError(`cannot promote version ${version}: it is disabled`)
  assertSafe(object, site.keyRef(version))
  if (!object.encrypt) setUsable(ctx, object.handle, true)
  const was = state.doc.primary === version && object.encrypt
  editDoc(site, (doc) => {
    doc.primary = version
  })
  return [version, was ? undefined : 'key.rotated']
}

/** Enables a version (decrypt-only), or disables it in the token, recording a retirement. */
export function setEnabledIn(
  site: LifecycleSite,
  change: { version: number; enabled: boolean; retired: boolean },
): KeyChange {
  const { ctx, state } = site
  const { version, enabled, retired } = change
  const object = target(site, version)
  if (!enabled && state.doc.primary === version) {
    throw new KeyringStateError(
      `cannot ${retired ? 'retire' : 'disable'} version ${version}: it is the primary`,
    )
  }
  setUsable(ctx, object.handle, enabled)
  editDoc(site, (doc) => {
    const meta = { ...doc.versions[String(version)] }
    if (retired) meta.retired = true
    else delete meta.retired
    doc.versions[String(version)] = meta
  })
  return [version, enabled ? 'key.enabled' : retired ? 'key.retired' : 'key.disabled']
}

/** Destroys a disabled version's key object, recording it as destroyed first. */
export function destroyIn(site: LifecycleSite, version: number): KeyChange {
  const { ctx } = site
  const object = target(site, version)
  if (object.decrypt || object.encrypt) {
    throw new KeyringStateError(`cannot destroy version ${version}: disable or retire it first`)
  }
  // Record first: if the destroy below fails, the version reads as destroyed and is not used.
  editDoc(site, (doc) => {
    doc.destroyed.push(version)
  })
  ctx.library.C_DestroyObject(ctx.session, object.handle)
  return [version, 'key.destroyed']
}
