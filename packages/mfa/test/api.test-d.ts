/**
 * The public API's types, checked by Vitest typecheck (and by `tsc -p tsconfig.test.json`): a
 * breaking change to an exported signature fails CI here before a user's build does.
 */
import type { Clock, EventSink, Secret } from '@safeguards/core'
import { describe, expectTypeOf, test } from 'vitest'
import {
  createAesGcmSealer,
  createMemoryStore,
  createRedisStore,
  createTotpAuthenticator,
  createTotpVerifier,
  type MfaConfigError,
  type MfaDependencyError,
  type MfaError,
  type MfaSealError,
  type MfaStore,
  type MfaStoreError,
  type RecoveryRedeemResult,
  type SecretSealer,
  secretFromBase32,
  type TotpAuthenticator,
  type TotpAuthenticatorOptions,
  type TotpEnrollment,
  type TotpUserFailure,
  type TotpVerifier,
  type TotpVerifierOptions,
  type TotpVerifyOptions,
  type TotpVerifyResult,
  totpCode,
} from '../src/index.js'

describe('@safeguards/mfa public types', () => {
  test('the authenticator', () => {
    expectTypeOf(createTotpAuthenticator).parameter(0).toEqualTypeOf<TotpAuthenticatorOptions>()
    expectTypeOf(createTotpAuthenticator).returns.toEqualTypeOf<TotpAuthenticator>()
    expectTypeOf<TotpAuthenticator['beginEnrollment']>().returns.resolves.toEqualTypeOf<TotpEnrollment>()
    expectTypeOf<TotpEnrollment['manualKey']>().toEqualTypeOf<Secret<string>>()
    expectTypeOf<TotpAuthenticator['verify']>().parameters.toEqualTypeOf<[userId: string, code: unknown]>()
    expectTypeOf<TotpAuthenticator['verify']>().returns.resolves.toEqualTypeOf<
      TotpVerifyResult | TotpUserFailure
    >()
    expectTypeOf<
      TotpAuthenticator['redeemRecoveryCode']
    >().returns.resolves.toEqualTypeOf<RecoveryRedeemResult>()
    expectTypeOf<TotpAuthenticator['generateRecoveryCodes']>().returns.resolves.toEqualTypeOf<string[]>()
  })
  test('options: one clock, core events', () => {
    expectTypeOf<TotpAuthenticatorOptions['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<TotpVerifierOptions['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<TotpAuthenticatorOptions['events']>().toEqualTypeOf<
      EventSink | readonly EventSink[] | undefined
    >()
    expectTypeOf<TotpVerifierOptions['events']>().toEqualTypeOf<
      EventSink | readonly EventSink[] | undefined
    >()
    expectTypeOf<TotpAuthenticatorOptions>().not.toHaveProperty('now')
    expectTypeOf<TotpAuthenticatorOptions>().not.toHaveProperty('onEvent')
    expectTypeOf<TotpVerifyOptions['actor']>().toEqualTypeOf<string | undefined>()
  })
  test('the verifier, stores, sealer, codes', () => {
    expectTypeOf(createTotpVerifier).returns.toEqualTypeOf<TotpVerifier>()
    expectTypeOf<TotpVerifier['verify']>().returns.resolves.toEqualTypeOf<TotpVerifyResult>()
    expectTypeOf(createMemoryStore).returns.toEqualTypeOf<MfaStore>()
    expectTypeOf(createRedisStore).returns.toEqualTypeOf<MfaStore>()
    expectTypeOf(createAesGcmSealer).returns.resolves.toEqualTypeOf<SecretSealer>()
    expectTypeOf(secretFromBase32).returns.toEqualTypeOf<Uint8Array>()
    expectTypeOf(totpCode).returns.toBeString()
  })
  test('error codes', () => {
    expectTypeOf<MfaSealError['code']>().toEqualTypeOf<'ERR_MFA_SEAL'>()
    expectTypeOf<MfaStoreError['code']>().toEqualTypeOf<'ERR_MFA_STORE'>()
    expectTypeOf<MfaConfigError['code']>().toEqualTypeOf<'ERR_MFA_CONFIG'>()
    expectTypeOf<MfaDependencyError['code']>().toEqualTypeOf<'ERR_MFA_DEPENDENCY'>()
    expectTypeOf<MfaDependencyError['dependency']>().toBeString()
    expectTypeOf<MfaSealError>().toMatchTypeOf<MfaError>()
  })
})
