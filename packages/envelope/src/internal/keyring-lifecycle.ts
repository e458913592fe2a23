/**
 * The local keyring's key lifecycle as a pure state machine: a command applied to the list of
 * versions gives the new list and the changes to announce, with no I/O, no clock and no
 * randomness (the caller passes `now`, and creates the material of an added version).
 *
 * States: `primary` (wraps and unwraps; at most one), `decrypt-only` (unwraps), `disabled` (neither;
 * `retired` marks a deliberate retirement), `destroyed` (the material is gone, for good).
 */
import { assertInteger, type SafeguardEventType } from '@safeguards/core'
import { KeyringStateError } from '../errors.js'
import type { KeyState } from '../kek-provider.js'

/** One version's metadata, as the keyring file stores it. */
export interface KeyMeta {
  version: number
  state: KeyState
  createdAt: number
  retired?: boolean
}

/** The event a committed change announces. */
export type KeyEventType = Exclude<Extract<SafeguardEventType, `key.${string}`>, 'key.budget.warning'>

/** A change to announce once committed: the event type and the version. */
export type KeyChange = readonly [KeyEventType, number]

/** A key command. */
export type LifecycleCommand =
  | { op: 'add' }
  | { op: 'rotate' }
  | { op: 'promote' | 'retire' | 'disable' | 'enable' | 'destroy'; version: number }

/** What a command leads to. */
export interface LifecycleResult {
  /** The new list of versions (the input is not modified). */
  keys: KeyMeta[]
  /** The version the command concerned. */
  version: number
  /** True when the version is new: the caller creates its key material. */
  added: boolean
  /** The changes to announce once the new list is committed, in order. */
  changes: KeyChange[]
}

/** Most versions a keyring holds. */
export const MAX_VERSIONS = 10_000

/**
 * Applies `command` to `keys`.
 *
 * @throws {KeyringStateError} when the command is not allowed in the current state.
 * @throws {RangeError} when `version` is not a positive integer.
 */
export function applyLifecycle(
  keys: readonly KeyMeta[],
  command: LifecycleCommand,
  now: number,
): LifecycleResult {
  const next = keys.map((k) => ({ ...k }))
  if (command.op === 'add' || command.op === 'rotate') return addVersion(next, command.op === 'rotate', now)
  const k = find(next, command.version)
  const v = k.version
  const result = (changes: KeyChange[]): LifecycleResult => ({
    keys: next,
    version: v,
    added: false,
    changes,
  })
  switch (command.op) {
    case 'promote':
      if (k.state === 'primary') return result([])
      if (k.state !== 'decrypt-only')
        throw new KeyringStateError(`version ${v} is ${k.state} and cannot be promoted`)
      demotePrimary(next)
      k.state = 'primary'
      return result([['key.rotated', v]])
    case 'retire':
    case 'disable':
      if (k.state === 'primary')
        throw new KeyringStateError(`version ${v} is the primary; promote another first`)
      if (k.state === 'destroyed') throw new KeyringStateError(`version ${v} is destroyed`)
      k.state = 'disabled'
      if (command.op === 'retire') k.retired = true
      return result([[command.op === 'retire' ? 'key.retired' : 'key.disabled', v]])
    case 'enable':
      if (k.state !== 'disabled') throw new KeyringStateError(`version ${v} is ${k.state}, not disabled`)
      k.state = 'decrypt-only'
      delete k.retired
      return result([['key.enabled', v]])
    case 'destroy':
      if (k.state === 'primary')
        throw new KeyringStateError(`version ${v} is the primary; promote another first`)
      k.state = 'destroyed'
      return result([['key.destroyed', v]])
  }
}

/** Adds a version: the primary when `promote` or when there is none, otherwise decrypt-only. */
function addVersion(keys: KeyMeta[], promote: boolean, now: number): LifecycleResult {
  const primary = promote || !keys.some((k) => k.state === 'primary')
  if (promote) demotePrimary(keys)
  const version = keys.reduce((m, k) => Math.max(m, k.version), 0) + 1
  if (version > MAX_VERSIONS) throw new KeyringStateError('keyring has too many versions')
  keys.push({ version, state: primary ? 'primary' : 'decrypt-only', createdAt: now })
  const changes: KeyChange[] = [['key.created', version]]
  if (primary) changes.push(['key.rotated', version])
  return { keys, version, added: true, changes }
}

function demotePrimary(keys: KeyMeta[]): void {
  for (const k of keys) if (k.state === 'primary') k.state = 'decrypt-only'
}

function find(keys: KeyMeta[], version: number): KeyMeta {
  assertInteger(version, 'version', 1)
  const k = keys.find((x) => x.version === version)
  if (k === undefined) throw new KeyringStateError(`version ${version} does not exist`)
  return k
}
