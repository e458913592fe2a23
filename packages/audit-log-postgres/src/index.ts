/**
 * `@safeguards/audit-log-postgres`: the `@safeguards/audit-log` store on PostgreSQL, for many
 * writers in many processes, with versioned migrations, an insert-only application role and
 * triggers that refuse UPDATE, DELETE and TRUNCATE.
 *
 * @packageDocumentation
 */
export type { AuditPgErrorCode } from './errors.js'
export { AuditPgMigrationError, AuditPgStoreError } from './errors.js'
export type { Queryable } from './internal/db.js'
export type { MigrateOptions, MigrateResult, Migration } from './migrations.js'
export { migrate, migrations, SCHEMA_VERSION } from './migrations.js'
export type { GrantAppRoleOptions } from './role.js'
export { grantAppRole } from './role.js'
export type { PostgresAuditStore, PostgresStoreOptions } from './store.js'
export { openPostgresStore } from './store.js'
export type { PostgresLogUrl } from './url.js'
export { openPostgresStoreFromUrl, parsePostgresLogUrl } from './url.js'
