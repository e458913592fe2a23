/**
 * `@safeguards/envelope`: AES-256-GCM envelope encryption with key commitment, one framed format
 * for records and streams, pluggable KEK providers and a local keyring with rotation.
 *
 * @packageDocumentation
 */

export type {
  BlindIndex,
  BlindIndexBitsRange,
  BlindIndexOptions,
  BlindIndexSet,
  BlindIndexTerm,
  SuggestBitsOptions,
} from './blind-index.js'
export {
  BLIND_INDEX_MAX_BITS,
  BLIND_INDEX_MIN_BITS,
  blindIndexes,
  blindIndexFalseCandidates,
  createBlindIndex,
  suggestBlindIndexBits,
} from './blind-index.js'
export type {
  BlindIndexKey,
  GenerateBlindIndexKeyOptions,
  RewrapBlindIndexKeyOptions,
  WrappedBlindIndexKey,
} from './blind-index-key.js'
export {
  BLIND_INDEX_KEY_FORMAT,
  generateBlindIndexKey,
  importBlindIndexKey,
  openBlindIndexKey,
  rewrapBlindIndexKey,
} from './blind-index-key.js'
export type {
  BlindIndexNormalizer,
  CompoundInput,
  DateNormalizerOptions,
  PhoneNormalizerOptions,
  TextNormalizerOptions,
} from './blind-index-normalize.js'
export {
  compoundNormalizer,
  dateNormalizer,
  MAX_NORMALIZER_INPUT,
  normalizeDate,
  normalizeEmail,
  normalizeName,
  normalizePhone,
  normalizeSsn,
  normalizeText,
  phoneNormalizer,
  textNormalizer,
} from './blind-index-normalize.js'
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
export type { BlindIndexErrorCode, EnvelopeErrorCode, KeyUnavailableReason } from './errors.js'
export {
  BlindIndexInputError,
  EnvelopeDecryptionError,
  EnvelopeFormatError,
  EnvelopeLimitError,
  InvalidContextError,
  KekProviderError,
  KeyringFileError,
  KeyringSealedError,
  KeyringStateError,
  KeyUnavailableError,
  RecipientKeyError,
  SubjectKeyStoreError,
  SubjectShreddedError,
  UnsupportedFormatError,
  UsageLimitError,
} from './errors.js'
export type { FileSubjectKeyStoreOptions } from './file-subject-key-store.js'
export { fileSubjectKeyStore } from './file-subject-key-store.js'
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
export type { GenerateIdentityOptions, X25519Jwk } from './recipient-keys.js'
export { RecipientIdentity, RecipientPublicKey } from './recipient-keys.js'
export type { RecipientsProvider, RecipientsProviderOptions } from './recipients.js'
export {
  createRecipientsProvider,
  HPKE_SUITE,
  MAX_RECIPIENTS_PER_MESSAGE,
  RECIPIENTS_PROVIDER_ID,
} from './recipients.js'
export type { SubjectEnvelope, SubjectEnvelopeOptions } from './subject-envelope.js'
export { createSubjectEnvelope } from './subject-envelope.js'
export type {
  NewSubjectKey,
  ShredOutcome,
  SubjectKeyRecord,
  SubjectKeyState,
  SubjectKeyStore,
  WrappedSubjectKey,
} from './subject-key-store.js'
export { assertSubjectRef, memorySubjectKeyStore } from './subject-key-store.js'
export { createSubjectKeys } from './subject-keys.js'
export type {
  ShredOptions,
  ShredResult,
  SubjectKeys,
  SubjectKeysOptions,
  SubjectRewrapResult,
  SubjectStatus,
} from './subject-keys-types.js'
export { DEFAULT_SUBJECT_KEY_CACHE_ENTRIES, DEFAULT_SUBJECT_KEY_CACHE_TTL_MS } from './subject-keys-types.js'
export type { UsagePolicy, UsageStore } from './usage-budget.js'
export { DEFAULT_USAGE_LIMIT, DEFAULT_USAGE_WARN_AT, memoryUsageStore } from './usage-budget.js'
