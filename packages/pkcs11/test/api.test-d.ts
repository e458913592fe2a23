/**
 * The public API's types of `@safeguards/pkcs11`, checked by Vitest typecheck (and by
 * `tsc -p tsconfig.test.json`): a breaking change to an exported signature fails CI here.
 */
import type { Clock, EventOptions, SafeguardsError, Secret } from '@safeguards/core'
import type { KekProvider, KeyDescription, KeyringUsageOptions, WrappedKey } from '@safeguards/envelope'
import { describe, expectTypeOf, test } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import {
  type Pkcs11ClosedError,
  type Pkcs11Error,
  type Pkcs11ErrorCode,
  Pkcs11KekProvider,
  type Pkcs11LoginError,
  type Pkcs11LoginReason,
  type Pkcs11ProviderOptions,
  type TokenDescription,
  type TokenSelector,
} from '../src/index.js'

describe('@safeguards/pkcs11 public types', () => {
  test('Pkcs11KekProvider', () => {
    expectTypeOf(Pkcs11KekProvider.open).parameters.toEqualTypeOf<[Pkcs11ProviderOptions]>()
    expectTypeOf(Pkcs11KekProvider.open).returns.toEqualTypeOf<Promise<Pkcs11KekProvider>>()
    expectTypeOf<Pkcs11KekProvider>().toMatchTypeOf<KekProvider>()
    expectTypeOf<Pkcs11KekProvider['token']>().toEqualTypeOf<TokenDescription>()
    expectTypeOf<Pkcs11KekProvider['wrap']>().returns.toEqualTypeOf<Promise<WrappedKey>>()
    expectTypeOf<Pkcs11KekProvider['unwrap']>().parameters.toEqualTypeOf<[Uint8Array, string, Uint8Array]>()
    expectTypeOf<Pkcs11KekProvider['rotate']>().returns.toEqualTypeOf<Promise<KeyDescription>>()
    expectTypeOf<Pkcs11KekProvider['list']>().returns.toEqualTypeOf<Promise<KeyDescription[]>>()
    expectTypeOf<Pkcs11KekProvider['close']>().returns.toEqualTypeOf<Promise<void>>()
  })

  test('options', () => {
    expectTypeOf<Pkcs11ProviderOptions>().toMatchTypeOf<EventOptions>()
    expectTypeOf<Pkcs11ProviderOptions['pin']>().toEqualTypeOf<Secret<string>>()
    expectTypeOf<Pkcs11ProviderOptions['token']>().toEqualTypeOf<TokenSelector>()
    expectTypeOf<Pkcs11ProviderOptions['usage']>().toEqualTypeOf<KeyringUsageOptions | undefined>()
    expectTypeOf<Pkcs11ProviderOptions['clock']>().toEqualTypeOf<Clock | undefined>()
  })

  test('errors: a literal code each, all Pkcs11Errors', () => {
    expectTypeOf<ErrorCodes<typeof import('../src/index.js')>>().toEqualTypeOf<{
      Pkcs11Error: Pkcs11ErrorCode
      Pkcs11ModuleError: 'ERR_PKCS11_MODULE'
      Pkcs11TokenNotFoundError: 'ERR_PKCS11_TOKEN_NOT_FOUND'
      Pkcs11LoginError: 'ERR_PKCS11_LOGIN'
      Pkcs11MechanismError: 'ERR_PKCS11_MECHANISM'
      Pkcs11KeyPolicyError: 'ERR_PKCS11_KEY_POLICY'
      Pkcs11ClosedError: 'ERR_PKCS11_CLOSED'
    }>()
    expectTypeOf<Pkcs11LoginError['reason']>().toEqualTypeOf<Pkcs11LoginReason>()
    expectTypeOf<Pkcs11ClosedError>().toMatchTypeOf<Pkcs11Error<'ERR_PKCS11_CLOSED'>>()
    expectTypeOf<Pkcs11Error>().toMatchTypeOf<SafeguardsError<Pkcs11ErrorCode>>()
  })
})
