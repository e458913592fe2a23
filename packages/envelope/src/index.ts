/**
 * `@safeguards/envelope`: AES-256-GCM envelope encryption with key commitment, one framed format
 * for records and streams, pluggable KEK providers and a local keyring with rotation.
 *
 * @packageDocumentation
 */

export type { DataKeyCacheOptions } from './data-key-cache.js'
export {
  DEFAULT_CACHE_MAX_AGE_MS,
  DEFAULT_CACHE_MAX_BYTES,
  DEFAULT_CACHE_MAX_ENTRIES,
  DEFAULT_CACHE_MAX_MESSAGES,
} from './data-key-cache.js'
export type {
  EncryptionContext,
  Envelope,
  EnvelopeOptions,
  ReencryptOptions,
  RewrapOptions,
} from './envelope.js'
export { createEnvelope } from './envelope.js'
export type { EnvelopeErrorCode, KeyUnavailableReason } from './errors.js'
export {
  EnvelopeDecryptionError,
  EnvelopeFormatError,
  EnvelopeLimitError,
  InvalidContextError,
  KekProviderError,
  KeyringFileError,
  KeyringSealedError,
  KeyringStateError,
  KeyUnavailableError,
  UnsupportedFormatError,
  UsageLimitError,
} from './errors.js'
export { fileUsageStore } from './file-usage-store.js'
export type { EncryptedDataKey, EnvelopeInfo, FormatVersion, ParseLimits } from './format.js'
export {
  DEFAULT_FRAME_LENGTH,
  DEFAULT_MAX_EDKS,
  ENVELOPE_MAGIC,
  FORMAT_VERSION,
  FORMAT_VERSION_2,
  inspectEnvelope,
  MAX_EDK_LENGTH,
  MAX_FRAME_LENGTH,
  MAX_KEY_REF_LENGTH,
  MIN_FRAME_LENGTH,
  SUITE_AES256GCM_HKDF_EXPAND_SHA256_COMMIT,
  SUITE_AES256GCM_HKDF_SHA512_COMMIT,
} from './format.js'
export type { AeadBackendName } from './internal/aead.js'
export type { KdfBackendName } from './internal/kdf.js'
export type {
  KekProvider,
  KeyDescription,
  KeyState,
  KeyUsage,
  WrapOptions,
  WrappedKey,
} from './kek-provider.js'
export type {
  Argon2Params,
  DestroyOptions,
  KeyringUsageOptions,
  LocalKeyringOptions,
  MasterSecret,
} from './local-keyring.js'
export { LocalKeyring } from './local-keyring.js'
export { toNodeStream } from './node-stream.js'
export type { UsagePolicy, UsageStore } from './usage-budget.js'
export { DEFAULT_USAGE_LIMIT, DEFAULT_USAGE_WARN_AT, memoryUsageStore } from './usage-budget.js'
