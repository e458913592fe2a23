/**
 * Runs a test fixture (TypeScript, through tsx, with the source condition) in its own Node process
 * and resolves with the JSON it prints on stdout; rejects with its stderr when it exits non-zero.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))

/** The absolute path of a file in `test/fixtures`. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
}

export function runChild<T>(
  label: string,
  script: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@safeguards/source', '--import', 'tsx', script, ...args],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
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
  })
}
