/**
 * The public API's types of `@safeguards/envelope`, checked by Vitest typecheck (and by
 * `tsc -p tsconfig.test.json`): a breaking change to an exported signature fails CI here.
 */
import type { Clock, EventOptions, EventSink, SafeguardsError } from '@safeguards/core'
import { describe, expectTypeOf, test } from 'vitest'
import {
  createEnvelope,
  type EncryptionContext,
  type Envelope,
  type EnvelopeDecryptionError,
  type EnvelopeErrorCode,
  type EnvelopeFormatError,
  type EnvelopeInfo,
  type EnvelopeLimitError,
  type EnvelopeOptions,
  FORMAT_VERSION,
  FORMAT_VERSION_2,
  type FormatVersion,
  fileUsageStore,
  type InvalidContextError,
  inspectEnvelope,
  type KekProvider,
  type KekProviderError,
  type KeyDescription,
  type KeyringFileError,
  type KeyringSealedError,
  type KeyringStateError,
  type KeyringUsageOptions,
  type KeyUnavailableError,
  type KeyUnavailableReason,
  LocalKeyring,
  type LocalKeyringOptions,
  memoryUsageStore,
  type ReencryptOptions,
  SUITE_AES256GCM_HKDF_EXPAND_SHA256_COMMIT,
  SUITE_AES256GCM_HKDF_SHA512_COMMIT,
  type UnsupportedFormatError,
  type UsageLimitError,
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
    expectTypeOf<EnvelopeDecryptionError['code']>().toEqualTypeOf<'ERR_ENVELOPE_DECRYPTION_FAILED'>()
    expectTypeOf<KeyUnavailableError['code']>().toEqualTypeOf<'ERR_ENVELOPE_KEY_UNAVAILABLE'>()
    expectTypeOf<KeyUnavailableError['reason']>().toEqualTypeOf<KeyUnavailableReason>()
    expectTypeOf<EnvelopeFormatError['code']>().toEqualTypeOf<'ERR_ENVELOPE_FORMAT'>()
    expectTypeOf<UnsupportedFormatError['code']>().toEqualTypeOf<'ERR_ENVELOPE_UNSUPPORTED'>()
    expectTypeOf<EnvelopeLimitError['code']>().toEqualTypeOf<'ERR_ENVELOPE_LIMIT'>()
    expectTypeOf<InvalidContextError['code']>().toEqualTypeOf<'ERR_ENVELOPE_CONTEXT'>()
    expectTypeOf<UsageLimitError['code']>().toEqualTypeOf<'ERR_ENVELOPE_USAGE_LIMIT'>()
    expectTypeOf<KekProviderError['code']>().toEqualTypeOf<'ERR_KEK_PROVIDER'>()
    expectTypeOf<KeyringStateError['code']>().toEqualTypeOf<'ERR_KEYRING_STATE'>()
    expectTypeOf<KeyringFileError['code']>().toEqualTypeOf<'ERR_KEYRING_FILE'>()
    expectTypeOf<KeyringSealedError['code']>().toEqualTypeOf<'ERR_KEYRING_SEALED'>()
    expectTypeOf<EnvelopeDecryptionError>().toMatchTypeOf<SafeguardsError<EnvelopeErrorCode>>()
    expectTypeOf<KeyringFileError>().toMatchTypeOf<SafeguardsError<EnvelopeErrorCode>>()
  })
})
