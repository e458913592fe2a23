/**
 * Shared by the PostgreSQL test harnesses: the server probe (skip locally, fail under CI=true) and
 * a runner for TypeScript fixtures in their own Node process (tsx, source condition).
 */
import { spawn } from 'node:child_process'

/** The server the PostgreSQL suites use: DATABASE_URL, or postgres@127.0.0.1:5432/test. */
export const DATABASE_URL: string = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

interface ProbeClient {
  connect(): Promise<unknown>
  query(sql: string): Promise<unknown>
  end(): Promise<void>
}

/**
 * True when the server answers. Otherwise prints why and returns false, or throws under CI=true.
 * `client` is a fresh `pg.Client` (the caller's copy of pg, so this file needs none).
 */
export async function probePostgres(client: ProbeClient): Promise<boolean> {
  let reason: string | undefined
  try {
    await client.connect()
    await client.query('SELECT 1')
  } catch (error) {
    reason = `PostgreSQL unreachable at DATABASE_URL (${(error as Error).message})`
  } finally {
    await client.end().catch(() => {})
  }
  if (reason === undefined) return true
  if (process.env.CI === 'true') throw new Error(`${reason}; CI=true requires the server`)
  console.warn(`skipping PostgreSQL tests: ${reason}`)
  return false
}

/** Options of {@link runTsChild}. */
export interface TsChildOptions {
  /** The working directory (the repository root, so tsx resolves). */
  cwd: string
  /** Command-line arguments after the script. */
  args?: readonly string[]
  /** Written to the child's stdin (then closed). */
  stdin?: string
  /** Extra environment variables. */
  env?: Record<string, string>
}

/**
 * Runs `script` (TypeScript) in its own Node process and resolves with the JSON it prints on
 * stdout; rejects with `label` and its stderr when it exits non-zero.
 */
export function runTsChild<T>(label: string, script: string, options: TsChildOptions): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@safeguards/source', '--import', 'tsx', script, ...(options.args ?? [])],
      { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (c) => {
      out += c
    })
    child.stderr.on('data', (c) => {
      err += c
    })
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`${label} exited ${code}: ${err}`)),
    )
    child.stdin.end(options.stdin ?? '')
  })
}
