/**
 * `@safeguards/core`: the primitives every Safeguards package builds on.
 *
 * @packageDocumentation
 */
export { assertBytes, assertInteger, assertKnownOptions, assertString } from './assert.js'
export { builtinModule } from './builtin-module.js'
export {
  base64ToBytes,
  base64urlToBytes,
  bytesToBase64,
  bytesToBase64url,
  bytesToHex,
  concatBytes,
  hasLoneSurrogate,
  hexToBytes,
  utf8Decode,
  utf8Encode,
} from './bytes.js'
export type { CanonicalizeOptions, JsonValue, ParseJsonOptions } from './canonical-json.js'
export { canonicalBytes, canonicalize, parseJson, serializeJcsNumber } from './canonical-json.js'
export type { Clock, ManualClock } from './clock.js'
export { manualClock, systemClock } from './clock.js'
export type { CoreErrorCode, ErrorCategory, SafeguardsErrorOptions } from './errors.js'
export {
  CanonicalJsonError,
  CodedError,
  EncodingError,
  InvalidArgumentError,
  IoError,
  isSafeguardsError,
  JsonParseError,
  LockLostError,
  LockTimeoutError,
  SafeguardsError,
} from './errors.js'
export type * from './events.js'
export { createEmitter, criticalSink, EventSinkError, safeguardEventTypes } from './events.js'
export type { HashAlgorithm, HashBackend, Hasher } from './hash.js'
export { createHasher, hash, hashBackend, hmac, sha256, sha256Hex, sha512 } from './hash.js'
export type { RandomSource } from './random.js'
export { randomBytes } from './random.js'
export type { RedisSend } from './redis-script.js'
export { isNoScript, RedisScript } from './redis-script.js'
export { Secret } from './secret.js'
export type { Semaphore, SemaphoreOptions } from './semaphore.js'
export { createSemaphore } from './semaphore.js'
export { timingSafeEqual } from './timing-safe-equal.js'
export { verifyWebhookSignature, webhookSignature } from './webhook-signature.js'
