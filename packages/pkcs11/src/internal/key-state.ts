/**
 * What the token's state says about each version: its lifecycle state, whether it can unwrap or
 * wrap (and why not), and a fingerprint of all states to tell whether a read found a change.
 * Pure functions of a {@link TokenState}.
 */
import { type KeyState, KeyUnavailableError, type KeyUnavailableReason } from '@safeguards/envelope'
import { assertSafe, type TokenState, type VersionObject } from './token-store.js'

/** A version's lifecycle state, or undefined when the token does not know it. */
export function stateOf(state: TokenState, version: number): KeyState | undefined {
  const object = state.keys.get(version)
  if (object === undefined) return state.doc.destroyed.includes(version) ? 'destroyed' : undefined
  if (state.doc.destroyed.includes(version)) return 'destroyed'
  if (!object.decrypt) return 'disabled'
  if (state.doc.primary === version && object.encrypt) return 'primary'
  return 'decrypt-only'
}

/** Why a version cannot unwrap, or undefined when it can. */
export function unavailable(
  state: TokenState,
  version: number,
  keyRef: string,
): KeyUnavailableError | undefined {
  const s = stateOf(state, version)
  let reason: KeyUnavailableReason | undefined
  if (s === undefined) reason = 'unknown'
  else if (s === 'destroyed') reason = 'destroyed'
  else if (s === 'disabled')
    reason = state.doc.versions[String(version)]?.retired === true ? 'retired' : 'disabled'
  return reason === undefined ? undefined : new KeyUnavailableError(keyRef, reason)
}

/**
 * The key object of a version that may unwrap.
 *
 * @throws {KeyUnavailableError} when it may not; {@link Pkcs11KeyPolicyError} when it breaks the key policy.
 */
export function decryptable(state: TokenState, version: number, keyRef: string): VersionObject {
  const error = unavailable(state, version, keyRef)
  if (error !== undefined) throw error
  const object = state.keys.get(version) as VersionObject
  assertSafe(object, keyRef)
  return object
}

/** The key object of a version that may wrap (it is also enabled for encryption). */
export function usable(state: TokenState, version: number, keyRef: string): VersionObject {
  const object = decryptable(state, version, keyRef)
  if (!object.encrypt) throw new KeyUnavailableError(keyRef, 'disabled')
  return object
}

/** The primary and every version's state, as one comparable string. */
export function fingerprintOf(state: TokenState): string {
  const versions = new Set<number>([...state.keys.keys(), ...state.doc.destroyed])
  return [...versions]
    .sort((a, b) => a - b)
    .map((v) => `${v}:${stateOf(state, v)}:${state.doc.versions[String(v)]?.retired === true}`)
    .join(',')
}
