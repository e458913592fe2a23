/**
 * Typed errors of `@safeguards/audit-log`.
 *
 * Following jose's `JOSEError` pattern: one stable code union, one class per failure (a static `code`
 * and `category` on `CodedError` of `@safeguards/core`), safe messages (codes, counts, field paths
 * and sequence numbers; never event values, keys or PHI).
 *
 * A failed verification is not an error: {@link verifyLog} returns a report with findings. Errors
 * are for misuse (a malformed event), for a store that cannot be used as it is (corrupt tail, lock
 * timeout, I/O) and for tampering met on a path that cannot return a report (opening a log whose
 * tail was changed).
 *
 * HIPAA: 164.312(b) audit controls, including the trail's own integrity (every refusal carries a code that
 * can itself be logged).
 *
 * @module
 */
import { CodedError, type ErrorCategory } from '@safeguards/core'

/** The {@link ErrorCategory} of each code this package's base class covers: the one table of its codes. */
const categories = {
  ERR_AUDIT_INVALID_EVENT: 'invalid-argument',
  ERR_AUDIT_NON_CANONICAL: 'invalid-input',
  ERR_AUDIT_CONFLICT: 'conflict',
  ERR_AUDIT_CORRUPT: 'integrity',
  ERR_AUDIT_STORE: 'io',
  ERR_AUDIT_LOCK_TIMEOUT: 'unavailable',
  ERR_AUDIT_CLOSED: 'conflict',
  ERR_AUDIT_KEY: 'invalid-argument',
  ERR_AUDIT_CHECKPOINT: 'integrity',
  ERR_AUDIT_UNKNOWN_KEY: 'integrity',
  ERR_AUDIT_CHECKPOINT_SIGNATURE: 'integrity',
} as const

/** Codes raised by `@safeguards/audit-log`. Stable: adding a code is minor, removing one is major. */
export type AuditErrorCode = keyof typeof categories

/** Where a field is: its pointer, or `(root)`. */
function at(path: string): string {
  return path === '' ? '(root)' : path
}

/**
 * The base of this package's coded errors (not exported): it holds the {@link ErrorCategory} of
 * each code, so that each class declares its code only.
 *
 * @internal
 */
class AuditCodedError<C extends AuditErrorCode> extends CodedError<C> {
  static override readonly categories: typeof categories = categories
}

/**
 * An event lacks a required field, has a field of the wrong type, an unknown field, or a string
 * that is not identifier-shaped (free text is refused so PHI stays out of the log).
 *
 * @example
 * ```ts
 * await log.append({ type: 'rest' }) // throws AuditEventError: "agents" is required
 * ```
 */
export class AuditEventError extends AuditCodedError<'ERR_AUDIT_INVALID_EVENT'> {
  static override readonly code = 'ERR_AUDIT_INVALID_EVENT'
  /** RFC 6901 JSON Pointer of the offending field inside the event. */
  readonly path: string
  /** @param message - names the field, never its value; @param path - pointer to it. */
  constructor(message: string, path: string) {
    super(`${message} at ${at(path)}`)
    this.path = path
  }
}

/**
 * The input is not canonical I-JSON: -0, NaN, ±Infinity, a float where an integer belongs, a lone
 * surrogate, a duplicate member name (JSON text), or an integer beyond ±(2^53-1). Nothing is stored.
 *
 * @example
 * ```ts
 * await log.append('{"type":"rest","type":"login"}') // throws NonCanonicalInputError
 * ```
 */
export class NonCanonicalInputError extends AuditCodedError<'ERR_AUDIT_NON_CANONICAL'> {
  static override readonly code = 'ERR_AUDIT_NON_CANONICAL'
  /** RFC 6901 JSON Pointer (object input) or `@<offset>` (JSON text) of the problem. */
  readonly path: string
  /** @param message - the rule broken; @param path - where. */
  constructor(message: string, path: string, options?: { cause?: unknown }) {
    super(`${message} at ${at(path)}`, options)
    this.path = path
  }
}

/**
 * The store's head is not the one the writer expected: another writer appended first. The writer
 * catches up and retries; callers of {@link AuditStore.append} see it only when they drive a store
 * directly.
 *
 * @example
 * ```ts
 * try { await store.append(staleHead, records) } catch (e) {
 *   if (isSafeguardsError(e, 'ERR_AUDIT_CONFLICT')) { ... re-read the head and rebuild ... }
 * }
 * ```
 */
export class AuditConflictError extends AuditCodedError<'ERR_AUDIT_CONFLICT'> {
  static override readonly code = 'ERR_AUDIT_CONFLICT'
  /** The size (next sequence number) the store actually has. */
  readonly actualSize: number
  /** @param expectedSize - what the writer assumed; @param actualSize - what the store has. */
  constructor(expectedSize: number, actualSize: number) {
    super(`log head moved: expected size ${expectedSize}, store has ${actualSize}`)
    this.actualSize = actualSize
  }
}

/**
 * The stored log is damaged in a way a writer must not paper over: a complete line at the tail that
 * is not a valid record, a chain break at the tail, or a checkpoint file that does not parse. The log
 * fails closed; run `verifyLog` to locate the damage.
 *
 * @example
 * ```ts
 * await openFileStore({ dir }) // throws AuditCorruptionError when the last line was altered
 * ```
 */
export class AuditCorruptionError extends AuditCodedError<'ERR_AUDIT_CORRUPT'> {
  static override readonly code = 'ERR_AUDIT_CORRUPT'
  /** The sequence number where the damage was found, when known. */
  readonly seq: number | undefined
  /** @param message - what is wrong (no record contents); @param seq - where, if known. */
  constructor(message: string, seq?: number) {
    super(seq === undefined ? message : `${message} at seq ${seq}`)
    this.seq = seq
  }
}

