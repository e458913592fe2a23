/**
 * Envelope encryption: a fresh 256-bit data key per message, wrapped by one or more KEK providers
 * and bound to the caller's encryption context; a per-message key schedule with key commitment;
 * one framed format for records and streams. The formats are specified in
 * `docs/formats/envelope-v2.md` (written by default) and `docs/formats/envelope-v1.md` (read
 * always, written with `formatVersion: 1`).
 *
 * HIPAA: 164.312(a)(2)(iv) encryption and decryption, 164.312(c)(2) mechanism to authenticate
 * ePHI. Transmission security (164.312(e)) is TLS's job: an envelope protects what is stored.
 *
 * @module
 */
import {
  assertInteger,
  type Clock,
  createEmitter,
  type EventOptions,
  type RandomSource,
  randomBytes,
  SafeguardsError,
  systemClock,
} from '@safeguards/core'
import type { DataKeyCacheOptions } from './data-key-cache.js'
import { InvalidContextError } from './errors.js'
import {
  checkFrameLength,
  DEFAULT_FRAME_LENGTH,
  DEFAULT_MAX_EDKS,
  type EnvelopeInfo,
  type FormatVersion,
  inspectEnvelope,
} from './format.js'
import { type AeadBackendName, getAead } from './internal/aead.js'
import type { EncryptionContext } from './internal/context.js'
import { defaultKdfBackend, type KdfBackendName } from './internal/kdf.js'
import { createDataKeyCache } from './internal/key-cache.js'
import { type EnvelopeConfig, writeVersion } from './internal/message.js'
import { decryptRecord, encryptRecord, rewrapRecord, settle } from './internal/one-shot.js'
import { pooledRandom } from './internal/random-pool.js'
import { decryptTransform, encryptTransform, rewrapTransform } from './internal/streams.js'
import type { KekProvider } from './kek-provider.js'

export type { EncryptionContext } from './internal/context.js'

/**
 * Options of {@link createEnvelope}. `events` receives an `envelope.decrypt.failed` event (core's
 * `SafeguardEvent`) whenever `decrypt`, `reencrypt` or `rewrap` cannot open a ciphertext: the
 * error code, the key references its header names and the names of the context keys supplied,
 * never their values. A critical sink that fails turns the rejection into `EventSinkError`
 * (`ERR_EVENT_SINK`, its `cause` the sink's error).
 */
export interface EnvelopeOptions extends EventOptions {
  /** The KEK provider (for example a {@link LocalKeyring}). Give `provider` or `providers`. */
  provider?: KekProvider
  /**
   * Several providers: encryption wraps the data key with each (all must succeed); decryption
   * tries only the wrapped keys whose provider id is registered here, in header order.
   */
  providers?: readonly KekProvider[]
  /** Plaintext bytes per frame, 4 KiB..16 MiB (default 256 KiB). */
  frameLength?: number
  /**
   * The format version new ciphertexts are written in: 2 (default; `docs/formats/envelope-v2.md`)
   * or 1, for readers that do not know v2 yet (a rolling upgrade: write v1 until every reader is
   * upgraded). Decryption reads both whatever this says.
   */
  formatVersion?: FormatVersion
  /**
   * Context keys whose values are stored in the header (non-sensitive metadata such as `purpose`
   * or `tenant`). Nothing is stored by default: the caller supplies the context again at decrypt.
   */
  storedKeys?: readonly string[]
  /** Most wrapped keys accepted when parsing (default 4, at most 32). */
  maxEdks?: number
  /** AES-GCM backend: `node` (default on Node), `webcrypto` or `noble`. */
  backend?: AeadBackendName
  /** HKDF backend: `node` (default on Node) or `noble`. */
  kdfBackend?: KdfBackendName
  /** Randomness for data keys and message ids (default: the platform CSPRNG). */
  random?: RandomSource
  /** Clock for the events' `at` (default the system clock). */
  clock?: Clock
  /**
   * Opt-in data-key cache (off by default): reuse a data key across messages with the same
   * context, and keep unwrapped data keys for repeated decryptions, within age, message and byte
   * limits. Trades fewer KEK calls for data keys held in memory: see {@link DataKeyCacheOptions}.
   * Streams always use a fresh data key; their decryption may use cached keys.
   */
  dataKeyCache?: DataKeyCacheOptions
}

