/**
 * The public types of sealing to recipients (`createRecipientsProvider`, `RecipientPublicKey`,
 * `RecipientIdentity`), checked by Vitest typecheck: a breaking change to a signature fails here.
 */
import type { Secret } from '@safeguards/core'
import { describe, expectTypeOf, test } from 'vitest'
import {
  createRecipientsProvider,
  type EnvelopeErrorCode,
  type KekProvider,
  RecipientIdentity,
  RecipientPublicKey,
  type RecipientsProvider,
  type RecipientsProviderOptions,
  type X25519Jwk,
} from '../src/index.js'

describe('recipients public types', () => {
  test('the provider is a KekProvider with its recipient set', () => {
    expectTypeOf(createRecipientsProvider).parameter(0).toEqualTypeOf<RecipientsProviderOptions>()
    expectTypeOf(createRecipientsProvider).returns.toEqualTypeOf<RecipientsProvider>()
    expectTypeOf<RecipientsProvider>().toMatchTypeOf<KekProvider>()
    expectTypeOf<RecipientsProvider['recipients']>().toEqualTypeOf<readonly string[]>()
    expectTypeOf<RecipientsProviderOptions['recipients']>().toEqualTypeOf<
      readonly RecipientPublicKey[] | undefined
    >()
    expectTypeOf<RecipientsProviderOptions['identities']>().toEqualTypeOf<
      readonly RecipientIdentity[] | undefined
    >()
  })

  test('keys import from PEM or JWK and export as text; private keys only as a Secret', () => {
    expectTypeOf(RecipientPublicKey.import).returns.toEqualTypeOf<Promise<RecipientPublicKey>>()
    expectTypeOf(RecipientPublicKey.fromRaw).returns.toEqualTypeOf<RecipientPublicKey>()
    expectTypeOf<RecipientPublicKey['toPem']>().returns.toEqualTypeOf<string>()
    expectTypeOf<RecipientPublicKey['toJwk']>().returns.toEqualTypeOf<X25519Jwk>()
    expectTypeOf<RecipientPublicKey['id']>().toEqualTypeOf<string>()
    expectTypeOf(RecipientIdentity.generate).returns.toEqualTypeOf<Promise<RecipientIdentity>>()
    expectTypeOf<string | Secret<string> | X25519Jwk>().toMatchTypeOf<
      Parameters<typeof RecipientIdentity.import>[0]
    >()
    expectTypeOf<RecipientIdentity['exportPem']>().returns.toEqualTypeOf<Secret<string>>()
    expectTypeOf<RecipientIdentity['exportJwk']>().returns.toEqualTypeOf<Secret<X25519Jwk>>()
    expectTypeOf<RecipientIdentity['publicKey']>().toEqualTypeOf<RecipientPublicKey>()
  })

  test('the key error code is in the code union', () => {
    expectTypeOf<'ERR_RECIPIENT_KEY'>().toMatchTypeOf<EnvelopeErrorCode>()
  })
})
