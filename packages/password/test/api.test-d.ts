/**
 * The public API's types, checked by Vitest typecheck (and by `tsc -p tsconfig.test.json`): a
 * breaking change to an exported signature fails CI here before a user's build does.
 */
import type { Clock, EventSink } from '@safeguards/core'
import { describe, expectTypeOf, test } from 'vitest'
import {
  type CalibrateOptions,
  type CalibrateResult,
  calibrate,
  checkPasswordPolicy,
  createPasswordHasher,
  hashPassword,
  type PasswordConfigError,
  type PasswordError,
  type PasswordHasher,
  type PasswordHasherBusyError,
  type PasswordHasherOptions,
  type PasswordHashFormatError,
  type PasswordInvalidTextError,
  type PasswordPolicyResult,
  type PasswordTooLargeError,
  type PasswordVerifyOptions,
  type PasswordVerifyResult,
  type PepperKeyMissingError,
  type PhcHash,
  parsePhc,
  passwordNeedsRehash,
  verifyPassword,
} from '../src/index.js'

describe('@safeguards/password public types', () => {
  test('the hasher', () => {
    expectTypeOf(createPasswordHasher).parameter(0).toEqualTypeOf<PasswordHasherOptions | undefined>()
    expectTypeOf(createPasswordHasher).returns.toEqualTypeOf<PasswordHasher>()
    expectTypeOf<PasswordHasher['hash']>().returns.resolves.toBeString()
    expectTypeOf<PasswordHasher['verify']>().parameters.toEqualTypeOf<
      [hash: string, password: string, options?: PasswordVerifyOptions]
    >()
    expectTypeOf<PasswordHasher['verify']>().returns.resolves.toEqualTypeOf<PasswordVerifyResult>()
    expectTypeOf<PasswordVerifyOptions['actor']>().toEqualTypeOf<string | undefined>()
    expectTypeOf(hashPassword).returns.resolves.toBeString()
    expectTypeOf(verifyPassword).returns.resolves.toEqualTypeOf<PasswordVerifyResult>()
  })
  test('options: one clock, core events', () => {
    expectTypeOf<PasswordHasherOptions['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<PasswordHasherOptions['events']>().toEqualTypeOf<
      EventSink | readonly EventSink[] | undefined
    >()
    expectTypeOf<CalibrateOptions['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<CalibrateOptions>().not.toHaveProperty('now')
    expectTypeOf(calibrate).returns.resolves.toEqualTypeOf<CalibrateResult>()
  })
  test('policy and PHC', () => {
    expectTypeOf(checkPasswordPolicy).returns.toEqualTypeOf<PasswordPolicyResult>()
    expectTypeOf(parsePhc).returns.toEqualTypeOf<PhcHash>()
    expectTypeOf(passwordNeedsRehash).returns.toBeBoolean()
  })
  test('error codes', () => {
    expectTypeOf<PasswordTooLargeError['code']>().toEqualTypeOf<'ERR_PASSWORD_TOO_LARGE'>()
    expectTypeOf<PasswordInvalidTextError['code']>().toEqualTypeOf<'ERR_PASSWORD_INVALID_TEXT'>()
    expectTypeOf<PasswordHashFormatError['code']>().toEqualTypeOf<'ERR_PASSWORD_HASH_FORMAT'>()
    expectTypeOf<PepperKeyMissingError['code']>().toEqualTypeOf<'ERR_PASSWORD_PEPPER_UNKNOWN'>()
    expectTypeOf<PasswordHasherBusyError['code']>().toEqualTypeOf<'ERR_PASSWORD_BUSY'>()
    expectTypeOf<PasswordConfigError['code']>().toEqualTypeOf<'ERR_PASSWORD_CONFIG'>()
    expectTypeOf<PasswordConfigError>().toMatchTypeOf<PasswordError>()
  })
})