/**
 * The store failed (I/O, connection, permissions). The append was not acknowledged; whether a record
 * reached disk is decided by the next open, which keeps only complete, chained records.
 *
 * @example
 * ```ts
 * await openFileStore({ dir: '/read-only' }) // throws AuditStoreError
 * ```
 */
export class AuditStoreError extends AuditCodedError<'ERR_AUDIT_STORE'> {
  static override readonly code = 'ERR_AUDIT_STORE'
}

/**
 * The inter-process lock of a file log could not be taken in time (another process holds it).
 *
 * @example
 * ```ts
 * await openFileStore({ dir, lockTimeoutMs: 10 }) // may throw AuditLockTimeoutError under load
 * ```
 */
export class AuditLockTimeoutError extends AuditCodedError<'ERR_AUDIT_LOCK_TIMEOUT'> {
  static override readonly code = 'ERR_AUDIT_LOCK_TIMEOUT'
  /**
   * @param timeoutMs - how long the writer waited.
   * @param options - the cause: the `LockTimeoutError` of `@safeguards/core`, which names the holder.
   */
  constructor(timeoutMs: number, options?: { cause?: unknown }) {
    const holder = holderOf(options?.cause)
    const by = holder === undefined ? '' : ` (held by pid ${holder.pid} on ${holder.host})`
    super(`log lock not acquired within ${timeoutMs} ms${by}`, options)
  }
}

/** The lock holder a core `LockTimeoutError` names, if `cause` is one that does. */
function holderOf(cause: unknown): { pid: number; host: string } | undefined {
  if (typeof cause !== 'object' || cause === null || !('holder' in cause)) return undefined
  const h = cause.holder
  if (typeof h !== 'object' || h === null || !('pid' in h) || !('host' in h)) return undefined
  return typeof h.pid === 'number' && typeof h.host === 'string' ? { pid: h.pid, host: h.host } : undefined
}

/**
 * The log or store was closed; nothing more can be appended through it.
 *
 * @example
 * ```ts
 * await log.close(); await log.append(event) // throws AuditClosedError
 * ```
 */
export class AuditClosedError extends AuditCodedError<'ERR_AUDIT_CLOSED'> {
  static override readonly code = 'ERR_AUDIT_CLOSED'
  constructor() {
    super('audit log is closed')
  }
}

/**
 * A signing or verification key is unusable: not Ed25519, missing its key id, a private key where a
 * public one was expected, or a key id outside its validity window.
 *
 * @example
 * ```ts
 * await createKeyring([{ kid: 'a', publicJwk: rsaJwk }]) // throws AuditKeyError
 * ```
 */
export class AuditKeyError extends AuditCodedError<'ERR_AUDIT_KEY'> {
  static override readonly code = 'ERR_AUDIT_KEY'
}

/** The codes a {@link CheckpointError} (or one of its subclasses) carries. */
export type CheckpointErrorCode =
  | 'ERR_AUDIT_CHECKPOINT'
  | 'ERR_AUDIT_UNKNOWN_KEY'
  | 'ERR_AUDIT_CHECKPOINT_SIGNATURE'

/**
 * A checkpoint failed verification where a report cannot be returned (for example
 * `Keyring.verify` or a proof bundle check). The `code` says why, and is the only contract
 * (messages are for people and may change): `ERR_AUDIT_CHECKPOINT` for a malformed checkpoint (JWS,
 * header or body), `ERR_AUDIT_UNKNOWN_KEY` ({@link UnknownCheckpointKeyError}) for a key id the
 * keyring does not hold, `ERR_AUDIT_CHECKPOINT_SIGNATURE` ({@link CheckpointSignatureError}) for a
 * signature that does not verify or a key used outside its validity window.
 *
 * @example
 * ```ts
 * await keyring.verify('{"payload":"e30","protected":"e30","signature":""}') // throws CheckpointError
 * ```
 */
export class CheckpointError extends AuditCodedError<CheckpointErrorCode> {
  static override readonly code: CheckpointErrorCode = 'ERR_AUDIT_CHECKPOINT'
}

/**
 * A checkpoint names a key id (`kid`) that the keyring does not hold: signed by a key the verifier
 * was not given, or forged.
 *
 * @example
 * ```ts
 * await keyring.verify(jwsSignedByAnotherKey) // throws UnknownCheckpointKeyError (ERR_AUDIT_UNKNOWN_KEY)
 * ```
 */
export class UnknownCheckpointKeyError extends CheckpointError {
  static override readonly code = 'ERR_AUDIT_UNKNOWN_KEY'
  declare readonly code: 'ERR_AUDIT_UNKNOWN_KEY'
  /** @param kid - the key id the checkpoint names. */
  constructor(kid: string) {
    super(`unknown key id ${kid}`)
  }
}

/**
 * A checkpoint's signature does not verify under the key its `kid` names, or its timestamp lies
 * outside that key's validity window.
 *
 * @example
 * ```ts
 * await keyring.verify(jwsWithAFlippedSignatureBit) // throws CheckpointSignatureError (ERR_AUDIT_CHECKPOINT_SIGNATURE)
 * ```
 */
export class CheckpointSignatureError extends CheckpointError {
  static override readonly code = 'ERR_AUDIT_CHECKPOINT_SIGNATURE'
  declare readonly code: 'ERR_AUDIT_CHECKPOINT_SIGNATURE'
}