/** Options of {@link Envelope.rewrap}. */
export interface RewrapOptions {
  /** Wrap under this key reference instead of the provider's primary. */
  to?: string
}

/** Options of {@link Envelope.reencrypt}. */
export interface ReencryptOptions {
  /** The context for the new ciphertext (default: the same context). */
  context?: EncryptionContext
  /**
   * The format version of the new ciphertext (default: the instance's `formatVersion`, 2 unless
   * set): `reencrypt(v1, ctx, { formatVersion: 2 })` moves a v1 ciphertext to v2.
   */
  formatVersion?: FormatVersion
}

/** An envelope encryptor/decryptor bound to its KEK providers. */
export interface Envelope {
  /** Encrypts a record (or any buffer) under a fresh data key, bound to `context`. */
  encrypt(plaintext: Uint8Array, context: EncryptionContext): Promise<Uint8Array>
  /** Decrypts and authenticates; `context` must equal the one used to encrypt. */
  decrypt(ciphertext: Uint8Array, context: EncryptionContext): Promise<Uint8Array>
  /** A Web Streams transform: plaintext in, envelope out, one frame of memory. */
  encryptStream(context: EncryptionContext): TransformStream<Uint8Array, Uint8Array>
  /**
   * A Web Streams transform: envelope in, plaintext out; errors unless a valid final frame
   * arrives. Input chunks are kept by reference (not copied) until their frame is complete, as
   * the Streams contract allows: do not modify a chunk's memory after writing it.
   */
  decryptStream(context: EncryptionContext): TransformStream<Uint8Array, Uint8Array>
  /**
   * Moves a ciphertext to the primary KEK (or `options.to`): rewrites only the header, keeping
   * the format version (v1 stays v1, v2 stays v2; `reencrypt` changes versions).
   */
  rewrap(ciphertext: Uint8Array, context: EncryptionContext, options?: RewrapOptions): Promise<Uint8Array>
  /** The streaming form of {@link Envelope.rewrap}: rewrites the header, passes the body through. */
  rewrapStream(context: EncryptionContext, options?: RewrapOptions): TransformStream<Uint8Array, Uint8Array>
  /** True when some wrapped key in the header is not under its provider's current primary. */
  needsRewrap(ciphertext: Uint8Array): Promise<boolean>
  /**
   * Decrypts and encrypts again under a fresh data key, in this instance's format version (or
   * `options.formatVersion`) and settings: the way to move v1 ciphertexts to v2.
   */
  reencrypt(
    ciphertext: Uint8Array,
    context: EncryptionContext,
    options?: ReencryptOptions,
  ): Promise<Uint8Array>
  /** The header summary, without keys (same as {@link inspectEnvelope}). */
  inspect(ciphertext: Uint8Array): EnvelopeInfo
  /** Drops every data key in the data-key cache, zeroising it (no-op without a cache). */
  clearCache(): void
  /**
   * Clears the data-key cache and stops caching for good (later calls run uncached); stops the
   * cache's expiry timer. Call it when the envelope is retired.
   */
  close(): void
}

function contextKeys(context: EncryptionContext): string[] {
  return typeof context === 'object' && context !== null ? Object.keys(context).sort() : []
}

/** The key references a ciphertext's header names, or none when the header does not parse. */
function headerKeyRefs(ciphertext: unknown, maxEdks: number): string[] {
  try {
    return inspectEnvelope(ciphertext as Uint8Array, { maxEdks }).keys.map((k) => k.keyRef)
  } catch {
    return []
  }
}

function codeOf(e: unknown): string {
  return e instanceof SafeguardsError ? e.code : 'ERR_UNKNOWN'
}

