/**
 * The root key of blind indexes, kept by a {@link KekProvider}: 32 random bytes, wrapped under the
 * provider's KEK (a local keyring, an HSM through PKCS#11, a KMS) exactly like an envelope's data
 * key, and stored as a small JSON object beside the application's configuration. At start-up the
 * application unwraps it once ({@link openBlindIndexKey}); every index key is then derived from it
 * with HKDF-SHA-256 (RFC 5869) by index name, bits and tenant (see `blind-index.ts`).
 *
 * Why a wrapped root rather than an HMAC inside the HSM: the `KekProvider` contract has wrap and
 * unwrap only, and a lookup or an index build computes thousands of HMACs a second, which an HSM
 * round trip per value could not serve. The KEK never leaves the provider; the root key lives in
 * process memory like a cached data key, for as long as the application keeps the handle, and
 * `destroy()` zeroises it.
 *
 * The wrap is bound to the fixed AAD `"hge/bidx/root/v1"`, so a wrapped root key cannot be
 * passed off as an envelope's data key (whose wrap AAD starts `"hge/v1/wrap"`), nor the reverse.
 *
 * HIPAA: 164.312(a)(2)(iv) encryption and decryption (the index key hierarchy is under the same
 * KEKs as the data, so an HSM or KMS holds its root of trust).
 *
 * @module
 */
import {
  base64urlToBytes,
  bytesToBase64url,
  type RandomSource,
  randomBytes,
  utf8Encode,
} from '@safeguards/core'
import { EnvelopeFormatError, KekProviderError, KeyUnavailableError } from './errors.js'
import { makeBlindIndexKey } from './internal/blind-index-keys.js'
import type { KekProvider } from './kek-provider.js'

/** The `format` tag of a {@link WrappedBlindIndexKey}. */
export const BLIND_INDEX_KEY_FORMAT = 'hge-bidx-key/v1'

const WRAP_AAD = utf8Encode('hge/bidx/root/v1')
const ROOT_LENGTH = 32
const MAX_EDK_BYTES = 4096

/**
 * A blind-index root key in memory: an opaque handle, without key material on the object
 * (printing or serialising it shows only `keyRef`). Made by {@link generateBlindIndexKey},
 * {@link openBlindIndexKey} or {@link importBlindIndexKey}; passed to `createBlindIndex`.
 */
export interface BlindIndexKey {
  /** The key reference of the KEK that wrapped it, or undefined for an imported key. */
  readonly keyRef: string | undefined
  /**
   * Zeroises the root key: no new index can be made from it. Indexes already made keep their own
   * derived keys until their own `destroy()`.
   */
  destroy(): void
}

/**
 * A wrapped root key as stored (JSON-safe; not secret, but keep it with the application's
 * configuration: without it the indexes cannot be recomputed).
 */
export interface WrappedBlindIndexKey {
  /** Always {@link BLIND_INDEX_KEY_FORMAT}. */
  readonly format: typeof BLIND_INDEX_KEY_FORMAT
  /** The provider that wrapped it, for example `local` or `pkcs11`. */
  readonly providerId: string
  /** The KEK version that wrapped it, for example `local:default@v3`. */
  readonly keyRef: string
  /** The wrapped root key, base64url without padding. */
  readonly edk: string
}

/** Options of {@link generateBlindIndexKey}. */
export interface GenerateBlindIndexKeyOptions {
  /** Randomness for the root key (default: the platform CSPRNG; inject only in tests). */
  random?: RandomSource
}

/** Options of {@link rewrapBlindIndexKey}. */
export interface RewrapBlindIndexKeyOptions {
  /** Wrap under this key reference instead of the provider's primary. */
  keyRef?: string
}

function providersOf(providers: KekProvider | readonly KekProvider[]): readonly KekProvider[] {
  const list = Array.isArray(providers) ? providers : [providers as KekProvider]
  if (list.length === 0) throw new RangeError('"providers" expected at least one KekProvider')
  for (const p of list) {
    if (typeof p !== 'object' || p === null || typeof (p as KekProvider).unwrap !== 'function') {
      throw new TypeError('"providers" expected KekProvider objects')
    }
  }
  return list
}

