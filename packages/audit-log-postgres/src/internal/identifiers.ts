/**
 * SQL identifier handling. Schema and role names are interpolated into DDL (they cannot be bind
 * parameters), so they are restricted to a conservative pattern first and then quoted anyway.
 */

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/

/** The default schema of the audit tables. */
export const DEFAULT_SCHEMA = 'safeguards_audit'

/**
 * Checks `name` is a lower-case SQL identifier of at most 63 bytes and returns it double-quoted.
 *
 * @throws {TypeError} when `name` is not a string.
 * @throws {RangeError} when it does not match `^[a-z_][a-z0-9_]{0,62}$`.
 */
export function quoteIdentifier(name: unknown, label: string): string {
  if (typeof name !== 'string') throw new TypeError(`"${label}" expected a string`)
  if (!IDENTIFIER.test(name)) {
    throw new RangeError(`"${label}" expected a lower-case SQL identifier matching ^[a-z_][a-z0-9_]{0,62}$`)
  }
  return `"${name}"`
}
