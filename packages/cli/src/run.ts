/**
 * The `safeguards` entry point as a function, so tests can run the CLI in-process.
 *
 * @module
 */
import { didYouMean, hasJsonFlag } from './args.js'
import type { CliIO, Command } from './command.js'
import { type CommandEntry, commandEntries } from './commands/index.js'
import { ExitCode, UsageError } from './errors.js'
import { describeFailure, failureDocument } from './failure.js'
import { type RunState, withRunState } from './internal/run-state.js'
import { safeText, writeJson } from './output.js'
import { cliVersion } from './version.js'

/** The global exit-code table, as `safeguards --help` prints it. */
export const EXIT_CODES_HELP: string = [
  'Exit codes (every command; a command may document more, see safeguards <command> --help):',
  '  0   success',
  '  1   a check failed: tampering, a failed verification or decryption (integrity)',
  '  2   usage error, malformed input, a forbidden state change or a limit reached',
  '  3   a key, token, PIN or secret is unavailable',
  '  70  internal error (a bug: please report it; SAFEGUARDS_DEBUG=1 prints the stack)',
  '  74  I/O error: a file or store could not be read or written (the message names the path)',
  '  75  temporarily unavailable: a lock held by another process, a store that is down; retry',
].join('\n')

/** How `--json` reports a failure, as `safeguards --help` prints it. */
export const JSON_FAILURE_HELP: string = [
  'With --json, a command that fails prints one JSON document on stdout as well (unless it already',
  'printed its result document), and the message on stderr:',
  '  { "ok": false, "error": { "code": "ERR_…", "category": "…", "message": "…" }, "exitCode": N }',
].join('\n')

function help(commands: readonly Command[]): string {
  const width = Math.max(8, ...commands.map((c) => c.name.length))
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)
  return [
    'safeguards: HIPAA safeguard tools (keys, encryption, audit log, access policy, backups, controls)',
    '',
    'Usage: safeguards <command> [options]',
    '       safeguards <command> --help',
    '',
    'Commands:',
    ...(lines.length > 0 ? lines : ['  (none installed)']),
    '',
    'Options:',
    '  -h, --help     show this help',
    '  -v, --version  print the version',
    '',
    EXIT_CODES_HELP,
    '',
    JSON_FAILURE_HELP,
    '',
  ].join('\n')
}

/** Options for {@link runCli}. */
export interface RunCliOptions {
  /** The commands to offer (default: every registered command). */
  commands?: readonly Command[]
}

/**
 * Reports a failure: one line on stderr (control characters escaped) and, when the command took
 * `--json` (or never got as far as parsing its options and `--json` was given), the failure document
 * on stdout unless a JSON document was already written. Returns the exit code.
 */
function report(io: CliIO, prefix: string, error: unknown, argv: readonly string[], state: RunState): number {
  const failure = describeFailure(error)
  if (failure.exitCode === ExitCode.SOFTWARE && io.env.SAFEGUARDS_DEBUG === '1' && error instanceof Error)
    io.stderr.write(`${error.stack ?? error.message}\n`)
  if (failure.line !== '') io.stderr.write(`${prefix}: ${safeText(failure.line)}\n`)
  const json = state.json === 'yes' || (state.json === 'unknown' && hasJsonFlag(argv))
  if (json && !state.documentWritten) writeJson(io, failureDocument(failure))
  return failure.exitCode
}

/**
 * Runs `safeguards` with `argv` (without the node and script paths) and resolves to the exit code.
 * Usage errors and documented failures print one line to stderr, never a stack trace; set
 * `SAFEGUARDS_DEBUG=1` to print the stack of an unexpected error. SDK errors exit by their
 * category (integrity 1; invalid argument or input, conflict, limit 2; key unavailable 3; I/O 74;
 * unavailable 75), unexpected errors with 70.
 *
 * @example
 * ```ts
 * const code = await runCli(['--version'], { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() })
 * ```
 */
export async function runCli(argv: string[], io: CliIO, options?: RunCliOptions): Promise<number> {
  const entries: readonly CommandEntry[] = options?.commands
    ? options.commands.map((c) => ({ name: c.name, load: async () => c }))
    : commandEntries
  const [first, ...rest] = argv
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    io.stdout.write(help(await Promise.all(entries.map((e) => e.load()))))
    return first === undefined ? ExitCode.USAGE : ExitCode.OK
  }
  if (first === '-v' || first === '--version' || first === 'version') {
    io.stdout.write(`${cliVersion()}\n`)
    return ExitCode.OK
  }
  const state: RunState = { json: 'unknown', documentWritten: false }
  const entry = entries.find((e) => e.name === first)
  if (!entry) {
    const hint = didYouMean(
      first,
      entries.map((e) => e.name),
    )
    const error = new UsageError(
      `unknown command ${JSON.stringify(first.slice(0, 64))}${hint}; see safeguards --help`,
    )
    return report(io, 'safeguards', error, rest, state)
  }
  const command = await entry.load()
  if (rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h')) {
    io.stdout.write(command.usage.endsWith('\n') ? command.usage : `${command.usage}\n`)
    return ExitCode.OK
  }
  try {
    return await withRunState(state, () => command.run({ argv: rest, io }))
  } catch (error) {
    return report(io, `safeguards ${command.name}`, error, rest, state)
  }
}
