/**
 * The `postgres://…[?schema=NAME]` form of a store option (`--log`, `--findings`,
 * `--subject-keys`): recognising it and taking the `schema` parameter off before the URL goes to
 * the driver. Free of any database driver, so a command can test a value without loading one.
 *
 * @module
 */
import { UsageError } from '../errors.js'

/**
 * True for `postgres://` and `postgresql://` URLs.
 *
 * @example
 * ```ts
 * isPostgresUrl('postgres://db/audit?stream=ehr') // true
 * ```
 */
export function isPostgresUrl(spec: string): boolean {
  return /^postgres(ql)?:\/\//i.test(spec)
}

/** A PostgreSQL store option split into the driver's connection string and the schema, if named. */
export interface PostgresSpec {
  /** The URL without its `schema` parameter. */
  connectionString: string
  /** The `schema` parameter, when the URL has one. */
  schema?: string
}

/**
 * Splits a `postgres://…[?schema=NAME]` value of the option `flag` (named in the error).
 *
 * @throws {UsageError} when the value is not a valid URL.
 * @example
 * ```ts
 * parsePostgresSpec('postgres://db/app?schema=ehr', '--findings')
 * // { connectionString: 'postgres://db/app', schema: 'ehr' }
 * ```
 */
export function parsePostgresSpec(spec: string, flag: string): PostgresSpec {
  let url: URL
  try {
    url = new URL(spec)
  } catch (e) {
    throw new UsageError(`${flag} is not a valid URL`, { cause: e })
  }
  const schema = url.searchParams.get('schema')
  url.searchParams.delete('schema')
  return schema === null ? { connectionString: url.toString() } : { connectionString: url.toString(), schema }
}
