/**
 * SQL of the subject-key store: the identifier check (schema names are interpolated into DDL, so
 * they are restricted first and quoted anyway), the driver-error mapping and the migration text.
 */
import { errorCode } from '@safeguards/core/node'
import { SubjectKeyPgStoreError } from '../errors.js'

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/

/** The default schema of the subject-key tables. */
export const DEFAULT_SCHEMA = 'safeguards_envelope'

/**
 * Checks `name` is a lower-case SQL identifier and returns it double-quoted.
 *
 * @throws {TypeError} when `name` is not a string.
 * @throws {RangeError} when it does not match `^[a-z_][a-z0-9_]{0,62}$`.
 */
export function quoteIdentifier(name: unknown, label: string): string {
  if (typeof name !== 'string') throw new TypeError(`"${label}" expected a string`)
  if (!IDENTIFIER.test(name))
    throw new RangeError(`"${label}" expected a lower-case SQL identifier matching ^[a-z_][a-z0-9_]{0,62}$`)
  return `"${name}"`
}

/** Wraps a driver error in a {@link SubjectKeyPgStoreError} naming the SQLSTATE only. */
export function dbError(operation: string, error: unknown): SubjectKeyPgStoreError {
  if (error instanceof SubjectKeyPgStoreError) return error
  const code = errorCode(error)
  const state = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : '?????'
  return new SubjectKeyPgStoreError(operation, state, { cause: error })
}

/**
 * Schema version 1. `{{schema}}` stands for the quoted schema name.
 *
 * - `subject_key (ref PK, state, kek_provider, kek_key_ref, edk, created_at, shredded_at)`: an
 *   active row holds the wrapped key; a tombstone holds none (a CHECK ties the columns to the
 *   state).
 * - A row trigger refuses DELETE (SQLSTATE `SGE01`) and any change to a tombstone or to `ref`
 *   (`SGE02`); a statement trigger refuses TRUNCATE (`SGE01`): a subject key leaves the table only
 *   by becoming a tombstone, and a tombstone stays one.
 */
export const V1 = `
CREATE TABLE {{schema}}.subject_key (
  ref text COLLATE "C" PRIMARY KEY CHECK (ref ~ '^[A-Za-z0-9_-]{1,64}$'),
  state text NOT NULL CHECK (state IN ('active', 'shredded')),
  kek_provider text,
  kek_key_ref text,
  edk bytea CHECK (octet_length(edk) <= 4096),
  created_at bigint NOT NULL,
  shredded_at bigint,
  CHECK (
    (state = 'active' AND kek_provider IS NOT NULL AND kek_key_ref IS NOT NULL AND edk IS NOT NULL AND shredded_at IS NULL)
    OR (state = 'shredded' AND kek_provider IS NULL AND kek_key_ref IS NULL AND edk IS NULL AND shredded_at IS NOT NULL)
  )
);
CREATE FUNCTION {{schema}}.subject_key_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION 'subject keys are never deleted: shred them' USING ERRCODE = 'SGE01';
  END IF;
  IF OLD.state = 'shredded' OR NEW.ref <> OLD.ref THEN
    RAISE EXCEPTION 'a shredded subject key never changes' USING ERRCODE = 'SGE02';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER subject_key_guard BEFORE UPDATE OR DELETE ON {{schema}}.subject_key
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.subject_key_guard();
CREATE TRIGGER subject_key_no_truncate BEFORE TRUNCATE ON {{schema}}.subject_key
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.subject_key_guard();
`
