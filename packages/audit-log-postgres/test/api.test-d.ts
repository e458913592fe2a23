/**
 * The public API's types, checked by Vitest typecheck (and by `tsc -p tsconfig.test.json`): a
 * breaking change to an exported signature fails CI here before a user's build does.
 */
import type { AuditStore, AuditStoreError, IndexAnswer, IndexQuery } from '@safeguards/audit-log'
import { describe, expectTypeOf, test } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import {
  type AuditPgStoreError,
  grantAppRole,
  type MigrateOptions,
  type MigrateResult,
  type Migration,
  migrate,
  migrations,
  openPostgresStore,
  openPostgresStoreFromUrl,
  type PostgresAuditStore,
  type PostgresStoreOptions,
  type Queryable,
  SCHEMA_VERSION,
} from '../src/index.js'

describe('@safeguards/audit-log-postgres public types', () => {
  test('store', () => {
    expectTypeOf(openPostgresStore).parameter(0).toEqualTypeOf<PostgresStoreOptions>()
    expectTypeOf(openPostgresStore).returns.resolves.toEqualTypeOf<PostgresAuditStore>()
    expectTypeOf<PostgresAuditStore>().toMatchTypeOf<AuditStore>()
    expectTypeOf(openPostgresStoreFromUrl).returns.resolves.toEqualTypeOf<PostgresAuditStore>()
    // the key-table index is always there (AuditStore makes it optional)
    expectTypeOf<PostgresAuditStore['queryIndex']>().toEqualTypeOf<
      (query: IndexQuery) => Promise<IndexAnswer | undefined>
    >()
    expectTypeOf<PostgresAuditStore['appendEvents']>().returns.resolves.toEqualTypeOf<{
      missed: Uint8Array[]
      hashes: Uint8Array[]
    }>()
  })
  test('migrations and roles', () => {
    expectTypeOf(migrate).parameters.toEqualTypeOf<[Queryable, MigrateOptions?]>()
    expectTypeOf(migrate).returns.resolves.toEqualTypeOf<MigrateResult>()
    expectTypeOf(migrations).toEqualTypeOf<readonly Migration[]>()
    expectTypeOf(SCHEMA_VERSION).toBeNumber()
    expectTypeOf(grantAppRole).returns.resolves.toBeVoid()
  })
  test('error codes', () => {
    expectTypeOf<ErrorCodes<typeof import('../src/index.js')>>().toEqualTypeOf<{
      AuditPgMigrationError: 'ERR_AUDIT_PG_MIGRATION'
      AuditPgStoreError: 'ERR_AUDIT_STORE'
    }>()
    expectTypeOf<AuditPgStoreError['sqlState']>().toBeString()
    expectTypeOf<AuditPgStoreError>().toMatchTypeOf<AuditStoreError>()
  })
})
