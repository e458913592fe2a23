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

/** The error codes raised by `@safeguards/core`. Stable: adding a code is a minor change, removing one is major. */
export type CoreErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_ENCODING'
  | 'ERR_CANONICAL_JSON'
  | 'ERR_JSON_PARSE'
  | 'ERR_UNSUPPORTED_RUNTIME'

/** Options accepted by every {@link SafeguardsError} constructor. */
export interface SafeguardsErrorOptions {
  /** The underlying error. Kept for debugging; never serialised by {@link SafeguardsError.toJSON}. */
  cause?: unknown
}

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

  /**
   * @param code - the stable code.
   * @param message - a safe, human-readable message (no secrets, tokens or PHI).
   * @param options - optional `cause`.
   */
  constructor(code: Code, message: string, options?: SafeguardsErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.name = new.target.name
  }

  /** A serialisable form with `name`, `code` and `message` only: no stack, no cause. */
  toJSON(): { name: string; code: Code; message: string } {
    return { name: this.name, code: this.code, message: this.message }
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
export class InvalidArgumentError extends SafeguardsError<'ERR_INVALID_ARGUMENT'> {
  /** @param message - names the argument, never its value. */
  constructor(message: string, options?: SafeguardsErrorOptions) {
    super('ERR_INVALID_ARGUMENT', message, options)
  }
}

/**
 * Text could not be decoded: malformed hex, base64, base64url or UTF-8.
 *
 * @example
 * ```ts
 * hexToBytes('zz') // throws EncodingError (code ERR_ENCODING)
 * ```
 */
export class EncodingError extends SafeguardsError<'ERR_ENCODING'> {
  /** @param message - names the encoding and the position, never the input. */
  constructor(message: string, options?: SafeguardsErrorOptions) {
    super('ERR_ENCODING', message, options)
  }
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
    super('ERR_JSON_PARSE', `${message} at offset ${offset}`)
    this.offset = offset
  }
}

/**
 * True when `error` is a {@link SafeguardsError}, optionally with the given code. Works across
 * duplicated copies of the package (checks the shape, not only `instanceof`).
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
  if (error instanceof SafeguardsError) return code === undefined || error.code === code
  if (typeof error !== 'object' || error === null || !(error instanceof Error)) return false
  const c = (error as { code?: unknown }).code
  return typeof c === 'string' && c.startsWith('ERR_') && (code === undefined || c === code)
}
