/**
 * The public API's types, checked by Vitest typecheck (and by `tsc -p tsconfig.test.json`): a
 * breaking change to an exported signature fails CI here before a user's build does.
 */
import type { Clock, EventSink } from '@safeguards/core'
import { describe, expectTypeOf, test } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import * as api from '../src/index.js'

describe('@safeguards/password public types', () => {
  test('the hasher', () => {
    expectTypeOf(api.createPasswordHasher).parameter(0).toEqualTypeOf<api.PasswordHasherOptions | undefined>()
    expectTypeOf(api.createPasswordHasher).returns.toEqualTypeOf<api.PasswordHasher>()
    expectTypeOf<api.PasswordHasher['hash']>().returns.resolves.toBeString()
    expectTypeOf<api.PasswordHasher['verify']>().parameters.toEqualTypeOf<
      [hash: string, password: string, options?: api.PasswordVerifyOptions]
    >()
    expectTypeOf<api.PasswordHasher['verify']>().returns.resolves.toEqualTypeOf<api.PasswordVerifyResult>()
    expectTypeOf<api.PasswordVerifyOptions['actor']>().toEqualTypeOf<string | undefined>()
    expectTypeOf(api.hashPassword).returns.resolves.toBeString()
    expectTypeOf(api.verifyPassword).returns.resolves.toEqualTypeOf<api.PasswordVerifyResult>()
  })
  test('options: one clock, core events', () => {
    expectTypeOf<api.PasswordHasherOptions['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<api.PasswordHasherOptions['events']>().toEqualTypeOf<
      EventSink | readonly EventSink[] | undefined
    >()
    expectTypeOf<api.CalibrateOptions['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<api.CalibrateOptions>().not.toHaveProperty('now')
    expectTypeOf(api.calibrate).returns.resolves.toEqualTypeOf<api.CalibrateResult>()
  })
  test('policy and PHC', () => {
    expectTypeOf(api.checkPasswordPolicy).returns.toEqualTypeOf<api.PasswordPolicyResult>()
    expectTypeOf(api.parsePhc).returns.toEqualTypeOf<api.PhcHash>()
    expectTypeOf(api.passwordNeedsRehash).returns.toBeBoolean()
  })
  test('error codes', () => {
    expectTypeOf<ErrorCodes<typeof api>>().toEqualTypeOf<{
      PasswordError: api.PasswordErrorCode
      PasswordTooLargeError: 'ERR_PASSWORD_TOO_LARGE'
      PasswordInvalidTextError: 'ERR_PASSWORD_INVALID_TEXT'
      PasswordHashFormatError: 'ERR_PASSWORD_HASH_FORMAT'
      PepperKeyMissingError: 'ERR_PASSWORD_PEPPER_UNKNOWN'
      PasswordHasherBusyError: 'ERR_PASSWORD_BUSY'
      PasswordConfigError: 'ERR_PASSWORD_CONFIG'
    }>()
    expectTypeOf<api.PasswordConfigError>().toMatchTypeOf<api.PasswordError>()
  })
})
