/**
 * The clinic as a server process, configured from the environment. With nothing set it runs on
 * embedded defaults: the audit log, keyring, records and secrets as files in a data directory,
 * sessions in memory. With `DATABASE_URL` and `REDIS_URL` (both, or neither) it keeps the audit log
 * on PostgreSQL and sessions, TOTP replay state and sign-in challenges on Redis, so several
 * instances serve as one; they must then share one directory (`CLINIC_SHARED_DIR`) for the
 * keyring, the records, the anchor and the secrets file, or get the secrets from the environment.
 *
 * It prints one line once it listens (with the URL) and stops cleanly on SIGTERM or SIGINT: it
 * stops accepting, finishes requests in flight, flushes the audit log with a final checkpoint,
 * closes PostgreSQL and Redis, and exits 0. Secrets and connection passwords are never printed.
 *
 * Environment: see `examples/clinic-api/README.md` ("Running the server").
 */
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { errorCode } from '@safeguards/core/node'
import { type SharedStateOptions, STAFF_USERNAMES, startClinic } from './clinic.js'
import { ClinicConfigError, loadOrCreateSecrets } from './secrets.js'

/** The server's configuration, read from the environment. */
export interface ServerConfig {
  readonly mode: 'embedded' | 'shared'
  readonly host: string
  readonly port: number
  /** This instance's files (backups; the file audit log in embedded mode). */
  readonly dataDir: string
  /** What every instance shares: secrets.json, keyring.json, records/, audit-anchor/. */
  readonly sharedDir: string
  readonly anchorDir: string | undefined
  readonly shared: SharedStateOptions | undefined
  /** Audit checkpoints every this many milliseconds (besides every 16 records and on close). */
  readonly checkpointEveryMs: number
}

type Env = Readonly<Record<string, string | undefined>>

const set = (v: string | undefined): v is string => v !== undefined && v.trim() !== ''

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (!set(raw)) return fallback
  const n = Number(raw)
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new ClinicConfigError(`${name} must be an integer from ${min} to ${max}`)
  return n
}

/**
 * Reads the configuration. `DATABASE_URL` and `REDIS_URL` go together; in shared mode
 * `CLINIC_SHARED_DIR` is required (every instance must point at the same directory).
 *
 * @throws {ClinicConfigError} with a message naming the variable.
 */
export function configFromEnv(env: Env = process.env, cwd: string = process.cwd()): ServerConfig {
  const db = env.DATABASE_URL
  const redis = env.REDIS_URL
  if (set(db) !== set(redis))
    throw new ClinicConfigError(
      `${set(db) ? 'DATABASE_URL is set but REDIS_URL is not' : 'REDIS_URL is set but DATABASE_URL is not'}: set both (PostgreSQL audit log and Redis sessions, for several instances) or neither (embedded defaults)`,
    )
  const dataDir = resolve(cwd, set(env.CLINIC_DATA_DIR) ? env.CLINIC_DATA_DIR : 'clinic-data')
  const host = set(env.HOST) ? env.HOST.trim() : '127.0.0.1'
  const port = integer(env, 'PORT', 3000, 0, 65535)
  const checkpointEveryMs = integer(env, 'CLINIC_CHECKPOINT_MS', 60_000, 0, 24 * 3600_000)
  const anchorDir = set(env.CLINIC_ANCHOR_DIR) ? resolve(cwd, env.CLINIC_ANCHOR_DIR) : undefined
  if (!set(db) || !set(redis))
    return {
      mode: 'embedded',
      host,
      port,
      dataDir,
      sharedDir: set(env.CLINIC_SHARED_DIR) ? resolve(cwd, env.CLINIC_SHARED_DIR) : dataDir,
      anchorDir,
      shared: undefined,
      checkpointEveryMs,
    }
  for (const [name, value, scheme] of [
    ['DATABASE_URL', db, /^postgres(ql)?:$/],
    ['REDIS_URL', redis, /^rediss?:$/],
  ] as const) {
    let ok = false
    try {
      ok = scheme.test(new URL(value).protocol)
    } catch {
      ok = false
    }
    if (!ok)
      throw new ClinicConfigError(`${name} is not a ${name === 'REDIS_URL' ? 'redis://' : 'postgres://'} URL`)
  }
  if (!set(env.CLINIC_SHARED_DIR))
    throw new ClinicConfigError(
      'CLINIC_SHARED_DIR is required with DATABASE_URL and REDIS_URL: every instance must use the same directory for the keyring, the records, the audit anchor and the secrets',
    )
  const schema = set(env.CLINIC_AUDIT_SCHEMA) ? env.CLINIC_AUDIT_SCHEMA.trim() : 'clinic_audit'
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new ClinicConfigError('CLINIC_AUDIT_SCHEMA must be a lower-case SQL identifier')
  const stream = set(env.CLINIC_AUDIT_STREAM) ? env.CLINIC_AUDIT_STREAM.trim() : 'clinic-api'
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(stream))
    throw new ClinicConfigError('CLINIC_AUDIT_STREAM must be 1-128 characters of [A-Za-z0-9._-]')
  const redisPrefix = set(env.CLINIC_REDIS_PREFIX) ? env.CLINIC_REDIS_PREFIX.trim() : 'clinic:'
  return {
    mode: 'shared',
    host,
    port,
    dataDir,
    sharedDir: resolve(cwd, env.CLINIC_SHARED_DIR),
    anchorDir,
    shared: { databaseUrl: db, redisUrl: redis, schema, stream, redisPrefix },
    checkpointEveryMs,
  }
}

