/**
 * `postgres://…?stream=NAME` log URLs, as the `safeguards audit --log` option takes them.
 *
 * The query parameters `stream` (required), `schema` (default `safeguards_audit`) and `migrate`
 * (`true` to run the migrations first) belong to the audit store and are removed; everything else
 * (host, port, database, user, password, `sslmode`, `application_name`…) is passed to node-postgres
 * untouched. Errors never quote the URL, which may hold a password.
 *
 * HIPAA: 164.312(b) audit controls (operators point the same tools at file and database logs).
 *
 * @module
 */
import { InvalidArgumentError } from '@safeguards/core'
import { DEFAULT_SCHEMA, quoteIdentifier } from './internal/identifiers.js'
import { openPostgresStore, type PostgresAuditStore } from './store.js'

/** A parsed log URL. */
export interface PostgresLogUrl {
  /** The connection string without the store's own parameters. */
  connectionString: string
  /** The stream id. */
  stream: string
  /** The schema holding the audit tables. */
  schema: string
  /** Whether `migrate=true` was given. */
  migrate: boolean
}

const OWN = ['stream', 'schema', 'migrate'] as const

/**
 * Splits a `postgres://` or `postgresql://` log URL into a connection string and the store's
 * parameters. `defaultStream` (for example a `--stream` option) is used when the URL has no
 * `stream`; naming two different streams is an error.
 *
 * @throws {TypeError} when `url` is not a string.
 * @throws {InvalidArgumentError} (code `ERR_INVALID_ARGUMENT`) when it is not a postgres URL, has no
 *   (or more than one) `stream`, `schema` or `migrate`, or `migrate` is not `true`/`false`.
 * @throws {RangeError} when the stream id or schema name is malformed.
 * @example
 * ```ts
 * parsePostgresLogUrl('postgres://audit@db:5432/ehr?stream=ehr-prod&sslmode=require')
 * // { connectionString: 'postgres://audit@db:5432/ehr?sslmode=require', stream: 'ehr-prod',
 * //   schema: 'safeguards_audit', migrate: false }
 * ```
 */
export function parsePostgresLogUrl(url: string, defaultStream?: string): PostgresLogUrl {
  if (typeof url !== 'string') throw new TypeError('"url" expected a string')
  if (!/^postgres(ql)?:\/\//i.test(url)) throw new InvalidArgumentError('log URL must start with postgres://')
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (e) {
    throw new InvalidArgumentError('log URL is malformed', { cause: e })
  }
  const values: Partial<Record<(typeof OWN)[number], string>> = {}
  for (const name of OWN) {
    const all = parsed.searchParams.getAll(name)
    if (all.length > 1) throw new InvalidArgumentError(`log URL repeats the "${name}" parameter`)
    if (all.length === 1) values[name] = all[0] as string
    parsed.searchParams.delete(name)
  }
  if (defaultStream !== undefined) {
    if (values.stream !== undefined && values.stream !== defaultStream) {
      throw new InvalidArgumentError('the stream is given twice, with different values')
    }
    values.stream = defaultStream
  }
  if (values.stream === undefined || values.stream === '') {
    throw new InvalidArgumentError('log URL needs a "stream" parameter, for example ?stream=ehr-prod')
  }
  const schema = values.schema ?? DEFAULT_SCHEMA
  quoteIdentifier(schema, 'schema')
  if (values.migrate !== undefined && values.migrate !== 'true' && values.migrate !== 'false') {
    throw new InvalidArgumentError('log URL "migrate" parameter must be true or false')
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(values.stream)) {
    throw new RangeError('"stream" expected 1-128 characters of [A-Za-z0-9._-]')
  }
  return {
    connectionString: parsed.toString(),
    stream: values.stream,
    schema,
    migrate: values.migrate === 'true',
  }
}

/**
 * Opens a PostgreSQL store from a log URL (see {@link parsePostgresLogUrl}) on a pool of its own,
 * which `close()` ends. `readOnly` opens an existing stream without writing; `stream` is the
 * default stream id when the URL has none.
 *
 * HIPAA: 164.312(b) audit controls.
 *
 * @throws what {@link parsePostgresLogUrl} and {@link openPostgresStore} throw.
 * @example
 * ```ts
 * const store = await openPostgresStoreFromUrl(process.env.AUDIT_LOG_URL!, { readOnly: true })
 * const report = await verifyLog(store, { keyring })
 * await store.close()
 * ```
 */
export async function openPostgresStoreFromUrl(
  url: string,
  options: { readOnly?: boolean; stream?: string | undefined } = {},
): Promise<PostgresAuditStore> {
  const { connectionString, stream, schema, migrate } = parsePostgresLogUrl(url, options.stream)
  const readOnly = options.readOnly === true
  return openPostgresStore({
    connectionString,
    stream,
    schema,
    readOnly,
    migrate: migrate && !readOnly,
    maxConnections: 2,
  })
}
