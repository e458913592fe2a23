/**
 * Options of the opt-in data-key cache (`createEnvelope({ dataKeyCache })`), after the AWS
 * Encryption SDK's caching cryptographic materials manager.
 *
 * Without the cache every message draws a fresh data key and wraps it with every KEK provider (a
 * KMS or HSM round trip in production), and every decryption unwraps. Format v1 allows reusing a
 * data key across messages (docs/formats/envelope-v1.md, section 7): each message still derives
 * its own encryption key, nonce prefix and commitment with HKDF-SHA-512 from the data key and its
 * own random 256-bit message id, and the wrapped key is bound to the context digest D, not to the
 * message. So the cache
 *
 * - on encryption, reuses one data key and its wrapped keys for messages with the same encryption
 *   context (same canonical bytes, hence the same D) under the same primary KEK versions, within
 *   a maximum age, a maximum number of messages and a maximum number of plaintext bytes;
 * - on decryption, keeps unwrapped data keys keyed by the exact wrapped key (provider id, key
 *   reference, wrapped-key bytes) and context, for at most the maximum age, in a bounded LRU map.
 *
 * Every cached data key is dropped (and its bytes zeroised) when it expires, is evicted, when
 * `envelope.clearCache()` or `envelope.close()` is called, and as soon as a provider reports a key
 * state change (`KekProvider.stateEpoch`: rotate, promote, add, retire, disable, enable, destroy,
 * or a reload that changed the keyring). The cache belongs to one envelope instance; nothing is
 * shared between instances.
 *
 * The price: while a data key is cached, it sits in process memory. A memory disclosure (core
 * dump, heap snapshot, swap, a compromised process) exposes every message encrypted under a cached
 * key, up to `maxMessages` messages or `maxBytes` bytes per key, for up to `maxAge`; and a revoked
 * KEK (disabled in a KMS or HSM outside this process) stops decryptions only when the cached keys
 * expire unless the provider reports state changes. Choose the limits from the risk analysis.
 *
 * HIPAA: 164.312(a)(2)(iv) encryption and decryption (key use limited in age and volume);
 * 164.308(a)(1)(ii)(B) risk management (the trade-off is explicit and bounded by configuration).
 *
 * @module
 */
import type { Clock } from '@safeguards/core'

/** Default {@link DataKeyCacheOptions.maxAge}: 5 minutes. */
export const DEFAULT_CACHE_MAX_AGE_MS = 300_000
/** Largest {@link DataKeyCacheOptions.maxAge}: 1 hour (internal; the bound is documented on the option). */
export const MAX_CACHE_MAX_AGE_MS = 3_600_000
/** Default {@link DataKeyCacheOptions.maxMessages}: 2^16 messages per data key. */
export const DEFAULT_CACHE_MAX_MESSAGES = 65_536
/** Largest {@link DataKeyCacheOptions.maxMessages}: 2^32 messages per data key (internal, as above). */
export const MAX_CACHE_MAX_MESSAGES: number = 2 ** 32
/** Default {@link DataKeyCacheOptions.maxBytes}: 2^32 plaintext bytes (4 GiB) per data key. */
export const DEFAULT_CACHE_MAX_BYTES: number = 2 ** 32
/** Default {@link DataKeyCacheOptions.maxEntries}: 1000 data keys per direction. */
export const DEFAULT_CACHE_MAX_ENTRIES = 1000

/**
 * Limits of the data-key cache. Every field is optional; the defaults are those of the constants
 * above (5 minutes, 2^16 messages, 4 GiB, 1000 entries).
 *
 * Why a message limit although per-message keys are derived: each message's key, nonce prefix and
 * commitment come from HKDF-SHA-512(salt = messageId, IKM = data key, info ∋ D) with a 256-bit
 * random message id, so two messages under one data key share keys only if their message ids
 * collide: probability at most q²/2^257 for q messages (2^-193 at the 2^32 ceiling). The AES-GCM
 * random-nonce bound (SP 800-38D §8.3, 2^32 invocations) concerns the KEK's wraps, which the cache
 * reduces (one wrap per cached data key, counted once in the KEK's usage budget), not the message
 * keys, whose frame nonces are deterministic counters. `maxMessages` and `maxBytes` therefore
 * bound exposure, not a cryptographic limit: how much data one disclosed data key opens.
 *
 * HIPAA: 164.312(a)(2)(iv) encryption and decryption (key use limited in age and volume);
 * 164.308(a)(1)(ii)(B) risk management (decide from the risk analysis whether data keys may stay
 * in memory, for how long and for how much data; keep core dumps, heap snapshots and swap off
 * hosts that cache keys). The control mapping is on {@link createEnvelope} (`@config`).
 *
 * @example
 * ```ts
 * import { createEnvelope, LocalKeyring } from '@safeguards/envelope'
 *
 * const keyring = await LocalKeyring.open('/var/lib/app/keyring.json')
 * const envelope = createEnvelope({
 *   provider: keyring,
 *   dataKeyCache: { maxAge: 60_000, maxMessages: 10_000 },
 * })
 * // ...
 * envelope.close() // zeroises the cached data keys
 * ```
 */
export interface DataKeyCacheOptions {
  /** Milliseconds a data key may be reused after it was created or unwrapped (default 5 min, 1 ms..1 h). */
  maxAge?: number
  /** Messages one cached data key may encrypt (default 2^16, 1..2^32). */
  maxMessages?: number
  /** Plaintext bytes one cached data key may encrypt (default 2^32); larger messages bypass the cache. */
  maxBytes?: number
  /** Most cached data keys per direction (encrypt, decrypt), least recently used evicted first (default 1000). */
  maxEntries?: number
  /** Cache data keys for encryption (default true). */
  encrypt?: boolean
  /** Cache unwrapped data keys for decryption (default true). */
  decrypt?: boolean
  /** The clock that ages entries (default the system clock). */
  clock?: Clock
}
