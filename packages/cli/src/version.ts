/**
 * The CLI's version, read from its package.json (one level above both `src/` and `dist/`).
 *
 * @module
 */
import { readFileSync } from 'node:fs'

/**
 * The version of `@safeguards/cli`.
 *
 * @example
 * ```ts
 * cliVersion() // '0.1.0'
 * ```
 */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}