function parseWrapped(wrapped: unknown): { providerId: string; keyRef: string; edk: Uint8Array } {
  if (typeof wrapped !== 'object' || wrapped === null) {
    throw new EnvelopeFormatError('wrapped blind-index key: expected an object')
  }
  const w = wrapped as Record<string, unknown>
  if (w.format !== BLIND_INDEX_KEY_FORMAT) {
    throw new EnvelopeFormatError(`wrapped blind-index key: format must be ${BLIND_INDEX_KEY_FORMAT}`)
  }
  const { providerId, keyRef, edk } = w
  if (typeof providerId !== 'string' || providerId.length === 0 || providerId.length > 64) {
    throw new EnvelopeFormatError('wrapped blind-index key: bad providerId')
  }
  if (typeof keyRef !== 'string' || keyRef.length === 0 || keyRef.length > 1024) {
    throw new EnvelopeFormatError('wrapped blind-index key: bad keyRef')
  }
  let bytes: Uint8Array
  try {
    if (typeof edk !== 'string') throw new TypeError('edk')
    bytes = base64urlToBytes(edk)
  } catch (cause) {
    throw new EnvelopeFormatError('wrapped blind-index key: edk is not base64url', { cause })
  }
  if (bytes.length === 0 || bytes.length > MAX_EDK_BYTES) {
    throw new EnvelopeFormatError('wrapped blind-index key: bad edk length')
  }
  return { providerId, keyRef, edk: bytes }
}

async function unwrapRoot(
  providers: readonly KekProvider[],
  wrapped: unknown,
): Promise<{ root: Uint8Array; keyRef: string; provider: KekProvider }> {
  const { providerId, keyRef, edk } = parseWrapped(wrapped)
  const provider = providers.find((p) => p.id === providerId)
  if (provider === undefined) throw new KeyUnavailableError(keyRef, 'no-provider')
  const root = await provider.unwrap(edk, keyRef, WRAP_AAD)
  if (!(root instanceof Uint8Array) || root.length !== ROOT_LENGTH) {
    throw new KekProviderError(provider.id, `unwrap returned ${root?.length ?? 0} bytes, expected 32`)
  }
  return { root, keyRef, provider }
}

function wrappedOf(providerId: string, keyRef: string, edk: Uint8Array): WrappedBlindIndexKey {
  return { format: BLIND_INDEX_KEY_FORMAT, providerId, keyRef, edk: bytesToBase64url(edk) }
}

/**
 * Generates a new blind-index root key (32 random bytes) and wraps it under `provider`'s primary
 * KEK. Store `wrapped` (for example in the application's configuration or a settings table); use
 * `key` now, and {@link openBlindIndexKey} on every later start.
 *
 * A new root key gives every index new values: generate one once per deployment (or per data
 * set), not per process. To move indexes to a new root, see rotation with `blindIndexes`.
 *
 * @hipaa 164.312(a)(2)(iv) supports
 * @nist SC-12 164.312(a)(2)(iv): the blind-index root key is wrapped under a KEK held by a KekProvider (an HSM or KMS in production), never stored in the clear
 * @throws {TypeError} when `provider` is not a KekProvider.
 * @throws {KeyUnavailableError} when the provider has no primary KEK.
 * @throws {KekProviderError} on any other provider failure.
 * @example
 * ```ts
 * import { generateBlindIndexKey, LocalKeyring } from '@safeguards/envelope'
 *
 * const keyring = await LocalKeyring.inMemory()
 * const { key, wrapped } = await generateBlindIndexKey(keyring)
 * JSON.stringify(wrapped) // {"format":"hge-bidx-key/v1","providerId":"local","keyRef":"local:default@v1","edk":"…"}
 * ```
 */
export async function generateBlindIndexKey(
  provider: KekProvider,
  options: GenerateBlindIndexKeyOptions = {},
): Promise<{ key: BlindIndexKey; wrapped: WrappedBlindIndexKey }> {
  providersOf(provider)
  const root = (options.random ?? randomBytes)(ROOT_LENGTH)
  if (!(root instanceof Uint8Array) || root.length !== ROOT_LENGTH) {
    throw new TypeError('"random" expected to return 32 bytes')
  }
  const { keyRef, edk } = await provider.wrap(root, WRAP_AAD)
  return { key: makeBlindIndexKey(root, keyRef), wrapped: wrappedOf(provider.id, keyRef, edk) }
}

