/**
 * `@safeguards/audit-log-postgres`: the `@safeguards/audit-log` store on PostgreSQL, for many
 * writers in many processes.
 *
 * @packageDocumentation
 */
export type { AuditPgErrorCode } from './errors.js'
export {
  AuditPgClosedError,
  AuditPgConflictError,
  AuditPgCorruptError,
  AuditPgDatabaseError,
  AuditPgMigrationError,
} from './errors.js'
export type { MigrateOptions, MigrateResult, Migration } from './migrations.js'
export { migrate, migrations, SCHEMA_VERSION } from './migrations.js'
export type { GrantAppRoleOptions } from './role.js'
export { grantAppRole } from './role.js'
