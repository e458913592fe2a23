/**
 * Typed errors for the Safeguards SDK.
 *
 * Every error the SDK throws on purpose is a {@link SafeguardsError}: it has a stable, documented
 * `code` (part of the public API: match on it, never on `message`) and a safe message that never
 * contains secrets, tokens or PHI. Packages add subclasses with codes of their own, following the
 * pattern of jose's `JOSEError` (`panva/jose: src/util/errors.ts`).
 *
 * HIPAA: supports 164.312(b) audit controls (errors carry codes that can be recorded without
 * leaking patient data) and 164.312(c)(1) integrity (tamper findings are distinguishable by code).
 *
 * @module
 */
import { errorCode } from './error-code.js'

/** The error codes raised by `@safeguards/core`. Stable: adding a code is a minor change, removing one is major. */
export type CoreErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_ENCODING'
  | 'ERR_CANONICAL_JSON'
  | 'ERR_JSON_PARSE'
  | 'ERR_UNSUPPORTED_RUNTIME'
  | 'ERR_LOCK_TIMEOUT'
  | 'ERR_LOCK_LOST'
  | 'ERR_IO'
  | 'ERR_EVENT_SINK'
  | 'ERR_ALERT_DELIVERY'

/**
 * What kind of failure an error is, so that a caller (an HTTP handler, the CLI, a job runner) can
 * react without knowing every code. Stable like the codes.
 *
 * | category | meaning | typical reaction |
 * | --- | --- | --- |
 * | `invalid-argument` | the caller passed a wrong argument or configuration | fix the call (HTTP 500, CLI exit 2) |
 * | `invalid-input` | data to be parsed is malformed (not evidence of tampering by itself) | reject the input (HTTP 400, CLI exit 2) |
 * | `integrity` | authentication or an integrity check failed: tampering, a wrong key, corruption | treat as an incident (CLI exit 1) |
 * | `key-unavailable` | a key, token, PIN or secret needed is not available | restore access to the key (CLI exit 3) |
 * | `conflict` | the current state forbids the operation (a lifecycle rule, a concurrent change, a lost lock) | re-read and decide |
 * | `limit` | a configured limit was reached (usage budget, size, concurrency) | raise the limit or rotate |
 * | `unavailable` | a dependency did not answer in time or is down (a store, a lock holder) | retry later; fail closed meanwhile |
 * | `io` | reading or writing a file or a store failed | check the path, permissions, disk |
 */
export type ErrorCategory =
  | 'invalid-argument'
  | 'invalid-input'
  | 'integrity'
  | 'key-unavailable'
  | 'conflict'
  | 'limit'
  | 'unavailable'
  | 'io'

/** Options accepted by every {@link SafeguardsError} constructor. */
export interface SafeguardsErrorOptions {
  /** The underlying error. Kept for debugging; never serialised by {@link SafeguardsError.toJSON}. */
  cause?: unknown
  /** The failure's {@link ErrorCategory}; subclasses set it (default `invalid-argument`). */
  category?: ErrorCategory
}

/**
 * The brand every {@link SafeguardsError} carries. A registered symbol (`Symbol.for`), so errors from
 * another copy of this package (two versions in one `node_modules`, another realm) are recognised.
 */
const BRAND: unique symbol = Symbol.for('@safeguards/core/error')

/**
 * Base class of every error the SDK throws on purpose.
 *
 * The `code` is stable and machine-readable; the `message` is safe to log (it carries codes,
 * counts and argument names, never values that might be secrets or PHI).
 *
 * HIPAA: 164.312(b) audit controls (a stable code can be written to an audit record as is).
 *
 * @example
 * ```ts
 * import { SafeguardsError } from '@safeguards/core'
 *
 * try {
 *   parseJson('{"a":1,"a":2}')
 * } catch (e) {
 *   if (e instanceof SafeguardsError && e.code === 'ERR_JSON_PARSE') {
 *     // reject the request with a 400, log e.code
 *   }
 * }
 * ```
 */
export class SafeguardsError<Code extends string = string> extends Error {
  /** Stable machine-readable code, for example `ERR_JSON_PARSE`. */
  readonly code: Code
  /** What kind of failure this is (stable, like the code). */
  readonly category: ErrorCategory

  /**
   * @param code - the stable code.
   * @param message - a safe, human-readable message (no secrets, tokens or PHI).
   * @param options - optional `cause` and `category`.
   */
  constructor(code: Code, message: string, options?: SafeguardsErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.category = options?.category ?? 'invalid-argument'
    this.name = new.target.name
    Object.defineProperty(this, BRAND, { value: true })
  }