/**
 * Creates an envelope encryptor/decryptor over one or more KEK providers.
 *
 * HIPAA: implements 164.312(a)(2)(iv) encryption and decryption and 164.312(c)(2) (every byte is
 * authenticated); supports 164.312(b) audit controls through `events` (`envelope.decrypt.failed`). Transmission encryption
 * (164.312(e)(2)(ii)) is TLS's job, not this API's. The opt-in data-key cache
 * (`dataKeyCache`) trades KEK calls for data keys held in memory within age, message and byte
 * limits (164.308(a)(1)(ii)(B): a risk-analysis decision; see {@link DataKeyCacheOptions}).
 *
 * @hipaa 164.312(a)(2)(iv) implements
 * @hipaa 164.312(c)(2) implements
 * @hipaa 164.312(c)(1) supports
 * @hipaa 164.312(b) supports
 * @nist SC-13 164.312(a)(2)(iv)
 * @nist SC-28 164.312(a)(2)(iv): fields, files and backups are stored encrypted
 * @nist SC-28(1) 164.312(a)(2)(iv): AES-256-GCM with a data key per message, wrapped by a KEK kept apart from the data
 * @nist SI-7 164.312(c)(2)
 * @nist SI-7 164.312(c)(1)
 * @nist AU-2 164.312(b)
 * @evidence envelope.decrypt.failed events (error code, key references named by the header, context key names), never context values or plaintext
 * @appResponsibility Keep KEKs in an HSM or KMS separate from the data; choose the encryption context (bind record ids); use a FIPS 140-validated module where required.
 * @appResponsibility Protect ePHI in transit with TLS (164.312(e)); an envelope protects what is stored, not the channel.
 * @appResponsibility Pass events (for example the audit log's auditSink) and write them to your audit log.
 * @appResponsibility If you enable the data-key cache, decide its limits from your risk analysis (a memory disclosure exposes cached data keys for up to maxAge), keep core dumps and heap snapshots off those hosts, and close() retired envelopes.
 * @config providers, frame length, stored context keys, crypto backend, data-key cache (maxAge, maxMessages, maxBytes, maxEntries)
 * @verifiedBy packages/envelope/test/envelope.test.ts
 * @verifiedBy packages/envelope/test/vectors.test.ts
 * @verifiedBy packages/envelope/test/format-v2-vectors.test.ts
 * @verifiedBy packages/envelope/test/properties-v2.test.ts
 * @verifiedBy packages/envelope/test/properties.test.ts
 * @verifiedBy packages/envelope/test/streams.test.ts
 * @verifiedBy packages/envelope/test/data-key-cache.test.ts
 * @throws {TypeError} when no provider is given or an option has the wrong type.
 * @throws {RangeError} when a `dataKeyCache` limit is out of range.
 * @throws {EnvelopeLimitError} when `frameLength` is out of range.
 * @example
 * ```ts
 * import { createEnvelope, LocalKeyring } from '@safeguards/envelope'
 *
 * const keyring = await LocalKeyring.open('/var/lib/app/keyring.json')
 * const envelope = createEnvelope({ provider: keyring })
 * const ct = await envelope.encrypt(utf8Encode('123-45-6789'), { table: 'patients', column: 'ssn', id: 'p-1' })
 * const pt = await envelope.decrypt(ct, { table: 'patients', column: 'ssn', id: 'p-1' })
 *
 * // bulk jobs under one context: one wrap per data key and 10,000 messages or 5 minutes
 * const bulk = createEnvelope({ provider: keyring, dataKeyCache: { maxMessages: 10_000 } })
 * for (const note of notes) note.ct = await bulk.encrypt(note.bytes, { table: 'notes', tenant: 't-7' })
 * bulk.close() // zeroises the cached data keys
 * ```
 */
