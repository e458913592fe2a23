/**
 * `@safeguards/cli`: the `safeguards` command, and the pieces subcommands are built from.
 *
 * @packageDocumentation
 */
export type { OptionSpec, ParsedArgs, ParsedValues } from './args.js'
export {
  keyValues,
  optionalString,
  parseCommandArgs,
  parseDuration,
  requireString,
  suggest,
  unknownSubcommand,
} from './args.js'
export type { CliIO, Command, CommandContext } from './command.js'
export type { CommandEntry } from './commands/index.js'
export { commandEntries, loadCommands } from './commands/index.js'
export type { CliErrorCode } from './errors.js'
export { CliExit, categoryExitCodes, ExitCode, UsageError } from './errors.js'
export type { CliFailure, FailureCategory, FailureDocument } from './failure.js'
export { describeFailure, failureDocument, INTERNAL_ERROR_CODE } from './failure.js'
export type { Progress, ProgressOptions, SafeTextOptions } from './output.js'
export { createProgress, jsonText, safeText, writeJson, writeLine } from './output.js'
export type { RunCliOptions } from './run.js'
export { EXIT_CODES_HELP, runCli } from './run.js'
export { cliVersion } from './version.js'
