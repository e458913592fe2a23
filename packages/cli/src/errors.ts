/**
 * CLI errors. A command throws {@link UsageError} for bad arguments or malformed input (exit 2)
 * and {@link CliExit} to end with another documented exit code and a one-line message. The runner
 * prints the message to stderr without a stack trace.
 *
 * @module
 */
import { SafeguardsError } from '@safeguards/core'

/** Error codes raised by `@safeguards/cli`. */
export type CliErrorCode = 'ERR_CLI_USAGE' | 'ERR_CLI_EXIT'

/** Exit codes shared by every subcommand. Commands may add others only where an issue names them. */
export const ExitCode: {
  readonly OK: 0
  readonly CHECK_FAILED: 1
  readonly USAGE: 2
} = Object.freeze({ OK: 0, CHECK_FAILED: 1, USAGE: 2 })

/**
 * Bad command-line usage or malformed input: exit code 2 and a one-line message that names the
 * bad argument (never its value when the value might be a secret).
 *
 * @example
 * ```ts
 * throw new UsageError('--keyring is required')
 * ```
 */
export class UsageError extends SafeguardsError<'ERR_CLI_USAGE'> {
  /** Always 2. */
  readonly exitCode: 2 = 2
  /** @param message - one line naming the bad argument. */
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CLI_USAGE', message, options)
  }
}

/**
 * Ends the command with `exitCode` and a one-line message on stderr (for example exit 1 "audit log
 * verification failed", or exit 3 "key unavailable: kek/3").
 *
 * @example
 * ```ts
 * throw new CliExit(3, 'key unavailable: local/2')
 * ```
 */
export class CliExit extends SafeguardsError<'ERR_CLI_EXIT'> {
  /** The process exit code. */
  readonly exitCode: number
  /** @param exitCode - 1 to 125; @param message - one safe line, or '' to print nothing. */
  constructor(exitCode: number, message: string, options?: { cause?: unknown }) {
    super('ERR_CLI_EXIT', message, options)
    if (!Number.isInteger(exitCode) || exitCode < 1 || exitCode > 125)
      throw new RangeError('"exitCode" expected 1..125')
    this.exitCode = exitCode
  }
}
