/**
 * `@safeguards/envelope-postgres`: the subject-key store of `@safeguards/envelope` on PostgreSQL,
 * for per-subject keys and crypto-shredding shared by every application instance.
 *
 * @packageDocumentation
 */
export type { EnvelopePgErrorCode } from './errors.js'
export { EnvelopePgMigrationError, SubjectKeyPgStoreError } from './errors.js'
export type { MigrateSubjectKeysOptions, MigrateSubjectKeysResult } from './migrations.js'
export { migrateSubjectKeys, SUBJECT_KEY_SCHEMA_VERSION } from './migrations.js'
export type { PostgresSubjectKeyStore, PostgresSubjectKeyStoreOptions } from './store.js'
export { openPostgresSubjectKeyStore } from './store.js'