  /** A serialisable form with `name`, `code` and `message` only: no stack, no cause. */
  toJSON(): { name: string; code: Code; category: ErrorCategory; message: string } {
    return { name: this.name, code: this.code, category: this.category, message: this.message }
  }
}

/**
 * The jose-style base of most SDK errors: a subclass is data, not code. It declares its stable
 * `code` as a static and inherits a `(message, options?)` constructor; its {@link ErrorCategory}
 * comes from the `categories` table of the package's base class, one table per package:
 *
 * ```ts
 * // the one table of the package's codes: the code union is its keys
 * const categories = {
 *   ERR_ENVELOPE_FORMAT: 'invalid-input',
 * } as const
 * export type EnvelopeErrorCode = keyof typeof categories
 * export class EnvelopeError<C extends EnvelopeErrorCode = EnvelopeErrorCode> extends CodedError<C> {
 *   // checked against `Readonly<Record<string, ErrorCategory>>`: a wrong category fails to compile
 *   static override readonly categories: typeof categories = categories
 * }
 * export class EnvelopeFormatError extends EnvelopeError<'ERR_ENVELOPE_FORMAT'> {
 *   static override readonly code = 'ERR_ENVELOPE_FORMAT'
 * }
 * ```
 *
 * A subclass may still set `static override readonly category` itself. A subclass whose message is
 * fixed (one message for every failure, so it is no oracle) or built from fields declares its own
 * constructor instead.
 *
 * @example
 * ```ts
 * throw new EnvelopeFormatError('truncated header')
 * ```
 */
export class CodedError<Code extends string = string> extends SafeguardsError<Code> {
  /** The stable code of every instance of this class. */
  static readonly code: string = 'ERR_UNSPECIFIED'
  /** The category of each code of a package: set once, on the package's base class. */
  static readonly categories: Readonly<Record<string, ErrorCategory>> = {}
  /** The category of every instance of this class: its code's entry in `categories`, else `invalid-argument`. */
  static get category(): ErrorCategory {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass whose code and table are read
    const { code, categories } = this
    return Object.hasOwn(categories, code) ? (categories[code] as ErrorCategory) : 'invalid-argument'
  }
  /** @param message - safe, human-readable (no secrets, tokens or PHI); @param options - the cause. */
  constructor(message: string, options?: { cause?: unknown }) {
    const kind = new.target as unknown as { code: Code; category: ErrorCategory }
    super(kind.code, message, { ...options, category: kind.category })
  }
}

/**
 * A caller passed an argument of the wrong shape or range to a core function. Arguments of the
 * wrong JavaScript type throw `TypeError` and wrong lengths or ranges throw `RangeError`, as in
 * noble; this class is for everything else that is the caller's mistake.
 *
 * @example
 * ```ts
 * throw new InvalidArgumentError('"length" must be a positive integer')
 * ```
 */
export class InvalidArgumentError extends CodedError<'ERR_INVALID_ARGUMENT'> {
  static override readonly code = 'ERR_INVALID_ARGUMENT'
}

/**
 * Text could not be decoded: malformed hex, base64, base64url or UTF-8.
 *
 * @example
 * ```ts
 * hexToBytes('zz') // throws EncodingError (code ERR_ENCODING)
 * ```
 */
export class EncodingError extends CodedError<'ERR_ENCODING'> {
  static override readonly code = 'ERR_ENCODING'
  static override readonly category: ErrorCategory = 'invalid-input'
}

/**
 * A value cannot be represented as I-JSON (RFC 7493) and therefore has no RFC 8785 canonical form:
 * NaN, Infinity, an integer beyond 2^53-1, a lone surrogate, `undefined`, a function, a BigInt, a
 * cycle, or an object that is not a plain object or array.
 *
 * @example
 * ```ts
 * canonicalize({ n: Number.NaN }) // throws CanonicalJsonError (code ERR_CANONICAL_JSON)
 * ```
 */
export class CanonicalJsonError extends SafeguardsError<'ERR_CANONICAL_JSON'> {
  /** JSON Pointer (RFC 6901) of the offending value. */
  readonly path: string
  /** @param message - describes the problem; @param path - RFC 6901 pointer to it. */
  constructor(message: string, path: string) {
    super('ERR_CANONICAL_JSON', `${message} at ${path === '' ? '(root)' : path}`)
    this.path = path
  }
}

/**
 * JSON text is malformed or breaks an I-JSON rule (duplicate keys, lone surrogates, integers
 * beyond 2^53-1, excessive nesting or size).
 *
 * @example
 * ```ts
 * parseJson('{"a":1,"a":2}') // throws JsonParseError (code ERR_JSON_PARSE), offset 7
 * ```
 */
