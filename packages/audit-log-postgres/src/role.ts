/**
 * Least privilege for the application: the role the app connects as may INSERT and SELECT the
 * audit tables, lock its stream's rows in the lock table, and call the two conditional-append
 * functions, nothing else. It cannot UPDATE, DELETE or TRUNCATE the audit tables (no privilege, and
 * the triggers refuse those for every role anyway; it holds UPDATE on the lock table only because
 * `SELECT … FOR UPDATE` requires it, and the trigger refuses the UPDATE itself), cannot alter or
 * drop the tables, and cannot disable the triggers (only the owner can). A verifier role gets
 * nothing on the lock table, so it cannot hold up the writers.
 *
 * HIPAA: 164.312(b) audit controls, including the trail's integrity (the writer cannot rewrite history);
 * 164.308(a)(4) information access management (least privilege).
 *
 * @module
 */
import { InvalidArgumentError } from '@safeguards/core'
import { dbError, inTransaction, type Queryable, withConnection } from './internal/db.js'
import { DEFAULT_SCHEMA, quoteIdentifier } from './internal/identifiers.js'

/** Options for {@link grantAppRole}. */
export interface GrantAppRoleOptions {
  /** The role the application connects as. It must exist and must not be a superuser or the schema owner. */
  role: string
  /** Schema that holds the audit tables (default `safeguards_audit`). */
  schema?: string
  /** Grant a verifier's access instead: `SELECT` only, no `INSERT`, no append functions. Default false. */
  readOnly?: boolean
}

const TABLES = ['audit_stream', 'audit_entry', 'audit_checkpoint'] as const

/**
 * Grants `role` exactly what an audit writer needs on a migrated schema: `USAGE` on the schema,
 * `SELECT, INSERT` on the stream, entry and checkpoint tables, `SELECT, INSERT, UPDATE` on the lock
 * table `audit_stream_lock` (`UPDATE` because `SELECT … FOR UPDATE` requires it; the append-only
 * trigger refuses an actual UPDATE), `SELECT` on the migrations table and the query-key table `audit_entry_key` (its rows are written
 * by a trigger, never by the role), and `EXECUTE` on the two
 * conditional-append functions, on `audit_append_events` (the log's server-built append) and on
 * the procedure `audit_append_queued` and its steps (the same append with group commit). Everything else the role held on those objects is revoked first, so
 * running it again converges to the same state.
 *
 * With `readOnly: true` it grants a verifier's access instead: `USAGE` and `SELECT` only, and
 * nothing on the lock table, so a verifier cannot hold up the writers.
 *
 * Creating the role stays the DBA's job (`CREATE ROLE audit_writer LOGIN PASSWORD …`): roles are
 * cluster-wide and their authentication belongs to your database operations.
 *
 * HIPAA: 164.312(b) audit controls; 164.308(a)(4)(ii)(B) access authorization (least privilege).
 *
 * @param db - a pool or client connected as the schema owner (or a superuser).
 * @hipaa 164.312(b) supports
 * @nist AU-9 164.312(b): the application role cannot UPDATE or DELETE audit rows, so a compromised application cannot rewrite history
 * @nist AC-6 164.312(b): the writer gets INSERT and SELECT on the audit tables and nothing else
 * @evidence an application role limited to INSERT and SELECT on the audit tables
 * @appResponsibility Create the role and keep the owner credentials away from the application.
 * @verifiedBy packages/audit-log-postgres/test/privileges.test.ts
 * @throws {RangeError} when `role` or `schema` is not a lower-case SQL identifier.
 * @throws {InvalidArgumentError} (code `ERR_INVALID_ARGUMENT`) when the role does not exist, is a
 *   superuser, may bypass row security, or owns the schema: such a role could rewrite history.
 * @throws {AuditPgStoreError} (code `ERR_AUDIT_STORE`) when PostgreSQL refuses.
 * @example
 * ```ts
 * await migrate(ownerPool, { schema: 'audit' })
 * await grantAppRole(ownerPool, { schema: 'audit', role: 'clinic_api' })
 * await grantAppRole(ownerPool, { schema: 'audit', role: 'auditor', readOnly: true })
 * ```
 */
export async function grantAppRole(db: Queryable, options: GrantAppRoleOptions): Promise<void> {
  const schema = options.schema ?? DEFAULT_SCHEMA
  const s = quoteIdentifier(schema, 'schema')
  const r = quoteIdentifier(options.role, 'role')
  await withConnection(db, async (client) => {
    let rows: { rolsuper: boolean; rolbypassrls: boolean; owns: boolean }[]
    try {
      ;({ rows } = await client.query(
        `SELECT r.rolsuper, r.rolbypassrls,
                EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = $2 AND pg_has_role(r.oid, n.nspowner, 'MEMBER'))
                OR EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                            WHERE n.nspname = $2 AND pg_has_role(r.oid, c.relowner, 'MEMBER')) AS owns
           FROM pg_roles r WHERE r.rolname = $1`,
        [options.role, schema],
      ))
    } catch (error) {
      throw dbError('reading role attributes', error)
    }
    const row = rows[0]
    if (!row) throw new InvalidArgumentError(`role ${options.role} does not exist`)
    if (row.rolsuper || row.rolbypassrls || row.owns) {
      throw new InvalidArgumentError(
        `role ${options.role} is a superuser or owns (or inherits the owner of) schema ${schema}: it could rewrite the audit trail`,
      )
    }
    try {
      await inTransaction(client, async () => {
        const tables = TABLES.map((t) => `${s}.${t}`).join(', ')
        await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${s} FROM ${r}`)
        await client.query(`REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ${s} FROM ${r}`)
        await client.query(`REVOKE ALL ON SCHEMA ${s} FROM ${r}`)
        await client.query(`GRANT USAGE ON SCHEMA ${s} TO ${r}`)
        await client.query(
          `GRANT ${options.readOnly === true ? 'SELECT' : 'SELECT, INSERT'} ON ${tables} TO ${r}`,
        )
        // SELECT only, also for writers: the keys are written by the entry table's trigger.
        await client.query(`GRANT SELECT ON ${s}.audit_schema_migrations, ${s}.audit_entry_key TO ${r}`)
        if (options.readOnly !== true) {
          // UPDATE only so the writer may lock its stream's row (SELECT … FOR UPDATE needs it); the
          // append-only trigger refuses an actual UPDATE. INSERT for the rows of a new stream.
          await client.query(`GRANT SELECT, INSERT, UPDATE ON ${s}.audit_stream_lock TO ${r}`)
          await client.query(
            `GRANT EXECUTE ON FUNCTION ${s}.audit_append(text, bigint, bytea, bigint[], bytea[], bytea[], bytea[], integer),
                                       ${s}.audit_append_checkpoint(text, bigint, bigint, bytea, integer),
                                       ${s}.audit_append_events(text, bigint, bytea, bytea[], text, integer),
                                       ${s}.audit_queue_add(text, bigint, bytea, bytea[], text),
                                       ${s}.audit_queue_drain(text, xid8, integer),
                                       ${s}.audit_queue_withdraw(xid8, integer),
                                       ${s}.audit_queue_direct(text, bigint, bytea, bytea[], text, integer),
                                       ${s}.audit_queue_result(text, xid8, bigint, bytea) TO ${r}`,
          )
          await client.query(
            `GRANT EXECUTE ON PROCEDURE ${s}.audit_append_queued(text, bigint, bytea, bytea[], text, integer, boolean, bigint, bytea, bytea) TO ${r}`,
          )
        }
      })
    } catch (error) {
      throw dbError(`granting the audit writer role on ${schema}`, error)
    }
  })
}
