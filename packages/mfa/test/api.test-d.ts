/**
 * The public API's types, checked by Vitest typecheck (and by `tsc -p tsconfig.test.json`): a
 * breaking change to an exported signature fails CI here before a user's build does.
 */
import type { Clock, EventSink, Secret } from '@safeguards/core'
import { describe, expectTypeOf, test } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import * as api from '../src/index.js'

describe('@safeguards/mfa public types', () => {
  test('the authenticator', () => {
    expectTypeOf(api.createTotpAuthenticator).parameter(0).toEqualTypeOf<api.TotpAuthenticatorOptions>()
    expectTypeOf(api.createTotpAuthenticator).returns.toEqualTypeOf<api.TotpAuthenticator>()
    expectTypeOf<
      api.TotpAuthenticator['beginEnrollment']
    >().returns.resolves.toEqualTypeOf<api.TotpEnrollment>()
    expectTypeOf<api.TotpEnrollment['manualKey']>().toEqualTypeOf<Secret<string>>()
    expectTypeOf<api.TotpAuthenticator['verify']>().parameters.toEqualTypeOf<
      [userId: string, code: unknown]
    >()
    expectTypeOf<api.TotpAuthenticator['verify']>().returns.resolves.toEqualTypeOf<
      api.TotpVerifyResult | api.TotpUserFailure
    >()
    expectTypeOf<
      api.TotpAuthenticator['redeemRecoveryCode']
    >().returns.resolves.toEqualTypeOf<api.RecoveryRedeemResult>()
    expectTypeOf<api.TotpAuthenticator['generateRecoveryCodes']>().returns.resolves.toEqualTypeOf<string[]>()
  })
  test('options: one clock, core events', () => {
    expectTypeOf<api.TotpAuthenticatorOptions['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<api.TotpVerifierOptions['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<api.TotpAuthenticatorOptions['events']>().toEqualTypeOf<
      EventSink | readonly EventSink[] | undefined
    >()
    expectTypeOf<api.TotpVerifierOptions['events']>().toEqualTypeOf<
      EventSink | readonly EventSink[] | undefined
    >()
    expectTypeOf<api.TotpAuthenticatorOptions>().not.toHaveProperty('now')
    expectTypeOf<api.TotpAuthenticatorOptions>().not.toHaveProperty('onEvent')
    expectTypeOf<api.TotpVerifyOptions['actor']>().toEqualTypeOf<string | undefined>()
  })
  test('the verifier, stores, sealer, codes', () => {
    expectTypeOf(api.createTotpVerifier).returns.toEqualTypeOf<api.TotpVerifier>()
    expectTypeOf<api.TotpVerifier['verify']>().returns.resolves.toEqualTypeOf<api.TotpVerifyResult>()
    expectTypeOf(api.createMemoryStore).returns.toEqualTypeOf<api.MfaStore>()
    expectTypeOf(api.createRedisStore).returns.toEqualTypeOf<api.MfaStore>()
    expectTypeOf(api.createAesGcmSealer).returns.resolves.toEqualTypeOf<api.SecretSealer>()
    expectTypeOf(api.secretFromBase32).returns.toEqualTypeOf<Uint8Array>()
    expectTypeOf(api.totpCode).returns.toBeString()
  })
  test('error codes', () => {
    expectTypeOf<ErrorCodes<typeof api>>().toEqualTypeOf<{
      MfaError: api.MfaErrorCode
      MfaSealError: 'ERR_MFA_SEAL'
      MfaStoreError: 'ERR_MFA_STORE'
      MfaConfigError: 'ERR_MFA_CONFIG'
      MfaDependencyError: 'ERR_MFA_DEPENDENCY'
    }>()
    expectTypeOf<api.MfaDependencyError['dependency']>().toBeString()
    expectTypeOf<api.MfaSealError>().toMatchTypeOf<api.MfaError>()
  })
})
