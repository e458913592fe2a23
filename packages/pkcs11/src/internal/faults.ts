/**
 * How the provider reads the token's return values (`CKR_*`): which ones mean the session or the
 * login is dead, which mean the key object is gone; and pkcs11js callbacks as promises.
 */
import { EnvelopeDecryptionError, KeyUnavailableError } from '@safeguards/envelope'
import { ckrName } from './binding.js'

/** Return values after which the session (or the whole token login) cannot be trusted any more. */
export const SESSION_FAULTS: ReadonlySet<string> = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_DEVICE_REMOVED',
  'CKR_DEVICE_ERROR',
  'CKR_DEVICE_MEMORY',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_OPERATION_ACTIVE',
])
/** Return values saying the key object is gone (replaced, or handles renumbered). */
export const KEY_GONE: ReadonlySet<string> = new Set(['CKR_KEY_HANDLE_INVALID', 'CKR_OBJECT_HANDLE_INVALID'])

/** Keep the session after an error only when the token answered with an ordinary, operation-level code. */
export const keepSession = (e: unknown): boolean => {
  if (e instanceof KeyUnavailableError || e instanceof EnvelopeDecryptionError) return true
  const rv = ckrName(e)
  return rv !== undefined && !SESSION_FAULTS.has(rv)
}

/** Runs a pkcs11js callback-style call as a promise. */
export function call<T>(fn: (cb: (error: Error | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((error, value) => (error ? reject(error) : resolve(value)))
  })
}
