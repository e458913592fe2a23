/**
 * The types of what `@safeguards/cli` exports besides its bin: the in-process runner, the command
 * contract, the argument and output helpers and the error classes. Checked by Vitest typecheck
 * (and by `tsc -p tsconfig.test.json`): a breaking change to a signature fails here first.
 */
import type { Clock, ErrorCategory } from '@safeguards/core'
import { describe, expectTypeOf, test } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import * as cli from '../src/index.js'

describe('@safeguards/cli public types', () => {
  test('the runner and the command contract', () => {
    expectTypeOf(cli.runCli).parameters.toEqualTypeOf<[string[], cli.CliIO, cli.RunCliOptions?]>()
    expectTypeOf(cli.runCli).returns.resolves.toBeNumber()
    expectTypeOf<cli.RunCliOptions['commands']>().toEqualTypeOf<readonly cli.Command[] | undefined>()
    expectTypeOf<cli.Command['run']>().parameters.toEqualTypeOf<[cli.CommandContext]>()
    expectTypeOf<cli.Command['run']>().returns.resolves.toBeNumber()
    expectTypeOf<cli.CommandContext>().toEqualTypeOf<{ argv: string[]; io: cli.CliIO }>()
    expectTypeOf(cli.commandEntries).toEqualTypeOf<readonly cli.CommandEntry[]>()
    expectTypeOf<cli.CommandEntry['load']>().returns.resolves.toEqualTypeOf<cli.Command>()
    expectTypeOf(cli.loadCommands).returns.resolves.toEqualTypeOf<readonly cli.Command[]>()
    expectTypeOf(cli.cliVersion).returns.toBeString()
  })

  test('argument helpers', () => {
    expectTypeOf(cli.parseCommandArgs).returns.toEqualTypeOf<cli.ParsedArgs>()
    expectTypeOf(cli.parseCommandArgs).parameter(2).toEqualTypeOf<[number, number] | undefined>()
    expectTypeOf<cli.ParsedValues[string]>().toEqualTypeOf<string | string[] | boolean | undefined>()
    expectTypeOf(cli.requireString).returns.toBeString()
    expectTypeOf(cli.optionalString).returns.toEqualTypeOf<string | undefined>()
    expectTypeOf(cli.keyValues).returns.toEqualTypeOf<Record<string, string>>()
    expectTypeOf(cli.parseDuration).returns.toBeNumber()
    expectTypeOf(cli.suggest).returns.toEqualTypeOf<string | undefined>()
    expectTypeOf(cli.unknownSubcommand).returns.toEqualTypeOf<cli.UsageError>()
  })

  test('output helpers', () => {
    expectTypeOf(cli.safeText).returns.toBeString()
    expectTypeOf(cli.jsonText).returns.toBeString()
    expectTypeOf(cli.writeJson).returns.toBeVoid()
    expectTypeOf(cli.writeLine).returns.toBeVoid()
    expectTypeOf(cli.createProgress).returns.toEqualTypeOf<cli.Progress>()
    expectTypeOf<cli.ProgressOptions['clock']>().toEqualTypeOf<Clock | undefined>()
    expectTypeOf<cli.ProgressOptions>().not.toHaveProperty('now')
  })

  test('errors, failures and exit codes', () => {
    expectTypeOf<cli.CliErrorCode>().toEqualTypeOf<'ERR_CLI_USAGE' | 'ERR_CLI_EXIT'>()
    expectTypeOf<ErrorCodes<typeof cli>>().toEqualTypeOf<{
      UsageError: 'ERR_CLI_USAGE'
      CliExit: 'ERR_CLI_EXIT'
    }>()
    expectTypeOf<cli.UsageError['category']>().toEqualTypeOf<'invalid-argument' | 'invalid-input'>()
    expectTypeOf<cli.UsageError['exitCode']>().toEqualTypeOf<2>()
    expectTypeOf<cli.CliExit['category']>().toEqualTypeOf<ErrorCategory>()
    expectTypeOf<cli.CliExit['exitCode']>().toBeNumber()
    expectTypeOf(cli.ExitCode.USAGE).toEqualTypeOf<2>()
    expectTypeOf(cli.ExitCode.TEMPFAIL).toEqualTypeOf<75>()
    expectTypeOf(cli.categoryExitCodes).toEqualTypeOf<Readonly<Record<ErrorCategory, number>>>()
    expectTypeOf(cli.describeFailure).returns.toEqualTypeOf<cli.CliFailure>()
    expectTypeOf(cli.failureDocument).returns.toEqualTypeOf<cli.FailureDocument>()
    expectTypeOf<cli.FailureDocument['ok']>().toEqualTypeOf<false>()
    expectTypeOf<cli.FailureCategory>().toEqualTypeOf<ErrorCategory | 'internal'>()
    expectTypeOf(cli.INTERNAL_ERROR_CODE).toBeString()
  })
})
