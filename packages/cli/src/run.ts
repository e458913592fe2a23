/**
 * The `safeguards` entry point as a function, so tests can run the CLI in-process.
 *
 * @module
 */
import { isSafeguardsError } from '@safeguards/core'
import type { CliIO, Command } from './command.js'
import { type CommandEntry, commandEntries } from './commands/index.js'
import { CliExit, ExitCode, UsageError } from './errors.js'
import { cliVersion } from './version.js'

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
    'Exit codes: 0 success; 1 a check failed (tampering, denied verification); 2 usage or malformed input;',
    'commands document any others.',
    '',
  ].join('\n')
}

/** Options for {@link runCli}. */
export interface RunCliOptions {
  /** The commands to offer (default: every registered command). */
  commands?: readonly Command[]
}

/**
 * Runs `safeguards` with `argv` (without the node and script paths) and resolves to the exit code.
 * Usage errors and documented failures print one line to stderr, never a stack trace; set
 * `SAFEGUARDS_DEBUG=1` to print the stack of an unexpected error.
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
  const entry = entries.find((e) => e.name === first)
  if (!entry) {
    io.stderr.write(
      `safeguards: unknown command ${JSON.stringify(first.slice(0, 64))}; see safeguards --help\n`,
    )
    return ExitCode.USAGE
  }
  const command = await entry.load()
  if (rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h')) {
    io.stdout.write(command.usage.endsWith('\n') ? command.usage : `${command.usage}\n`)
    return ExitCode.OK
  }
  try {
    return await command.run({ argv: rest, io })
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`safeguards ${command.name}: ${error.message}\n`)
      return ExitCode.USAGE
    }
    if (error instanceof CliExit) {
      if (error.message !== '') io.stderr.write(`safeguards ${command.name}: ${error.message}\n`)
      return error.exitCode
    }
    if (io.env.SAFEGUARDS_DEBUG === '1' && error instanceof Error && error.stack)
      io.stderr.write(`${error.stack}\n`)
    if (isSafeguardsError(error)) {
      io.stderr.write(`safeguards ${command.name}: ${error.message} (${error.code})\n`)
      return ExitCode.USAGE
    }
    const code = (error as { code?: unknown } | null)?.code
    const detail = typeof code === 'string' ? ` (${code})` : ''
    io.stderr.write(
      `safeguards ${command.name}: unexpected error${detail}; set SAFEGUARDS_DEBUG=1 for details\n`,
    )
    return ExitCode.USAGE
  }
}
