/**
 * A command made of subcommands (`safeguards audit verify …`): one dispatcher, so every such
 * command answers a missing or mistyped subcommand the same way (exit 2, naming the nearest one)
 * and prints its usage for `COMMAND help` and `COMMAND SUB --help`.
 *
 * @module
 */
import { unknownSubcommand } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { ExitCode } from '../errors.js'

/** One subcommand: runs with the arguments after its name and resolves to the exit code. */
export type Subcommand = (argv: string[], io: CliIO) => Promise<number>

/** What {@link commandOf} builds a command from. */
export interface SubcommandsSpec {
  /** The word after `safeguards`. */
  name: string
  /** One line for `safeguards --help`. */
  summary: string
  /** Full help text. */
  usage: string
  /** The subcommands, in the order the "expected …" message lists them. */
  subcommands: Readonly<Record<string, Subcommand>>
}

const isHelp = (argv: readonly string[]): boolean =>
  argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')

/**
 * The command that runs `spec.subcommands[argv[0]]`.
 *
 * @throws {UsageError} (from the command's `run`) for a missing or unknown subcommand.
 */
export function commandOf(spec: SubcommandsSpec): Command {
  const names = Object.keys(spec.subcommands)
  const usage = spec.usage.endsWith('\n') ? spec.usage : `${spec.usage}\n`
  return {
    name: spec.name,
    summary: spec.summary,
    usage: spec.usage,
    async run({ argv, io }): Promise<number> {
      const [sub, ...rest] = argv
      const run =
        sub !== undefined && Object.hasOwn(spec.subcommands, sub) ? spec.subcommands[sub] : undefined
      if (sub === 'help' || (run !== undefined && isHelp(rest))) {
        io.stdout.write(usage)
        return ExitCode.OK
      }
      if (run === undefined) throw unknownSubcommand(spec.name, sub, names)
      return run(rest, io)
    },
  }
}
