/**
 * App data carried by a session (a tenant, a CSRF secret, "MFA passed at"), checked by a schema
 * the app provides, size-capped, and stored with the session record as JSON text.
 *
 * The schema is any [Standard Schema](https://standardschema.dev) v1 validator: zod 4, valibot
 * and ArkType schemas are ones as they are. Data is validated when it is written (`create`,
 * `update`) and parsed when it is read; a deployment that narrows its schema should migrate or
 * version the data it already stored. Data never reaches events, errors or logs: error messages
 * name the failing paths and sizes, never values.
 *
 * @module
 */
import { assertInteger, utf8Encode } from '@safeguards/core'
import { SessionConfigError, SessionDataError, SessionStoreUnavailableError } from './errors.js'

/** One problem a Standard Schema validator reports. */
export interface SessionDataIssue {
  /** The validator's message (it may quote the value: the manager never forwards it). */
  readonly message: string
  /** Where in the data the problem is. */
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined
}

/** The result of a Standard Schema validation. */
export type SessionDataResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<SessionDataIssue> }

/**
 * A Standard Schema v1 validator (the `~standard` property zod 4, valibot and ArkType schemas
 * carry). Its output type is the type of `session.data`.
 */
export interface SessionDataSchema<Output = unknown> {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    readonly validate: (value: unknown) => SessionDataResult<Output> | Promise<SessionDataResult<Output>>
    readonly types?: { readonly input: unknown; readonly output: Output } | undefined
  }
}

/** The data type a schema produces. */
export type SessionDataOf<S> = S extends SessionDataSchema<infer O> ? O : unknown

/** The `data` option of `createSessionManager`. */
export interface SessionDataOptions<S extends SessionDataSchema = SessionDataSchema> {
  /** The validator every value passes before it is stored. */
  schema: S
  /**
   * The cap on the stored JSON text, in UTF-8 bytes (default 4096, at most 65,536). Session data
   * is read on every request: keep it to identifiers and small flags, never PHI.
   */
  maxBytes?: number
}

/** Encodes and decodes session data for one manager. */
export interface SessionDataCodec {
  /** Validates `value` and returns its JSON text, or `undefined` for no data. */
  encode(value: unknown): Promise<string | undefined>
  /** Parses stored JSON text (`undefined` when the session has none). */
  decode(text: string | undefined): unknown
}

/** The default cap on session data, in UTF-8 bytes of JSON. */
export const DEFAULT_SESSION_DATA_MAX_BYTES = 4096
const MAX_BYTES_LIMIT = 65_536

// Stored text the manager did not write (a corrupted or foreign store entry) fails closed.
const decode = (text: string | undefined): unknown => {
  if (text === undefined) return undefined
  try {
    return JSON.parse(text)
  } catch {
    throw new SessionStoreUnavailableError('touch (unreadable session data)')
  }
}

const pathOf = (issue: SessionDataIssue): string =>
  (issue.path ?? []).map((p) => String(typeof p === 'object' && p !== null ? p.key : p)).join('.') || '(root)'

/**
 * Builds the codec for a manager's `data` option; without one, any data is refused.
 *
 * HIPAA: 164.312(a)(1) access control (what a session carries is checked before it is kept).
 *
 * @throws {SessionConfigError} when `schema` is not a Standard Schema or `maxBytes` is out of range.
 * @example
 * ```ts
 * const codec = sessionDataCodec({ schema: z.object({ tenant: z.string() }) })
 * await codec.encode({ tenant: 't-1' }) // '{"tenant":"t-1"}'
 * ```
 */
export function sessionDataCodec(options: SessionDataOptions | undefined): SessionDataCodec {
  if (options === undefined) {
    return {
      async encode(value: unknown): Promise<string | undefined> {
        if (value === undefined) return undefined
        throw new SessionConfigError('"data" needs the manager option "data.schema"')
      },
      decode,
    }
  }
  const validate = options.schema?.['~standard']?.validate
  if (typeof validate !== 'function')
    throw new SessionConfigError('"data.schema" expected a Standard Schema (zod 4, valibot, ArkType)')
  const maxBytes = options.maxBytes ?? DEFAULT_SESSION_DATA_MAX_BYTES
  try {
    assertInteger(maxBytes, 'data.maxBytes', 2, MAX_BYTES_LIMIT)
  } catch {
    throw new SessionConfigError(`"data.maxBytes" expected an integer from 2 to ${MAX_BYTES_LIMIT}`)
  }
  return {
    async encode(value: unknown): Promise<string | undefined> {
      if (value === undefined) return undefined
      const result = await validate(value)
      if (result.issues !== undefined)
        throw new SessionDataError(
          `session data failed its schema at ${result.issues.map(pathOf).join(', ')}`,
        )
      const text = JSON.stringify(result.value)
      if (text === undefined) throw new SessionDataError('session data has no JSON form')
      const size = utf8Encode(text).length
      if (size > maxBytes)
        throw new SessionDataError(`session data is ${size} bytes, over the ${maxBytes}-byte cap`)
      return text
    },
    decode,
  }
}
