/**
 * The options of `Pkcs11KekProvider.open` and the description of the token it uses.
 *
 * @module
 */
import type { Clock, EventOptions, RandomSource, Secret } from '@safeguards/core'
import type { KeyringUsageOptions } from '@safeguards/envelope'

/** Which token to use: by label (as `softhsm2-util --init-token --label` sets it) or by serial number. */
export type TokenSelector = { label: string; serial?: never } | { serial: string; label?: never }

/**
 * Options of {@link Pkcs11KekProvider.open}.
 *
 * `events` receives the key lifecycle events (`key.created`, `key.rotated`, `key.retired`,
 * `key.disabled`, `key.enabled`, `key.destroyed`) once the change is made in the token and read
 * back, and `key.budget.warning` once per version and provider when its reserved usage reaches
 * `usage.warnAt`. A critical sink is awaited: when it fails, the call rejects with
 * `EventSinkError` (`ERR_EVENT_SINK`) but the change stands (the token already holds it).
 */
export interface Pkcs11ProviderOptions extends EventOptions {
  /** Path of the PKCS#11 library, for example `/usr/lib/softhsm/libsofthsm2.so`. */
  module: string
  /** The token. */
  token: TokenSelector
  /** The user PIN, as a `Secret` so that it never prints. */
  pin: Secret<string>
  /** The key name: `CKA_LABEL` of every version of this KEK (`[A-Za-z0-9._-]`, 1..64 characters). */
  keyName: string
  /** Provider id written into envelopes (default `pkcs11`). */
  providerId?: string
  /** Most sessions open at once, 1..64 (default 4). Each wrap or unwrap holds one exclusively. */
  maxSessions?: number
  /**
   * How long the key state read from the token is trusted before it is read again, in ms
   * (default 5000; 0 reads it on every operation). Lifecycle changes made through this provider
   * apply at once; changes made elsewhere are seen within this time, and a version the token
   * has disabled is refused by the token itself regardless.
   */
  cacheTtlMs?: number
  /** Accept key versions that were imported (not `CKA_ALWAYS_SENSITIVE` / `CKA_NEVER_EXTRACTABLE`). Default false. */
  allowImportedKeys?: boolean
  /**
   * Usage budget per version, as for the envelope's `LocalKeyring`: hard `limit` (default 2^32 wraps,
   * SP 800-38D §8.3 for random IVs), `warnAt` (default 2^23, a `key.budget.warning` event), `policy` at the limit
   * (`throw`, or `rotate`: add and promote a new HSM version, then go on), and the `store` that
   * counts (default in memory, per process: give a shared store, e.g. on PostgreSQL or Redis, when
   * several hosts wrap under the same HSM key).
   */
  usage?: KeyringUsageOptions
  /** Clock for creation times (default the system clock). */
  clock?: Clock
  /** Source of the GCM IVs (default the platform CSPRNG). */
  random?: RandomSource
}

/** Non-secret facts about the token a provider uses. */
export interface TokenDescription {
  label: string
  serialNumber: string
  manufacturer: string
  model: string
}
