/**
 * Opening a provider: checking the options, finding the token, checking its mechanisms.
 */
import {
  assertInteger,
  type Clock,
  createEmitter,
  randomBytes as defaultRandom,
  type Emitter,
  type RandomSource,
  Secret,
  systemClock,
} from '@safeguards/core'
import { Pkcs11MechanismError, Pkcs11TokenNotFoundError } from '../errors.js'
import type { Pkcs11ProviderOptions, TokenDescription, TokenSelector } from '../options.js'
import { constant, type Handle, type Pkcs11Library, type Pkcs11Module } from './binding.js'
import { KEY_NAME, PROVIDER_ID } from './codec.js'
import { UsageBudget, usageSettings } from './usage.js'

const trimPadded = (s: string): string => s.replace(/[ \0]+$/, '')

/** The options of `open`, checked, with defaults. */
export interface ValidOptions {
  module: string
  token: TokenSelector
  pin: Secret<string>
  keyName: string
  providerId: string
  maxSessions: number
  cacheTtlMs: number
  allowImportedKeys: boolean
  budget: UsageBudget
  emitter: Emitter
  clock: Clock
  random: RandomSource
}

/** Checks `open`'s options (the PIN must be a `Secret`) and applies the defaults. */
export function validateOptions(options: Pkcs11ProviderOptions): ValidOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" expected an object')
  const { module, token, pin, keyName } = options
  if (typeof module !== 'string' || module.length === 0)
    throw new TypeError('"module" expected a library path')
  if (typeof token !== 'object' || token === null)
    throw new TypeError('"token" expected { label } or { serial }')
  const hasLabel = typeof token.label === 'string'
  const hasSerial = typeof token.serial === 'string'
  if (hasLabel === hasSerial) throw new TypeError('"token" expected exactly one of { label } or { serial }')
  if (!Secret.isSecret(pin) || typeof pin.reveal() !== 'string') {
    throw new TypeError('"pin" expected a Secret<string> (wrap it with Secret.of)')
  }
  if (typeof keyName !== 'string' || !KEY_NAME.test(keyName)) {
    throw new TypeError('"keyName" expected 1..64 characters of [A-Za-z0-9._-]')
  }
  const providerId = options.providerId ?? 'pkcs11'
  if (typeof providerId !== 'string' || !PROVIDER_ID.test(providerId)) {
    throw new TypeError('"providerId" expected 1..64 characters of [A-Za-z0-9._-]')
  }
  const maxSessions = options.maxSessions ?? 4
  assertInteger(maxSessions, 'maxSessions', 1, 64)
  const cacheTtlMs = options.cacheTtlMs ?? 5000
  assertInteger(cacheTtlMs, 'cacheTtlMs', 0, 3_600_000)
  const budget = new UsageBudget(usageSettings(options.usage))
  return {
    module,
    token,
    pin,
    keyName,
    providerId,
    maxSessions,
    cacheTtlMs,
    allowImportedKeys: options.allowImportedKeys === true,
    budget,
    emitter: createEmitter(options),
    clock: options.clock ?? systemClock,
    random: options.random ?? defaultRandom,
  }
}

/** The one initialised token the selector matches. */
export function findToken(
  library: Pkcs11Library,
  binding: Pkcs11Module,
  selector: TokenSelector,
): { slot: Handle; info: TokenDescription } {
  const wanted = selector.label !== undefined ? `label "${selector.label}"` : `serial "${selector.serial}"`
  const matches: { slot: Handle; info: TokenDescription; flags: number }[] = []
  for (const slot of library.C_GetSlotList(true)) {
    const t = library.C_GetTokenInfo(slot)
    const info: TokenDescription = {
      label: trimPadded(t.label),
      serialNumber: trimPadded(t.serialNumber),
      manufacturer: trimPadded(t.manufacturerID),
      model: trimPadded(t.model),
    }
    if (
      selector.label !== undefined ? info.label === selector.label : info.serialNumber === selector.serial
    ) {
      matches.push({ slot, info, flags: Number(t.flags) })
    }
  }
  if (matches.length !== 1) {
    throw new Pkcs11TokenNotFoundError(`${matches.length} tokens match ${wanted}, expected exactly 1`)
  }
  const match = matches[0] as { slot: Handle; info: TokenDescription; flags: number }
  const initialised =
    constant(binding, 'CKF_TOKEN_INITIALIZED') | constant(binding, 'CKF_USER_PIN_INITIALIZED')
  if ((match.flags & initialised) !== initialised) {
    throw new Pkcs11TokenNotFoundError(`the token with ${wanted} is not initialised (no user PIN)`)
  }
  return { slot: match.slot, info: match.info }
}

/** Checks that the token offers `CKM_AES_GCM` for encryption and decryption. */
export function assertMechanism(library: Pkcs11Library, binding: Pkcs11Module, slot: Handle): void {
  const needed = constant(binding, 'CKF_ENCRYPT') | constant(binding, 'CKF_DECRYPT')
  let flags = 0
  try {
    flags = Number(library.C_GetMechanismInfo(slot, constant(binding, 'CKM_AES_GCM')).flags)
  } catch {
    flags = 0
  }
  if ((flags & needed) !== needed) {
    throw new Pkcs11MechanismError('the token does not offer CKM_AES_GCM for encryption and decryption')
  }
}