export function createEnvelope(options: EnvelopeOptions): Envelope {
  const cfg = resolveConfig(options)
  const { maxEdks, providers } = cfg
  const emitter = createEmitter(options)
  const clock = options.clock ?? systemClock
  /**
   * Reports a failure to open `ciphertext` (only called when a sink listens), then rethrows it,
   * or throws `EventSinkError` when a critical sink fails.
   */
  const reportFailure = async (
    e: unknown,
    ciphertext: unknown,
    context: EncryptionContext,
  ): Promise<never> => {
    await emitter.emit({
      type: 'envelope.decrypt.failed',
      at: clock.now(),
      source: '@safeguards/envelope',
      outcome: 'failure',
      code: codeOf(e),
      keyRefs: headerKeyRefs(ciphertext, maxEdks),
      contextKeys: contextKeys(context),
    })
    throw e
  }
  /** `open` as is when nothing listens (the hot path pays nothing), else with its failures reported. */
  const reported = <A extends unknown[], T>(
    open: (ciphertext: Uint8Array, context: EncryptionContext, ...rest: A) => Promise<T>,
  ): ((ciphertext: Uint8Array, context: EncryptionContext, ...rest: A) => Promise<T>) =>
    emitter.active
      ? (ciphertext, context, ...rest) =>
          open(ciphertext, context, ...rest).catch((e: unknown) => reportFailure(e, ciphertext, context))
      : open
  const decrypt = reported((ciphertext, context) => settle(() => decryptRecord(cfg, ciphertext, context)))

  return {
    encrypt: (plaintext, context) => settle(() => encryptRecord(cfg, plaintext, context)),
    decrypt,
    encryptStream: (context) => encryptTransform(cfg, context),
    decryptStream: (context) => decryptTransform(cfg, context),
    rewrap: reported((ciphertext, context, opts?: RewrapOptions) =>
      rewrapRecord(cfg, ciphertext, context, opts?.to),
    ),
    rewrapStream: (context, opts) => rewrapTransform(cfg, context, opts?.to),
    async needsRewrap(ciphertext) {
      const info = inspectEnvelope(ciphertext, { maxEdks })
      for (const k of info.keys) {
        const p = providers.find((x) => x.id === k.providerId)
        if (p === undefined) continue
        if ((await p.primary()).keyRef !== k.keyRef) return true
      }
      return false
    },
    async reencrypt(ciphertext, context, opts) {
      const version = opts?.formatVersion ?? writeVersion(cfg)
      if (version !== 1 && version !== 2) throw new TypeError('"formatVersion" expected 1 or 2')
      const pt = await decrypt(ciphertext, context)
      try {
        return await encryptRecord(cfg, pt, opts?.context ?? context, version)
      } finally {
        pt.fill(0)
      }
    },
    inspect: (ciphertext) => inspectEnvelope(ciphertext, { maxEdks }),
    clearCache: () => cfg.cache?.clear(),
    close: () => cfg.cache?.close(),
  }
}

/** Checks the options and resolves the defaults. */
function resolveConfig(options: EnvelopeOptions): EnvelopeConfig {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" expected an object')
  const providers = options.providers ?? (options.provider ? [options.provider] : [])
  if (providers.length === 0) throw new TypeError('"provider" or "providers" is required')
  const ids = new Set<string>()
  for (const p of providers) {
    if (typeof p?.wrap !== 'function' || typeof p.unwrap !== 'function') {
      throw new TypeError('"providers" must implement KekProvider')
    }
    if (ids.has(p.id)) throw new TypeError('"providers" ids must be unique')
    ids.add(p.id)
  }
  const frameLength = options.frameLength ?? DEFAULT_FRAME_LENGTH
  checkFrameLength(frameLength)
  const maxEdks = options.maxEdks ?? DEFAULT_MAX_EDKS
  assertInteger(maxEdks, 'maxEdks', 1, 32)
  if (providers.length > maxEdks) throw new RangeError('"providers" exceeds maxEdks')
  const formatVersion = options.formatVersion ?? 2
  if (formatVersion !== 1 && formatVersion !== 2) throw new TypeError('"formatVersion" expected 1 or 2')
  const storedKeys = [...(options.storedKeys ?? [])]
  for (const k of storedKeys) {
    if (typeof k !== 'string' || k.length === 0 || k.startsWith('hge:')) {
      throw new InvalidContextError('storedKeys must be non-empty strings without the hge: prefix')
    }
  }
  return {
    providers,
    aead: getAead(options.backend),
    kdf: options.kdfBackend ?? defaultKdfBackend,
    frameLength,
    storedKeys,
    maxEdks,
    random: options.random ?? pooledRandom(randomBytes),
    cache: createDataKeyCache(options.dataKeyCache, providers),
    formatVersion,
  }
}
