/**
 * `@safeguards/envelope`: AES-256-GCM envelope encryption with key commitment, one framed format
 * for records and streams, pluggable KEK providers and a local keyring with rotation.
 *
 * @packageDocumentation
 */
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
export type {
  KekProvider,
  KeyDescription,
  KeyState,
  KeyUsage,
  WrapOptions,
  WrappedKey,
} from './kek-provider.js'
