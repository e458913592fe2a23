/**
 * The public API's types, checked by Vitest typecheck (and by `tsc -p tsconfig.test.json`): a
 * breaking change to an exported signature fails CI here before a user's build does.
 */
import type { SubjectKeyStore, SubjectKeyStoreError } from '@safeguards/envelope'
import { describe, expectTypeOf, test } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import {
  type EnvelopePgErrorCode,
  type MigrateSubjectKeysResult,
  migrateSubjectKeys,
  openPostgresSubjectKeyStore,
  type PostgresSubjectKeyStore,
  type PostgresSubjectKeyStoreOptions,
  SUBJECT_KEY_SCHEMA_VERSION,
  type SubjectKeyPgStoreError,
} from '../src/index.js'

describe('@safeguards/envelope-postgres public types', () => {
  test('store and migrations', () => {
    expectTypeOf(openPostgresSubjectKeyStore).parameter(0).toEqualTypeOf<PostgresSubjectKeyStoreOptions>()
    expectTypeOf(openPostgresSubjectKeyStore).returns.resolves.toEqualTypeOf<PostgresSubjectKeyStore>()
    expectTypeOf<PostgresSubjectKeyStore>().toMatchTypeOf<SubjectKeyStore>()
    expectTypeOf(migrateSubjectKeys).returns.resolves.toEqualTypeOf<MigrateSubjectKeysResult>()
    expectTypeOf(SUBJECT_KEY_SCHEMA_VERSION).toBeNumber()
  })
  test('errors', () => {
    expectTypeOf<SubjectKeyPgStoreError>().toMatchTypeOf<SubjectKeyStoreError>()
    expectTypeOf<SubjectKeyPgStoreError['sqlState']>().toBeString()
    expectTypeOf<ErrorCodes<typeof import('../src/index.js')>>().toEqualTypeOf<{
      EnvelopePgMigrationError: EnvelopePgErrorCode
      SubjectKeyPgStoreError: 'ERR_SUBJECT_KEY_STORE'
    }>()
  })
})
