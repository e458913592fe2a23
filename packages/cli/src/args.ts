/**
 * Argument parsing for subcommands, on top of `node:util` `parseArgs`. Every problem becomes a
 * {@link UsageError} (exit 2) whose one-line message names the bad argument.
 *
 * @module
 */
import { parseArgs } from 'node:util'
import { UsageError } from './errors.js'

/** One option: a string (optionally repeatable) or a boolean flag. */
export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  multiple?: boolean
}

/** Parsed values: strings, string arrays for `multiple`, booleans for flags. */
export type ParsedValues = Record<string, string | string[] | boolean | undefined>

/** The result of {@link parseCommandArgs}. */
export interface ParsedArgs {
  values: ParsedValues
  positionals: string[]
}

/**
 * Parses `argv` strictly against `options`; unknown options are usage errors.
 *
 * @param argv - the arguments after the command (and subcommand) name.
 * @param options - the allowed options.
 * @param positionals - how many positionals are allowed: `[min, max]` (default `[0, 0]`).
 * @throws {UsageError} on an unknown option, a missing value or a wrong number of positionals.
 * @example
 * ```ts
 * const { values } = parseCommandArgs(argv, { keyring: { type: 'string' }, json: { type: 'boolean' } })
 * ```
 */
export function parseCommandArgs(
  argv: string[],
  options: Record<string, OptionSpec>,
  positionals: [number, number] = [0, 0],
): ParsedArgs {
  let parsed: { values: ParsedValues; positionals: string[] }
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true }) as {
      values: ParsedValues
      positionals: string[]
    }
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : 'bad arguments'
    throw new UsageError(message ?? 'bad arguments', { cause: error })
  }
  const [min, max] = positionals
  if (parsed.positionals.length < min) throw new UsageError(`expected at least ${min} argument(s)`)
  if (parsed.positionals.length > max) {
    throw new UsageError(`unexpected argument at position ${max + 1}`)
  }
  return parsed
}

/**
 * Returns a required string option.
 *
 * @throws {UsageError} when it is missing or empty.
 * @example
 * ```ts
 * const keyring = requireString(values, 'keyring')
 * ```
 */
export function requireString(values: ParsedValues, name: string): string {
  const v = values[name]
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`)
  return v
}

/**
 * Returns an optional string option, or undefined.
 *
 * @example
 * ```ts
 * const out = optionalString(values, 'out')
 * ```
 */
export function optionalString(values: ParsedValues, name: string): string | undefined {
  const v = values[name]
  return typeof v === 'string' ? v : undefined
}

/**
 * Parses repeated `KEY=VALUE` options into a record.
 *
 * @throws {UsageError} when an entry has no `=`, an empty key, or a key repeats.
 * @example
 * ```ts
 * keyValues(['tenant=a', 'table=patients'], 'context') // { tenant: 'a', table: 'patients' }
 * ```
 */
export function keyValues(entries: string[] | undefined, name: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null)
  for (const entry of entries ?? []) {
    const eq = entry.indexOf('=')
    if (eq <= 0) throw new UsageError(`--${name} expects KEY=VALUE`)
    const key = entry.slice(0, eq)
    if (Object.hasOwn(out, key)) throw new UsageError(`--${name} repeats the key ${JSON.stringify(key)}`)
    out[key] = entry.slice(eq + 1)
  }
  return out
}

/**
 * Parses a duration such as `90s`, `15m`, `36h`, `7d` or a plain number of milliseconds.
 *
 * @throws {UsageError} naming `--name` when the text is not a duration.
 * @example
 * ```ts
 * parseDuration('36h', 'max-age') // 129600000
 * ```
 */
export function parseDuration(text: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text)
  if (!m) throw new UsageError(`--${name} expects a duration such as 90s, 15m, 36h or 7d`)
  const n = Number(m[1])
  const unit = m[2] ?? 'ms'
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit] as number
  const ms = Math.round(n * factor)
  if (!Number.isSafeInteger(ms)) throw new UsageError(`--${name} is out of range`)
  return ms
}