/**
 * Unwraps a stored root key once, with the provider named in it (one of `providers`). Keep the
 * returned handle for the life of the process; call `destroy()` on shutdown.
 *
 * @hipaa 164.312(a)(2)(iv) supports
 * @throws {EnvelopeFormatError} when `wrapped` is malformed.
 * @throws {KeyUnavailableError} when no provider has its id (`no-provider`) or the KEK version is
 * unknown, disabled, retired or destroyed.
 * @throws {EnvelopeDecryptionError} when the wrapped key does not authenticate.
 * @throws {KekProviderError} on any other provider failure.
 * @example
 * ```ts
 * import { LocalKeyring, openBlindIndexKey, type WrappedBlindIndexKey } from '@safeguards/envelope'
 *
 * declare const stored: WrappedBlindIndexKey // read from configuration
 * const keyring = await LocalKeyring.open('/var/lib/app/keyring.json', { masterSecret: { env: 'KEYRING_SECRET' } })
 * const key = await openBlindIndexKey(keyring, stored)
 * ```
 */
export async function openBlindIndexKey(
  providers: KekProvider | readonly KekProvider[],
  wrapped: WrappedBlindIndexKey,
): Promise<BlindIndexKey> {
  const { root, keyRef } = await unwrapRoot(providersOf(providers), wrapped)
  return makeBlindIndexKey(root, keyRef)
}

/**
 * Rewraps a stored root key under the provider's current primary KEK (or `options.keyRef`), for
 * KEK rotation: the root key, and so every index value, stays the same. Store the result in place
 * of the old one before retiring the old KEK version.
 *
 * @throws {EnvelopeFormatError} when `wrapped` is malformed.
 * @throws {KeyUnavailableError} when a KEK version cannot be used.
 * @throws {EnvelopeDecryptionError} when the wrapped key does not authenticate.
 * @throws {KekProviderError} on any other provider failure.
 * @example
 * ```ts
 * import { LocalKeyring, rewrapBlindIndexKey, type WrappedBlindIndexKey } from '@safeguards/envelope'
 *
 * declare const stored: WrappedBlindIndexKey
 * const keyring = await LocalKeyring.inMemory()
 * await keyring.rotate()
 * const next = await rewrapBlindIndexKey(keyring, stored) // keyRef: local:default@v2
 * ```
 */
export async function rewrapBlindIndexKey(
  providers: KekProvider | readonly KekProvider[],
  wrapped: WrappedBlindIndexKey,
  options: RewrapBlindIndexKeyOptions = {},
): Promise<WrappedBlindIndexKey> {
  const { root, provider } = await unwrapRoot(providersOf(providers), wrapped)
  try {
    const next = await provider.wrap(
      root,
      WRAP_AAD,
      options.keyRef === undefined ? {} : { keyRef: options.keyRef },
    )
    return wrappedOf(provider.id, next.keyRef, next.edk)
  } finally {
    root.fill(0)
  }
}

/**
 * Makes a root key handle from 32 raw bytes (copied): for tests and known-answer vectors, or for
 * a root key that a secret manager hands out already unwrapped. Production keys come from
 * {@link generateBlindIndexKey} / {@link openBlindIndexKey}, so that a KEK provider holds them.
 *
 * @throws {TypeError} when `bytes` is not a Uint8Array.
 * @throws {RangeError} when it is not 32 bytes long.
 * @example
 * ```ts
 * import { importBlindIndexKey } from '@safeguards/envelope'
 *
 * const key = importBlindIndexKey(new Uint8Array(32).fill(7)) // a test key
 * ```
 */
export function importBlindIndexKey(bytes: Uint8Array): BlindIndexKey {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('"bytes" expected Uint8Array')
  if (bytes.length !== ROOT_LENGTH) {
    throw new RangeError(`"bytes" expected 32 bytes, got ${bytes.length}`)
  }
  return makeBlindIndexKey(bytes.slice(), undefined)
}