export class JsonParseError extends SafeguardsError<'ERR_JSON_PARSE'> {
  /** Offset in UTF-16 code units where the problem was found. */
  readonly offset: number
  /** @param message - describes the problem; @param offset - where it is. */
  constructor(message: string, offset: number) {
    super('ERR_JSON_PARSE', `${message} at offset ${offset}`, { category: 'invalid-input' })
    this.offset = offset
  }
}

/**
 * The inter-process lock was not acquired in time: another live process holds it. A lock is never
 * broken for its age alone, so a holder that is alive but stopped (or slow) makes waiters time out
 * here instead of both writing. `holder` describes the holder as its lock file records it (process
 * id, host and when it took the lock), or is `undefined` when the lock file names no holder.
 *
 * @example
 * ```ts
 * try {
 *   await withFileLock('/var/lib/app/keyring.json.lock', update)
 * } catch (e) {
 *   if (isSafeguardsError(e, 'ERR_LOCK_TIMEOUT')) console.error(e.message) // names pid and host
 * }
 * ```
 */
export class LockTimeoutError extends SafeguardsError<'ERR_LOCK_TIMEOUT'> {
  /** The holder recorded in the lock file, when it could be read. */
  readonly holder: { pid: number; host: string; acquiredAt: string } | undefined
  /** The lock file, when known. */
  readonly path: string | undefined
  /**
   * @param timeoutMs - how long the caller waited; @param holder - the recorded holder;
   * @param path - the lock file.
   */
  constructor(timeoutMs: number, holder?: { pid: number; host: string; acquiredAt: string }, path?: string) {
    const where = path === undefined ? 'lock' : `lock ${path}`
    super(
      'ERR_LOCK_TIMEOUT',
      holder === undefined
        ? `${where} not acquired within ${timeoutMs} ms; the lock file names no holder (left by an older version or a crash while it was being created): remove it once no process uses it`
        : `${where} not acquired within ${timeoutMs} ms: held by pid ${holder.pid} on ${holder.host} since ${holder.acquiredAt} (a lock is broken only when its holder is provably dead)`,
      { category: 'unavailable' },
    )
    this.holder = holder
    this.path = path
  }
}

/**
 * A lock this process held is no longer its own (its lock file was removed or replaced), so the
 * operation it protected is abandoned before it writes anything.
 *
 * @example
 * ```ts
 * await withFileLock(path, async (lock) => {
 *   const next = compute()
 *   lock.assertHeld() // throws LockLostError instead of writing over another holder's work
 *   await save(next)
 * })
 * ```
 */
export class LockLostError extends SafeguardsError<'ERR_LOCK_LOST'> {
  constructor() {
    super('ERR_LOCK_LOST', 'the lock is no longer held by this process; nothing was written', {
      category: 'conflict',
    })
  }
}

/**
 * A file-system operation failed. `path` names the file and `operation` what was attempted
 * (`read`, `write`, `create`, `rename`, `lock`…); `cause` keeps the system error (its `code`, for
 * example `ENOENT` or `EACCES`, is in `syscallCode`).
 *
 * @example
 * ```ts
 * throw new IoError('write', '/var/lib/app/keyring.json', { cause: e })
 * ```
 */
export class IoError extends SafeguardsError<'ERR_IO'> {
  /** What was attempted. */
  readonly operation: string
  /** The path it was attempted on. */
  readonly path: string
  /** The system error code (`ENOENT`, `EACCES`, `ENOSPC`…), when there is one. */
  readonly syscallCode: string | undefined
  /** @param operation - what was attempted; @param path - on which file; @param options - the cause. */
  constructor(operation: string, path: string, options?: SafeguardsErrorOptions) {
    const syscallCode = errorCode(options?.cause)
    super('ERR_IO', `cannot ${operation} ${path}${syscallCode ? ` (${syscallCode})` : ''}`, {
      ...options,
      category: 'io',
    })
    this.operation = operation
    this.path = path
    this.syscallCode = syscallCode
  }
}

/**
 * True when `error` is an error the SDK threw on purpose (a {@link SafeguardsError}), optionally with
 * the given code. SDK errors are recognised by a brand (a registered symbol), so this works across
 * duplicated copies of the package and never mistakes another library's error (Node's own
 * `ERR_INVALID_ARG_TYPE`, say) for one of ours.
 *
 * @example
 * ```ts
 * if (isSafeguardsError(e, 'ERR_JSON_PARSE')) return badRequest(e.code)
 * ```
 */
export function isSafeguardsError<C extends string = string>(
  error: unknown,
  code?: C,
): error is SafeguardsError<C> {
  if (typeof error !== 'object' || error === null) return false
  const e = error as { [BRAND]?: unknown; code?: unknown }
  if (e[BRAND] !== true || typeof e.code !== 'string') return false
  return code === undefined || e.code === code
}
