/**
 * Runs a test fixture (TypeScript, through tsx, with the source condition) in its own Node process
 * and resolves with the JSON it prints on stdout; rejects with its stderr when it exits non-zero.
 */
import { fileURLToPath } from 'node:url'
import { runTsChild } from '../../../scripts/test-support/postgres.js'

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
  return runTsChild<T>(label, script, { cwd: repoRoot, args, env })
}
