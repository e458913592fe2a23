/**
 * The types of what `@safeguards/cli` exports besides its bin: the in-process runner, the command
 * contract, the argument and output helpers and the error classes. Checked by Vitest typecheck
 * (and by `tsc -p tsconfig.test.json`): a breaking change to a signature fails here first.
 */
import type { Clock, ErrorCategory } from '@safeguards/core'
import { describe, expectTypeOf, test } from 'vitest'
import {
  type CliErrorCode,
  CliExit,
  type CliFailure,
  type CliIO,
  type Command,
  type CommandContext,
  type CommandEntry,
  categoryExitCodes,
  cliVersion,
  commandEntries,
  createProgress,
  describeFailure,
  ExitCode,
  type FailureCategory,
  type FailureDocument,
  failureDocument,
  INTERNAL_ERROR_CODE,
  jsonText,
  keyValues,
  loadCommands,
  optionalString,
  type ParsedArgs,
  type ParsedValues,
  type Progress,
  type ProgressOptions,
  parseCommandArgs,
  parseDuration,
  type RunCliOptions,
  requireString,
  runCli,
  safeText,
  suggest,
  UsageError,
  unknownSubcommand,
  writeJson,
  writeLine,
} from '../src/index.js'

describe('@safeguards/cli public types', () => {
  test('the runner and the command contract', () => {
    expectTypeOf(runCli).parameters.toEqualTypeOf<[string[], CliIO, RunCliOptions?]>()
    expectTypeOf(runCli).returns.resolves.toBeNumber()
    expectTypeOf<RunCliOptions['commands']>().toEqualTypeOf<readonly Command[] | undefined>()
    expectTypeOf<Command['run']>().parameters.toEqualTypeOf<[CommandContext]>()
    expectTypeOf<Command['run']>().returns.resolves.toBeNumber()
    expectTypeOf<CommandContext>().toEqualTypeOf<{ argv: string[]; io: CliIO }>()
    expectTypeOf(commandEntries).toEqualTypeOf<readonly CommandEntry[]>()
    expectTypeOf<CommandEntry['load']>().returns.resolves.toEqualTypeOf<Command>()
    expectTypeOf(loadCommands).returns.resolves.toEqualTypeOf<readonly Command[]>()
    expectTypeOf(cliVersion).returns.toBeString()
  })

  test('argument helpers', () => {
    expectTypeOf(parseCommandArgs).returns.toEqualTypeOf<ParsedArgs>()
    expectTypeOf(parseCommandArgs).parameter(2).toEqualTypeOf<[number, number] | undefined>()
    expectTypeOf<ParsedValues[string]>().toEqualTypeOf<string | string[] | boolean | undefined>()
    expectTypeOf(requireString).returns.toBeString()
    expectTypeOf(optionalString).returns.toEqualTypeOf<string | undefined>()
    expectTypeOf(keyValues).returns.toEqualTypeOf<Record<string, string>>()
    expectTypeOf(parseDuration).returns.toBeNumber()
    expectTypeOf(suggest).returns.toEqualTypeOf<string | undefined>()
    expectTypeOf(unknownSubcommand).returns.toEqualTypeOf<UsageError>()
  })

  test('output helpers', () => {
    expectTypeOf(safeText).returns.toBeString()
    expectTypeOf(jsonText).returns.toBeString()
    expectTypeOf(writeJson).returns.toBeVoid()
    expectTypeOf(writeLine).returns.toBeVoid()
    expectTypeOf(createProgress).returns.toEqualTypeOf<Progress>()
    expectTypeOf<ProgressOptions['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<ProgressOptions>().not.toHaveProperty('now')
  })

  test('errors, failures and exit codes', () => {
    expectTypeOf<CliErrorCode>().toEqualTypeOf<'ERR_CLI_USAGE' | 'ERR_CLI_EXIT'>()
    expectTypeOf(UsageError.code).toEqualTypeOf<'ERR_CLI_USAGE'>()
    expectTypeOf<UsageError['code']>().toEqualTypeOf<'ERR_CLI_USAGE'>()
    expectTypeOf<UsageError['category']>().toEqualTypeOf<'invalid-argument' | 'invalid-input'>()
    expectTypeOf<UsageError['exitCode']>().toEqualTypeOf<2>()
    expectTypeOf(CliExit.code).toEqualTypeOf<'ERR_CLI_EXIT'>()
    expectTypeOf<CliExit['code']>().toEqualTypeOf<'ERR_CLI_EXIT'>()
    expectTypeOf<CliExit['category']>().toEqualTypeOf<ErrorCategory>()
    expectTypeOf<CliExit['exitCode']>().toBeNumber()
    expectTypeOf(ExitCode.USAGE).toEqualTypeOf<2>()
    expectTypeOf(ExitCode.TEMPFAIL).toEqualTypeOf<75>()
    expectTypeOf(categoryExitCodes).toEqualTypeOf<Readonly<Record<ErrorCategory, number>>>()
    expectTypeOf(describeFailure).returns.toEqualTypeOf<CliFailure>()
    expectTypeOf(failureDocument).returns.toEqualTypeOf<FailureDocument>()
    expectTypeOf<FailureDocument['ok']>().toEqualTypeOf<false>()
    expectTypeOf<FailureCategory>().toEqualTypeOf<ErrorCategory | 'internal'>()
    expectTypeOf(INTERNAL_ERROR_CODE).toBeString()
  })
})
