/**
 * Argument parsing for subcommands, on top of `node:util` `parseArgs`. Every problem becomes a
 * {@link UsageError} (exit 2) whose one-line message names the bad argument, and a mistyped option
 * names the nearest known one ("unknown option --publc-key; did you mean --public-key?").
 *
 * @module
 */
import { parseArgs } from 'node:util'
import { UsageError } from './errors.js'
import { currentRunState } from './internal/run-state.js'

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
 * The optimal-string-alignment (restricted Damerau-Levenshtein) distance between `a` and `b`:
 * insertions, deletions, substitutions and transpositions of adjacent characters each cost 1.
 */
function editDistance(a: string, b: string): number {
  const rows: number[][] = []
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i]
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j)
        continue
      }
      const above = rows[i - 1] as number[]
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1)
      row.push(d)
    }
    rows.push(row)
  }
  return (rows[a.length] as number[])[b.length] as number
}

/**
 * The known word nearest to `word`, when it is close enough to be a likely typo: at most one edit
 * (substitution, insertion, deletion or swap of neighbours) for words of up to four characters, two
 * for longer ones, ignoring case; or the only known word that `word` (three characters or more)
 * abbreviates. Otherwise undefined: a far-fetched guess is worse than none.
 *
 * @example
 * ```ts
 * suggest('publc-key', ['public-key', 'keyring']) // 'public-key'
 * suggest('zzz', ['public-key']) // undefined
 * ```
 */
export function suggest(word: string, known: readonly string[]): string | undefined {
  const w = word.toLowerCase()
  const limit = w.length <= 4 ? 1 : 2
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const k of known) {
    const d = editDistance(w, k.toLowerCase())
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  if (best !== undefined && bestDistance <= limit && bestDistance < w.length) return best
  if (w.length >= 3) {
    const prefixed = known.filter((k) => k.toLowerCase().startsWith(w))
    if (prefixed.length === 1) return prefixed[0]
  }
  return undefined
}

/** `; did you mean X?` or nothing. */
export function didYouMean(word: string, known: readonly string[], prefix = ''): string {
  const s = suggest(word, known)
  return s === undefined ? '' : `; did you mean ${prefix}${s}?`
}

const MAX_SHOWN = 64

/** An argument the user typed, shortened for a message (the runner escapes control characters). */
function shown(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text
}

/** True when `argv` holds `--json` as an option (before any `--`). */
export function hasJsonFlag(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false
    if (a === '--json') return true
  }
  return false
}

/** Explains why strict parsing failed, from the tokens of a lenient parse. */
function explain(argv: string[], options: Record<string, OptionSpec>, fallback: string): string {
  let tokens: ReturnType<typeof parseArgs>['tokens']
  try {
    tokens = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true }).tokens
  } catch {
    return fallback
  }
  const longNames = Object.keys(options)
  for (const t of tokens ?? []) {
    if (t.kind !== 'option') continue
    const spec = Object.hasOwn(options, t.name) ? options[t.name] : undefined
    if (spec === undefined) {
      if (t.rawName.startsWith('--'))
        return `unknown option ${shown(t.rawName)}${didYouMean(t.name, longNames, '--')}`
      return `unknown option ${shown(t.rawName)}`
    }
    if (spec.type === 'string' && t.value === undefined) return `${t.rawName} expects a value`
    if (spec.type === 'string' && t.inlineValue === false && t.value?.startsWith('-'))
      return `${t.rawName} expects a value (for a value that starts with "-", write ${t.rawName}=VALUE)`
    if (spec.type === 'boolean' && t.inlineValue === true) return `${t.rawName} does not take a value`
  }
  return fallback
}

/**
 * Parses `argv` strictly against `options`; unknown options are usage errors that name the nearest
 * known option. A command that lists a `json` option and is given `--json` (even with another
 * mistake in `argv`) reports its failures as a JSON document on stdout too.
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
  const state = currentRunState()
  if (state !== undefined) {
    const acceptsJson = Object.hasOwn(options, 'json') && options.json?.type === 'boolean'
    state.json = acceptsJson && hasJsonFlag(argv) ? 'yes' : 'no'
  }
  let parsed: { values: ParsedValues; positionals: string[] }
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true }) as {
      values: ParsedValues
      positionals: string[]
    }
  } catch (error) {
    const first = error instanceof Error ? error.message.split('\n')[0] : undefined
    throw new UsageError(explain(argv, options, first || 'bad arguments'), { cause: error })
  }
  const [min, max] = positionals
  if (parsed.positionals.length < min) throw new UsageError(`expected at least ${min} argument(s)`)
  if (parsed.positionals.length > max) {
    throw new UsageError(`unexpected argument at position ${max + 1}`)
  }
  return parsed
}

/**
 * A usage error for a missing or unknown subcommand, naming the nearest known one.
 *
 * @example
 * ```ts
 * throw unknownSubcommand('keys', sub, ['init', 'rotate', 'list'])
 * ```
 */
export function unknownSubcommand(
  command: string,
  sub: string | undefined,
  known: readonly string[],
): UsageError {
  const list = `${known.slice(0, -1).join(', ')}${known.length > 1 ? ' or ' : ''}${known.at(-1) ?? ''}`
  if (sub === undefined) return new UsageError(`expected a subcommand: ${list}`)
  return new UsageError(
    `unknown subcommand ${command} ${shown(sub)}${didYouMean(sub, known)} (expected ${list})`,
  )
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
