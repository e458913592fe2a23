/**
 * Option specs and value checks shared by the subcommands: the three kinds of option, and integer
 * options with a named range. Every problem is a {@link UsageError} that names the option.
 *
 * @module
 */
import { type OptionSpec, optionalString, type ParsedValues } from '../args.js'
import { UsageError } from '../errors.js'

/** An option that takes one value: `--name VALUE`. */
export const STRING: OptionSpec = Object.freeze({ type: 'string' })
/** A flag: `--name`. */
export const FLAG: OptionSpec = Object.freeze({ type: 'boolean' })
/** An option that may repeat: `--name A --name B`. */
export const REPEATED: OptionSpec = Object.freeze({ type: 'string', multiple: true })

/** The range of an {@link integerOption}, and what the message says it expects. */
export interface IntegerRange {
  /** The smallest value allowed (default 0). */
  min?: number
  /** The largest value allowed (default 999 999 999 999 999). */
  max?: number
  /** Ends the message `--NAME expects …`, for example `a positive integer`. */
  expects: string
}

/**
 * A decimal integer option within a range, or undefined when it is absent. Signs, exponents,
 * hexadecimal and blanks are refused.
 *
 * @throws {UsageError} `--NAME expects …` when it is not a decimal integer in the range.
 * @example
 * ```ts
 * const workers = integerOption(values, 'concurrency', { min: 1, max: 999, expects: 'a positive integer' })
 * ```
 */
export function integerOption(values: ParsedValues, name: string, range: IntegerRange): number | undefined {
  const text = optionalString(values, name)
  if (text === undefined) return undefined
  const n = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN
  if (!(n >= (range.min ?? 0) && n <= (range.max ?? 999_999_999_999_999)))
    throw new UsageError(`--${name} expects ${range.expects}`)
  return n
}

/**
 * The `--version N` of a key lifecycle command (a positive integer).
 *
 * @throws {UsageError} when it is missing or not a positive integer.
 */
export function versionOption(values: ParsedValues): number {
  if (optionalString(values, 'version') === undefined) throw new UsageError('--version is required')
  return integerOption(values, 'version', { min: 1, expects: 'a positive integer' }) as number
}

/** The option names of a long option list, by kind (for {@link optionSpecs}). */
export interface OptionNames {
  /** Options that take one value. */
  strings?: readonly string[]
  /** Flags. */
  flags?: readonly string[]
  /** Options that may repeat. */
  repeated?: readonly string[]
}

/**
 * The specs of a long option list, from its names by kind.
 *
 * @example
 * ```ts
 * parseCommandArgs(argv, optionSpecs({ strings: ['log', 'anchor'], flags: ['json'], repeated: ['public-key'] }))
 * ```
 */
export function optionSpecs(names: OptionNames): Record<string, OptionSpec> {
  const specs: Record<string, OptionSpec> = Object.create(null)
  for (const name of names.strings ?? []) specs[name] = STRING
  for (const name of names.flags ?? []) specs[name] = FLAG
  for (const name of names.repeated ?? []) specs[name] = REPEATED
  return specs
}
