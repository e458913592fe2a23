/**
 * `@safeguards/cli`: the `safeguards` command, and the pieces subcommands are built from.
 *
 * @packageDocumentation
 */
export type { OptionSpec, ParsedArgs, ParsedValues } from './args.js'
export { keyValues, optionalString, parseCommandArgs, parseDuration, requireString } from './args.js'
export type { CliIO, Command, CommandContext } from './command.js'
export type { CommandEntry } from './commands/index.js'
export { commandEntries, loadCommands } from './commands/index.js'
export type { CliErrorCode } from './errors.js'
export { CliExit, ExitCode, UsageError } from './errors.js'
export type { Progress, ProgressOptions } from './output.js'
export { createProgress, writeJson, writeLine } from './output.js'
export type { RunCliOptions } from './run.js'
export { runCli } from './run.js'
export { cliVersion } from './version.js'