/** Host, port and path of a URL, without user or password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`
  } catch {
    return '(unparsable URL)'
  }
}

/** A running server. */
export interface RunningServer {
  readonly url: string
  /** Stops as on SIGTERM (without exiting the process). */
  stop(): Promise<void>
}

/** Starts the server from a configuration; `print` receives the startup line. */
export async function startServer(
  config: ServerConfig,
  print: (line: string) => void = console.log,
  env: Env = process.env,
): Promise<RunningServer> {
  for (const d of [config.dataDir, config.sharedDir]) mkdirSync(d, { recursive: true, mode: 0o700 })
  const { secrets, created, path, sources } = await loadOrCreateSecrets(
    config.sharedDir,
    STAFF_USERNAMES,
    env,
  )
  const clinic = await startClinic({
    dataDir: config.dataDir,
    sharedDir: config.sharedDir,
    ...(config.anchorDir === undefined ? {} : { anchorDir: config.anchorDir }),
    ...(config.shared === undefined ? {} : { shared: config.shared }),
    secrets,
    checkpointEveryMs: config.checkpointEveryMs,
    hostname: config.host,
    port: config.port,
  })
  const s = config.shared
  const mode =
    s === undefined
      ? 'embedded (audit log in files, sessions in memory)'
      : `shared (audit log on PostgreSQL ${redactUrl(s.databaseUrl)} schema ${s.schema} stream ${s.stream}; sessions on Redis ${redactUrl(s.redisUrl)} prefix ${s.redisPrefix})`
  const fromEnv = Object.entries(sources)
    .filter(([, v]) => v === 'env')
    .map(([k]) => k)
  print(
    `clinic-api listening on ${clinic.url} mode=${config.mode}: ${mode}; data dir ${config.dataDir}; shared dir ${config.sharedDir}; anchor ${clinic.paths.anchor}; secrets ${created ? 'created in' : 'read from'} ${path}${fromEnv.length > 0 ? ` (from the environment: ${fromEnv.join(', ')})` : ''}`,
  )
  return { url: clinic.url, stop: () => clinic.stop() }
}

/** The process: configuration, start, and a clean stop on SIGTERM/SIGINT. */
export async function main(): Promise<void> {
  let config: ServerConfig
  try {
    config = configFromEnv()
  } catch (e) {
    if (!(e instanceof ClinicConfigError)) throw e
    console.error(`clinic-api: ${e.message}`)
    process.exit(2)
  }
  let server: RunningServer
  try {
    server = await startServer(config)
  } catch (e) {
    const code = errorCode(e)
    console.error(
      `clinic-api: failed to start: ${e instanceof ClinicConfigError ? e.message : `${(e as Error).name}${code ? ` (${code})` : ''}: ${(e as Error).message}`}`,
    )
    process.exit(e instanceof ClinicConfigError ? 2 : 1)
  }
  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    console.log(`clinic-api: ${signal}: stopping (finishing requests, final audit checkpoint)`)
    const timer = setTimeout(() => {
      console.error('clinic-api: did not stop within 20 s')
      process.exit(1)
    }, 20_000)
    timer.unref()
    server.stop().then(
      () => {
        console.log('clinic-api: stopped')
        process.exit(0)
      },
      (e: unknown) => {
        console.error(`clinic-api: stop failed: ${errorCode(e) ?? (e as Error).name}`)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(`clinic-api: ${(e as Error).name}: ${(e as Error).message}`)
    process.exit(1)
  })
}
