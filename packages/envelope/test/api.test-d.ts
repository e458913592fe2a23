/**
 * The public API's types of `@safeguards/envelope`, checked by Vitest typecheck (and by
 * `tsc -p tsconfig.test.json`): a breaking change to an exported signature fails CI here.
 */
import type { Clock, EventOptions, EventSink, SafeguardsError } from '@safeguards/core'
import { describe, expectTypeOf, test } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import {
  createEnvelope,
  type EncryptionContext,
  type Envelope,
  type EnvelopeDecryptionError,
  type EnvelopeErrorCode,
  type EnvelopeInfo,
  type EnvelopeOptions,
  FORMAT_VERSION,
  FORMAT_VERSION_2,
  type FormatVersion,
  fileUsageStore,
  inspectEnvelope,
  type KekProvider,
  type KeyDescription,
  type KeyringFileError,
  type KeyringUsageOptions,
  type KeyUnavailableError,
  type KeyUnavailableReason,
  LocalKeyring,
  type LocalKeyringOptions,
  memoryUsageStore,
  type ReencryptOptions,
  SUITE_AES256GCM_HKDF_EXPAND_SHA256_COMMIT,
  SUITE_AES256GCM_HKDF_SHA512_COMMIT,
  type UsageStore,
  type WrappedKey,
} from '../src/index.js'

describe('@safeguards/envelope public types', () => {
  test('createEnvelope and the Envelope', () => {
    expectTypeOf(createEnvelope).parameter(0).toEqualTypeOf<EnvelopeOptions>()
    expectTypeOf(createEnvelope).returns.toEqualTypeOf<Envelope>()
    expectTypeOf<EnvelopeOptions>().toMatchTypeOf<EventOptions>()
    expectTypeOf<EnvelopeOptions['events']>().toEqualTypeOf<EventOptions['events']>()
    expectTypeOf<EnvelopeOptions['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<EnvelopeOptions['provider']>().toEqualTypeOf<KekProvider | undefined>()
    expectTypeOf<Envelope['encrypt']>().parameters.toEqualTypeOf<[Uint8Array, EncryptionContext]>()
    expectTypeOf<Envelope['encrypt']>().returns.toEqualTypeOf<Promise<Uint8Array>>()
    expectTypeOf<Envelope['decrypt']>().returns.toEqualTypeOf<Promise<Uint8Array>>()
    expectTypeOf<Envelope['encryptStream']>().returns.toEqualTypeOf<TransformStream<Uint8Array, Uint8Array>>()
    expectTypeOf<Envelope['needsRewrap']>().returns.toEqualTypeOf<Promise<boolean>>()
    expectTypeOf<Envelope['inspect']>().returns.toEqualTypeOf<EnvelopeInfo>()
    expectTypeOf(inspectEnvelope).returns.toEqualTypeOf<EnvelopeInfo>()
  })

  test('format versions (issue 17): v2 written by default, v1 on request', () => {
    expectTypeOf<FormatVersion>().toEqualTypeOf<1 | 2>()
    expectTypeOf<EnvelopeOptions['formatVersion']>().toEqualTypeOf<FormatVersion | undefined>()
    expectTypeOf<ReencryptOptions['formatVersion']>().toEqualTypeOf<FormatVersion | undefined>()
    for (const id of [FORMAT_VERSION, FORMAT_VERSION_2]) expectTypeOf(id).toEqualTypeOf<number>()
    expectTypeOf(SUITE_AES256GCM_HKDF_SHA512_COMMIT).toEqualTypeOf<number>()
    expectTypeOf(SUITE_AES256GCM_HKDF_EXPAND_SHA256_COMMIT).toEqualTypeOf<number>()
  })

  test('LocalKeyring', () => {
    expectTypeOf(LocalKeyring.create).parameters.toEqualTypeOf<[string, LocalKeyringOptions?]>()
    expectTypeOf(LocalKeyring.create).returns.toEqualTypeOf<Promise<LocalKeyring>>()
    expectTypeOf(LocalKeyring.open).returns.toEqualTypeOf<Promise<LocalKeyring>>()
    expectTypeOf(LocalKeyring.inMemory).returns.toEqualTypeOf<Promise<LocalKeyring>>()
    expectTypeOf<LocalKeyring>().toMatchTypeOf<KekProvider>()
    expectTypeOf<LocalKeyringOptions>().toMatchTypeOf<EventOptions>()
    expectTypeOf<LocalKeyringOptions['usage']>().toEqualTypeOf<KeyringUsageOptions | undefined>()
    expectTypeOf<LocalKeyring['rotate']>().returns.toEqualTypeOf<Promise<KeyDescription>>()
    expectTypeOf<LocalKeyring['destroy']>().parameters.toEqualTypeOf<[number, { allowDestroy: boolean }?]>()
    expectTypeOf<LocalKeyring['wrap']>().returns.toEqualTypeOf<Promise<WrappedKey>>()
    expectTypeOf<LocalKeyring['stateEpoch']>().returns.toEqualTypeOf<number>()
    expectTypeOf<LocalKeyringOptions['events']>().toEqualTypeOf<
      EventSink | readonly EventSink[] | undefined
    >()
    expectTypeOf(fileUsageStore).returns.toEqualTypeOf<UsageStore>()
    expectTypeOf(memoryUsageStore).returns.toEqualTypeOf<UsageStore>()
  })

  test('errors: a literal code each, all SafeguardsErrors', () => {
    expectTypeOf<ErrorCodes<typeof import('../src/index.js')>>().toEqualTypeOf<{
      EnvelopeDecryptionError: 'ERR_ENVELOPE_DECRYPTION_FAILED'
      KeyUnavailableError: 'ERR_ENVELOPE_KEY_UNAVAILABLE'
      EnvelopeFormatError: 'ERR_ENVELOPE_FORMAT'
      UnsupportedFormatError: 'ERR_ENVELOPE_UNSUPPORTED'
      EnvelopeLimitError: 'ERR_ENVELOPE_LIMIT'
      InvalidContextError: 'ERR_ENVELOPE_CONTEXT'
      UsageLimitError: 'ERR_ENVELOPE_USAGE_LIMIT'
      KekProviderError: 'ERR_KEK_PROVIDER'
      KeyringStateError: 'ERR_KEYRING_STATE'
      KeyringFileError: 'ERR_KEYRING_FILE'
      KeyringSealedError: 'ERR_KEYRING_SEALED'
      RecipientKeyError: 'ERR_RECIPIENT_KEY'
      BlindIndexInputError: 'ERR_BLIND_INDEX_INPUT'
      SubjectShreddedError: 'ERR_SUBJECT_SHREDDED'
      SubjectKeyStoreError: 'ERR_SUBJECT_KEY_STORE'
    }>()
    expectTypeOf<KeyUnavailableError['reason']>().toEqualTypeOf<KeyUnavailableReason>()
    expectTypeOf<EnvelopeDecryptionError>().toMatchTypeOf<SafeguardsError<EnvelopeErrorCode>>()
    expectTypeOf<KeyringFileError>().toMatchTypeOf<SafeguardsError<EnvelopeErrorCode>>()
  })
})
